//! Start here: recognising what an HTTP answer *is* before reading it as MCP:
//! hosting platforms' sleep / suspended / app-not-found pages (by headers and
//! body, whatever the status code), OAuth challenges (`WWW-Authenticate`,
//! RFC 9728 protected-resource metadata), and auth-flavoured JSON-RPC errors.
//!
//! Everything here is a pure function over bytes the probe already holds; none
//! of it panics on hostile input. The platform rules are deliberately narrow:
//! a platform's routing header on a healthy answer (Vercel's `x-vercel-id`,
//! `server: Netlify`, Fly's `fly-request-id`) is *not* a sleep page, and an
//! answer that is JSON-RPC is never one, so a working server can't be called
//! asleep just because of where it is hosted.

use serde_json::Value;
use url::Url;

use crate::http::is_tchar;
use crate::http::{header, Headers};

/// Most body bytes [`detect_platform`] looks at. Sleep pages put their tell
/// near the top; reading more would only cost time on big HTML pages.
pub const BODY_PREFIX_MAX: usize = 16 * 1024;

/// Every platform [`detect_platform`] can name, as it names them.
pub const PLATFORMS: &[&str] = &[
    "Render",
    "Railway",
    "Fly",
    "Vercel",
    "Heroku",
    "Netlify",
    "Replit",
    "Koyeb",
    "Glitch",
    "Supabase",
    "Deno Deploy",
    "Hugging Face Spaces",
    "Streamlit Community Cloud",
    "ngrok",
    "Cloudflare Tunnel",
    "Azure App Service",
];

/// A hosting platform's "not your app" page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformMatch {
    /// Display name: "Render", "Railway", "Fly", "Vercel", "Heroku", "Netlify",
    /// "Replit", "Koyeb", "Glitch", ... (one of [`PLATFORMS`]).
    pub platform: &'static str,
    /// Which signature matched, for the evidence line (e.g.
    /// `header x-render-routing: no-server`, `body "application not found"`).
    pub signature: String,
}

/// Looks for a platform sleep / suspended / not-found page. `body` may be a
/// prefix of the real body (the probe keeps at most a few KiB for this); only
/// its first [`BODY_PREFIX_MAX`] bytes are read. Matching is case-insensitive.
pub fn detect_platform(status: u16, headers: &Headers, body: &[u8]) -> Option<PlatformMatch> {
    let answer = Answer::new(status, headers, body);
    if answer.is_jsonrpc() {
        // A JSON-RPC answer is the server itself talking, whatever headers
        // the platform's edge added on the way.
        return None;
    }
    // Order matters only where two platforms share words: Deno Deploy's page
    // also says DEPLOYMENT_NOT_FOUND, so it is tried before Vercel's body rule.
    let rules: [(&'static str, Rule); 16] = [
        ("Render", render),
        ("Railway", railway),
        ("Deno Deploy", deno_deploy),
        ("Vercel", vercel),
        ("Heroku", heroku),
        ("Netlify", netlify),
        ("Fly", fly),
        ("Replit", replit),
        ("Koyeb", koyeb),
        ("Glitch", glitch),
        ("Supabase", supabase),
        ("Hugging Face Spaces", hugging_face),
        ("Streamlit Community Cloud", streamlit),
        ("ngrok", ngrok),
        ("Cloudflare Tunnel", cloudflare_tunnel),
        ("Azure App Service", azure_app_service),
    ];
    rules.iter().find_map(|&(platform, rule)| {
        rule(&answer).map(|signature| PlatformMatch {
            platform,
            signature,
        })
    })
}

/// One platform's check: the signature that matched, if any.
type Rule = fn(&Answer) -> Option<String>;

/// The parts of an answer the rules look at, normalised once.
struct Answer<'a> {
    status: u16,
    headers: &'a Headers,
    /// The body prefix, lowercased, with HTML apostrophe entities and curly
    /// apostrophes folded to `'` so "couldn't" matches however it was typed.
    body: String,
}

impl<'a> Answer<'a> {
    fn new(status: u16, headers: &'a Headers, body: &[u8]) -> Self {
        let prefix = &body[..body.len().min(BODY_PREFIX_MAX)];
        let lower: Vec<u8> = prefix.iter().map(u8::to_ascii_lowercase).collect();
        let body = String::from_utf8_lossy(&lower)
            .replace(['\u{2019}', '\u{2018}'], "'")
            .replace("&#39;", "'")
            .replace("&#x27;", "'")
            .replace("&apos;", "'")
            .replace("&rsquo;", "'");
        Answer {
            status,
            headers,
            body,
        }
    }

    /// A JSON-RPC message (or batch), bare or as an SSE `data:` line.
    fn is_jsonrpc(&self) -> bool {
        let trimmed = self
            .body
            .trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
        let json = trimmed.starts_with('{') || trimmed.starts_with('[');
        let sse = ["event:", "data:", "id:", ":"]
            .iter()
            .any(|p| trimmed.starts_with(p));
        (json || sse) && trimmed.contains("jsonrpc")
    }

    /// The first value of header `name`, trimmed, as received.
    fn header(&self, name: &str) -> Option<&str> {
        header(self.headers, name).map(str::trim)
    }

    /// The first value of header `name`, trimmed and lowercased.
    fn header_lower(&self, name: &str) -> Option<String> {
        self.header(name).map(str::to_ascii_lowercase)
    }

    fn has_header(&self, name: &str) -> bool {
        header(self.headers, name).is_some()
    }

    /// Any header whose name starts with `prefix` (lowercase).
    fn has_header_prefix(&self, prefix: &str) -> bool {
        self.headers
            .iter()
            .any(|(k, _)| k.to_ascii_lowercase().starts_with(prefix))
    }

    /// Does header `name` contain `needle` (lowercase)?
    fn header_contains(&self, name: &str, needle: &str) -> bool {
        self.header_lower(name).is_some_and(|v| v.contains(needle))
    }

