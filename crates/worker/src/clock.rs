//! Start here: the Worker's clock, the one place it is read. The pure crates
//! never read a clock; the Worker is their host, so it reads `Date.now()` and
//! passes the time in. In workerd the clock only advances across I/O.

/// Milliseconds since the epoch, the probe's clock.
pub fn now_ms() -> u64 {
    let ms = js_sys::Date::now();
    if ms.is_finite() && ms > 0.0 {
        // Date.now() is an integral count of ms far below 2^53.
        ms as u64
    } else {
        0
    }
}

/// Now, RFC 3339 UTC with whole seconds (the CLI's `checked_at` format).
pub fn now_rfc3339() -> String {
    let iso: String = js_sys::Date::new_0().to_iso_string().into();
    trim_millis(&iso)
}

/// `2026-11-23T10:31:43.123Z` -> `2026-11-23T10:31:43Z`.
fn trim_millis(iso: &str) -> String {
    match (iso.find('.'), iso.ends_with('Z')) {
        (Some(dot), true) => format!("{}Z", &iso[..dot]),
        _ => iso.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_times_lose_their_millis() {
        assert_eq!(
            trim_millis("2026-11-23T10:31:43.123Z"),
            "2026-11-23T10:31:43Z"
        );
        assert_eq!(trim_millis("2026-11-23T10:31:43Z"), "2026-11-23T10:31:43Z");
    }
}
