//! Start here: answers that are not MCP at all, one plain function each:
//! hosting platforms' sleep pages, HTTP errors, redirect loops, OAuth
//! challenges with their RFC 9728 metadata, and the non-JSON handshakes. They
//! answer every method on every path the same way unless the scenario is
//! about paths (OAuth metadata, redirects).

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::server::{self, Req, Resp, State};

// ---- platform_asleep ----------------------------------------------------------

/// Render: a 404 whose tell is the `x-render-routing: no-server` header.
pub(crate) fn asleep_render(_: &State, _: &Req) -> Resp {
    let resp = server::html(
        StatusCode::NOT_FOUND,
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Not Found</title></head>\
         <body><h1>Not Found</h1></body></html>\n",
    );
    server::with_header(resp, "x-render-routing", "no-server")
}

/// Heroku: the 503 "Application Error" page that frames herokucdn.com's.
pub(crate) fn asleep_heroku(_: &State, _: &Req) -> Resp {
    server::html(
        StatusCode::SERVICE_UNAVAILABLE,
        r#"<!DOCTYPE html>
	<html>
	  <head>
		<meta name="viewport" content="width=device-width, initial-scale=1">
		<meta charset="utf-8">
		<title>Application Error</title>
		<style media="screen">
		  html,body,iframe {
			margin: 0;
			padding: 0;
		  }
		  html,body {
			height: 100%;
			overflow: hidden;
		  }
		  iframe {
			width: 100%;
			height: 100%;
			border: 0;
		  }
		</style>
	  </head>
	  <body>
		<iframe src="//www.herokucdn.com/error-pages/application-error.html"></iframe>
	  </body>
	</html>
"#,
    )
}

/// Railway: HTTP 200 (!) with a JSON "Application not found" body.
pub(crate) fn asleep_railway(_: &State, _: &Req) -> Resp {
    let resp = server::json(
        StatusCode::OK,
        &json!({
            "status": "error",
            "code": 404,
            "message": "Application not found",
            "request_id": "fleet-railway-0001"
        }),
    );
    server::with_header(resp, "x-railway-fallback", "true")
}

/// Vercel: 404 with `x-vercel-error: DEPLOYMENT_NOT_FOUND`.
pub(crate) fn asleep_vercel(_: &State, _: &Req) -> Resp {
    let resp = server::text(
        StatusCode::NOT_FOUND,
        "The deployment could not be found on Vercel.\n\nDEPLOYMENT_NOT_FOUND\n\nfra1::fleet-0001\n",
    );
    let resp = server::with_header(resp, "x-vercel-error", "DEPLOYMENT_NOT_FOUND");
    server::with_header(resp, "x-vercel-id", "fra1::fleet-0001")
}

// ---- http_error -------------------------------------------------------------

pub(crate) fn http_503(_: &State, _: &Req) -> Resp {
    server::text(StatusCode::SERVICE_UNAVAILABLE, "upstream unavailable")
}

pub(crate) fn http_500_html(_: &State, _: &Req) -> Resp {
    server::html(
        StatusCode::INTERNAL_SERVER_ERROR,
        "<html>\r\n<head><title>500 Internal Server Error</title></head>\r\n<body>\r\n\
         <center><h1>500 Internal Server Error</h1></center>\r\n<hr><center>nginx</center>\r\n\
         </body>\r\n</html>\r\n",
    )
}

/// `/mcp` -> `/loop-a` -> `/loop-b` -> `/loop-a` -> ... (307 keeps the POST).
pub(crate) fn redirect_loop(_: &State, req: &Req) -> Resp {
    let next = match req.path.as_str() {
        "/mcp" | "/loop-b" => "/loop-a",
        "/loop-a" => "/loop-b",
        _ => return server::text(StatusCode::NOT_FOUND, "Not Found"),
    };
    let resp = server::text(StatusCode::TEMPORARY_REDIRECT, "Temporary Redirect");
    server::with_header(resp, "location", next)
}

