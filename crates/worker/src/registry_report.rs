//! Start here: the registry summary behind `GET /api/registry/summary`
//! ([`crate::registry_api`]), the audit of every endpoint the registries
//! list, as the `/audit` page shows it.
//!
//! The aggregates are the core's (`registry::Audit`, the same as `mcprobe
//! scan`'s `report.json`), over the latest verdict of each live registry
//! monitor (`monitor_state.verdict_json`, written at every change of status
//! or mode, so it is the latest). A monitor whose listing declares a required
//! secret header is re-read with `registry::needs_credentials`: probed
//! without the credential, its 401 is `auth_required`, not down. Beside the
//! audit: [`table`], one line per verdict mode in ladder order (zeros
//! included, with its loud / quiet / passing bucket), and the crawl facts
//! (the latest crawl and the latest complete full one, as `crate::crawl`
//! recorded them).
//!
//! The summary is rendered by the cron ([`render`], stored as a public view
//! by [`crate::public_views`]); the public route reads that one row.

use mcprobe_core::{Mode, Verdict};
use mcprobe_registry::{self as registry, Audit, AuditReport, Bucket};
use serde_json::{json, Value};
use worker::Env;

use crate::error::{db_err, ApiError};
use crate::store::{col_str, col_u64, Param, Store};

/// What the live registry monitors' latest verdicts add up to.
#[derive(Debug, Clone, PartialEq)]
pub struct Tally {
    pub report: AuditReport,
    /// Live registry monitors.
    pub live: u64,
    /// Of those, without a verdict yet (not probed since they were listed).
    pub not_yet_probed: u64,
    /// Verdicts turned into `auth_required` by the listing's secret header.
    pub needs_credentials: u64,
    /// Stored verdicts that did not parse (hand-edited rows).
    pub unreadable: u64,
}

/// Adds up rows of `{registries_json, secret_headers_json, verdict_json}`
/// (`verdict_json` null when the monitor has no verdict yet).
pub fn tally(rows: &[Value]) -> Tally {
    let mut audit = Audit::new();
    let mut t = Tally {
        report: audit.report(),
        live: rows.len() as u64,
        not_yet_probed: 0,
        needs_credentials: 0,
        unreadable: 0,
    };
    for r in rows {
        let text = col_str(r, "verdict_json");
        if text.is_empty() {
            t.not_yet_probed += 1;
            continue;
        }
        let Ok(mut v) = serde_json::from_str::<Verdict>(text) else {
            t.unreadable += 1;
            continue;
        };
        let secrets: Vec<String> =
            serde_json::from_str(col_str(r, "secret_headers_json")).unwrap_or_default();
        // The writer re-reads these verdicts as it stores them; this covers
        // rows stored before it did (re-reading one is a no-op).
        registry::needs_credentials(&mut v, &secrets);
        if !secrets.is_empty() && v.mode == mcprobe_core::Mode::AuthRequired {
            t.needs_credentials += 1;
        }
        let regs: Vec<String> =
            serde_json::from_str(col_str(r, "registries_json")).unwrap_or_default();
        audit.add(&v, &regs);
    }
    t.report = audit.report();
    t
}

/// Every mode a verdict can have, in ladder order, with its count, its share
/// of the probed endpoints and its bucket (zeros included, so the page's
/// table always has every row).
pub fn table(report: &AuditReport) -> Vec<Value> {
    let mut modes: Vec<Mode> = [Bucket::Passing, Bucket::Loud, Bucket::Quiet]
        .into_iter()
        .flat_map(Bucket::modes)
        .collect();
    modes.sort();
    modes
        .into_iter()
        .map(|m| {
            let (count, share) = report
                .modes
                .iter()
                .find(|s| s.mode == m)
                .map_or((0, 0.0), |s| (s.count, s.share));
            json!({
                "mode": m.as_str(),
                "bucket": Bucket::of(m).as_str(),
                "layer": m.layer(),
                "count": count,
                "share": share,
            })
        })
        .collect()
}

fn facts(rows: &[Value]) -> Value {
    rows.first()
        .and_then(|r| serde_json::from_str::<Value>(col_str(r, "facts_json")).ok())
        .unwrap_or(Value::Null)
}

async fn count<S: Store>(store: &S, sql: &str) -> Result<u64, ApiError> {
    let rows = store.rows(sql, &[]).await.map_err(db_err)?;
    Ok(rows.first().and_then(|r| col_u64(r, "n")).unwrap_or(0))
}