    /// The first of `needles` (lowercase) found in the body.
    fn body_has_any(&self, needles: &[&'static str]) -> Option<&'static str> {
        needles.iter().copied().find(|n| self.body.contains(n))
    }

    fn body_has(&self, needle: &str) -> bool {
        self.body.contains(needle)
    }

    fn body_is_blank(&self) -> bool {
        self.body.trim().is_empty()
    }
}

fn body_sig(needle: &str) -> String {
    format!("body \"{needle}\"")
}

/// `header name: value`, the value cut short: it comes from the network.
fn header_sig(name: &str, value: &str) -> String {
    let value: String = value.chars().take(80).collect();
    format!("header {name}: {value}")
}

/// Render: its router answers `x-render-routing: no-server` (404, no running
/// service), `suspend` / `suspend-by-user` (503, suspended or out of free
/// hours) and `hibernate-wake-error` (503, free instance failed to wake).
/// Healthy answers carry `rndr-id` and no routing verdict.
fn render(a: &Answer) -> Option<String> {
    if let Some(v) = a.header("x-render-routing") {
        let lower = v.to_ascii_lowercase();
        if lower == "no-server" || lower.starts_with("suspend") || lower.contains("hibernate") {
            return Some(header_sig("x-render-routing", v));
        }
    }
    let on_render = a.has_header("rndr-id")
        || a.has_header_prefix("x-render")
        || a.header_contains("server", "render")
        || a.body_has("render.com");
    if on_render {
        if let Some(n) = a.body_has_any(&["this service has been suspended", "service suspended"]) {
            return Some(body_sig(n));
        }
    }
    None
}

/// Railway: its edge marks its own answers `x-railway-fallback: true`: 404
/// "Application not found" (no deployment, or asleep and waking) and 502
/// "Application failed to respond". The 404 comes as JSON to JSON clients.
fn railway(a: &Answer) -> Option<String> {
    if let Some(v) = a.header("x-railway-fallback") {
        if v.eq_ignore_ascii_case("true") {
            return Some(header_sig("x-railway-fallback", v));
        }
    }
    if let Some(n) = a.body_has_any(&["the train has not arrived at the station"]) {
        return Some(body_sig(n));
    }
    let on_railway = a.has_header_prefix("x-railway")
        || a.header_contains("server", "railway")
        || a.body_has("railway");
    if on_railway {
        if let Some(n) = a.body_has_any(&["application not found", "application failed to respond"])
        {
            return Some(body_sig(n));
        }
    }
    None
}

/// Deno Deploy: a 404 "The requested deployment does not exist" /
/// `DEPLOYMENT_NOT_FOUND` page that names Deno Deploy (Classic was sunset).
fn deno_deploy(a: &Answer) -> Option<String> {
    if let Some(n) = a.body_has_any(&["the requested deployment does not exist"]) {
        return Some(body_sig(n));
    }
    let on_deno = a.header_contains("server", "deno") || a.body_has("deno deploy");
    if on_deno {
        if let Some(n) = a.body_has_any(&["deployment_not_found", "deploy_not_found"]) {
            return Some(body_sig(n));
        }
    }
    None
}

/// Vercel: `x-vercel-error` names platform errors. Only the deployment-level
/// ones mean "not your app": `NOT_FOUND` is a path the deployment doesn't
/// route (that is `route_moved` / `http_error` territory), and the
/// `FUNCTION_*` codes are the app's own failures.
fn vercel(a: &Answer) -> Option<String> {
    const DEPLOYMENT_GONE: [&str; 5] = [
        "deployment_not_found",
        "deployment_paused",
        "deployment_disabled",
        "deployment_deleted",
        "deployment_blocked",
    ];
    if let Some(v) = a.header("x-vercel-error") {
        if DEPLOYMENT_GONE.contains(&v.to_ascii_lowercase().as_str()) {
            return Some(header_sig("x-vercel-error", v));
        }
    }
    let phrases = [
        "the deployment could not be found on vercel",
        "this deployment cannot be found",
        "this deployment is paused",
        "this deployment has been disabled",
    ];
    if let Some(n) = a.body_has_any(&phrases) {
        return Some(body_sig(n));
    }
    a.body_has_any(&DEPLOYMENT_GONE).map(body_sig)
}

/// Heroku: the router's error pages are an iframe onto herokucdn.com
/// (`application-error` for crashed / no web dynos, `no-such-app`).
fn heroku(a: &Answer) -> Option<String> {
    a.body_has_any(&[
        "herokucdn.com/error-pages/no-such-app",
        "herokucdn.com/error-pages/application-error",
        "herokucdn.com/error-pages/",
        "<title>no such app</title>",
        "there is no app configured at that hostname",
        "an error occurred in the application and your page could not be served",
    ])
    .map(body_sig)
}

/// Netlify: a bare text/plain `Not Found - Request ID: ...` for a site that
/// doesn't exist, "Site not found", and the usage-limit "site not available"
/// page. `server: Netlify` alone is every Netlify answer, healthy or not.
fn netlify(a: &Answer) -> Option<String> {
    if let Some(n) = a.body_has_any(&["not found - request id"]) {
        return Some(body_sig(n));
    }
    let on_netlify = a.header_contains("server", "netlify")
        || a.has_header("x-nf-request-id")
        || a.body_has("netlify");
    if on_netlify {
        let paused = ["site not available", "reached its usage limit"];
        if let Some(n) = a.body_has_any(&paused) {
            return Some(body_sig(n));
        }
        if a.status >= 400 {
            if let Some(n) = a.body_has_any(&["site not found"]) {
                return Some(body_sig(n));
            }
        }
    }
    None
}

/// Fly: fly-proxy answers 502/503 itself when no machine can take the
/// request (stopped, failed to start, none left). Every Fly answer carries
/// `fly-request-id`, including the app's own 404s (Starlette's "Not Found"),
/// so a 404 or a body the app wrote is never taken for the proxy's.
fn fly(a: &Answer) -> Option<String> {
    let id_header = if a.has_header("fly-request-id") {
        Some("header fly-request-id")
    } else if a
        .header_lower("server")
        .is_some_and(|s| s.starts_with("fly/"))
    {
        Some("header server: Fly")
    } else if a.header_contains("via", "fly.io") {
        Some("header via: fly.io")
    } else {
        None
    };
    let id_header = id_header?;
    if !matches!(a.status, 502 | 503) {
        return None;
    }
    if a.body_is_blank() {
        return Some(format!(
            "{id_header} with HTTP {} and an empty body",
            a.status
        ));
    }
    a.body_has_any(&["fly-proxy", "fly.io"])
        .map(|n| format!("{id_header} with HTTP {} and body \"{n}\"", a.status))
}

/// Replit: the "Hmm... We couldn't reach your Repl" page and its wake-up page.
fn replit(a: &Answer) -> Option<String> {
    a.body_has_any(&[
        "couldn't reach your repl",
        "repl is waking up",
        "waking up your repl",
        "this repl is not running",
    ])
    .map(body_sig)
}

/// Koyeb: its edge answers "No active service" when nothing is deployed or
/// running behind the domain.
fn koyeb(a: &Answer) -> Option<String> {
    let on_koyeb = a.has_header_prefix("x-koyeb")
        || a.header_contains("server", "koyeb")
        || a.body_has("koyeb");
    if on_koyeb || matches!(a.status, 404 | 503) {
        return a.body_has_any(&["no active service"]).map(body_sig);
    }
    None
}

/// Glitch: "Project not found", the sleeping / waking-up page, and the page
/// shown since Glitch stopped hosting projects. Its words are common ones,
/// so the page must also name Glitch.
fn glitch(a: &Answer) -> Option<String> {
    if !a.body_has("glitch") {
        return None;
    }
    a.body_has_any(&[
        "project not found",
        "this project is sleeping",
        "project is waking up",
        "waking up",
        "this project isn't running",
        "no longer hosting",
    ])
    .map(body_sig)
}

/// Supabase Edge Functions: the gateway's 404 for a function that is not
/// deployed (`sb-error-code: NOT_FOUND`), and a paused project.
fn supabase(a: &Answer) -> Option<String> {
    if let Some(v) = a.header("sb-error-code") {
        if v.eq_ignore_ascii_case("not_found") {
            return Some(header_sig("sb-error-code", v));
        }
    }
    if let Some(n) = a.body_has_any(&["requested function was not found"]) {
        return Some(body_sig(n));
    }
    if a.body_has("supabase") {
        return a
            .body_has_any(&["project is paused", "project paused"])
            .map(body_sig);
    }
    None
}

/// Hugging Face Spaces: free Spaces sleep after inactivity; owners can pause.
fn hugging_face(a: &Answer) -> Option<String> {
    a.body_has_any(&[
        "this space is sleeping",
        "this space has been paused",
        "space is paused",
    ])
    .map(body_sig)
}

/// Streamlit Community Cloud: apps go to sleep and wait for a click.
fn streamlit(a: &Answer) -> Option<String> {
    a.body_has_any(&["this app has gone to sleep", "yes, get this app back up"])
        .map(body_sig)
}

/// ngrok: the tunnel's edge answers with `ngrok-error-code` when the agent is
/// gone (`ERR_NGROK_3200`, endpoint offline) or can't reach the local server
/// (`ERR_NGROK_8012`). Other codes (the browser warning page) are not outages.
fn ngrok(a: &Answer) -> Option<String> {
    const OFFLINE: [&str; 2] = ["err_ngrok_3200", "err_ngrok_8012"];
    if let Some(v) = a.header("ngrok-error-code") {
        if OFFLINE.contains(&v.to_ascii_lowercase().as_str()) {
            return Some(header_sig("ngrok-error-code", v));
        }
    }
    a.body_has_any(&OFFLINE).map(body_sig)
}

/// Cloudflare Tunnel: error 1033 (HTTP 530) when no `cloudflared` connector
/// is running for the hostname. Cloudflare's other error pages are not
/// about the app being gone, so only this one counts.
fn cloudflare_tunnel(a: &Answer) -> Option<String> {
    if let Some(n) = a.body_has_any(&["cloudflare tunnel error", "argo tunnel error"]) {
        return Some(body_sig(n));
    }
    if a.body_has("error 1033") && a.body_has("cloudflare") {
        return Some(body_sig("error 1033"));
    }
    None
}

/// Azure App Service: a stopped web app, or a hostname with no app behind it.
fn azure_app_service(a: &Answer) -> Option<String> {
    a.body_has_any(&["this web app is stopped", "404 web site not found"])
        .map(body_sig)
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
    /// RFC 6750 §3 `error_description`: the server's own words about why.
    pub error_description: Option<String>,
    pub realm: Option<String>,
}

/// Parses every challenge in the header value(s); tolerant of odd spacing and
/// quoted strings with escapes, never panics.
///
/// The grammar (RFC 9110 §11.2): `#challenge` where `challenge = auth-scheme
/// [ 1*SP ( token68 / #auth-param ) ]`. Commas separate both challenges and
/// parameters, so after a comma `name=` continues the current challenge and a
/// bare token starts a new one. A token68 (`Basic dXNlcg==`) is only allowed
/// straight after the scheme. Garbage is skipped a byte at a time; a
/// parameter seen before any scheme is dropped. When a parameter repeats, the
/// first value wins. Unquoted values are read up to a comma or space, which
/// also accepts the bare URLs some servers send.
pub fn parse_www_authenticate(value: &str) -> Vec<AuthChallenge> {
    let mut cur = Cursor {
        s: value.as_bytes(),
        i: 0,
    };
    let mut out = Vec::new();
    let mut current: Option<AuthChallenge> = None;
    // True while only the scheme of `current` has been read: a bare token
    // there is its token68, not a new challenge.
    let mut fresh = false;
    loop {
        if cur.skip_separators() {
            fresh = false;
        }
        let Some(c) = cur.peek() else { break };
        if c == b'"' {
            // A quoted string with nothing to belong to: skip it whole so
            // its contents aren't read as tokens.
            cur.quoted();
            fresh = false;
            continue;
        }
        if !(is_tchar(c) || fresh && is_token68_char(c)) {
            cur.i += 1;
            continue;
        }
        let mark = cur.i;
        let name = cur.token();
        if !name.is_empty() {
            cur.skip_ws();
            if cur.peek() == Some(b'=') {
                cur.i += 1;
                cur.skip_ws();
                let value = match cur.peek() {
                    Some(b'"') => Some(cur.quoted()),
                    // `name=` then the end or a comma: an empty parameter,
                    // unless it can only be token68 padding.
                    None | Some(b',') if !fresh => Some(String::new()),
                    Some(b) if b != b'=' && b != b',' => Some(cur.bare_value()),
                    _ => None,
                };
                if let Some(value) = value {
                    if let Some(ch) = current.as_mut() {
                        set_param(ch, &name, value);
                    }
                    fresh = false;
                    continue;
                }
            }
        }
        cur.i = mark;
        if fresh {
            cur.token68();
            fresh = false;
            continue;
        }
        let scheme = cur.token();
        if scheme.is_empty() {
            cur.i += 1;
            continue;
        }
        out.extend(current.take());
        current = Some(AuthChallenge {
            scheme: scheme.to_ascii_lowercase(),
            ..AuthChallenge::default()
        });
        fresh = true;
    }
    out.extend(current);
    out
}

fn set_param(ch: &mut AuthChallenge, name: &str, value: String) {
    let slot = match name.to_ascii_lowercase().as_str() {
        "resource_metadata" => &mut ch.resource_metadata,
        "scope" => &mut ch.scope,
        "error" => &mut ch.error,
        "error_description" => &mut ch.error_description,
        "realm" => &mut ch.realm,
        _ => return,
    };
    if slot.is_none() {
        *slot = Some(value);
    }
}

/// `token68` characters of RFC 9110 §11.2 (before the `=` padding).
fn is_token68_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// A byte cursor over a header value. Every read collects bytes and decodes
/// them lossily, so no slice ever falls inside a UTF-8 sequence.
struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(is_ws) {
            self.i += 1;
        }
    }

