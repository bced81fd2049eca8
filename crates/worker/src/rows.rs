//! Start here: the monitor row model, a floor. A [`Monitor`] is a row of
//! `monitors` (the spec is the monitor crate's [`MonitorSpec`]); this file
//! holds the one `SELECT` that reads it and the loaders every route and the
//! cron share: [`load`], [`one`] (or a 404), [`load_all`], [`load_many`].

use std::collections::BTreeMap;

use mcprobe_monitor::alerts::UnreadableAlerts;
use mcprobe_monitor::monitor::{self, MonitorSpec};
use serde_json::{json, Value};
use worker::Env;

use crate::error::{db_err, ApiError};
use crate::store::{col_str, col_u64, D1Store, Param, Store};

/// A stored monitor.
#[derive(Debug, Clone)]
pub struct Monitor {
    pub id: String,
    pub spec: MonitorSpec,
    pub maintenance_until_ms: Option<u64>,
    /// The accepted tool-list hash drift is judged against (None until the
    /// first tool list is seen).
    pub baseline_hash: Option<String>,
    /// Registry monitors: the required secret headers their listing
    /// declares. Probed without them, a 401/403 is `auth_required`.
    pub secret_headers: Vec<String>,
    /// `api` (registered through the API) or `registry` (the crawl's).
    pub source: String,
    /// The stored `alerts_json` no longer reads: `spec.alerts` is empty, this
    /// says why, the cron logs it on every probe and the admin GET shows it.
    pub alerts_unreadable: Option<UnreadableAlerts>,
}

impl Monitor {
    /// What anyone may see (no header values, no alert routing).
    pub fn public_json(&self) -> Value {
        let mut v = self.spec.public_json();
        if let Value::Object(o) = &mut v {
            o.insert("id".into(), json!(self.id));
            o.insert(
                "maintenance_until_ms".into(),
                json!(self.maintenance_until_ms),
            );
            o.insert("baseline_hash".into(), json!(self.baseline_hash));
            o.insert("source".into(), json!(self.source));
        }
        v
    }

    /// What the admin sees: the public view, plus `alerts_error` when the
    /// stored alert config cannot be read (so nobody is paged for it).
    pub fn admin_json(&self) -> Value {
        let mut v = self.public_json();
        if let (Value::Object(o), Some(bad)) = (&mut v, &self.alerts_unreadable) {
            o.insert("alerts_error".into(), bad.json());
        }
        v
    }
}

/// The columns of a [`Monitor`], of live rows (add `AND ...` to narrow).
pub(crate) const SELECT: &str = "SELECT id, url, name, interval_s, public, runbook_url, headers_json, alerts_json, maintenance_until_ms, baseline_hash, secret_headers_json, source FROM monitors WHERE retired_at_ms IS NULL";

/// Every live monitor (the cron and its refresh of the public views read this).
pub async fn load_all(env: &Env) -> Result<Vec<Monitor>, ApiError> {
    let store = D1Store::from_env(env).map_err(db_err)?;
    let rows = store
        .rows(&format!("{SELECT} ORDER BY id"), &[])
        .await
        .map_err(db_err)?;
    Ok(rows.iter().filter_map(from_row).collect())
}

/// The live monitors among `ids` (a Queue message's), read by key.
pub async fn load_many(env: &Env, ids: &[&str]) -> Result<Vec<Monitor>, ApiError> {
    let store = D1Store::from_env(env).map_err(db_err)?;
    let mut out = Vec::with_capacity(ids.len());
    // D1 binds at most 100 parameters a statement.
    for chunk in ids.chunks(90) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let params: Vec<Param> = chunk.iter().map(|id| Param::text(*id)).collect();
        let rows = store
            .rows(&format!("{SELECT} AND id IN ({marks})"), &params)
            .await
            .map_err(db_err)?;
        out.extend(rows.iter().filter_map(from_row));
    }
    Ok(out)
}

/// One live monitor, if it exists.
pub async fn load(env: &Env, id: &str) -> Result<Option<Monitor>, ApiError> {
    let store = D1Store::from_env(env).map_err(db_err)?;
    let rows = store
        .rows(&format!("{SELECT} AND id = ?"), &[Param::text(id)])
        .await
        .map_err(db_err)?;
    Ok(rows.first().and_then(from_row))
}

/// One live monitor, or a 404 naming it.
pub async fn one(env: &Env, id: &str) -> Result<Monitor, ApiError> {
    load(env, id).await?.ok_or_else(|| not_found(id))
}

