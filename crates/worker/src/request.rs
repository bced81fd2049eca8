//! Start here: reading a request's body and query, a floor the handlers
//! share. Bodies are read with a cap, so no caller can make the isolate
//! buffer more than the route allows.

use futures_util::StreamExt;
use worker::Request;

use crate::error::ApiError;

/// Reads the body, stopping as soon as it passes `cap` (a declared
/// Content-Length over the cap is refused before reading anything).
pub(crate) async fn read_capped(req: &mut Request, cap: usize) -> Result<Vec<u8>, ApiError> {
    let too_large = || {
        ApiError::new(
            413,
            format!("the request body is over {cap} bytes"),
            "send only {\"url\", \"headers\"}",
        )
    };
    let declared = req
        .headers()
        .get("Content-Length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > cap as u64) {
        return Err(too_large());
    }
    let mut stream = match req.stream() {
        Ok(s) => s,
        // No body at all: the parser says what is missing.
        Err(_) => return Ok(Vec::new()),
    };
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::new(
                400,
                format!("could not read the request body: {e}"),
                "send a JSON body",
            )
        })?;
        if body.len() + chunk.len() > cap {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The first value of a query parameter.
pub(crate) fn query(req: &Request, name: &str) -> Option<String> {
    let url = req.url().ok()?;
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