    /// Skips whitespace and commas; true when a comma was among them.
    fn skip_separators(&mut self) -> bool {
        let mut comma = false;
        while let Some(b) = self.peek() {
            if b == b',' {
                comma = true;
            } else if !is_ws(b) {
                break;
            }
            self.i += 1;
        }
        comma
    }

    fn take_while(&mut self, keep: impl Fn(u8) -> bool) -> String {
        let start = self.i;
        while self.peek().is_some_and(&keep) {
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }

    fn token(&mut self) -> String {
        self.take_while(is_tchar)
    }

    fn token68(&mut self) -> String {
        let mut t = self.take_while(is_token68_char);
        t.push_str(&self.take_while(|b| b == b'='));
        t
    }

    fn bare_value(&mut self) -> String {
        self.take_while(|b| b != b',' && b != b'"' && !is_ws(b))
    }

    /// A quoted string starting at the opening quote; `\x` stands for `x`.
    /// An unterminated string runs to the end of the value.
    fn quoted(&mut self) -> String {
        let mut bytes = Vec::new();
        self.i += 1;
        while let Some(b) = self.peek() {
            self.i += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    if let Some(next) = self.peek() {
                        bytes.push(next);
                        self.i += 1;
                    }
                }
                _ => bytes.push(b),
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// The parts of an RFC 9728 protected-resource metadata document we check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceMetadata {
    pub resource: String,
    pub authorization_servers: Vec<String>,
}

/// Checks a protected-resource metadata body: a JSON object with a string
/// `resource` and a non-empty `authorization_servers` array of URLs. `Err`
/// says in one sentence what is wrong (the first problem found).
pub fn parse_resource_metadata(body: &[u8]) -> Result<ResourceMetadata, String> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let doc: Value = serde_json::from_slice(body)
        .map_err(|e| format!("The protected-resource metadata is not valid JSON ({e})."))?;
    let Value::Object(map) = &doc else {
        return Err(format!(
            "The protected-resource metadata is a JSON {}, not an object.",
            json_kind(&doc)
        ));
    };
    let resource = match map.get("resource") {
        None => return Err("The protected-resource metadata has no `resource` member.".into()),
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(Value::String(_)) => {
            return Err("The protected-resource metadata has an empty `resource`.".into())
        }
        Some(other) => {
            return Err(format!(
                "The protected-resource metadata's `resource` is a {}, not a string.",
                json_kind(other)
            ))
        }
    };
    let servers =
        match map.get("authorization_servers") {
            None => {
                return Err(
                    "The protected-resource metadata has no `authorization_servers`, so clients \
                 cannot tell where to get a token."
                        .into(),
                )
            }
            Some(Value::Array(list)) if list.is_empty() => return Err(
                "The protected-resource metadata's `authorization_servers` is empty, so clients \
                 cannot tell where to get a token."
                    .into(),
            ),
            Some(Value::Array(list)) => list,
            Some(other) => {
                return Err(format!(
                "The protected-resource metadata's `authorization_servers` is a {}, not an array.",
                json_kind(other)
            ))
            }
        };
    let mut authorization_servers = Vec::with_capacity(servers.len());
    for (i, server) in servers.iter().enumerate() {
        let Value::String(s) = server else {
            return Err(format!(
                "`authorization_servers[{i}]` is a {}, not a URL string.",
                json_kind(server)
            ));
        };
        if let Err(why) = absolute_http_url(s) {
            let shown: String = s.chars().take(120).collect();
            return Err(format!(
                "`authorization_servers[{i}]` (\"{shown}\") is not an absolute http(s) URL: {why}."
            ));
        }
        authorization_servers.push(s.clone());
    }
    Ok(ResourceMetadata {
        resource,
        authorization_servers,
    })
}

/// Does the protected resource `resource` (an RFC 9728 metadata document's
/// `resource`) cover `used`, the URL the client spoke to? RFC 9728 §3.3 says
/// metadata that does not match MUST NOT be used. Decided as the official
/// TypeScript SDK's client does (`checkResourceAllowed`): the same origin
/// (scheme, host, port), and `used`'s path is the resource's path or lies
/// below it, compared a segment at a time (`/api` covers `/api/mcp`, not
/// `/api2`). A resource naming only the origin covers every path on it, which
/// is what mcp-handler publishes. Queries and fragments play no part; text
/// that is no URL covers nothing.
pub fn resource_covers(resource: &str, used: &str) -> bool {
    let (Ok(resource), Ok(used)) = (Url::parse(resource.trim()), Url::parse(used)) else {
        return false;
    };
    if !matches!(resource.scheme(), "http" | "https") || resource.origin() != used.origin() {
        return false;
    }
    let dir = |p: &str| {
        if p.ends_with('/') {
            p.to_string()
        } else {
            format!("{p}/")
        }
    };
    used.path().len() >= resource.path().len()
        && dir(used.path()).starts_with(&dir(resource.path()))
}

/// Where an authorization server's metadata may live, in the order the
/// official TypeScript SDK tries them: RFC 8414 §3.1 (the well-known name
/// inserted between the host and the issuer's path), then OpenID Connect
/// Discovery with the same insertion, then OpenID Connect's original
/// spelling (appended to the issuer's path). An issuer without a path has
/// the two plain names only. Empty when `issuer` is not an http(s) URL.
pub fn authorization_server_metadata_urls(issuer: &str) -> Vec<String> {
    let Ok(url) = Url::parse(issuer.trim()) else {
        return Vec::new();
    };
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Vec::new();
    }
    let origin = url.origin().ascii_serialization();
    let path = url.path().trim_end_matches('/');
    if path.is_empty() {
        vec![
            format!("{origin}/.well-known/oauth-authorization-server"),
            format!("{origin}/.well-known/openid-configuration"),
        ]
    } else {
        vec![
            format!("{origin}/.well-known/oauth-authorization-server{path}"),
            format!("{origin}/.well-known/openid-configuration{path}"),
            format!("{origin}{path}/.well-known/openid-configuration"),
        ]
    }
}

