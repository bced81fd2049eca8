//! Start here: refusals that are easy to misread, one plain function each.
//! OAuth challenges whose discovery goes wrong further along (metadata for
//! another resource, an authorization server that is down or has no
//! metadata, a challenge naming thousands of documents), refusals of the
//! `Host` as the TypeScript SDK, rmcp, Playwright and the Python SDK word
//! them, a firewall's bare 403, and API-key servers. Every document a probe
//! fetches is logged with its headers, so tests can prove no secret went
//! along.

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::server::{self, Req, Resp, State};

/// How many `resource_metadata` URLs `auth_many_metadata`'s challenge names.
pub(crate) const MANY_METADATA: usize = 2_000;

/// An issuer whose host never resolves (RFC 2606 `.invalid`).
pub(crate) const DEAD_ISSUER: &str = "http://mcprobe-auth-server.invalid";

/// A valid RFC 8414 document for `issuer`.
fn as_metadata(issuer: &str) -> Resp {
    server::json(
        StatusCode::OK,
        &json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/authorize"),
            "token_endpoint": format!("{issuer}/token"),
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"]
        }),
    )
}

fn prm(resource: &str, issuer: &str) -> Resp {
    server::json(
        StatusCode::OK,
        &json!({
            "resource": resource,
            "authorization_servers": [issuer],
            "bearer_methods_supported": ["header"]
        }),
    )
}

/// 401 with a Bearer challenge naming `metadata`.
fn challenge(metadata: &str) -> Resp {
    let resp = server::json(
        StatusCode::UNAUTHORIZED,
        &json!({"error": "invalid_token", "error_description": "Missing bearer token"}),
    );
    server::with_header(
        resp,
        "www-authenticate",
        &format!("Bearer resource_metadata=\"{metadata}\""),
    )
}

fn not_found() -> Resp {
    server::text(StatusCode::NOT_FOUND, "Not Found")
}

/// `http://localhost:PORT` for `http://127.0.0.1:PORT`: the same server
/// seen as another origin.
fn other_origin(st: &State) -> String {
    st.origin.replacen("127.0.0.1", "localhost", 1)
}

/// A healthy private server whose metadata and authorization server live
/// on another origin (`localhost` for the listed `127.0.0.1`). Probed with
/// secrets, it shows none of them reach the documents.
pub(crate) fn auth_metadata_elsewhere(st: &State, req: &Req) -> Resp {
    let elsewhere = other_origin(st);
    match (&req.method, req.path.as_str()) {
        (&Method::GET, "/.well-known/oauth-protected-resource/mcp") => {
            prm(&format!("{}/mcp", st.origin), &elsewhere)
        }
        (&Method::GET, "/.well-known/oauth-authorization-server") => as_metadata(&elsewhere),
        (_, "/mcp") => challenge(&format!(
            "{elsewhere}/.well-known/oauth-protected-resource/mcp"
        )),
        _ => not_found(),
    }
}

/// A challenge naming `MANY_METADATA` documents, none of which exists.
pub(crate) fn auth_many_metadata(st: &State, req: &Req) -> Resp {
    if req.path != "/mcp" {
        return not_found();
    }
    let challenges: Vec<String> = (0..MANY_METADATA)
        .map(|i| format!("Bearer resource_metadata=\"{}/prm/{i}\"", st.origin))
        .collect();
    let resp = server::text(StatusCode::UNAUTHORIZED, "Unauthorized");
    server::with_header(resp, "www-authenticate", &challenges.join(", "))
}

/// Valid metadata, but for `/api` while the server is listed at `/mcp`: the
/// TypeScript SDK refuses it ("Protected resource .../api does not match
/// expected .../mcp").
pub(crate) fn auth_resource_mismatch(st: &State, req: &Req) -> Resp {
    match (&req.method, req.path.as_str()) {
        (&Method::GET, "/.well-known/oauth-protected-resource/mcp") => {
            prm(&format!("{}/api", st.origin), &st.origin)
        }
        (&Method::GET, "/.well-known/oauth-authorization-server") => as_metadata(&st.origin),
        (_, "/mcp") => challenge(&format!(
            "{}/.well-known/oauth-protected-resource/mcp",
            st.origin
        )),
        _ => not_found(),
    }
}

/// mcp-handler's default: the metadata names the origin only, which covers
/// every path on it.
pub(crate) fn auth_resource_origin(st: &State, req: &Req) -> Resp {
    match (&req.method, req.path.as_str()) {
        (&Method::GET, "/.well-known/oauth-protected-resource") => prm(&st.origin, &st.origin),
        (&Method::GET, "/.well-known/oauth-authorization-server") => as_metadata(&st.origin),
        (_, "/mcp") => challenge(&format!(
            "{}/.well-known/oauth-protected-resource",
            st.origin
        )),
        _ => not_found(),
    }
}

