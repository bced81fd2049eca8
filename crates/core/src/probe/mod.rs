//! Start here: the dual-era probe state machine (being written).

/// Placeholder until the step machine lands.
pub struct Probe;
pub struct ProbeConfig;
pub enum Action {}