/// A row back to a monitor; rows this Worker wrote always parse, and one
/// that does not (edited by hand) is skipped rather than failing the list.
pub(crate) fn from_row(row: &Value) -> Option<Monitor> {
    let headers: BTreeMap<String, String> =
        serde_json::from_str(col_str(row, "headers_json")).unwrap_or_default();
    // Never `unwrap_or_default` here: an empty config would page nobody
    // without a word.
    let (alerts, alerts_unreadable) = UnreadableAlerts::read(col_str(row, "alerts_json"));
    let id = col_str(row, "id");
    if id.is_empty() {
        return None;
    }
    Some(Monitor {
        id: id.to_string(),
        spec: MonitorSpec {
            url: col_str(row, "url").to_string(),
            name: col_str(row, "name").to_string(),
            interval_s: col_u64(row, "interval_s")
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(monitor::DEFAULT_INTERVAL_S),
            headers,
            alerts,
            runbook_url: row
                .get("runbook_url")
                .and_then(Value::as_str)
                .map(str::to_string),
            public: col_u64(row, "public") == Some(1),
        },
        maintenance_until_ms: col_u64(row, "maintenance_until_ms"),
        baseline_hash: row
            .get("baseline_hash")
            .and_then(Value::as_str)
            .map(str::to_string),
        secret_headers: serde_json::from_str(col_str(row, "secret_headers_json"))
            .unwrap_or_default(),
        source: match col_str(row, "source") {
            "" => "api".to_string(),
            s => s.to_string(),
        },
        alerts_unreadable,
    })
}

/// No live monitor has this id.
pub(crate) fn not_found(id: &str) -> ApiError {
    ApiError::new(
        404,
        format!("no monitor {id:?}"),
        "list them with GET /api/monitors",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_reads_back_as_the_monitor_it_was() {
        let row = serde_json::json!({
            "id": "abc", "url": "https://e.com/mcp", "name": "e", "interval_s": 300,
            "public": 1, "runbook_url": null, "headers_json": "{\"X-Key\":\"k\"}",
            "alerts_json": "{}", "maintenance_until_ms": 5
        });
        let m = from_row(&row).expect("parses");
        assert_eq!(m.spec.interval_s, 300);
        assert!(m.spec.public);
        assert_eq!(m.spec.headers.get("X-Key").map(String::as_str), Some("k"));
        assert_eq!(m.maintenance_until_ms, Some(5));
        // The public view names the header but never shows its value.
        let public = m.public_json().to_string();
        assert!(
            public.contains("X-Key") && !public.contains("\"k\""),
            "{public}"
        );
        assert!(from_row(&serde_json::json!({"url": "x"})).is_none());
    }

    fn row(alerts_json: &str) -> Value {
        json!({"id": "m1", "url": "https://e.com/mcp", "name": "m", "interval_s": 60,
               "public": 1, "headers_json": "{}", "alerts_json": alerts_json})
    }

    #[test]
    fn a_stored_alert_config_is_read_once_into_its_type() {
        let stored = r#"{"webhook":{"url":"https://h.example.com/x"}}"#;
        let m = from_row(&row(stored)).expect("a monitor");
        assert!(m.alerts_unreadable.is_none());
        assert_eq!(m.spec.alerts.channels.len(), 1);
        // Written back byte for byte as it was stored.
        assert_eq!(serde_json::to_string(&m.spec.alerts).unwrap(), stored);
        assert!(m.admin_json().get("alerts_error").is_none());
    }

    #[test]
    fn an_unreadable_stored_alert_config_is_shown_not_dropped() {
        for stored in [
            r#"{"slack":{"url":"ftp://hooks.example.com/s3cret"}}"#,
            "{not json",
        ] {
            let m = from_row(&row(stored)).expect("still a monitor (it is still probed)");
            assert!(m.spec.alerts.channels.is_empty());
            let bad = m.alerts_unreadable.as_ref().expect("reported");
            assert_eq!(bad.stored, stored, "kept for an unrelated PATCH");
            let admin = m.admin_json();
            assert!(admin["alerts_error"]["error"].is_string(), "{admin}");
            assert!(!admin.to_string().contains("s3cret"), "{admin}");
            // Not on the public list: it would name the alert routing.
            assert!(m.public_json().get("alerts_error").is_none());
        }
    }
}
