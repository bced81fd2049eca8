//! Start here: status badges for READMEs: a flat SVG ("MCP | up 99.98%",
//! "MCP | down", "MCP | drift") and the shields.io endpoint JSON. Every text is
//! escaped for XML: a monitor's name or a label never becomes markup.

use serde::Serialize;

use mcprobe_core::verdict::{Mode, Status};

/// What a badge says.
#[derive(Debug, Clone, PartialEq)]
pub struct Badge {
    pub label: String,
    pub message: String,
    /// A hex colour, e.g. `#4c1`.
    pub color: &'static str,
}

const GREEN: &str = "#4c1";
const YELLOW: &str = "#dfb317";
const ORANGE: &str = "#fe7d37";
const RED: &str = "#e05d44";
const GREY: &str = "#9f9f9f";

/// The badge for a monitor's latest verdict and its uptime (0..=1) over the
/// badge's window, if known.
pub fn badge_for(status: Option<Status>, mode: Option<Mode>, uptime: Option<f64>) -> Badge {
    let label = "MCP".to_string();
    let (message, color) = match (status, mode) {
        (None, _) => ("unknown".to_string(), GREY),
        (Some(_), Some(Mode::SchemaDrift)) => ("drift".to_string(), ORANGE),
        (Some(Status::Up), _) => match uptime {
            Some(u) => (
                format!("up {}", percent(u)),
                if u >= 0.99 { GREEN } else { YELLOW },
            ),
            None => ("up".to_string(), GREEN),
        },
        (Some(Status::Degraded), Some(m)) => (format!("degraded: {}", m.as_str()), YELLOW),
        (Some(Status::Degraded), None) => ("degraded".to_string(), YELLOW),
        (Some(Status::Down), _) => ("down".to_string(), RED),
    };
    Badge {
        label,
        message,
        color,
    }
}

/// `99.98%`: two decimals, trailing zeros kept only where they carry meaning.
pub fn percent(fraction: f64) -> String {
    let p = (fraction.clamp(0.0, 1.0) * 10_000.0).floor() / 100.0;
    if p >= 100.0 {
        "100%".to_string()
    } else {
        format!("{p:.2}%")
    }
}

/// The shields.io endpoint schema (`https://shields.io/badges/endpoint-badge`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShieldsEndpoint {
    pub schema_version: u8,
    pub label: String,
    pub message: String,
    pub color: String,
}

impl Badge {
    pub fn shields(&self) -> ShieldsEndpoint {
        ShieldsEndpoint {
            schema_version: 1,
            label: self.label.clone(),
            message: self.message.clone(),
            color: self.color.trim_start_matches('#').to_string(),
        }
    }

    /// A flat SVG badge, widths estimated from the text (Verdana 11px averages
    /// about 6.5 px a character; a few pixels off is fine for a badge).
    pub fn svg(&self) -> String {
        let lw = text_width(&self.label) + 10;
        let mw = text_width(&self.message) + 10;
        let total = lw + mw;
        let label = xml_escape(&self.label);
        let message = xml_escape(&self.message);
        let title = format!("{label}: {message}");
        let (lx, mx) = (lw * 5, lw * 10 + mw * 5);
        let (ltl, mtl) = ((lw - 10) * 10, (mw - 10) * 10);
        let color = self.color;
        format!(
            concat!(
                r##"<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" aria-label="{title}">"##,
                r##"<title>{title}</title>"##,
                r##"<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>"##,
                r##"<clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath>"##,
                r##"<g clip-path="url(#r)"><rect width="{lw}" height="20" fill="#555"/><rect x="{lw}" width="{mw}" height="20" fill="{color}"/><rect width="{total}" height="20" fill="url(#s)"/></g>"##,
                r##"<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" text-rendering="geometricPrecision" font-size="110">"##,
                r##"<text aria-hidden="true" x="{lx}" y="150" fill="#010101" fill-opacity=".3" transform="scale(.1)" textLength="{ltl}">{label}</text>"##,
                r##"<text x="{lx}" y="140" transform="scale(.1)" fill="#fff" textLength="{ltl}">{label}</text>"##,
                r##"<text aria-hidden="true" x="{mx}" y="150" fill="#010101" fill-opacity=".3" transform="scale(.1)" textLength="{mtl}">{message}</text>"##,
                r##"<text x="{mx}" y="140" transform="scale(.1)" fill="#fff" textLength="{mtl}">{message}</text>"##,
                r##"</g></svg>"##
            ),
            total = total,
            title = title,
            lw = lw,
            mw = mw,
            color = color,
            lx = lx,
            mx = mx,
            ltl = ltl,
            mtl = mtl,
            label = label,
            message = message,
        )
    }
}

fn text_width(s: &str) -> u32 {
    let chars = u32::try_from(s.chars().count())
        .unwrap_or(u32::MAX / 8)
        .min(200);
    (chars * 13).div_ceil(2)
}

/// Escapes text for XML content and attribute values.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_colours_by_status() {
        let up = badge_for(Some(Status::Up), Some(Mode::Ok), Some(0.99985));
        assert_eq!((up.message.as_str(), up.color), ("up 99.98%", GREEN));
        let flaky = badge_for(Some(Status::Up), Some(Mode::Ok), Some(0.95));
        assert_eq!((flaky.message.as_str(), flaky.color), ("up 95.00%", YELLOW));
        assert_eq!(
            badge_for(Some(Status::Down), Some(Mode::ConnectRefused), None).message,
            "down"
        );
        assert_eq!(
            badge_for(Some(Status::Up), Some(Mode::SchemaDrift), Some(1.0)).message,
            "drift"
        );
        assert_eq!(badge_for(None, None, None).message, "unknown");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(0.999999), "99.99%");
    }

    #[test]
    fn svg_escapes_every_text() {
        let b = Badge {
            label: "<script>&".into(),
            message: "\"x'\u{1b}".into(),
            color: RED,
        };
        let svg = b.svg();
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;&amp;"));
        assert!(svg.contains("&quot;x&#39; "));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }

    #[test]
    fn shields_endpoint_shape() {
        let s = badge_for(Some(Status::Down), None, None).shields();
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"schemaVersion": 1, "label": "MCP", "message": "down", "color": "e05d44"})
        );
    }
}