/// The parts of an authorization server's metadata (RFC 8414 §2, or OpenID
/// Connect Discovery) a client needs to get a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthServerMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
}

/// Checks an authorization server's metadata: a JSON object with a string
/// `issuer` and absolute http(s) `authorization_endpoint` and
/// `token_endpoint` (the members the official TypeScript SDK requires before
/// it starts a login). `Err` says in one sentence what is wrong.
pub fn parse_authorization_server_metadata(body: &[u8]) -> Result<AuthServerMetadata, String> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let doc: Value =
        serde_json::from_slice(body).map_err(|e| format!("it is not valid JSON ({e})"))?;
    let Value::Object(map) = &doc else {
        return Err(format!("it is a JSON {}, not an object", json_kind(&doc)));
    };
    let text = |name: &str| match map.get(name) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
        Some(Value::String(_)) => Err(format!("its `{name}` is empty")),
        Some(other) => Err(format!(
            "its `{name}` is a {}, not a string",
            json_kind(other)
        )),
        None => Err(format!("it has no `{name}`")),
    };
    let issuer = text("issuer")?;
    let endpoint = |name: &str| {
        let url = text(name)?;
        absolute_http_url(&url).map_err(|why| {
            let shown: String = url.chars().take(120).collect();
            format!("its `{name}` (\"{shown}\") is not an absolute http(s) URL: {why}")
        })?;
        Ok::<String, String>(url)
    };
    let authorization_endpoint = endpoint("authorization_endpoint")?;
    let token_endpoint = endpoint("token_endpoint")?;
    Ok(AuthServerMetadata {
        issuer,
        authorization_endpoint,
        token_endpoint,
    })
}

