//! Start here: recognising what an HTTP answer *is* before reading it as MCP:
//! hosting platforms' sleep / suspended / app-not-found pages (by headers and
//! body, whatever the status code), OAuth challenges (`WWW-Authenticate`,
//! RFC 9728 protected-resource metadata), and auth-flavoured JSON-RPC errors.

use crate::http::Headers;

/// A hosting platform's "not your app" page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformMatch {
    /// Display name: "Render", "Railway", "Fly", "Vercel", "Heroku", "Netlify",
    /// "Replit", "Koyeb", "Glitch", ...
    pub platform: &'static str,
    /// Which signature matched, for the evidence line (e.g.
    /// `header x-render-routing: no-server`, `body "There's nothing here, yet."`).
    pub signature: String,
}

/// Looks for a platform sleep / suspended / not-found page. `body` may be a
/// prefix of the real body (the probe keeps at most a few KiB for this).
pub fn detect_platform(status: u16, headers: &Headers, body: &[u8]) -> Option<PlatformMatch> {
    let _ = (status, headers, body);
    todo!("platform signatures")
}

/// One challenge of a `WWW-Authenticate` header (RFC 9110 §11.6.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthChallenge {
    /// Lowercased scheme, e.g. `bearer`.
    pub scheme: String,
    /// The RFC 9728 `resource_metadata` parameter.
    pub resource_metadata: Option<String>,
    pub scope: Option<String>,
    pub error: Option<String>,
    pub realm: Option<String>,
}

/// Parses every challenge in the header value(s); tolerant of odd spacing and
/// quoted strings with escapes, never panics.
pub fn parse_www_authenticate(value: &str) -> Vec<AuthChallenge> {
    let _ = value;
    todo!("www-authenticate")
}

/// The parts of an RFC 9728 protected-resource metadata document we check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceMetadata {
    pub resource: String,
    pub authorization_servers: Vec<String>,
}

/// Checks a protected-resource metadata body: a JSON object with a string
/// `resource` and a non-empty `authorization_servers` array of URLs. `Err`
/// says in one sentence what is wrong.
pub fn parse_resource_metadata(body: &[u8]) -> Result<ResourceMetadata, String> {
    let _ = body;
    todo!("resource metadata")
}

/// Does a JSON-RPC error message talk about auth (unauthorized, forbidden,
/// token, API key, credentials, ...)? Used for `auth_half_configured`; the code
/// alone (e.g. -32001) is not enough.
pub fn is_auth_message(message: &str) -> bool {
    let _ = message;
    todo!("auth message")
}
