//! Start here: the public views, rendered by the cron so that the
//! unauthenticated routes cost one D1 query whatever the number of monitors:
//!
//! - `metrics`: the OpenMetrics text of `GET /metrics` (every public
//!   monitor's status, latency and last check);
//! - `registry_summary`: the JSON of `GET /api/registry/summary` (the audit
//!   of every registry monitor's latest verdict).
//!
//! [`refresh`] runs after each claimed cron tick (from `lib.rs`, once the
//! tick's own probes are written), so a view is at most a tick behind the
//! probes the tick ran itself; probes fanned out to the Queue show at the
//! next tick. A view is split into parts of at most [`PART_BYTES`] (D1 rows
//! stay far under their 2 MB cap) written in one batch, so a reader sees
//! one rendering whole; [`read`] gets every part in one query.

use mcprobe_core::Status;
use mcprobe_monitor::metrics::{self, MetricRow};
use mcprobe_monitor::rollup::Accumulator;
use serde_json::{json, Value};
use worker::Env;

use crate::error::{db_err, ApiError};
use crate::state;
use crate::store::{col_str, col_u64, D1Store, Param, Store};

/// The view of `GET /metrics`.
pub const METRICS: &str = "metrics";
/// The view of `GET /api/registry/summary`.
pub const REGISTRY_SUMMARY: &str = "registry_summary";
/// Largest part of a view, in bytes.
pub const PART_BYTES: usize = 256 * 1024;

/// `text` cut into parts of at most `max` bytes, at char boundaries (pure;
/// the parts joined are `text`). Empty text is one empty part, so a view
/// rendered empty is stored as such (not mistaken for "never rendered").
pub fn split(text: &str, max: usize) -> Vec<&str> {
    let max = max.max(4);
    let mut parts = Vec::new();
    let mut rest = text;
    while rest.len() > max {
        let mut cut = max;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (head, tail) = rest.split_at(cut);
        parts.push(head);
        rest = tail;
    }
    parts.push(rest);
    parts
}

fn key(name: &str, part: usize) -> String {
    format!("{name}:{part:04}")
}

/// Stores `text` as view `name`, replacing every part of the one before,
/// in one batch.
pub async fn write(store: &D1Store, name: &str, text: &str, at_ms: u64) -> Result<u64, String> {
    let parts = split(text, PART_BYTES);
    let upsert = "INSERT INTO public_views (key, at_ms, body) VALUES (?, ?, ?) \
                  ON CONFLICT(key) DO UPDATE SET at_ms = excluded.at_ms, body = excluded.body";
    let mut statements: Vec<(&str, Vec<Param>)> = parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            (
                upsert,
                vec![
                    Param::text(key(name, i)),
                    Param::int(at_ms),
                    Param::text(*p),
                ],
            )
        })
        .collect();
    // The parts past this rendering's last, left by a longer one before.
    statements.push((
        "DELETE FROM public_views WHERE key > ? AND key < ?",
        vec![
            Param::text(key(name, parts.len() - 1)),
            Param::text(format!("{name};")),
        ],
    ));
    store.batch(&statements).await
}

/// View `name` and when it was rendered; `None` before the first refresh.
pub async fn read<S: Store>(store: &S, name: &str) -> Result<Option<(String, u64)>, ApiError> {
    let rows = store
        .rows(
            "SELECT at_ms, body FROM public_views WHERE key >= ? AND key < ? ORDER BY key",
            &[
                Param::text(format!("{name}:")),
                Param::text(format!("{name};")),
            ],
        )
        .await
        .map_err(db_err)?;
    if rows.is_empty() {
        return Ok(None);
    }
    let at = rows.iter().filter_map(|r| col_u64(r, "at_ms")).max();
    let body: String = rows.iter().map(|r| col_str(r, "body")).collect();
    Ok(Some((body, at.unwrap_or(0))))
}

