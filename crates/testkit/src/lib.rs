//! The fault fleet (being written).
