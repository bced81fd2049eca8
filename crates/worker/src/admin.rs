//! Start here: the admin check, a floor every admin route shares. The token
//! is the `ADMIN_TOKEN` secret (`.dev.vars` under wrangler dev); a Worker
//! without it refuses every admin call (fails closed).

use worker::{Env, Request};

use crate::error::ApiError;
use crate::rows::{self, Monitor};

/// The secret holding the admin token.
pub const ADMIN_TOKEN: &str = "ADMIN_TOKEN";

/// Checks `Authorization: Bearer <ADMIN_TOKEN>`.
pub(crate) fn require_admin(req: &Request, env: &Env) -> Result<(), ApiError> {
    let expected = env
        .secret(ADMIN_TOKEN)
        .map(|s| s.to_string())
        .or_else(|_| env.var(ADMIN_TOKEN).map(|s| s.to_string()))
        .ok()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            ApiError::new(
                503,
                "this Worker has no ADMIN_TOKEN",
                "set it with `wrangler secret put ADMIN_TOKEN` (.dev.vars under wrangler dev)",
            )
        })?;
    let given = req.headers().get("Authorization").ok().flatten();
    let token = given
        .as_deref()
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim);
    match token {
        Some(t) if constant_time_eq(t.as_bytes(), expected.as_bytes()) => Ok(()),
        _ => Err(ApiError::new(
            401,
            "missing or wrong admin token",
            "send Authorization: Bearer <ADMIN_TOKEN>",
        )),
    }
}

/// The monitor, if the caller may see it: a public one to anyone, the
/// others with the admin token (404 for no such monitor, then 401).
pub(crate) async fn visible(req: &Request, env: &Env, id: &str) -> Result<Monitor, ApiError> {
    let m = rows::one(env, id).await?;
    if !m.spec.public {
        require_admin(req, env)?;
    }
    Ok(m)
}

/// Compares without stopping at the first difference, so the time taken does
/// not tell how much of a guessed token was right.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq(b"dev-admin-token", b"dev-admin-token"));
        assert!(!constant_time_eq(b"dev-admin-token", b"dev-admin-tokeN"));
        assert!(!constant_time_eq(b"dev-admin-token", b"dev-admin-toke"));
        assert!(!constant_time_eq(b"", b"x"));
    }
}
