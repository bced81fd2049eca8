//! Start here: `cargo xtask bench`, a placeholder the lead fills in (criterion
//! benches of the core's parsers and fingerprinting, later probe throughput).

use anyhow::Result;

pub fn run() -> Result<()> {
    println!("bench: not yet");
    Ok(())
}
