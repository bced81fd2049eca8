//! Start here: `GET /metrics`, the public monitors as OpenMetrics text (1.0.0)
//! for Prometheus and friends to scrape.
//!
//! Three gauges per monitor, each labelled `monitor="<id>"` and
//! `name="<name>"`:
//! - `mcprobe_up`: 1 when the last probe was up or degraded (the server
//!   answered; the same rule as uptime in `stats`), 0 when down;
//! - `mcprobe_latency_ms`: the last probe's elapsed time;
//! - `mcprobe_last_check_timestamp_seconds`: when the last probe ran.
//!
//! A monitor never probed yet has no samples. Names come from users: label
//! values are escaped as the spec says (backslash, double quote, newline), and
//! any other control character becomes U+FFFD, so a hostile name can neither
//! end a line nor forge a sample.

use mcprobe_core::verdict::Status;

/// The `Content-Type` of [`render`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// One monitor's latest figures (the host reads them from the accumulator or
/// the last stored verdict).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricRow {
    pub id: String,
    pub name: String,
    /// `None` until the first probe.
    pub status: Option<Status>,
    pub latency_ms: Option<u64>,
    /// When the last probe ran, ms since the epoch.
    pub last_check_ms: Option<u64>,
}

struct Family {
    name: &'static str,
    unit: Option<&'static str>,
    help: &'static str,
    value: fn(&MetricRow) -> Option<String>,
}

const FAMILIES: [Family; 3] = [
    Family {
        name: "mcprobe_up",
        unit: None,
        help:
            "1 when the last probe found the MCP server up or degraded (it answered), 0 when down.",
        value: |r| {
            r.status
                .map(|s| if s == Status::Down { "0" } else { "1" }.to_string())
        },
    },
    Family {
        name: "mcprobe_latency_ms",
        unit: Some("ms"),
        help: "Elapsed time of the last probe, in milliseconds.",
        value: |r| r.status.and(r.latency_ms).map(|ms| ms.to_string()),
    },
    Family {
        name: "mcprobe_last_check_timestamp_seconds",
        unit: Some("seconds"),
        help: "When the last probe ran, in seconds since the Unix epoch.",
        value: |r| {
            r.last_check_ms
                .map(|ms| format!("{}.{:03}", ms / 1000, ms % 1000))
        },
    },
];

/// The exposition of `monitors` (public ones only: the host filters), ending
/// with `# EOF`. A repeated id is shown once (the first), since two samples
/// with one label set would make the whole exposition invalid.
pub fn render(monitors: &[MetricRow]) -> String {
    let mut seen = std::collections::HashSet::new();
    let rows: Vec<&MetricRow> = monitors
        .iter()
        .filter(|r| seen.insert(r.id.as_str()))
        .collect();
    let mut out = String::with_capacity(256 + rows.len() * 200);
    for f in &FAMILIES {
        out.push_str(&format!("# TYPE {} gauge\n", f.name));
        if let Some(unit) = f.unit {
            out.push_str(&format!("# UNIT {} {unit}\n", f.name));
        }
        out.push_str(&format!("# HELP {} {}\n", f.name, escape_help(f.help)));
        for r in &rows {
            if let Some(v) = (f.value)(r) {
                out.push_str(&format!(
                    "{}{{monitor=\"{}\",name=\"{}\"}} {v}\n",
                    f.name,
                    escape_label(&r.id),
                    escape_label(&r.name)
                ));
            }
        }
    }
    out.push_str("# EOF\n");
    out
}