/// Does a refusal say the server does not serve the `Host` it was asked
/// for? That is DNS-rebinding protection with an allow-list that lacks the
/// public name (the usual case behind a proxy or load balancer), not a want
/// of credentials. HTTP 421 (Misdirected Request) says so by itself (the
/// Python SDK answers "Invalid Host header"); a 403 says it in words: the
/// TypeScript SDK's `-32000 "Invalid Host: ..."`, rmcp's "Host header is not
/// allowed", Playwright's "Access is only allowed at localhost:8931".
pub fn is_host_refusal(status: u16, text: &str) -> bool {
    const REFUSAL: [&str; 10] = [
        "invalid",
        "allowed",
        "disallowed",
        "rebinding",
        "unknown",
        "unrecognized",
        "unrecognised",
        "mismatch",
        "untrusted",
        "misdirected",
    ];
    if status == 421 {
        return true;
    }
    if status != 403 {
        return false;
    }
    let words = words_of(text);
    let host = words
        .iter()
        .any(|w| matches!(w.as_str(), "host" | "hostname" | "hosts"));
    let refused = words.iter().any(|w| REFUSAL.contains(&w.as_str()));
    host && refused
        || has_phrase(&words, &["only", "allowed", "at"])
        || has_phrase(&words, &["dns", "rebinding"])
}

/// Does the text speak of an API key (`X-API-Key`, "Invalid or missing API
/// key", `apikey`)? Then the credential wanted is a key the provider hands
/// out, not an OAuth token a client can obtain.
pub fn speaks_of_api_key(text: &str) -> bool {
    let words = words_of(text);
    words
        .iter()
        .any(|w| matches!(w.as_str(), "apikey" | "apikeys"))
        || has_phrase(&words, &["api", "key"])
        || has_phrase(&words, &["api", "keys"])
}

/// What an error body says in words: the JSON-RPC `error.message`, an OAuth
/// `error_description`, or a `message` / `detail` / `error` string of a JSON
/// object, or the text of an HTML page; `None` for anything else (then the
/// body itself is the message).
pub fn body_message(body: &str) -> Option<String> {
    if body.trim_start().starts_with('<') {
        return html_text(body);
    }
    let doc: Value = serde_json::from_str(body.trim()).ok()?;
    let obj = doc.as_object()?;
    let text = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    text(obj.get("error").and_then(|e| e.get("message")))
        .or_else(|| text(obj.get("error_description")))
        .or_else(|| text(obj.get("message")))
        .or_else(|| text(obj.get("detail")))
        .or_else(|| text(obj.get("error")))
}

