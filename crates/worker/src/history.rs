//! Start here: a monitor's history, read back from D1:
//!
//! - `GET /api/monitors/{id}/history?window=24h|7d|90d` - uptime, failures
//!   by mode and p50/p95 per bucket (hourly; daily for 90d) and in total
//! - `GET /api/monitors/{id}/incidents?limit=N` - runs of non-up states,
//!   newest first
//! - `GET /api/monitors/{id}/drift?limit=N` - drift events, newest first,
//!   each with the diff of the two tool lists it compares
//!
//! The figures are the core's (`mcprobe_monitor::history`, host-tested); this
//! module only reads the rows, as [`crate::status`] does: public monitors to
//! anyone, the others with the admin token ([`crate::admin::visible`]). `limit` is 1..=500, default 100.
//!
//! Sources, each read by primary-key range (the tables have no secondary
//! index, for the write budget, and D1 bills rows read): `state_changes`
//! (incidents; `{id}:state:*`, the verdicts of the incidents shown only),
//! `drift_events` (`{id}:drift:*`) + `snapshots` by hash (drift), the packed
//! `rollups` rows of the monitor's shard (history; items of the shard's
//! monitors, kept by monitor id and de-duplicated by item key in the core),
//! and the open hour from the monitor's accumulator (this isolate's memory,
//! else its `monitor_state` row), which no stored row holds yet.

use std::collections::{BTreeMap, BTreeSet};

use mcprobe_core::fingerprint::Snapshot;
use mcprobe_core::{Mode, Status};
use mcprobe_monitor::history::{self as core, DriftEvent, StateChange, Window};
use mcprobe_monitor::rollup::{Accumulator, Rollup, Write};
use mcprobe_store::drift;
use serde::Serialize;
use serde_json::Value;
use worker::{Env, Request, Response};

use crate::admin::visible;
use crate::clock;
use crate::db;
use crate::error::{core_err, db_err, internal, json_response, ApiError};
use crate::request::query;
use crate::state;
use crate::store::{col_str, col_u64, D1Store, Param, Store};
use crate::writer;

/// State changes read for the incidents at most: far more than 500
/// incidents need, and a bound on one request's work for a flapping monitor.
const MAX_CHANGES: u64 = 20_000;
/// Keys per `IN (...)` query (D1 allows 100 bound parameters).
const KEYS_PER_QUERY: usize = 50;

/// `GET /api/monitors/{id}/history`.
pub async fn history(req: &Request, env: &Env, id: &str) -> Result<Response, ApiError> {
    let window = core::parse_window(query(req, "window").as_deref()).map_err(core_err)?;
    let m = visible(req, env, id).await?;
    let store = D1Store::from_env(env).map_err(db_err)?;
    let now = clock::now_ms();
    let from = window.first_bucket_ms(now);

    let (daily, mut hourly) = if window == Window::Quarter {
        let (covered, daily) = rollups(&store, &m.id, "daily", from, None).await?;
        // Hourly rows only for the days no daily row of the shard covers
        // (the open day, days before the daily job ran): reading 90 days of
        // the shard's packed hourly rows is what the daily rows spare. A
        // daily row of the shard covers its day for every monitor of it.
        let mut hourly = Vec::new();
        for (start, end) in core::uncovered_days(window, now, &covered) {
            hourly.extend(rollups(&store, &m.id, "hourly", start, Some(end)).await?.1);
        }
        (daily, hourly)
    } else {
        (
            Vec::new(),
            rollups(&store, &m.id, "hourly", from, None).await?.1,
        )
    };
    // Last: a stored row of the same hour wins (the core keeps the first).
    if let Some(open) = accumulator(&store, &m.id)
        .await?
        .and_then(|a| a.current_hour())
    {
        hourly.push(open);
    }
    ok_json(&core::history(&m.id, &hourly, &daily, window, now))
}

/// `GET /api/monitors/{id}/incidents`.
pub async fn incidents(req: &Request, env: &Env, id: &str) -> Result<Response, ApiError> {
    let limit = core::parse_limit(query(req, "limit").as_deref()).map_err(core_err)?;
    let m = visible(req, env, id).await?;
    let store = D1Store::from_env(env).map_err(db_err)?;
    // The verdicts stay behind (a few KB each): only the opening ones of the
    // incidents shown are read, below.
    let (lo, hi) = core::key_range(&m.id, "state");
    let rows = store
        .rows(
            "SELECT key, at_ms, status, mode, reason FROM state_changes WHERE key >= ? AND key < ? AND monitor_id = ? ORDER BY at_ms DESC LIMIT ?",
            &[Param::text(lo), Param::text(hi), Param::text(&m.id), Param::int(MAX_CHANGES)],
        )
        .await
        .map_err(db_err)?;
    let capped = rows.len() as u64 >= MAX_CHANGES;
    let mut changes: Vec<StateChange> = rows.iter().rev().filter_map(state_change).collect();
    if capped {
        core::trim_partial(&mut changes);
    }
    let mut list = core::incident_list(&m.id, &changes, clock::now_ms(), limit);
    let keys: Vec<&str> = list.incidents.iter().map(|i| i.id.as_str()).collect();
    let verdicts = by_keys(&store, "state_changes", "key", "verdict_json", &keys).await?;
    for inc in &mut list.incidents {
        if let Some(v) = verdicts.get(&inc.id) {
            inc.set_verdict(v);
        }
    }
    // What the alerting policy announced, with every delivery,
    // failed ones included: see crate::alerting.
    let mut body = serde_json::to_value(&list).unwrap_or_default();
    body["alerts"] = crate::alerting::incidents_json(&store, &m.id, limit as u64)
        .await
        .map_err(db_err)?;
    ok_json(&body)
}

