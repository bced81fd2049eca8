//! The report: `report.json` (the aggregates of `registry::Audit`, the
//! crawl's totals and every endpoint), `report.md` (the same for people) and
//! the summary printed at the end; also the progress bar's line.

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use mcprobe_core::verdict::{Mode, Status};
use mcprobe_registry::{
    self as registry, Audit, AuditReport, Bucket, Endpoint, EndpointSet, InvalidListing,
    RemoteTransport,
};
use serde::{Deserialize, Serialize};

use super::crawl::SourceSummary;

/// How one endpoint ended, for `report.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EndpointRow {
    pub url: String,
    pub templated: bool,
    pub registries: Vec<String>,
    pub listed_as: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub servers: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub transport: Option<RemoteTransport>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub required_secret_headers: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub variables: Vec<String>,
    /// `None`: templated, or not reached before Ctrl-C.
    pub mode: Option<Mode>,
    pub status: Option<Status>,
    pub elapsed_ms: Option<u64>,
    /// Tries repeated after a 429.
    #[serde(skip_serializing_if = "is_zero", default)]
    pub retries: u32,
    /// Why it could not be probed at all.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
    /// Why the address policy refused it (not probed, not a failure; see
    /// `--allow-private`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub refused: Option<String>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Totals {
    /// Listings read from every source, duplicates and invalid ones included.
    pub listings: usize,
    /// Distinct endpoints after normalising (templates included).
    pub endpoints: usize,
    pub duplicates_merged: usize,
    pub templated: usize,
    pub invalid: usize,
    pub deleted_skipped: usize,
    /// Endpoints that were to be probed (not templated).
    pub to_probe: usize,
    pub probed: usize,
    /// To be probed but not reached (Ctrl-C) or could not be probed.
    pub not_probed: usize,
    /// Refused by the address policy (loopback, private, metadata...): never
    /// connected to, and not counted in `to_probe`.
    #[serde(default)]
    pub refused: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScanOptions {
    pub timeout_s: f64,
    pub concurrency: usize,
    pub per_host: usize,
    pub baseline_dir: Option<String>,
}

/// `report.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScanReport {
    pub format: u32,
    pub started_at: String,
    pub finished_at: String,
    pub elapsed_ms: u64,
    pub interrupted: bool,
    pub options: ScanOptions,
    pub sources: Vec<SourceSummary>,
    pub totals: Totals,
    pub audit: AuditReport,
    pub invalid: Vec<InvalidListing>,
    pub warnings: Vec<String>,
    pub endpoints: Vec<EndpointRow>,
}
pub(super) fn row_of(ep: &Endpoint) -> EndpointRow {
    EndpointRow {
        url: ep.url.clone(),
        templated: ep.templated,
        registries: ep.registries.clone(),
        listed_as: ep.listed_as.clone(),
        servers: ep.servers.clone(),
        transport: ep.transport,
        required_secret_headers: ep.required_secret_headers.clone(),
        variables: ep.variables.clone(),
        mode: None,
        status: None,
        elapsed_ms: None,
        retries: 0,
        error: None,
        refused: None,
    }
}

/// The crawl's and the probes' counts for `report.json`. `rows` are the
/// endpoints' rows as the probes left them, `to_probe` how many were not
/// templated.
pub(super) fn totals(
    set: &EndpointSet,
    sources: &[SourceSummary],
    rows: &[EndpointRow],
    to_probe: usize,
) -> Totals {
    let probed = rows.iter().filter(|r| r.mode.is_some()).count();
    let refused = rows.iter().filter(|r| r.refused.is_some()).count();
    Totals {
        listings: set.listings(),
        endpoints: rows.len(),
        duplicates_merged: set.duplicates(),
        templated: rows.iter().filter(|e| e.templated).count(),
        invalid: set.invalid().len(),
        deleted_skipped: sources.iter().map(|s| s.deleted).sum(),
        to_probe: to_probe - refused,
        probed,
        not_probed: to_probe - refused - probed,
        refused,
    }
}

/// The progress bar's message: counts by mode, most common first.
pub(super) fn progress_line(audit: &Audit) -> String {
    audit
        .mode_counts()
        .iter()
        .map(|(m, n)| format!("{m} {n}"))
        .collect::<Vec<_>>()
        .join(" · ")
}

