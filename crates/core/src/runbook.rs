//! Start here: what each mode means and the runbook's first steps, in our own
//! words, from the field guides in `shared/seeds/`. The probe puts [`hint`] in
//! every verdict; the web page shows the whole [`Runbook`].

use crate::verdict::Mode;

/// The runbook entry for one mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Runbook {
    pub mode: Mode,
    /// A short title, e.g. "Nothing is listening".
    pub title: &'static str,
    /// What it means, in two or three sentences.
    pub meaning: &'static str,
    /// The first steps, in order; `steps[0]` is the verdict's `hint`.
    pub steps: &'static [&'static str],
}

/// The runbook for a mode (every mode of `Mode::ALL` has one).
pub fn runbook(mode: Mode) -> Runbook {
    let _ = mode;
    todo!("runbook")
}

/// The first runbook step for a mode: the verdict's `hint`.
pub fn hint(mode: Mode) -> &'static str {
    runbook(mode).steps[0]
}