/// The text of an HTML page: tags and the contents of `<head>` dropped
/// (the title repeats in the body, styles are noise), whitespace collapsed.
fn html_text(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let body = match (lower.find("<head"), lower.find("</head>")) {
        (Some(a), Some(b)) if a < b => format!("{}{}", &html[..a], &html[b + 7..]),
        _ => html.to_string(),
    };
    let mut text = String::new();
    let mut in_tag = false;
    for ch in body.chars() {
        match ch {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' if in_tag => in_tag = false,
            _ if !in_tag => text.push(ch),
            _ => {}
        }
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// Lowercase alphanumeric words (so `x-api-key` is `x`, `api`, `key`).
fn words_of(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

fn has_phrase(words: &[String], phrase: &[&str]) -> bool {
    words
        .windows(phrase.len())
        .any(|w| w.iter().zip(phrase).all(|(a, b)| a == b))
}

fn absolute_http_url(s: &str) -> Result<(), String> {
    let url = Url::parse(s).map_err(|e| e.to_string())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("the scheme is {}", url.scheme()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("it has no host".into());
    }
    Ok(())
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Does a JSON-RPC error message talk about auth (unauthorized, forbidden,
/// token, API key, credentials, ...)? Used for `auth_half_configured`; the code
/// alone (e.g. -32001) is not enough.
///
/// The message is split into lowercase words (so `invalid_token`,
/// `api-key` and `x-api-key` all split cleanly) and matched word by word,
/// never as raw substrings: "catalog in" must not read as "log in". "token"
/// counts only beside a word that makes it a credential (missing, invalid,
/// expired, access, bearer, ...), so "Unexpected token < in JSON" and
/// "max_tokens" don't.
pub fn is_auth_message(message: &str) -> bool {
    const WORDS: [&str; 16] = [
        "unauthorized",
        "unauthorised",
        "unauthenticated",
        "forbidden",
        "authentication",
        "authorization",
        "authorisation",
        "credential",
        "credentials",
        "apikey",
        "apikeys",
        "bearer",
        "oauth",
        "jwt",
        "401",
        "403",
    ];
    const PHRASES: [&[&str]; 12] = [
        &["not", "authenticated"],
        &["not", "authorized"],
        &["not", "authorised"],
        &["access", "denied"],
        &["permission", "denied"],
        &["api", "key"],
        &["api", "keys"],
        &["login", "required"],
        &["not", "logged", "in"],
        &["please", "log", "in"],
        &["must", "log", "in"],
        &["sign", "in", "required"],
    ];
    const TOKEN_QUALIFIERS: [&str; 19] = [
        "missing",
        "invalid",
        "expired",
        "expire",
        "expires",
        "revoked",
        "required",
        "no",
        "bad",
        "malformed",
        "valid",
        "provided",
        "access",
        "auth",
        "bearer",
        "refresh",
        "session",
        "api",
        "id",
    ];
    let lower = message.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    if words.iter().any(|w| WORDS.contains(w)) {
        return true;
    }
    if PHRASES
        .iter()
        .any(|p| words.windows(p.len()).any(|w| w == *p))
    {
        return true;
    }
    words.iter().enumerate().any(|(i, w)| {
        if *w != "token" {
            return false;
        }
        let before = i.checked_sub(1).and_then(|j| words.get(j));
        let after = words.iter().skip(i + 1).take(2);
        before
            .into_iter()
            .chain(after)
            .any(|n| TOKEN_QUALIFIERS.contains(n))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Headers {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn detect(status: u16, headers: &[(&str, &str)], body: &str) -> Option<PlatformMatch> {
        detect_platform(status, &h(headers), body.as_bytes())
    }

    // ---- platforms: the false positives the brief names -------------------

    #[test]
    fn vercel_id_on_a_healthy_jsonrpc_answer_is_not_a_platform_page() {
        let body = r#"{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}"#;
        let hs = [
            (
                "x-vercel-id",
                "fra1::iad1::abcde-1700000000000-0123456789ab",
            ),
            ("server", "Vercel"),
        ];
        assert_eq!(detect(200, &hs, body), None);
    }

    #[test]
    fn netlify_server_header_on_a_healthy_site_is_not_a_platform_page() {
        let hs = [("server", "Netlify"), ("x-nf-request-id", "01HXYZ")];
        let body =
            "<!doctype html><html><head><title>My docs</title></head><body>Hello</body></html>";
        assert_eq!(detect(200, &hs, body), None);
    }

    #[test]
    fn jsonrpc_bodies_never_match_even_with_an_error_header() {
        let hs = [
            ("x-vercel-error", "DEPLOYMENT_NOT_FOUND"),
            ("x-railway-fallback", "true"),
        ];
        let body = "\n  {\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32601,\"message\":\"Application not found\"}}";
        assert_eq!(detect(404, &hs, body), None);
        let batch = r#"[{"jsonrpc":"2.0","id":1,"result":{}}]"#;
        assert_eq!(detect(404, &hs, batch), None);
        let sse = "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n";
        assert_eq!(detect(200, &hs, sse), None);
    }

    #[test]
    fn fly_app_404_is_the_app_not_the_proxy() {
        // Starlette's own 404 on a Fly app: route_moved material, not asleep.
        let hs = [
            ("fly-request-id", "01J0ABC-fra"),
            ("server", "Fly/1a2b3c (2025-01-01)"),
        ];
        assert_eq!(detect(404, &hs, "Not Found"), None);
        assert_eq!(detect(200, &hs, "ok"), None);
        // The proxy's own empty 502 is a platform answer.
        let m = detect(502, &hs, "").expect("fly proxy 502");
        assert_eq!(m.platform, "Fly");
        assert!(m.signature.contains("fly-request-id"), "{}", m.signature);
    }

    #[test]
    fn vercel_route_not_found_is_left_to_route_moved() {
        let hs = [("x-vercel-error", "NOT_FOUND"), ("x-vercel-id", "iad1::x")];
        assert_eq!(
            detect(404, &hs, "The page could not be found\n\nNOT_FOUND\n"),
            None
        );
        let hs = [("x-vercel-error", "FUNCTION_INVOCATION_FAILED")];
        assert_eq!(detect(500, &hs, "A server error has occurred"), None);
    }

    #[test]
    fn generic_gateway_pages_are_not_platforms() {
        let nginx = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>";
        assert_eq!(detect(502, &[("server", "nginx")], nginx), None);
        let gfe = "<!DOCTYPE html><html><body><h1>Error: Server Error</h1><h2>Service Unavailable</h2></body></html>";
        assert_eq!(detect(503, &[("server", "Google Frontend")], gfe), None);
        assert_eq!(detect(503, &[], "Service Unavailable"), None);
        assert_eq!(detect(404, &[], "Not Found"), None);
    }

    #[test]
    fn header_signatures_say_what_matched() {
        let m = detect(404, &[("X-Render-Routing", "no-server")], "Not Found").expect("render");
        assert_eq!(m.platform, "Render");
        assert_eq!(m.signature, "header x-render-routing: no-server");
        let m = detect(503, &[("x-render-routing", "suspend-by-user")], "").expect("render");
        assert_eq!(m.signature, "header x-render-routing: suspend-by-user");
    }

    #[test]
    fn body_matching_is_case_insensitive_and_reports_the_phrase() {
        let m = detect(
            404,
            &[("server", "railway-edge")],
            r#"{"status":"error","code":404,"message":"APPLICATION NOT FOUND","request_id":"x"}"#,
        )
        .expect("railway json 404");
        assert_eq!(m.platform, "Railway");
        assert_eq!(m.signature, "body \"application not found\"");
    }

    #[test]
    fn sleep_pages_match_on_a_200() {
        let body = "<html><body><h1>Hmm... We Couldn&#39;t Reach Your Repl</h1></body></html>";
        let m = detect(200, &[], body).expect("replit");
        assert_eq!(m.platform, "Replit");
        let body = "<p>Hmm\u{2026} We couldn\u{2019}t reach your Repl</p>";
        assert_eq!(detect(200, &[], body).map(|m| m.platform), Some("Replit"));
    }

    #[test]
    fn only_the_prefix_is_read() {
        let mut body = "x".repeat(BODY_PREFIX_MAX);
        body.push_str("This Space is sleeping due to inactivity");
        assert_eq!(detect(200, &[], &body), None);
        let body = format!("{}This Space is sleeping", "x".repeat(100));
        assert_eq!(
            detect(200, &[], &body).map(|m| m.platform),
            Some("Hugging Face Spaces")
        );
    }

    #[test]
    fn common_words_need_the_platform_named() {
        // "Project not found" is Glitch only when the page is Glitch's.
        assert_eq!(detect(404, &[], "Project not found"), None);
        assert_eq!(
            detect(404, &[], "<title>Glitch</title> Project not found").map(|m| m.platform),
            Some("Glitch")
        );
        // "Application not found" without any Railway context is not Railway.
        assert_eq!(detect(404, &[], "Application not found"), None);
    }

    #[test]
    fn hostile_bytes_never_panic() {
        // A small deterministic generator: no dependency, same run every time.
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let hs = h(&[("x-render-routing", "\u{fffd}"), ("fly-request-id", "")]);
        for _ in 0..500 {
            let len = (next() % 300) as usize;
            let body: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let status = (next() % 600) as u16;
            let _ = detect_platform(status, &hs, &body);
        }
        // A multi-byte character cut by the prefix bound is decoded lossily.
        let mut body = vec![b'a'; BODY_PREFIX_MAX - 1];
        body.extend_from_slice("é this space is sleeping".as_bytes());
        assert_eq!(detect_platform(200, &Vec::new(), &body), None);
    }

    // ---- WWW-Authenticate --------------------------------------------------

    #[test]
    fn bearer_with_resource_metadata() {
        let v = r#"Bearer realm="mcp", resource_metadata="https://api.example.com/.well-known/oauth-protected-resource""#;
        let got = parse_www_authenticate(v);
        assert_eq!(
            got,
            vec![AuthChallenge {
                scheme: "bearer".into(),
                realm: Some("mcp".into()),
                resource_metadata: Some(
                    "https://api.example.com/.well-known/oauth-protected-resource".into()
                ),
                ..Default::default()
            }]
        );
    }

    #[test]
    fn several_challenges_in_one_value() {
        let got = parse_www_authenticate(r#"Basic realm="a", Bearer scope="b""#);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].scheme, "basic");
        assert_eq!(got[0].realm.as_deref(), Some("a"));
        assert_eq!(got[0].scope, None);
        assert_eq!(got[1].scheme, "bearer");
        assert_eq!(got[1].scope.as_deref(), Some("b"));
        assert_eq!(got[1].realm, None);
    }

    #[test]
    fn parameters_after_commas_stay_with_their_challenge() {
        let v = r#"Bearer realm="x", error="invalid_token", error_description="expired", scope="read write""#;
        let got = parse_www_authenticate(v);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].error.as_deref(), Some("invalid_token"));
        assert_eq!(got[0].scope.as_deref(), Some("read write"));
    }

    #[test]
    fn token68_values() {
        let got = parse_www_authenticate("Basic dXNlcjpwYXNz==, Negotiate a/b+c=, Bearer realm=x");
        let schemes: Vec<&str> = got.iter().map(|c| c.scheme.as_str()).collect();
        assert_eq!(schemes, ["basic", "negotiate", "bearer"]);
        assert_eq!(got[2].realm.as_deref(), Some("x"));
        assert_eq!(got[0].realm, None);
    }

    #[test]
    fn quoted_strings_with_escapes() {
        let got = parse_www_authenticate(
            r#"Bearer realm="a \"quoted\" realm, with comma", scope="s\\t""#,
        );
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(
            got[0].realm.as_deref(),
            Some(r#"a "quoted" realm, with comma"#)
        );
        assert_eq!(got[0].scope.as_deref(), Some(r"s\t"));
    }

    #[test]
    fn odd_spacing_and_case() {
        let v =
            "  BEARER   Realm = \"r\"  ,RESOURCE_METADATA=https://x.example/prm ,,  scope= \"s\"  ";
        let got = parse_www_authenticate(v);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].scheme, "bearer");
        assert_eq!(got[0].realm.as_deref(), Some("r"));
        assert_eq!(
            got[0].resource_metadata.as_deref(),
            Some("https://x.example/prm")
        );
        assert_eq!(got[0].scope.as_deref(), Some("s"));
    }

    #[test]
    fn bare_schemes_and_joined_header_lines() {
        // Two header lines joined by the host with ", " (RFC 9110 §5.3).
        let got = parse_www_authenticate("Negotiate, Bearer error=\"invalid_request\"");
        let schemes: Vec<&str> = got.iter().map(|c| c.scheme.as_str()).collect();
        assert_eq!(schemes, ["negotiate", "bearer"]);
        assert_eq!(got[1].error.as_deref(), Some("invalid_request"));
    }

    #[test]
    fn garbage_gives_what_could_be_parsed() {
        assert_eq!(parse_www_authenticate(""), vec![]);
        assert_eq!(parse_www_authenticate(" , ,, "), vec![]);
        assert_eq!(parse_www_authenticate("\"unterminated"), vec![]);
        let got = parse_www_authenticate("=== Bearer realm=\"open");
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].realm.as_deref(), Some("open"));
        // A parameter before any scheme is dropped, the rest kept.
        let got = parse_www_authenticate("realm=\"x\", Bearer scope=\"y\"");
        assert_eq!(got.last().and_then(|c| c.scope.as_deref()), Some("y"));
        let got = parse_www_authenticate("Bearer realm=\"é\u{1f600}\", scope=ü\\");
        assert_eq!(got[0].realm.as_deref(), Some("é\u{1f600}"));
        assert_eq!(got[0].scope.as_deref(), Some("ü\\"));
    }

    #[test]
    fn first_parameter_value_wins() {
        let got = parse_www_authenticate(r#"Bearer scope="first", scope="second""#);
        assert_eq!(got[0].scope.as_deref(), Some("first"));
    }

    #[test]
    fn random_header_values_never_panic() {
        let alphabet: Vec<char> = "aB9 =,\"\\\t/+~.é\u{1f600}-_".chars().collect();
        let mut seed: u64 = 42;
        for _ in 0..2000 {
            let mut s = String::new();
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let len = (seed >> 58) as usize;
            for _ in 0..len {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                s.push(alphabet[(seed >> 33) as usize % alphabet.len()]);
            }
            for ch in parse_www_authenticate(&s) {
                assert!(!ch.scheme.is_empty(), "empty scheme from {s:?}");
                assert_eq!(ch.scheme, ch.scheme.to_ascii_lowercase());
            }
        }
    }

    // ---- protected-resource metadata --------------------------------------

    #[test]
    fn good_metadata() {
        let body = br#"{"resource":"https://mcp.example.com/mcp","authorization_servers":["https://auth.example.com","http://localhost:9000/realms/x"],"scopes_supported":["mcp"]}"#;
        let md = parse_resource_metadata(body).expect("valid");
        assert_eq!(md.resource, "https://mcp.example.com/mcp");
        assert_eq!(
            md.authorization_servers,
            ["https://auth.example.com", "http://localhost:9000/realms/x"]
        );
        // A UTF-8 byte-order mark in front is tolerated.
        let mut with_bom = b"\xEF\xBB\xBF".to_vec();
        with_bom.extend_from_slice(body);
        assert!(parse_resource_metadata(&with_bom).is_ok());
    }

    fn metadata_error(body: &str) -> String {
        match parse_resource_metadata(body.as_bytes()) {
            Ok(md) => panic!("expected an error for {body}, got {md:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn bad_metadata_names_the_first_problem() {
        let cases: [(&str, &str); 10] = [
            ("<html>login</html>", "not valid JSON"),
            ("", "not valid JSON"),
            ("[1,2]", "is a JSON array, not an object"),
            (
                r#"{"authorization_servers":["https://a.example"]}"#,
                "no `resource`",
            ),
            (
                r#"{"resource":42,"authorization_servers":["https://a.example"]}"#,
                "`resource` is a number",
            ),
            (
                r#"{"resource":"https://r.example"}"#,
                "no `authorization_servers`",
            ),
            (
                r#"{"resource":"https://r.example","authorization_servers":[]}"#,
                "`authorization_servers` is empty",
            ),
            (
                r#"{"resource":"https://r.example","authorization_servers":"https://a.example"}"#,
                "is a string, not an array",
            ),
            (
                r#"{"resource":"https://r.example","authorization_servers":["https://a.example",7]}"#,
                "`authorization_servers[1]` is a number",
            ),
            (
                r#"{"resource":"https://r.example","authorization_servers":["/oauth"]}"#,
                "`authorization_servers[0]` (\"/oauth\") is not an absolute http(s) URL",
            ),
        ];
        for (body, expected) in cases {
            let err = metadata_error(body);
            assert!(err.contains(expected), "{body}: {err}");
            assert!(err.ends_with('.'), "one sentence: {err}");
        }
        let err = metadata_error(r#"{"resource":"x","authorization_servers":["ftp://a.example"]}"#);
        assert!(err.contains("the scheme is ftp"), "{err}");
    }

    // ---- auth messages -----------------------------------------------------

    #[test]
    fn auth_messages() {
        for m in [
            "Unauthorized",
            "401 Unauthorised",
            "Forbidden: insufficient scope",
            "Authentication failed",
            "Authorization required",
            "Missing Authorization header",
            "Access denied",
            "Missing token",
            "invalid_token",
            "Token has expired",
            "The access token provided is expired",
            "Bearer token required",
            "Invalid API key",
            "x-api-key header missing",
            "apikey is required",
            "API_KEY not set",
            "Invalid credentials",
            "Not authenticated",
            "Permission denied",
            "HTTP 403",
            "jwt malformed",
            "You are not logged in",
        ] {
            assert!(is_auth_message(m), "should be auth: {m:?}");
        }
    }

    #[test]
    fn non_auth_messages() {
        for m in [
            "Request timed out",
            "MCP error -32001: Request timed out",
            "Internal error",
            "Invalid params",
            "tool not found",
            "Tool 'login_status' not found",
            "rate limit exceeded",
            "Unexpected token < in JSON at position 0",
            "max_tokens must be at most 4096",
            "context length exceeded: 9000 tokens",
            "token limit reached for this request",
            "item not in catalog in this region",
            "port 4010 in use",
            "",
        ] {
            assert!(!is_auth_message(m), "should not be auth: {m:?}");
        }
    }

    // ---- RFC 9728 resource matching, authorization servers, refusals -------

    #[test]
    fn resource_matching_follows_the_typescript_sdk() {
        let used = "https://mcp.example.com/mcp";
        for resource in [
            "https://mcp.example.com/mcp",
            // mcp-handler's default: the origin only.
            "https://mcp.example.com",
            "https://mcp.example.com/",
            "HTTPS://MCP.example.com:443/mcp",
            "https://mcp.example.com/mcp#frag",
        ] {
            assert!(
                resource_covers(resource, used),
                "{resource} should cover {used}"
            );
        }
        assert!(resource_covers(
            "https://x.example/api",
            "https://x.example/api/mcp"
        ));
        for resource in [
            // The case the SDK refuses: another path on the same origin.
            "https://mcp.example.com/api",
            "https://mcp.example.com/mc",
            "https://mcp.example.com/mcp/v2",
            "http://mcp.example.com/mcp",
            "https://mcp.example.com:8443/mcp",
            "https://other.example.com/mcp",
            "/mcp",
            "not a url",
            "",
            "mailto:a@mcp.example.com",
        ] {
            assert!(
                !resource_covers(resource, used),
                "{resource} must not cover {used}"
            );
        }
        // `/api` does not cover `/api2`; `/foo/` does not cover `/foo`.
        assert!(!resource_covers(
            "https://x.example/api",
            "https://x.example/api2"
        ));
        assert!(!resource_covers(
            "https://x.example/foo/",
            "https://x.example/foo"
        ));
    }

    #[test]
    fn authorization_server_metadata_urls_insert_the_well_known_name() {
        assert_eq!(
            authorization_server_metadata_urls("https://auth.example.com"),
            [
                "https://auth.example.com/.well-known/oauth-authorization-server",
                "https://auth.example.com/.well-known/openid-configuration",
            ]
        );
        assert_eq!(
            authorization_server_metadata_urls("https://auth.example.com/"),
            authorization_server_metadata_urls("https://auth.example.com")
        );
        assert_eq!(
            authorization_server_metadata_urls("https://kc.example.com:8443/realms/mcp/"),
            [
                "https://kc.example.com:8443/.well-known/oauth-authorization-server/realms/mcp",
                "https://kc.example.com:8443/.well-known/openid-configuration/realms/mcp",
                "https://kc.example.com:8443/realms/mcp/.well-known/openid-configuration",
            ]
        );
        assert!(authorization_server_metadata_urls("ftp://auth.example.com").is_empty());
        assert!(authorization_server_metadata_urls("/oauth").is_empty());
    }

    #[test]
    fn authorization_server_metadata_needs_the_login_endpoints() {
        let good = br#"{"issuer":"https://a.example","authorization_endpoint":"https://a.example/authorize","token_endpoint":"https://a.example/token","response_types_supported":["code"]}"#;
        let md = parse_authorization_server_metadata(good).expect("valid");
        assert_eq!(md.token_endpoint, "https://a.example/token");
        for (body, expected) in [
            ("<html>Not Found</html>", "not valid JSON"),
            ("[]", "a JSON array"),
            (
                r#"{"authorization_endpoint":"https://a/x","token_endpoint":"https://a/t"}"#,
                "no `issuer`",
            ),
            (
                r#"{"issuer":"https://a","token_endpoint":"https://a/t"}"#,
                "no `authorization_endpoint`",
            ),
            (
                r#"{"issuer":"https://a","authorization_endpoint":"https://a/x"}"#,
                "no `token_endpoint`",
            ),
            (
                r#"{"issuer":"https://a","authorization_endpoint":"/authorize","token_endpoint":"https://a/t"}"#,
                "`authorization_endpoint` (\"/authorize\") is not an absolute",
            ),
            (
                r#"{"issuer":7,"authorization_endpoint":"https://a/x","token_endpoint":"https://a/t"}"#,
                "`issuer` is a number",
            ),
        ] {
            let err = parse_authorization_server_metadata(body.as_bytes()).expect_err(body);
            assert!(err.contains(expected), "{body}: {err}");
        }
    }

    #[test]
    fn host_refusals_are_told_from_auth_refusals() {
        for (status, body) in [
            (421, "Invalid Host header"),
            (421, ""),
            (
                403,
                r#"{"jsonrpc":"2.0","error":{"code":-32000,"message":"Invalid Host: evil.example:8080"},"id":null}"#,
            ),
            (403, "Forbidden: Host header is not allowed"),
            (403, "Access is only allowed at localhost:8931"),
            (403, "Request blocked: DNS rebinding protection"),
        ] {
            assert!(is_host_refusal(status, body), "{status} {body}");
        }
        for (status, body) in [
            (403, "Forbidden"),
            (403, r#"{"error":"insufficient_scope"}"#),
            (403, "Invalid API key"),
            (403, "The host is down for maintenance"),
            (401, "Invalid Host header"),
            (400, "Invalid Host header"),
        ] {
            assert!(!is_host_refusal(status, body), "{status} {body}");
        }
    }

    #[test]
    fn api_key_wording() {
        for t in [
            "Invalid or missing API key",
            "x-api-key header missing",
            "apikey required",
            "API_KEY not set",
            "Provide one of your API keys",
        ] {
            assert!(speaks_of_api_key(t), "{t}");
        }
        for t in ["Missing bearer token", "Unauthorized", "rapid keyboard", ""] {
            assert!(!speaks_of_api_key(t), "{t}");
        }
    }

    #[test]
    fn body_messages_are_picked_out_of_json() {
        assert_eq!(
            body_message(
                r#"{"jsonrpc":"2.0","error":{"code":-32000,"message":"Invalid Host: x"},"id":null}"#
            )
            .as_deref(),
            Some("Invalid Host: x")
        );
        assert_eq!(
            body_message(
                r#"{"error":"invalid_token","error_description":"Invalid or missing API key"}"#
            )
            .as_deref(),
            Some("Invalid or missing API key")
        );
        assert_eq!(
            body_message(r#"{"detail":"Not authenticated"}"#).as_deref(),
            Some("Not authenticated")
        );
        assert_eq!(
            body_message(r#"{"error":"forbidden"}"#).as_deref(),
            Some("forbidden")
        );
        assert_eq!(body_message("Forbidden"), None);
        assert_eq!(
            body_message("<html><head><title>403 Forbidden</title><style>p{}</style></head><body><h1>403 Forbidden</h1>\n<p>Blocked by rule 7.</p></body></html>").as_deref(),
            Some("403 Forbidden Blocked by rule 7.")
        );
        assert_eq!(body_message("<p>"), None);
        assert_eq!(body_message(r#"{"error":{"code":1}}"#), None);
    }

    #[test]
    fn error_description_is_read_from_the_challenge() {
        let got = parse_www_authenticate(
            r#"Bearer error="invalid_token", error_description="Invalid or missing API key""#,
        );
        assert_eq!(
            got[0].error_description.as_deref(),
            Some("Invalid or missing API key")
        );
    }
}
