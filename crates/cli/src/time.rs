//! Start here: wall-clock helpers of the native host (the core never reads a
//! clock): now, as RFC 3339 (the formatting is `mcprobe_core::time`'s).

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, RFC 3339 UTC with seconds.
pub fn now_rfc3339() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    rfc3339(secs)
}

/// Seconds since the epoch as RFC 3339 UTC (`2026-11-23T10:31:43Z`).
pub fn rfc3339(secs: u64) -> String {
    mcprobe_core::time::rfc3339(secs.saturating_mul(1000))
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_known_instants() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(1_795_000_000), "2026-11-18T11:06:40Z");
        assert_eq!(super::rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