pub(super) fn print_summary(r: &ScanReport, out: &Path) {
    let t = &r.totals;
    let a = &r.audit;
    let pct = |b: Bucket| {
        a.buckets
            .iter()
            .find(|x| x.bucket == b)
            .map(|x| percent(x.share))
            .unwrap_or_default()
    };
    let mut text = String::new();
    if r.interrupted {
        let _ = writeln!(
            text,
            "mcprobe scan: interrupted; {} of {} endpoints probed, report written with those",
            t.probed, t.to_probe
        );
    } else {
        let _ = writeln!(
            text,
            "mcprobe scan: {} endpoints probed ({} templated, not probed) in {:.1} s",
            t.probed,
            t.templated,
            r.elapsed_ms as f64 / 1000.0
        );
    }
    let _ = writeln!(
        text,
        "  up {} · degraded {} · down {}; loud failures {} · quiet failures {}",
        a.status.up,
        a.status.degraded,
        a.status.down,
        pct(Bucket::Loud),
        pct(Bucket::Quiet)
    );
    if t.refused > 0 {
        let _ = writeln!(
            text,
            "  {} endpoint(s) refused by the address policy, not probed (loopback, private or \
             metadata addresses; --allow-private probes an internal registry on purpose)",
            t.refused
        );
    }
    let _ = writeln!(text, "  report: {}", out.join("report.md").display());
    let mut stdout = std::io::stdout().lock();
    // A closed pipe is not worth an error: the files are written.
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush());
}
// ---- report.md --------------------------------------------------------------------

fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