/// The summary's body from its parts (pure).
pub(crate) fn body(
    env: &Env,
    t: &Tally,
    retired: u64,
    templated: u64,
    latest: Value,
    full: Value,
) -> Value {
    json!({
        "registries": crate::crawl::registries(env),
        "monitors": {
            "live": t.live,
            "probed": t.report.probed,
            "not_yet_probed": t.not_yet_probed,
            "needs_credentials": t.needs_credentials,
            "unreadable": t.unreadable,
            "retired": retired,
            "templated": templated,
        },
        "table": table(&t.report),
        "audit": t.report,
        "crawl": latest,
        "last_full_crawl": full,
    })
}

/// Renders the summary from D1 (five queries, every registry monitor's
/// verdict parsed): the cron's work, stored as a public view
/// ([`crate::public_views`]), never a public request's.
pub async fn render<S: Store>(store: &S, env: &Env) -> Result<Value, ApiError> {
    let latest = store
        .rows(
            "SELECT facts_json FROM registry_crawls ORDER BY at_ms DESC LIMIT 1",
            &[],
        )
        .await
        .map_err(db_err)?;
    let last_full = store
        .rows(
            "SELECT facts_json FROM registry_crawls WHERE kind = 'full' AND complete = 1 ORDER BY at_ms DESC LIMIT 1",
            &[],
        )
        .await
        .map_err(db_err)?;
    let rows = store
        .rows(
            "SELECT m.registries_json, m.secret_headers_json, s.verdict_json \
             FROM monitors m LEFT JOIN monitor_state s ON s.monitor_id = m.id \
             WHERE m.source = ? AND m.retired_at_ms IS NULL",
            &[Param::text("registry")],
        )
        .await
        .map_err(db_err)?;
    let retired = count(
        store,
        "SELECT COUNT(*) AS n FROM monitors WHERE source = 'registry' AND retired_at_ms IS NOT NULL",
    )
    .await?;
    let templated = count(
        store,
        "SELECT COUNT(*) AS n FROM registry_templates WHERE retired_at_ms IS NULL",
    )
    .await?;
    let t = tally(&rows);
    Ok(body(
        env,
        &t,
        retired,
        templated,
        facts(&latest),
        facts(&last_full),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcprobe_core::verdict::Step;

    fn verdict(mode: Mode, step_detail: &str) -> String {
        let v = Verdict {
            steps: vec![Step {
                name: "initialize".into(),
                ok: mode == Mode::Ok,
                ms: 3,
                detail: step_detail.into(),
            }],
            checked_at: "2026-01-01T00:00:00Z".into(),
            elapsed_ms: 3,
            ..Verdict::of("https://e.example/mcp", mode, format!("{mode}"))
        };
        serde_json::to_string(&v).unwrap()
    }

    #[test]
    fn the_tally_counts_modes_and_reads_secret_headers_as_needs_credentials() {
        let rows = vec![
            json!({"registries_json": "[\"r1\"]", "secret_headers_json": "[]", "verdict_json": verdict(Mode::Ok, "")}),
            json!({"registries_json": "[\"r1\",\"r2\"]", "secret_headers_json": "[]", "verdict_json": verdict(Mode::ConnectRefused, "")}),
            // A 401 from a listing that declares a required secret header.
            json!({"registries_json": "[\"r1\"]", "secret_headers_json": "[\"X-API-Key\"]",
                   "verdict_json": verdict(Mode::HttpError, "HTTP 401 Unauthorized")}),
            json!({"registries_json": "[\"r1\"]", "secret_headers_json": null, "verdict_json": null}),
            json!({"registries_json": "[\"r1\"]", "secret_headers_json": "[]", "verdict_json": "{not json"}),
        ];
        let t = tally(&rows);
        assert_eq!(t.live, 5);
        assert_eq!(t.report.probed, 3);
        assert_eq!(t.not_yet_probed, 1);
        assert_eq!(t.unreadable, 1);
        assert_eq!(t.needs_credentials, 1);
        let table = table(&t.report);
        let count = |m: &str| {
            table
                .iter()
                .find(|r| r["mode"] == m)
                .and_then(|r| r["count"].as_u64())
        };
        assert_eq!(count("ok"), Some(1));
        assert_eq!(count("connect_refused"), Some(1));
        assert_eq!(count("auth_required"), Some(1));
        assert_eq!(count("http_error"), Some(0));
        // Every verdict mode has a row, in ladder order, with its bucket.
        assert_eq!(table.len(), 15);
        assert_eq!(table[0]["mode"], "dns_unresolved");
        assert_eq!(table[0]["bucket"], "loud");
        assert_eq!(table.last().map(|r| r["mode"].clone()), Some(json!("ok")));
        let r2 = t.report.registries.iter().find(|r| r.registry == "r2");
        assert_eq!(r2.map(|r| (r.probed, r.failing)), Some((1, 1)));
    }
}
