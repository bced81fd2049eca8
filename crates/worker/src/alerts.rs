//! Start here: the alerts routes: `POST /api/incidents/{id}/ack` (token).
//! What an acknowledgement does to the incident and to its monitor's alert
//! policy is [`crate::alerting`]'s; this handler checks the token and answers.

use worker::{Env, Request, Response};

use crate::admin::require_admin;
use crate::alerting;
use crate::error::{ok_json, ApiError};

/// `POST /api/incidents/{id}/ack` (token, checked by the router and again
/// here): 200 `{"id", "acked_at_ms", "open_in_policy"}`, 404 for no such
/// incident, 409 for a resolved one.
pub async fn ack(req: &Request, env: &Env, incident_id: &str) -> Result<Response, ApiError> {
    require_admin(req, env)?;
    let body = alerting::ack(env, incident_id).await?;
    ok_json(200, body)
}
