//! Start here: `GET /api/registry/summary` (public): the registry audit the
//! cron rendered ([`crate::registry_report`]) and stored as a public view
//! ([`crate::public_views`]); the route reads that one row.

use serde_json::Value;
use worker::{Env, Response};

use crate::error::{db_err, internal, json_response, ApiError};
use crate::public_views;
use crate::registry_report;
use crate::store::D1Store;

/// `GET /api/registry/summary`: the view the cron rendered, one query
/// whatever the number of monitors (`as_of_ms` says when it was rendered).
/// Before the first tick: the empty audit.
pub async fn summary(env: &Env) -> Result<Response, ApiError> {
    let store = D1Store::from_env(env).map_err(db_err)?;
    let text = match public_views::read(&store, public_views::REGISTRY_SUMMARY).await? {
        Some((text, _)) => text,
        None => {
            let mut b = registry_report::body(
                env,
                &registry_report::tally(&[]),
                0,
                0,
                Value::Null,
                Value::Null,
            );
            b["as_of_ms"] = Value::Null;
            b.to_string()
        }
    };
    json_response(200, text).map_err(internal)
}