/// Label value escaping of OpenMetrics 1.0 (`\\`, `\"`, `\n`); other control
/// characters, which the format would carry raw but line-based tools may not,
/// become U+FFFD.
fn escape_label(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// HELP text escaping (`\\`, `\n`).
fn escape_help(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashSet};

    /// One sample as parsed back: family name, labels (unescaped), value.
    #[derive(Debug, PartialEq)]
    struct Sample {
        name: String,
        labels: BTreeMap<String, String>,
        value: f64,
    }

    fn is_metric_name(s: &str) -> bool {
        let mut b = s.bytes();
        matches!(b.next(), Some(c) if c.is_ascii_alphabetic() || c == b'_' || c == b':')
            && b.all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b':')
    }

    fn is_label_name(s: &str) -> bool {
        let mut b = s.bytes();
        matches!(b.next(), Some(c) if c.is_ascii_alphabetic() || c == b'_')
            && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
    }

    /// Reads `name="value",...}` and returns the labels and the rest after `}`.
    fn parse_labels(mut s: &str) -> Result<(BTreeMap<String, String>, &str), String> {
        let mut labels = BTreeMap::new();
        loop {
            let eq = s.find('=').ok_or("label without =")?;
            let name = &s[..eq];
            if !is_label_name(name) {
                return Err(format!("bad label name {name:?}"));
            }
            s = s[eq + 1..]
                .strip_prefix('"')
                .ok_or("label value not quoted")?;
            let mut value = String::new();
            let mut chars = s.char_indices();
            let end = loop {
                match chars.next().ok_or("unterminated label value")? {
                    (i, '"') => break i,
                    (_, '\\') => match chars.next().ok_or("dangling backslash")?.1 {
                        '\\' => value.push('\\'),
                        '"' => value.push('"'),
                        'n' => value.push('\n'),
                        c => return Err(format!("bad escape \\{c}")),
                    },
                    (_, '\n') => return Err("raw newline in label value".into()),
                    (_, c) => value.push(c),
                }
            };
            if labels.insert(name.to_string(), value).is_some() {
                return Err(format!("label {name} twice"));
            }
            s = &s[end + 1..];
            if let Some(rest) = s.strip_prefix('}') {
                return Ok((labels, rest));
            }
            s = s.strip_prefix(',').ok_or("labels not separated by ,")?;
        }
    }

    /// The basics of the OpenMetrics 1.0 text grammar: descriptors before
    /// samples, each family once and not interleaved, a UNIT that suffixes the
    /// name, valid names and labels, escapes, numbers, `# EOF` last.
    fn parse(text: &str) -> Result<Vec<Sample>, String> {
        let body = text
            .strip_suffix("# EOF\n")
            .ok_or("does not end with # EOF")?;
        let mut samples = Vec::new();
        let mut families_done: HashSet<String> = HashSet::new();
        let mut current: Option<String> = None;
        let mut label_sets: HashSet<(String, BTreeMap<String, String>)> = HashSet::new();
        for line in body.split_inclusive('\n') {
            let line = line.strip_suffix('\n').ok_or("line without LF")?;
            if line == "# EOF" {
                return Err("# EOF before the end".into());
            }
            if let Some(meta) = line.strip_prefix("# ") {
                let mut parts = meta.splitn(3, ' ');
                let (kind, name, rest) = (
                    parts.next().unwrap_or(""),
                    parts.next().ok_or("descriptor without name")?,
                    parts.next().ok_or("descriptor without value")?,
                );
                if !is_metric_name(name) {
                    return Err(format!("bad metric name {name:?}"));
                }
                if current.as_deref() != Some(name) {
                    if families_done.contains(name) {
                        return Err(format!("family {name} interleaved"));
                    }
                    if let Some(prev) = current.replace(name.to_string()) {
                        families_done.insert(prev);
                    }
                }
                match kind {
                    "TYPE" if rest == "gauge" => {}
                    "UNIT" if name.ends_with(&format!("_{rest}")) => {}
                    "HELP" if !rest.contains('\n') => {}
                    _ => return Err(format!("bad descriptor {line:?}")),
                }
                continue;
            }
            let brace = line.find('{').ok_or("sample without labels")?;
            let name = &line[..brace];
            if current.as_deref() != Some(name) {
                return Err(format!("sample {name} outside its family"));
            }
            let (labels, rest) = parse_labels(&line[brace + 1..])?;
            let value = rest
                .strip_prefix(' ')
                .ok_or("no space before value")?
                .parse::<f64>()
                .map_err(|e| format!("bad value in {line:?}: {e}"))?;
            if !label_sets.insert((name.to_string(), labels.clone())) {
                return Err(format!("duplicate sample {line:?}"));
            }
            samples.push(Sample {
                name: name.to_string(),
                labels,
                value,
            });
        }
        Ok(samples)
    }

    fn row(id: &str, name: &str, status: Option<Status>) -> MetricRow {
        MetricRow {
            id: id.into(),
            name: name.into(),
            status,
            latency_ms: Some(123),
            last_check_ms: Some(1_767_225_600_042),
        }
    }

    #[test]
    fn the_exact_exposition() {
        let text = render(&[
            row("m1", "Weather", Some(Status::Up)),
            row("m2", "Down one", Some(Status::Down)),
        ]);
        assert_eq!(
            text,
            "# TYPE mcprobe_up gauge\n\
             # HELP mcprobe_up 1 when the last probe found the MCP server up or degraded (it answered), 0 when down.\n\
             mcprobe_up{monitor=\"m1\",name=\"Weather\"} 1\n\
             mcprobe_up{monitor=\"m2\",name=\"Down one\"} 0\n\
             # TYPE mcprobe_latency_ms gauge\n\
             # UNIT mcprobe_latency_ms ms\n\
             # HELP mcprobe_latency_ms Elapsed time of the last probe, in milliseconds.\n\
             mcprobe_latency_ms{monitor=\"m1\",name=\"Weather\"} 123\n\
             mcprobe_latency_ms{monitor=\"m2\",name=\"Down one\"} 123\n\
             # TYPE mcprobe_last_check_timestamp_seconds gauge\n\
             # UNIT mcprobe_last_check_timestamp_seconds seconds\n\
             # HELP mcprobe_last_check_timestamp_seconds When the last probe ran, in seconds since the Unix epoch.\n\
             mcprobe_last_check_timestamp_seconds{monitor=\"m1\",name=\"Weather\"} 1767225600.042\n\
             mcprobe_last_check_timestamp_seconds{monitor=\"m2\",name=\"Down one\"} 1767225600.042\n\
             # EOF\n"
        );
        let samples = parse(&text).unwrap();
        assert_eq!(samples.len(), 6);
        assert_eq!(samples[1].value, 0.0);
        assert_eq!(samples[5].value, 1_767_225_600.042);
    }

    #[test]
    fn a_hostile_name_stays_one_line_and_reads_back() {
        let hostile = "evil\"} 1\nmcprobe_up{monitor=\"x\"} 0\\n\\\r\u{0}é";
        let text = render(&[row("m\"1\n", hostile, Some(Status::Degraded))]);
        // 3 families x (TYPE, HELP) + 2 UNIT + 3 samples + EOF.
        assert_eq!(text.lines().count(), 12, "{text}");
        let samples = parse(&text).unwrap();
        assert_eq!(samples.len(), 3);
        for s in &samples {
            // Everything but CR and NUL comes back as given.
            assert_eq!(
                s.labels["name"],
                hostile.replace(['\r', '\u{0}'], "\u{FFFD}")
            );
            assert_eq!(s.labels["monitor"], "m\"1\n");
        }
        assert_eq!(samples[0].value, 1.0);
    }

    #[test]
    fn unprobed_and_duplicate_monitors() {
        let never = MetricRow {
            id: "new".into(),
            name: "New".into(),
            status: None,
            latency_ms: None,
            last_check_ms: None,
        };
        let text = render(&[
            never,
            row("a", "A", Some(Status::Up)),
            row("a", "A again", Some(Status::Down)),
        ]);
        let samples = parse(&text).unwrap();
        assert_eq!(samples.len(), 3);
        assert!(samples
            .iter()
            .all(|s| s.labels["monitor"] == "a" && s.labels["name"] == "A"));
        // No monitors at all is still a valid exposition.
        let empty = render(&[]);
        assert!(parse(&empty).unwrap().is_empty());
        assert!(empty.ends_with("# EOF\n"));
    }

    #[test]
    fn the_parser_catches_what_it_should() {
        // So a passing `parse` above means something.
        for bad in [
            "mcprobe_up{monitor=\"a\"} 1\n",
            "# TYPE mcprobe_up gauge\nmcprobe_up{monitor=\"a\nb\"} 1\n# EOF\n",
            "# TYPE mcprobe_up gauge\nmcprobe_up{monitor=\"a\\x\"} 1\n# EOF\n",
            "# TYPE mcprobe_up gauge\nmcprobe_up{monitor=\"a\"} 1\nmcprobe_up{monitor=\"a\"} 1\n# EOF\n",
            "# TYPE a gauge\n# TYPE b gauge\n# HELP a x\n# EOF\n",
            "# TYPE a_ms gauge\n# UNIT a_ms seconds\n# EOF\n",
            "# TYPE a gauge\na{0x=\"1\"} 1\n# EOF\n",
            "# TYPE a gauge\na{x=\"1\"} one\n# EOF\n",
            "# EOF\n# EOF\n",
        ] {
            assert!(parse(bad).is_err(), "accepted {bad:?}");
        }
    }
}