/// 401 with no `WWW-Authenticate`: the probe cannot tell how to get in.
pub(crate) fn auth_401_bare(_: &State, _: &Req) -> Resp {
    server::text(StatusCode::UNAUTHORIZED, "Unauthorized")
}

/// Nothing on any path.
pub(crate) fn gone_everywhere(_: &State, _: &Req) -> Resp {
    server::text(StatusCode::NOT_FOUND, "Not Found")
}

// ---- auth_required --------------------------------------------------------------

fn resource_metadata(st: &State) -> Resp {
    server::json(
        StatusCode::OK,
        &json!({
            "resource": format!("{}/mcp", st.origin),
            // The same origin, which serves its RFC 8414 metadata: the probe
            // checks a client could get a token there.
            "authorization_servers": [st.origin],
            "scopes_supported": ["mcp:tools"],
            "bearer_methods_supported": ["header"]
        }),
    )
}

/// RFC 8414 metadata of the authorization server both OAuth scenarios name.
fn authorization_server_metadata(st: &State) -> Resp {
    server::json(
        StatusCode::OK,
        &json!({
            "issuer": st.origin,
            "authorization_endpoint": format!("{}/authorize", st.origin),
            "token_endpoint": format!("{}/token", st.origin),
            "response_types_supported": ["code"]
        }),
    )
}

/// RFC 8414's well-known name for an issuer without a path.
const AS_METADATA: &str = "/.well-known/oauth-authorization-server";

/// 401 + `WWW-Authenticate: Bearer resource_metadata=".../.well-known/oauth-protected-resource/mcp"`.
pub(crate) fn auth_oauth(st: &State, req: &Req) -> Resp {
    const METADATA: &str = "/.well-known/oauth-protected-resource/mcp";
    match (&req.method, req.path.as_str()) {
        (&Method::GET, METADATA) => resource_metadata(st),
        (&Method::GET, AS_METADATA) => authorization_server_metadata(st),
        (_, "/mcp") => {
            let challenge = format!("Bearer resource_metadata=\"{}{METADATA}\"", st.origin);
            let resp = server::json(
                StatusCode::UNAUTHORIZED,
                &json!({"error": "invalid_token", "error_description": "Missing bearer token"}),
            );
            server::with_header(resp, "www-authenticate", &challenge)
        }
        _ => server::text(StatusCode::NOT_FOUND, "Not Found"),
    }
}

/// 403 + `WWW-Authenticate: Bearer error="insufficient_scope", scope=..., resource_metadata=...`.
pub(crate) fn auth_oauth_403_scope(st: &State, req: &Req) -> Resp {
    const METADATA: &str = "/.well-known/oauth-protected-resource";
    match (&req.method, req.path.as_str()) {
        (&Method::GET, METADATA) => resource_metadata(st),
        (&Method::GET, AS_METADATA) => authorization_server_metadata(st),
        (_, "/mcp") => {
            let challenge = format!(
                "Bearer error=\"insufficient_scope\", scope=\"mcp:tools\", resource_metadata=\"{}{METADATA}\"",
                st.origin
            );
            let resp = server::json(
                StatusCode::FORBIDDEN,
                &json!({"error": "insufficient_scope", "error_description": "The token lacks scope mcp:tools"}),
            );
            server::with_header(resp, "www-authenticate", &challenge)
        }
        _ => server::text(StatusCode::NOT_FOUND, "Not Found"),
    }
}

// ---- handshake_failed (non-JSON) ------------------------------------------------------

/// A web app's catch-all page, 200 to every method.
pub(crate) fn handshake_html(_: &State, _: &Req) -> Resp {
    server::html(
        StatusCode::OK,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>My App</title>\
         <script type=\"module\" src=\"/assets/index-4f2a.js\"></script></head>\
         <body><div id=\"root\"></div></body></html>\n",
    )
}

/// 200 and nothing else, to everything.
pub(crate) fn handshake_empty(_: &State, _: &Req) -> Resp {
    server::respond(StatusCode::OK, "application/json", "")
}