/// `GET /api/monitors/{id}/drift`.
pub async fn drift(req: &Request, env: &Env, id: &str) -> Result<Response, ApiError> {
    let limit = core::parse_limit(query(req, "limit").as_deref()).map_err(core_err)?;
    let m = visible(req, env, id).await?;
    let store = D1Store::from_env(env).map_err(db_err)?;
    let (lo, hi) = core::key_range(&m.id, "drift");
    let events: Vec<DriftEvent> =
        db::fetch(&store, &drift::of_monitor(&m.id, &lo, &hi, limit as u64))
            .await
            .map_err(db_err)?;
    let total = if events.len() < limit {
        events.len()
    } else {
        db::fetch(&store, &drift::count(&m.id, &lo, &hi))
            .await
            .map_err(db_err)? as usize
    };
    let hashes: BTreeSet<&str> = events
        .iter()
        .flat_map(|e| [e.from_hash.as_str(), e.to_hash.as_str()])
        .collect();
    let hashes: Vec<&str> = hashes.into_iter().collect();
    // Unknown or unreadable snapshots are absent: the view says "missing".
    let snaps: BTreeMap<String, Snapshot> =
        by_keys(&store, "snapshots", "hash", "snapshot_json", &hashes)
            .await?
            .into_iter()
            .filter_map(|(h, text)| Some((h, serde_json::from_str::<Snapshot>(&text).ok()?)))
            .collect();
    ok_json(&core::drift_list(&m.id, &events, total, limit, |h| {
        snaps.get(h)
    }))
}

fn ok_json<T: Serialize>(body: &T) -> Result<Response, ApiError> {
    let text = serde_json::to_string(body).map_err(|e| {
        ApiError::new(
            500,
            format!("could not encode the answer: {e}"),
            "report this as a bug",
        )
    })?;
    json_response(200, text).map_err(internal)
}

/// A `state_changes` row; one with an unknown status or mode (edited by
/// hand, or a code this build does not know) is skipped.
fn state_change(row: &Value) -> Option<StateChange> {
    Some(StateChange {
        key: col_str(row, "key").to_string(),
        at_ms: col_u64(row, "at_ms")?,
        status: serde_json::from_value::<Status>(Value::String(col_str(row, "status").into()))
            .ok()?,
        mode: Mode::from_code(col_str(row, "mode"))?,
        reason: col_str(row, "reason").to_string(),
        verdict_json: col_str(row, "verdict_json").to_string(),
    })
}

/// The roll-ups of one monitor of one kind (`hourly` or `daily`) in the
/// packed rows of its shard starting in `[from_ms, until_ms)`, and the start
/// of every such row: a primary-key range read (`writer::shard_range`, as
/// the status route reads), not a table scan (D1 bills rows read).
async fn rollups<S: Store>(
    store: &S,
    id: &str,
    kind: &str,
    from_ms: u64,
    until_ms: Option<u64>,
) -> Result<(BTreeSet<u64>, Vec<Rollup>), ApiError> {
    let shard = writer::shard_of(id);
    let (lo, open_end) = writer::shard_range(&shard, kind, from_ms);
    // The lowest key of a row starting at until_ms bounds the range above.
    let hi = until_ms.map_or(open_end, |t| writer::shard_range(&shard, kind, t).0);
    let rows = store
        .rows(
            "SELECT start_ms, items_json FROM rollups WHERE key >= ? AND key < ?",
            &[Param::text(lo), Param::text(hi)],
        )
        .await
        .map_err(db_err)?;
    let mut starts = BTreeSet::new();
    let mut out = Vec::new();
    for r in &rows {
        starts.extend(col_u64(r, "start_ms"));
        out.extend(
            core::unpack(col_str(r, "items_json"), id)
                .into_iter()
                .filter_map(|w| match w {
                    Write::HourlyRollup(r) if kind == "hourly" => Some(r),
                    Write::DailyRollup(r) if kind == "daily" => Some(r),
                    _ => None,
                }),
        );
    }
    Ok((starts, out))
}

/// The monitor's accumulator: this isolate's, else the one saved with its
/// last change.
async fn accumulator<S: Store>(store: &S, id: &str) -> Result<Option<Accumulator>, ApiError> {
    if let Some(acc) = state::accumulator(id) {
        return Ok(Some(acc));
    }
    let rows = store
        .rows(
            "SELECT accumulator_json FROM monitor_state WHERE monitor_id = ?",
            &[Param::text(id)],
        )
        .await
        .map_err(db_err)?;
    Ok(rows
        .first()
        .and_then(|r| serde_json::from_str(col_str(r, "accumulator_json")).ok()))
}

/// `{key: value}` of the rows of `table` whose primary key `key_col` is one
/// of `keys` (a text column each; the names are this module's constants,
/// never input), in chunks under D1's limit of bound parameters.
async fn by_keys<S: Store>(
    store: &S,
    table: &str,
    key_col: &str,
    value_col: &str,
    keys: &[&str],
) -> Result<BTreeMap<String, String>, ApiError> {
    let mut out = BTreeMap::new();
    for chunk in keys.chunks(KEYS_PER_QUERY) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let params: Vec<Param> = chunk.iter().map(|k| Param::text(*k)).collect();
        let sql =
            format!("SELECT {key_col}, {value_col} FROM {table} WHERE {key_col} IN ({marks})");
        let rows = store.rows(&sql, &params).await.map_err(db_err)?;
        for r in &rows {
            out.insert(
                col_str(r, key_col).to_string(),
                col_str(r, value_col).to_string(),
            );
        }
    }
    Ok(out)
}