/// One public monitor's metric row: this isolate's accumulator when it has
/// one (the freshest), else the `monitor_state` row (the last change).
pub fn metric_row(row: &Value, live: Option<&Accumulator>) -> MetricRow {
    let mut m = MetricRow {
        id: col_str(row, "id").to_string(),
        name: col_str(row, "name").to_string(),
        status: None,
        latency_ms: None,
        last_check_ms: None,
    };
    if let Some(last) = live.and_then(Accumulator::last_probe) {
        m.status = Some(last.status);
        m.latency_ms = Some(last.elapsed_ms);
        m.last_check_ms = Some(last.at_ms);
    } else {
        m.status =
            serde_json::from_value::<Status>(Value::String(col_str(row, "status").into())).ok();
        m.latency_ms = col_u64(row, "elapsed_ms");
        m.last_check_ms = col_u64(row, "at_ms");
    }
    m
}

/// The OpenMetrics text of every public live monitor: one query.
async fn render_metrics<S: Store>(store: &S) -> Result<String, String> {
    let rows = store
        .rows(
            "SELECT m.id, m.name, s.at_ms, s.status, s.elapsed_ms FROM monitors m \
             LEFT JOIN monitor_state s ON s.monitor_id = m.id \
             WHERE m.public = 1 AND m.retired_at_ms IS NULL ORDER BY m.id",
            &[],
        )
        .await?;
    let metric_rows: Vec<MetricRow> = rows
        .iter()
        .map(|r| metric_row(r, state::accumulator(col_str(r, "id")).as_ref()))
        .collect();
    Ok(metrics::render(&metric_rows))
}

/// Renders and stores every public view; what it did, for the cron's log.
pub async fn refresh(env: &Env, at_ms: u64) -> Value {
    let store = match D1Store::from_env(env) {
        Ok(s) => s,
        Err(e) => return json!({"errors": [e]}),
    };
    let mut errors = Vec::new();
    let mut written = 0u64;
    match render_metrics(&store).await {
        Ok(text) => match write(&store, METRICS, &text, at_ms).await {
            Ok(n) => written += n,
            Err(e) => errors.push(format!("storing the metrics view: {e}")),
        },
        Err(e) => errors.push(format!("rendering the metrics view: {e}")),
    }
    match crate::registry_report::render(&store, env).await {
        Ok(body) => {
            let mut body = body;
            body["as_of_ms"] = json!(at_ms);
            match write(&store, REGISTRY_SUMMARY, &body.to_string(), at_ms).await {
                Ok(n) => written += n,
                Err(e) => errors.push(format!("storing the registry summary: {e}")),
            }
        }
        Err(e) => errors.push(format!("rendering the registry summary: {}", e.error)),
    }
    json!({"rows_written": written, "errors": errors})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_parts_join_back_and_respect_the_cap() {
        let text = "é".repeat(1000) + &"x".repeat(333);
        for max in [4, 5, 7, 64, 10_000] {
            let parts = split(&text, max);
            assert_eq!(parts.concat(), text, "{max}");
            assert!(parts.iter().all(|p| p.len() <= max.max(4)), "{max}");
        }
        assert_eq!(split("", 10), vec![""]);
        assert_eq!(split("abc", 10), vec!["abc"]);
    }

    #[test]
    fn a_metric_row_prefers_the_live_accumulator() {
        use mcprobe_core::Mode;
        use mcprobe_monitor::rollup::Observation;
        let row = json!({"id": "m1", "name": "n", "at_ms": 5, "status": "down", "elapsed_ms": 9});
        let stored = metric_row(&row, None);
        assert_eq!(stored.status, Some(Status::Down));
        assert_eq!(
            (stored.latency_ms, stored.last_check_ms),
            (Some(9), Some(5))
        );
        let mut acc = Accumulator::new("m1");
        acc.observe(
            &Observation {
                at_ms: 1_767_225_600_000,
                status: Status::Up,
                mode: Mode::Ok,
                elapsed_ms: 42,
                tools_hash: None,
                reason: String::new(),
                verdict_json: String::new(),
            },
            1_767_225_600_000,
        );
        let live = metric_row(&row, Some(&acc));
        assert_eq!(live.status, Some(Status::Up));
        assert_eq!(live.latency_ms, Some(42));
        // Never probed: no samples, and no panic on a bare row.
        let none = metric_row(&json!({"id": "m2", "name": "x"}), None);
        assert_eq!((none.status, none.last_check_ms), (None, None));
    }
}
