//! Start here: text as every channel writes it. Everything that came from
//! outside (the reason, which can quote a server's answer; server, tool and
//! parameter names; the monitor's name and URL) is data: it is escaped for a
//! channel's markup where there is one (the escapes live with their channel,
//! `slack.rs` and `discord.rs`) and cut to the channel's documented limits
//! ([`super::limits`]) by [`fit_with`], counted in UTF-16 units, which is
//! never fewer than characters, so both ways of counting stay within bounds.

/// How one character is written into a channel's markup.
pub(super) type Escape = fn(char, &mut String);

fn no_escape(c: char, out: &mut String) {
    out.push(c);
}

/// Length in UTF-16 units, as the channels count.
pub(super) fn units(s: &str) -> usize {
    s.encode_utf16().count()
}

/// `text` escaped and cut to at most `max` UTF-16 units, never inside an
/// escape, with an ellipsis when cut.
pub(super) fn fit_with(text: &str, max: usize, esc: Escape) -> String {
    let mut full = String::with_capacity(text.len());
    for c in text.chars() {
        esc(c, &mut full);
    }
    if units(&full) <= max {
        return full;
    }
    if max == 0 {
        return String::new();
    }
    let budget = max - 1; // room for the ellipsis
    let mut out = String::new();
    let mut used = 0;
    let mut piece = String::new();
    for c in text.chars() {
        piece.clear();
        esc(c, &mut piece);
        let n = units(&piece);
        if used + n > budget {
            break;
        }
        used += n;
        out.push_str(&piece);
    }
    out.push('…');
    out
}

/// Plain text cut to `max` UTF-16 units.
pub(super) fn fit(text: &str, max: usize) -> String {
    fit_with(text, max, no_escape)
}

/// An absolute http(s) URL a chat client will accept as a link, normalised
/// (spaces, quotes, `<`, `>` and backticks percent-encoded).
pub(super) fn http_link(s: &str) -> Option<String> {
    let parsed = url::Url::parse(s.trim()).ok()?;
    matches!(parsed.scheme(), "http" | "https").then(|| parsed.to_string())
}

/// A short human duration: `45s`, `5m 20s`, `2h 5m`, `3d 4h`.
pub fn human_duration(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {}s", s / 60, s % 60),
        3600..=86_399 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitting_respects_the_limit_in_utf16_units() {
        assert_eq!(fit("😀😀😀", 4), "😀…"); // an emoji is two UTF-16 units
        assert_eq!(fit("abc", 0), "");
        assert_eq!(fit("abc", 3), "abc");
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(20_000), "20s");
        assert_eq!(human_duration(300_000), "5m 0s");
        assert_eq!(human_duration(3_720_000), "1h 2m");
        assert_eq!(human_duration(90_000_000), "1d 1h");
    }
}