/// Server-provided text for one Markdown table cell: control characters shown
/// escaped, Markdown and HTML punctuation backslashed, at most 200 characters.
pub fn md_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.chars().enumerate() {
        if i == 200 {
            out.push('…');
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control()
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') =>
            {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// A URL as a code span: nothing inside is Markdown, save the two characters
/// that could end the span or the table cell, which are percent-encoded.
pub fn md_url(url: &str) -> String {
    let mut out = String::from("`");
    for c in url.chars() {
        match c {
            '`' => out.push_str("%60"),
            '|' => out.push_str("%7C"),
            c if c.is_control() || c.is_whitespace() => {
                let _ = write!(out, "%{:02X}", u32::from(c) & 0xff);
            }
            c => out.push(c),
        }
    }
    out.push('`');
    out
}

fn mode_list(modes: &[Mode]) -> String {
    modes
        .iter()
        .map(|m| format!("`{m}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `report.md`: the audit for people, one section after the other.
pub fn render_markdown(r: &ScanReport) -> String {
    const SECTIONS: [fn(&mut String, &ScanReport); 14] = [
        header,
        totals_table,
        buckets,
        modes,
        registries,
        latency,
        common_failures,
        slowest,
        drift,
        needs_credentials,
        refused,
        templated,
        sources,
        warnings,
    ];
    let mut o = String::new();
    for section in SECTIONS {
        section(&mut o, r);
    }
    let _ = writeln!(
        o,
        "Every verdict is in `verdicts.jsonl`; these figures, per endpoint too, in `report.json`."
    );
    o
}

/// The title, what was scanned and how, and whether Ctrl-C cut it short.
fn header(o: &mut String, r: &ScanReport) {
    let t = &r.totals;
    let registries = r.sources.iter().filter(|s| s.kind == "registry").count();
    let files = r.sources.len() - registries;
    let _ = writeln!(o, "# MCP endpoint audit\n");
    let _ = writeln!(
        o,
        "`mcprobe scan` of {registries} registr{} and {files} file{}, started {}, {:.1} s; \
         each probe had {} s, {} at once, at most {} per host.\n",
        if registries == 1 { "y" } else { "ies" },
        if files == 1 { "" } else { "s" },
        r.started_at,
        r.elapsed_ms as f64 / 1000.0,
        r.options.timeout_s,
        r.options.concurrency,
        r.options.per_host
    );
    if r.interrupted {
        let _ = writeln!(
            o,
            "**Interrupted (Ctrl-C):** {} of {} endpoints were probed; every figure below covers \
             those only.\n",
            t.probed, t.to_probe
        );
    }
}

/// ## Totals: what the crawl found and what became of it.
fn totals_table(o: &mut String, r: &ScanReport) {
    let t = &r.totals;
    let a = &r.audit;
    let _ = writeln!(o, "## Totals\n");
    let _ = writeln!(o, "| | endpoints |\n|---|---:|");
    for (label, n) in [
        ("listings read", t.listings),
        ("distinct endpoints", t.endpoints),
        ("duplicates merged", t.duplicates_merged),
        ("deleted entries skipped", t.deleted_skipped),
        ("templated (recorded, not probed)", t.templated),
        ("invalid URLs", t.invalid),
        ("refused by the address policy (not probed)", t.refused),
        ("probed", t.probed),
        ("not probed", t.not_probed),
    ] {
        let _ = writeln!(o, "| {label} | {n} |");
    }
    let _ = writeln!(
        o,
        "| up / degraded / down | {} / {} / {} |\n",
        a.status.up, a.status.degraded, a.status.down
    );
}

/// ## Loud vs quiet: the failures any uptime check sees against those only a protocol-aware probe sees.
fn buckets(o: &mut String, r: &ScanReport) {
    let a = &r.audit;
    let _ = writeln!(o, "## Loud vs quiet\n");
    let _ = writeln!(
        o,
        "Buckets used: **loud** = {} (the server is visibly down: any uptime check sees it); \
         **quiet** = {} (something answers, but MCP does not work or changed: only a \
         protocol-aware probe sees it); **passing** = {}.\n",
        mode_list(&registry::LOUD),
        mode_list(&registry::QUIET),
        mode_list(&Bucket::Passing.modes())
    );
    let _ = writeln!(o, "| bucket | endpoints | share |\n|---|---:|---:|");
    for b in &a.buckets {
        let _ = writeln!(
            o,
            "| {} | {} | {} |",
            b.bucket.as_str(),
            b.count,
            percent(b.share)
        );
    }
    o.push('\n');
}

/// ## Per failure mode.
fn modes(o: &mut String, r: &ScanReport) {
    let a = &r.audit;
    let _ = writeln!(o, "## Per failure mode\n");
    if a.modes.is_empty() {
        let _ = writeln!(o, "No endpoint was probed.\n");
    } else {
        let _ = writeln!(
            o,
            "| mode | bucket | endpoints | share |\n|---|---|---:|---:|"
        );
        for m in &a.modes {
            let _ = writeln!(
                o,
                "| `{}` | {} | {} | {} |",
                m.mode,
                Bucket::of(m.mode).as_str(),
                m.count,
                percent(m.share)
            );
        }
        o.push('\n');
    }
}

/// ## Per registry: how much of what each lists fails.
fn registries(o: &mut String, r: &ScanReport) {
    let a = &r.audit;
    let _ = writeln!(o, "## Per registry\n");
    let _ = writeln!(
        o,
        "| registry | probed | failing | failing share | modes |\n|---|---:|---:|---:|---|"
    );
    for reg in &a.registries {
        let modes = reg
            .modes
            .iter()
            .map(|m| format!("`{}` {}", m.mode, percent(m.share)))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {modes} |",
            md_url(&reg.registry),
            reg.probed,
            reg.failing,
            percent(reg.failing_share)
        );
    }
    o.push('\n');
}

/// ## Latency: percentiles over every probe and over the answered ones.
fn latency(o: &mut String, r: &ScanReport) {
    let a = &r.audit;
    let _ = writeln!(o, "## Latency\n");
    let ms = |v: Option<u64>| v.map(|n| format!("{n} ms")).unwrap_or_else(|| "-".into());
    let _ = writeln!(
        o,
        "p50 {}, p95 {} over every probe (a timeout counts its whole wait); p50 {}, p95 {} over \
         the probes whose server answered.\n",
        ms(a.latency_ms.p50),
        ms(a.latency_ms.p95),
        ms(a.latency_ms.answered_p50),
        ms(a.latency_ms.answered_p95)
    );
}

/// ## Most common failures, each with an example.
fn common_failures(o: &mut String, r: &ScanReport) {
    let a = &r.audit;
    let _ = writeln!(o, "## Most common failures\n");
    if a.common_failures.is_empty() {
        let _ = writeln!(o, "None.\n");
    } else {
        let _ = writeln!(
            o,
            "| mode | bucket | endpoints | share | example |\n|---|---|---:|---:|---|"
        );
        for c in &a.common_failures {
            let _ = writeln!(
                o,
                "| `{}` | {} | {} | {} | {}: {} |",
                c.mode,
                c.bucket.as_str(),
                c.count,
                percent(c.share),
                md_url(&c.example_url),
                md_text(&c.example_reason)
            );
        }
        o.push('\n');
    }
}

/// ## Slowest endpoints.
fn slowest(o: &mut String, r: &ScanReport) {
    let a = &r.audit;
    let _ = writeln!(o, "## Slowest\n");
    if a.slowest.is_empty() {
        let _ = writeln!(o, "None.\n");
    } else {
        let _ = writeln!(o, "| endpoint | mode | ms |\n|---|---|---:|");
        for s in &a.slowest {
            let _ = writeln!(
                o,
                "| {} | `{}` | {} |",
                md_url(&s.url),
                s.mode,
                s.elapsed_ms
            );
        }
        o.push('\n');
    }
}

/// ## Drift since the last scan (only with `--baseline-dir`).
fn drift(o: &mut String, r: &ScanReport) {
    let a = &r.audit;
    if r.options.baseline_dir.is_some() {
        let _ = writeln!(o, "## Drift since the last scan\n");
        if a.drift.is_empty() {
            let _ = writeln!(o, "No tool list changed.\n");
        } else {
            let _ = writeln!(o, "| endpoint | breaking | changes |\n|---|---|---:|");
            for d in &a.drift {
                let _ = writeln!(
                    o,
                    "| {} | {} | {} |",
                    md_url(&d.url),
                    if d.breaking { "yes" } else { "no" },
                    d.changes
                );
            }
            o.push('\n');
        }
    }
}

/// ## Needs credentials: remotes declaring a required secret header.
fn needs_credentials(o: &mut String, r: &ScanReport) {
    let creds: Vec<&EndpointRow> = r
        .endpoints
        .iter()
        .filter(|e| !e.required_secret_headers.is_empty() && !e.templated)
        .collect();
    if !creds.is_empty() {
        let _ = writeln!(o, "## Needs credentials\n");
        let _ = writeln!(
            o,
            "These remotes declare a required secret header; they were probed without it, and \
             a 401/403 counts as `auth_required`.\n"
        );
        let _ = writeln!(o, "| endpoint | headers | mode |\n|---|---|---|");
        for e in creds {
            let _ = writeln!(
                o,
                "| {} | {} | {} |",
                md_url(&e.url),
                md_text(&e.required_secret_headers.join(", ")),
                e.mode
                    .map(|m| format!("`{m}`"))
                    .unwrap_or_else(|| "-".into())
            );
        }
        o.push('\n');
    }
}

/// ## Refused by the address policy (never connected to).
fn refused(o: &mut String, r: &ScanReport) {
    let refused: Vec<&EndpointRow> = r.endpoints.iter().filter(|e| e.refused.is_some()).collect();
    if !refused.is_empty() {
        let _ = writeln!(o, "## Refused by the address policy (not probed)\n");
        let _ = writeln!(
            o,
            "A listing may name any address; these resolve to loopback, private, link-local, \
             metadata or other non-public addresses, so no request was sent to them (and they \
             count as no failure). `--allow-private` probes loopback and private networks on \
             purpose (an internal registry); metadata services are refused either way.\n"
        );
        let _ = writeln!(o, "| endpoint | why | registries |\n|---|---|---|");
        for e in refused {
            let regs = e.registries.iter().map(|x| md_url(x)).collect::<Vec<_>>();
            let _ = writeln!(
                o,
                "| {} | {} | {} |",
                md_url(&e.url),
                md_text(e.refused.as_deref().unwrap_or_default()),
                regs.join(", ")
            );
        }
        o.push('\n');
    }
}

/// ## Templated URLs, recorded but not probed.
fn templated(o: &mut String, r: &ScanReport) {
    let templated: Vec<&EndpointRow> = r.endpoints.iter().filter(|e| e.templated).collect();
    if !templated.is_empty() {
        let _ = writeln!(o, "## Templated URLs (recorded, not probed)\n");
        let _ = writeln!(o, "| template | variables | registries |\n|---|---|---|");
        for e in templated {
            let regs = e.registries.iter().map(|x| md_url(x)).collect::<Vec<_>>();
            let _ = writeln!(
                o,
                "| {} | {} | {} |",
                md_url(&e.url),
                md_text(&e.variables.join(", ")),
                regs.join(", ")
            );
        }
        o.push('\n');
    }
}

/// ## Sources: each registry and file, with its problems.
fn sources(o: &mut String, r: &ScanReport) {
    let _ = writeln!(o, "## Sources\n");
    let _ = writeln!(
        o,
        "| source | pages | entries | listings | deleted | superseded | problems |\n\
         |---|---:|---:|---:|---:|---:|---|"
    );
    for s in &r.sources {
        let mut problems = s.problems.iter().map(|p| md_text(p)).collect::<Vec<_>>();
        if let Some(e) = &s.error {
            problems.insert(0, format!("**stopped:** {}", md_text(e)));
        }
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} | {} | {} |",
            md_url(&s.source),
            s.pages,
            s.servers,
            s.listings,
            s.deleted,
            s.superseded,
            if problems.is_empty() {
                "-".into()
            } else {
                problems.join("<br>")
            }
        );
    }
    o.push('\n');
}

/// ## Warnings: invalid listings and files that could not be written.
fn warnings(o: &mut String, r: &ScanReport) {
    if !r.invalid.is_empty() || !r.warnings.is_empty() {
        let _ = writeln!(o, "## Warnings\n");
        for i in &r.invalid {
            let _ = writeln!(
                o,
                "- {} listed {}: {}",
                md_url(&i.registry),
                md_url(&i.url),
                md_text(&i.reason)
            );
        }
        for w in &r.warnings {
            let _ = writeln!(o, "- {}", md_text(w));
        }
        o.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::probing::PER_HOST;
    use mcprobe_core::Verdict;

    #[test]
    fn markdown_cells_cannot_break_out() {
        assert_eq!(md_text("a|b\n<script>"), "a\\|b\\n\\<script\\>");
        assert_eq!(md_text("\u{1b}[31m"), "\\u{1b}\\[31m");
        assert_eq!(md_text(&"x".repeat(300)).chars().count(), 201);
        assert_eq!(md_url("http://h/a`b|c d"), "`http://h/a%60b%7Cc%20d`");
    }

    #[test]
    fn the_markdown_report_names_its_buckets_and_its_interruption() {
        let mut audit = Audit::new();
        let v: Verdict = serde_json::from_value(serde_json::json!({
            "url": "http://127.0.0.1:1/mcp", "status": "down", "mode": "connect_refused",
            "severity": "P1", "reason": "refused | <b>", "hint": "h", "steps": [], "findings": [],
            "checked_at": "2026-01-01T00:00:00Z", "elapsed_ms": 3
        }))
        .expect("a verdict");
        audit.add(&v, &["http://r.example".to_string()]);
        let report = ScanReport {
            format: 1,
            started_at: "2026-01-01T00:00:00Z".into(),
            finished_at: "2026-01-01T00:00:01Z".into(),
            elapsed_ms: 1000,
            interrupted: true,
            options: ScanOptions {
                timeout_s: 4.0,
                concurrency: 8,
                per_host: PER_HOST,
                baseline_dir: None,
            },
            sources: vec![],
            totals: Totals {
                to_probe: 2,
                probed: 1,
                ..Totals::default()
            },
            audit: audit.report(),
            invalid: vec![],
            warnings: vec![],
            endpoints: vec![],
        };
        let md = render_markdown(&report);
        assert!(md.contains("**Interrupted (Ctrl-C):** 1 of 2"), "{md}");
        assert!(
            md.contains("**loud** = `dns_unresolved`, `connect_refused`"),
            "{md}"
        );
        assert!(
            md.contains("| `connect_refused` | loud | 1 | 100.0% |"),
            "{md}"
        );
        assert!(md.contains("refused \\| \\<b\\>"), "{md}");
        assert!(!md.contains("<b>"), "{md}");
    }
}