/// Valid metadata whose only authorization server does not resolve.
pub(crate) fn auth_server_down(st: &State, req: &Req) -> Resp {
    match (&req.method, req.path.as_str()) {
        (&Method::GET, "/.well-known/oauth-protected-resource/mcp") => {
            prm(&format!("{}/mcp", st.origin), DEAD_ISSUER)
        }
        (_, "/mcp") => challenge(&format!(
            "{}/.well-known/oauth-protected-resource/mcp",
            st.origin
        )),
        _ => not_found(),
    }
}

/// Valid metadata whose authorization server (`/tenant` here) answers 404
/// at every metadata name.
pub(crate) fn auth_server_no_metadata(st: &State, req: &Req) -> Resp {
    match (&req.method, req.path.as_str()) {
        (&Method::GET, "/.well-known/oauth-protected-resource/mcp") => prm(
            &format!("{}/mcp", st.origin),
            &format!("{}/tenant", st.origin),
        ),
        (_, "/mcp") => challenge(&format!(
            "{}/.well-known/oauth-protected-resource/mcp",
            st.origin
        )),
        _ => not_found(),
    }
}

/// An issuer with a path (`/realms/mcp`, Keycloak's shape) whose metadata
/// exists only under OpenID Connect's inserted name.
pub(crate) fn auth_server_openid_inserted(st: &State, req: &Req) -> Resp {
    let issuer = format!("{}/realms/mcp", st.origin);
    match (&req.method, req.path.as_str()) {
        (&Method::GET, "/.well-known/oauth-protected-resource/mcp") => {
            prm(&format!("{}/mcp", st.origin), &issuer)
        }
        (&Method::GET, "/.well-known/openid-configuration/realms/mcp") => as_metadata(&issuer),
        (_, "/mcp") => challenge(&format!(
            "{}/.well-known/oauth-protected-resource/mcp",
            st.origin
        )),
        _ => not_found(),
    }
}

// ---- Host refusals: DNS-rebinding protection -----------------------------------

fn host_of(req: &Req) -> String {
    req.header("host").unwrap_or("").to_string()
}

/// The TypeScript SDK's host check: 403 and JSON-RPC -32000.
pub(crate) fn host_refused_ts(_: &State, req: &Req) -> Resp {
    let body: Value = json!({
        "jsonrpc": "2.0",
        "error": {"code": -32000, "message": format!("Invalid Host: {}", host_of(req))},
        "id": null
    });
    server::json(StatusCode::FORBIDDEN, &body)
}

/// rmcp's: 403 in plain text.
pub(crate) fn host_refused_rmcp(_: &State, _: &Req) -> Resp {
    server::text(
        StatusCode::FORBIDDEN,
        "Forbidden: Host header is not allowed",
    )
}

/// @playwright/mcp's: 403 naming the one host it serves.
pub(crate) fn host_refused_playwright(st: &State, _: &Req) -> Resp {
    let port = st.origin.rsplit(':').next().unwrap_or("0");
    server::text(
        StatusCode::FORBIDDEN,
        &format!("Access is only allowed at localhost:{port}"),
    )
}

/// The Python SDK's: 421 Misdirected Request.
pub(crate) fn host_refused_python(_: &State, _: &Req) -> Resp {
    server::text(StatusCode::MISDIRECTED_REQUEST, "Invalid Host header")
}

/// A web application firewall's 403: nothing about auth or hosts.
pub(crate) fn forbidden_firewall(_: &State, _: &Req) -> Resp {
    server::html(
        StatusCode::FORBIDDEN,
        "<html><head><title>403 Forbidden</title></head><body><h1>403 Forbidden</h1>\
         <p>Request blocked by firewall rule 1042.</p></body></html>",
    )
}

// ---- API keys ---------------------------------------------------------------------

/// 401 with a Bearer challenge that says the key is missing, no metadata.
pub(crate) fn auth_api_key(_: &State, req: &Req) -> Resp {
    if req.path != "/mcp" {
        return not_found();
    }
    let resp = server::json(
        StatusCode::UNAUTHORIZED,
        &json!({"error": "invalid_token", "error_description": "Invalid or missing API key"}),
    );
    server::with_header(
        resp,
        "www-authenticate",
        "Bearer error=\"invalid_token\", error_description=\"Invalid or missing API key\"",
    )
}

/// 401 with no challenge at all; the body names the header it wants.
pub(crate) fn auth_api_key_bare(_: &State, _: &Req) -> Resp {
    server::json(
        StatusCode::UNAUTHORIZED,
        &json!({"error": "Missing X-API-Key header"}),
    )
}
