//! mcprobe-registry. Start here: MCP registries and the audit of what they list, pure (no I/O),
//! shared by `mcprobe scan` and the Worker's crawl.
//!
//! - [`page_url`] and [`parse_page`]: the official MCP Registry API,
//!   `GET /v0.1/servers?cursor=&limit=&version=latest`, answering
//!   `{servers: [{server, _meta}], metadata: {nextCursor, count}}`. The host
//!   fetches; this module builds the URL and reads the page leniently (one bad
//!   entry is a [`Page::problems`] line, not a failed crawl), skipping entries
//!   the registry marks `deleted` (and superseded versions).
//! - [`classify_listing`] and [`EndpointSet`]: every listed URL normalised
//!   (scheme and host lowercase, default port, trailing slash and fragment
//!   dropped) and de-duplicated, keeping which registries list it; templated
//!   URLs (`https://{tenant}.example.com/mcp`) are recorded, never probed.
//! - [`needs_credentials`]: a remote that declares a required secret header is
//!   probed without it, so its 401/403 reads as `auth_required` ("needs
//!   credentials"), not as down.
//! - [`Audit`]: the aggregates of a scan: share per mode and per registry, the
//!   loud / quiet split, p50/p95 latency, the slowest and most common failures.
//! - [`baseline_file_name`]: where a scan keeps an endpoint's tool snapshot.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use mcprobe_core::fingerprint::sha256_tag;

mod bounded;
use mcprobe_core::verdict::{Finding, Mode, Status, Verdict};

/// The `_meta` key under which the official registry puts its own metadata
/// (`status`, `isLatest`, `publishedAt`, ...).
pub const OFFICIAL_META: &str = "io.modelcontextprotocol.registry/official";

/// The list endpoint of the official API, relative to a registry's base URL.
pub const SERVERS_PATH: &str = "v0.1/servers";

// A registry is anyone's server: its page is read within these bounds, so a
// hostile page costs memory in proportion to what we keep, never to what it
// repeats (every remote used to copy its entry's name: a 1 MB page of one long
// name and many remotes took 1.3 GB).

/// JSON values (objects, arrays, strings, numbers...) kept from one page; the
/// rest of the document is read past without being kept. A real entry is
/// 30 to 80 values, so this holds 100-entry pages many times over, and keeps
/// a page of `[{},{},...]` to a few tens of MB whatever its size.
pub const MAX_PAGE_VALUES: usize = 250_000;
/// Entries read from one page: ten times the most the official API serves
/// (`limit=100`); a page listing more is cut, and says so.
pub const MAX_ENTRIES_PER_PAGE: usize = 1_000;
/// Remotes read from one entry: real servers list one to three.
pub const MAX_REMOTES_PER_ENTRY: usize = 16;
/// Headers read from one remote.
pub const MAX_HEADERS_PER_REMOTE: usize = 32;
/// Characters of a server name (the server.json schema's own maximum): a
/// longer one is no registry name, and the entry is skipped.
pub const MAX_NAME_CHARS: usize = 200;
/// Characters of a version, a header name or a variable name kept (longer
/// ones are cut): the schema allows 255 for a version.
pub const MAX_LABEL_CHARS: usize = 255;
/// Problem lines kept from one page (the rest are counted in one more line).
pub const MAX_PROBLEMS_PER_PAGE: usize = 50;

/// Why a registry page could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error("'{url}' is not a registry URL ({reason}); give its base, e.g. https://registry.modelcontextprotocol.io")]
    BadBaseUrl { url: String, reason: String },
    #[error("the page is not JSON ({0}); expected the registry API's {{\"servers\": [...], \"metadata\": {{...}}}}")]
    NotJson(String),
    #[error("the page has no \"servers\" array (got {0}); expected the registry API's {{\"servers\": [...]}}")]
    NoServers(String),
}

// ---- pages ------------------------------------------------------------------------

/// The URL of one page of `GET /v0.1/servers`.
///
/// `base` is the registry's base URL (`https://registry.modelcontextprotocol.io`,
/// or a sub-registry under a path); a URL that already ends in `/servers` is
/// used as it is. Any query the base carries is kept, except the parameters
/// set here.
pub fn page_url(base: &str, cursor: Option<&str>, limit: u32) -> Result<String, RegistryError> {
    let bad = |reason: String| RegistryError::BadBaseUrl {
        url: base.to_string(),
        reason,
    };
    let mut url = Url::parse(base.trim()).map_err(|e| bad(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad(format!("scheme '{}' is not http(s)", url.scheme())));
    }
    let path = url.path().trim_end_matches('/').to_string();
    if !path.ends_with("/servers") {
        url.set_path(&format!("{path}/{SERVERS_PATH}"));
    }
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !matches!(k.as_ref(), "cursor" | "limit" | "version"))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.set_fragment(None);
    {
        let mut q = url.query_pairs_mut();
        q.clear();
        for (k, v) in &kept {
            q.append_pair(k, v);
        }
        q.append_pair("limit", &limit.to_string());
        q.append_pair("version", "latest");
        if let Some(c) = cursor {
            q.append_pair("cursor", c);
        }
    }
    Ok(url.into())
}

/// The transport a remote declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RemoteTransport {
    #[serde(rename = "streamable-http")]
    StreamableHttp,
    #[serde(rename = "sse")]
    Sse,
}

impl RemoteTransport {
    pub fn as_str(self) -> &'static str {
        match self {
            RemoteTransport::StreamableHttp => "streamable-http",
            RemoteTransport::Sse => "sse",
        }
    }
}

/// One header a remote declares (`headers[]` of the server.json schema).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderSpec {
    pub name: String,
    pub is_required: bool,
    pub is_secret: bool,
}

/// One remote endpoint of one registry entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remote {
    /// The server's registry name, e.g. `io.github.user/weather`.
    pub server: String,
    pub version: String,
    pub transport: RemoteTransport,
    /// As listed (maybe templated).
    pub url: String,
    pub headers: Vec<HeaderSpec>,
    /// The names of the declared URL `variables`.
    pub variables: Vec<String>,
}

impl Remote {
    /// Names of the headers that are both required and secret: the server
    /// cannot be used without a credential we do not have.
    pub fn required_secret_headers(&self) -> Vec<String> {
        self.headers
            .iter()
            .filter(|h| h.is_required && h.is_secret)
            .map(|h| h.name.clone())
            .collect()
    }
}

/// One page of the list, read leniently.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    /// Every remote of the page's live entries, in page order.
    pub remotes: Vec<Remote>,
    /// Entries on the page (live, deleted, superseded or unreadable).
    pub servers: usize,
    /// Entries skipped because the registry marks them `deleted`.
    pub deleted: usize,
    /// Entries skipped because they are not the latest version of their server.
    pub superseded: usize,
    /// Entries or remotes skipped as unreadable, one line each saying why.
    pub problems: Vec<String>,
    /// `metadata.nextCursor`; `None` (or empty in the page) at the end.
    pub next_cursor: Option<String>,
}

/// Reads one page of `GET /v0.1/servers`, within the bounds above.
pub fn parse_page(body: &[u8]) -> Result<Page, RegistryError> {
    let (doc, truncated) =
        bounded::parse(body, MAX_PAGE_VALUES).map_err(|e| RegistryError::NotJson(e.to_string()))?;
    let Some(entries) = doc.get("servers").and_then(Value::as_array) else {
        return Err(RegistryError::NoServers(json_kind(&doc)));
    };
    let mut page = Page {
        servers: entries.len(),
        next_cursor: doc
            .pointer("/metadata/nextCursor")
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty())
            .map(str::to_string),
        ..Page::default()
    };
    let mut problems = Problems::default();
    if truncated {
        problems.push(format!(
            "the page holds more than {MAX_PAGE_VALUES} JSON values; the rest was not read"
        ));
    }
    if entries.len() > MAX_ENTRIES_PER_PAGE {
        problems.push(format!(
            "the page lists {} entries; only the first {MAX_ENTRIES_PER_PAGE} were read",
            entries.len()
        ));
    }
    for (i, entry) in entries.iter().take(MAX_ENTRIES_PER_PAGE).enumerate() {
        read_entry(i, entry, &mut page, &mut problems);
    }
    page.problems = problems.finish();
    Ok(page)
}

/// A page's problem lines, at most [`MAX_PROBLEMS_PER_PAGE`] kept.
#[derive(Default)]
struct Problems {
    kept: Vec<String>,
    more: usize,
}

impl Problems {
    fn push(&mut self, line: String) {
        if self.kept.len() < MAX_PROBLEMS_PER_PAGE {
            self.kept.push(line);
        } else {
            self.more += 1;
        }
    }

    fn finish(mut self) -> Vec<String> {
        if self.more > 0 {
            self.kept
                .push(format!("... and {} more problems on this page", self.more));
        }
        self.kept
    }
}

/// At most `max` characters of `s` (no allocation when it is short enough).
fn cut(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((end, _)) => &s[..end],
        None => s,
    }
}

fn read_entry(i: usize, entry: &Value, page: &mut Page, problems: &mut Problems) {
    // The v0.1 shape is {server, _meta}; older registries (v0) put the server
    // object itself in the list, so fall back to the entry.
    let server = entry.get("server").unwrap_or(entry);
    let Some(name) = server.get("name").and_then(Value::as_str) else {
        problems.push(format!("servers[{i}]: no \"name\" string; entry skipped"));
        return;
    };
    if name.chars().nth(MAX_NAME_CHARS).is_some() {
        problems.push(format!(
            "servers[{i}]: the name {:?}... is over {MAX_NAME_CHARS} characters; entry skipped",
            cut(name, 40)
        ));
        return;
    }
    let official = entry
        .pointer(&format!("/_meta/{}", pointer_escape(OFFICIAL_META)))
        .or_else(|| server.pointer(&format!("/_meta/{}", pointer_escape(OFFICIAL_META))));
    let status = official
        .and_then(|o| o.get("status"))
        .or_else(|| server.get("status"))
        .and_then(Value::as_str);
    if status.is_some_and(|s| s.eq_ignore_ascii_case("deleted")) {
        page.deleted += 1;
        return;
    }
    if official
        .and_then(|o| o.get("isLatest"))
        .and_then(Value::as_bool)
        == Some(false)
    {
        page.superseded += 1;
        return;
    }
    let version = cut(
        server.get("version").and_then(Value::as_str).unwrap_or(""),
        MAX_LABEL_CHARS,
    );
    let Some(remotes) = server.get("remotes") else {
        return; // packages only: nothing to probe over the network
    };
    let Some(remotes) = remotes.as_array() else {
        problems.push(format!(
            "{name}: \"remotes\" is {}, not an array; remotes skipped",
            json_kind(remotes)
        ));
        return;
    };
    if remotes.len() > MAX_REMOTES_PER_ENTRY {
        problems.push(format!(
            "{name}: {} remotes; only the first {MAX_REMOTES_PER_ENTRY} were read",
            remotes.len()
        ));
    }
    for (j, r) in remotes.iter().take(MAX_REMOTES_PER_ENTRY).enumerate() {
        match read_remote(name, version, r) {
            Ok(remote) => page.remotes.push(remote),
            Err(why) => problems.push(format!("{name}: remotes[{j}]: {why}; remote skipped")),
        }
    }
}

fn read_remote(server: &str, version: &str, r: &Value) -> Result<Remote, String> {
    let transport = match r.get("type").and_then(Value::as_str) {
        Some("streamable-http") => RemoteTransport::StreamableHttp,
        Some("sse") => RemoteTransport::Sse,
        Some(other) => {
            return Err(format!(
                "type {:?} is not streamable-http or sse",
                cut(other, 40)
            ))
        }
        None => return Err("no \"type\"".into()),
    };
    let url = r
        .get("url")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .ok_or("no \"url\" string")?
        .to_string();
    let headers = r
        .get("headers")
        .and_then(Value::as_array)
        .map(|hs| {
            hs.iter()
                .take(MAX_HEADERS_PER_REMOTE)
                .filter_map(|h| {
                    Some(HeaderSpec {
                        name: cut(h.get("name")?.as_str()?, MAX_LABEL_CHARS).to_string(),
                        is_required: h.get("isRequired").and_then(Value::as_bool) == Some(true),
                        is_secret: h.get("isSecret").and_then(Value::as_bool) == Some(true),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let variables = r
        .get("variables")
        .and_then(Value::as_object)
        .map(|m| {
            m.keys()
                .take(MAX_HEADERS_PER_REMOTE)
                .map(|k| cut(k, MAX_LABEL_CHARS).to_string())
                .collect()
        })
        .unwrap_or_default();
    Ok(Remote {
        server: server.to_string(),
        version: version.to_string(),
        transport,
        url,
        headers,
        variables,
    })
}

fn pointer_escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn json_kind(v: &Value) -> String {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
    .to_string()
}

// ---- endpoints --------------------------------------------------------------------

/// What a listed URL is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listed {
    /// A probeable http(s) URL, normalised.
    Url(String),
    /// A URL template with `{variables}`: recorded as listed, never probed.
    Templated(String),
    /// Not a usable URL, and why.
    Invalid(String),
}

/// Normalises a listed URL so spellings of one endpoint compare equal: scheme
/// and host lowercase, the default port dropped (the `url` crate does these),
/// the fragment, an empty query and trailing slashes of the path dropped. The
/// path keeps its case: paths are case-sensitive.
pub fn classify_listing(raw: &str) -> Listed {
    let raw = raw.trim();
    if is_templated(raw) {
        return Listed::Templated(raw.to_string());
    }
    let mut url = match Url::parse(raw) {
        Ok(u) => u,
        Err(e) => return Listed::Invalid(format!("not a URL ({e})")),
    };
    if !matches!(url.scheme(), "http" | "https") {
        return Listed::Invalid(format!("scheme '{}' is not http(s)", url.scheme()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Listed::Invalid("no host".into());
    }
    url.set_fragment(None);
    if url.query() == Some("") {
        url.set_query(None);
    }
    let trimmed = url.path().trim_end_matches('/').to_string();
    if trimmed.is_empty() {
        url.set_path("/");
    } else if trimmed.len() != url.path().len() {
        url.set_path(&trimmed);
    }
    Listed::Url(url.into())
}

/// Whether a URL holds a `{variable}` placeholder (server.json's template syntax).
pub fn is_templated(raw: &str) -> bool {
    let mut rest = raw;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        if let Some(close) = after.find('}') {
            let name = &after[..close];
            let mut chars = name.chars();
            let first_ok = chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
            if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                return true;
            }
        }
        rest = after;
    }
    false
}

/// One distinct endpoint, with everything its listings said about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// The normalised URL (for a template: the template as first listed).
    pub url: String,
    pub templated: bool,
    /// Every distinct spelling it was listed under.
    pub listed_as: Vec<String>,
    /// Every source (registry URL, `file:PATH`) that lists it, first seen first.
    pub registries: Vec<String>,
    /// Registry server names that list it (empty for plain URL lists).
    pub servers: Vec<String>,
    /// The transport first declared for it, if any listing declared one.
    pub transport: Option<RemoteTransport>,
    /// Required secret headers any listing declares: probed without them.
    pub required_secret_headers: Vec<String>,
    /// Template variables (templated endpoints only).
    pub variables: Vec<String>,
}

impl Endpoint {
    /// `host:port` of the URL (the unit of politeness); the whole template
    /// for a templated endpoint.
    pub fn host_key(&self) -> String {
        host_key(&self.url)
    }
}

/// `host:port` (port defaulted by scheme) of an http(s) URL; the input itself
/// when it does not parse.
pub fn host_key(url: &str) -> String {
    match Url::parse(url) {
        Ok(u) => format!(
            "{}:{}",
            u.host_str().unwrap_or(""),
            u.port_or_known_default().unwrap_or(0)
        ),
        Err(_) => url.to_string(),
    }
}

/// A listed URL that was not usable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvalidListing {
    pub registry: String,
    pub url: String,
    pub reason: String,
}

/// Endpoints merged over every source, in first-listed order.
#[derive(Debug, Clone, Default)]
pub struct EndpointSet {
    endpoints: Vec<Endpoint>,
    index: HashMap<String, usize>,
    listings: usize,
    invalid: Vec<InvalidListing>,
}

impl EndpointSet {
    pub fn new() -> EndpointSet {
        EndpointSet::default()
    }

    /// Adds one remote of a registry entry.
    pub fn add_remote(&mut self, registry: &str, remote: &Remote) {
        let secrets = remote.required_secret_headers();
        if let Some(ep) = self.add(registry, &remote.url, Some(remote.transport)) {
            push_unique(&mut ep.servers, &remote.server);
            for h in secrets {
                if !ep
                    .required_secret_headers
                    .iter()
                    .any(|k| k.eq_ignore_ascii_case(&h))
                {
                    ep.required_secret_headers.push(h);
                }
            }
            if ep.templated {
                for v in &remote.variables {
                    push_unique(&mut ep.variables, v);
                }
            }
        }
    }

    /// Adds a bare URL (from a file).
    pub fn add_url(&mut self, registry: &str, raw: &str) {
        let _ = self.add(registry, raw, None);
    }

    fn add(
        &mut self,
        registry: &str,
        raw: &str,
        transport: Option<RemoteTransport>,
    ) -> Option<&mut Endpoint> {
        self.listings += 1;
        let (key, url, templated) = match classify_listing(raw) {
            Listed::Url(u) => (u.clone(), u, false),
            // Templates are matched as written: filling them in is a guess.
            Listed::Templated(t) => (format!("template:{t}"), t, true),
            Listed::Invalid(reason) => {
                self.invalid.push(InvalidListing {
                    registry: registry.to_string(),
                    url: raw.trim().to_string(),
                    reason,
                });
                return None;
            }
        };
        let i = match self.index.get(&key) {
            Some(&i) => i,
            None => {
                self.endpoints.push(Endpoint {
                    url,
                    templated,
                    listed_as: Vec::new(),
                    registries: Vec::new(),
                    servers: Vec::new(),
                    transport,
                    required_secret_headers: Vec::new(),
                    variables: Vec::new(),
                });
                self.index.insert(key, self.endpoints.len() - 1);
                self.endpoints.len() - 1
            }
        };
        let ep = &mut self.endpoints[i];
        push_unique(&mut ep.listed_as, raw.trim());
        push_unique(&mut ep.registries, registry);
        if ep.transport.is_none() {
            ep.transport = transport;
        }
        Some(ep)
    }

    /// Every distinct endpoint, first listed first.
    pub fn endpoints(&self) -> &[Endpoint] {
        &self.endpoints
    }

    /// Listings added, valid or not, before merging.
    pub fn listings(&self) -> usize {
        self.listings
    }

    /// Listings that were not usable URLs.
    pub fn invalid(&self) -> &[InvalidListing] {
        &self.invalid
    }

    /// Valid listings that merged into an endpoint listed before them.
    pub fn duplicates(&self) -> usize {
        self.listings - self.invalid.len() - self.endpoints.len()
    }
}

fn push_unique(list: &mut Vec<String>, item: &str) {
    if !list.iter().any(|x| x == item) {
        list.push(item.to_string());
    }
}

// ---- credentials ------------------------------------------------------------------

/// Re-reads the verdict of a remote whose registry entry declares required
/// secret headers (`headers`), probed without them: when the server turned us
/// away for want of credentials (HTTP 401/403, or the auth-flavoured call error
/// of `auth_half_configured`), that is the listing's own promise kept, so the
/// verdict becomes `auth_required` ("needs credentials") with the original mode
/// kept as a finding. Returns whether it changed the verdict.
pub fn needs_credentials(verdict: &mut Verdict, headers: &[String]) -> bool {
    if headers.is_empty() {
        return false;
    }
    let code = denial_status(verdict);
    let applies = match verdict.mode {
        Mode::HttpError | Mode::ToolsListFailed => code.is_some(),
        Mode::AuthHalfConfigured => true,
        _ => false,
    };
    if !applies {
        return false;
    }
    let names = headers.join(", ");
    let answer = match code {
        Some(c) => format!("the server answered HTTP {c}"),
        None => "the server refused the call for want of credentials".to_string(),
    };
    verdict.findings.insert(
        0,
        Finding {
            mode: verdict.mode,
            detail: format!(
                "before the registry's header declaration was applied: {}",
                verdict.reason
            ),
            pointer: None,
            rule: None,
        },
    );
    let (status, severity) = Mode::AuthRequired.status_severity(false);
    verdict.mode = Mode::AuthRequired;
    verdict.status = status;
    verdict.severity = severity;
    verdict.reason = format!(
        "Needs credentials: the registry lists a required secret header ({names}); probed without it, {answer}. Private on purpose, not down."
    );
    let first = headers
        .first()
        .map(String::as_str)
        .unwrap_or("Authorization");
    verdict.hint = format!(
        "Nothing is broken: to check past the credential, run `mcprobe check <url> --header '{first}: <value>'` with a value from the server's operator."
    );
    true
}

/// The 401/403 that turned the probe away, read from its steps or reason.
fn denial_status(v: &Verdict) -> Option<u16> {
    v.steps
        .iter()
        .filter(|s| !s.ok)
        .map(|s| s.detail.as_str())
        .chain(std::iter::once(v.reason.as_str()))
        .find_map(find_denial)
}

fn find_denial(text: &str) -> Option<u16> {
    let mut rest = text;
    while let Some(at) = rest.find("HTTP ") {
        let tail = &rest[at + 5..];
        let digits: String = tail.chars().take_while(char::is_ascii_digit).collect();
        if digits == "401" || digits == "403" {
            return digits.parse().ok();
        }
        rest = tail;
    }
    None
}

// ---- baselines --------------------------------------------------------------------

/// The file a scan keeps an endpoint's tool snapshot in: the SHA-256 of its
/// normalised URL, so any spelling of one endpoint finds the same file and no
/// URL character reaches the file system.
pub fn baseline_file_name(normalised_url: &str) -> String {
    let tag = sha256_tag(normalised_url.as_bytes());
    format!("{}.json", tag.trim_start_matches("sha256:"))
}

// ---- the audit --------------------------------------------------------------------

/// The loud failures: the server is visibly down, any uptime check sees it.
pub const LOUD: [Mode; 6] = [
    Mode::DnsUnresolved,
    Mode::ConnectRefused,
    Mode::TlsError,
    Mode::Timeout,
    Mode::PlatformAsleep,
    Mode::HttpError,
];

/// The quiet failures: something answers, but MCP does not work (or changed);
/// only a protocol-aware probe sees them.
pub const QUIET: [Mode; 7] = [
    Mode::RouteMoved,
    Mode::AuthHalfConfigured,
    Mode::MalformedJsonrpc,
    Mode::SchemaDrift,
    Mode::HandshakeFailed,
    Mode::ToolsListFailed,
    Mode::ToolCallError,
];

/// Which side of the loud / quiet split a verdict's mode falls on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    Loud,
    Quiet,
    /// `ok` and `auth_required`: working as intended.
    Passing,
}

impl Bucket {
    pub fn of(mode: Mode) -> Bucket {
        if LOUD.contains(&mode) {
            Bucket::Loud
        } else if QUIET.contains(&mode) {
            Bucket::Quiet
        } else {
            Bucket::Passing
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Loud => "loud",
            Bucket::Quiet => "quiet",
            Bucket::Passing => "passing",
        }
    }

    /// The modes of this bucket that a verdict can have.
    pub fn modes(self) -> Vec<Mode> {
        match self {
            Bucket::Loud => LOUD.to_vec(),
            Bucket::Quiet => QUIET.to_vec(),
            Bucket::Passing => vec![Mode::Ok, Mode::AuthRequired],
        }
    }
}

/// How many endpoints ended in one mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModeShare {
    pub mode: Mode,
    pub count: u64,
    /// Of the endpoints probed (in that registry, for a registry's table).
    pub share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BucketShare {
    pub bucket: Bucket,
    pub modes: Vec<Mode>,
    pub count: u64,
    pub share: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCounts {
    pub up: u64,
    pub degraded: u64,
    pub down: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegistryShare {
    pub registry: String,
    pub probed: u64,
    /// Loud or quiet.
    pub failing: u64,
    pub failing_share: f64,
    pub modes: Vec<ModeShare>,
}

/// Latency percentiles (nearest rank) in milliseconds; `None` with no sample.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Latency {
    /// Over every probe, failures included (a timeout counts its full wait).
    pub p50: Option<u64>,
    pub p95: Option<u64>,
    /// Over the probes whose server answered (status up or degraded).
    pub answered_p50: Option<u64>,
    pub answered_p95: Option<u64>,
}

/// One endpoint worth naming in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notable {
    pub url: String,
    pub mode: Mode,
    pub elapsed_ms: u64,
    pub reason: String,
}

/// A failure mode, how common it is, and one example of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommonFailure {
    pub mode: Mode,
    pub bucket: Bucket,
    pub count: u64,
    pub share: f64,
    pub example_url: String,
    pub example_reason: String,
}

/// A tool list that changed since the last scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftNote {
    pub url: String,
    pub breaking: bool,
    pub changes: usize,
}

/// The aggregates of a scan (`report.json`'s `audit`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditReport {
    pub probed: u64,
    pub status: StatusCounts,
    /// Most common first; modes nobody got are left out.
    pub modes: Vec<ModeShare>,
    /// Loud, quiet, passing, always all three.
    pub buckets: Vec<BucketShare>,
    pub registries: Vec<RegistryShare>,
    pub latency_ms: Latency,
    /// Slowest probes first (at most [`Audit::TOP`]).
    pub slowest: Vec<Notable>,
    /// Loud and quiet modes, most common first.
    pub common_failures: Vec<CommonFailure>,
    /// Endpoints whose tool list drifted, breaking first.
    pub drift: Vec<DriftNote>,
}

/// Accumulates verdicts into an [`AuditReport`].
#[derive(Debug, Clone, Default)]
pub struct Audit {
    seen: Vec<Notable>,
    status: StatusCounts,
    modes: BTreeMap<Mode, u64>,
    examples: BTreeMap<Mode, (String, String)>,
    registries: BTreeMap<String, BTreeMap<Mode, u64>>,
    registry_order: Vec<String>,
    answered_ms: Vec<u64>,
    drift: Vec<DriftNote>,
}

fn share(count: u64, of: u64) -> f64 {
    if of == 0 {
        return 0.0;
    }
    // Four decimals: enough for a percentage with two, stable in JSON.
    ((count as f64 / of as f64) * 10_000.0).round() / 10_000.0
}

fn ranked(counts: &BTreeMap<Mode, u64>, of: u64) -> Vec<ModeShare> {
    let mut v: Vec<ModeShare> = counts
        .iter()
        .filter(|(_, &n)| n > 0)
        .map(|(&mode, &count)| ModeShare {
            mode,
            count,
            share: share(count, of),
        })
        .collect();
    // Most common first; ties in ladder order (the map's order, kept by a stable sort).
    v.sort_by_key(|m| std::cmp::Reverse(m.count));
    v
}

impl Audit {
    /// How many endpoints the slowest list names.
    pub const TOP: usize = 10;

    pub fn new() -> Audit {
        Audit::default()
    }

    /// Counts one probed endpoint, listed by `registries`.
    pub fn add(&mut self, v: &Verdict, registries: &[String]) {
        match v.status {
            Status::Up => self.status.up += 1,
            Status::Degraded => self.status.degraded += 1,
            Status::Down => self.status.down += 1,
        }
        *self.modes.entry(v.mode).or_default() += 1;
        if Bucket::of(v.mode) != Bucket::Passing {
            self.examples
                .entry(v.mode)
                .or_insert_with(|| (v.url.clone(), v.reason.clone()));
        }
        for r in registries {
            if !self.registries.contains_key(r) {
                self.registry_order.push(r.clone());
            }
            *self
                .registries
                .entry(r.clone())
                .or_default()
                .entry(v.mode)
                .or_default() += 1;
        }
        if v.status != Status::Down {
            self.answered_ms.push(v.elapsed_ms);
        }
        // A verdict compared with a baseline carries `drift` even when
        // nothing changed; only a change is worth a line.
        if let Some(d) = v
            .drift
            .as_ref()
            .filter(|d| d.from_hash != d.to_hash || !d.changes.is_empty())
        {
            self.drift.push(DriftNote {
                url: v.url.clone(),
                breaking: d.breaking,
                changes: d.changes.len(),
            });
        }
        self.seen.push(Notable {
            url: v.url.clone(),
            mode: v.mode,
            elapsed_ms: v.elapsed_ms,
            reason: v.reason.clone(),
        });
    }

    /// Endpoints counted so far.
    pub fn probed(&self) -> u64 {
        self.seen.len() as u64
    }

    /// Counts per mode so far (for a progress line).
    pub fn mode_counts(&self) -> Vec<(Mode, u64)> {
        ranked(&self.modes, 1)
            .into_iter()
            .map(|m| (m.mode, m.count))
            .collect()
    }

    pub fn report(&self) -> AuditReport {
        let probed = self.probed();
        let mut all_ms: Vec<u64> = self.seen.iter().map(|n| n.elapsed_ms).collect();
        let mut answered = self.answered_ms.clone();
        let latency_ms = Latency {
            p50: mcprobe_monitor::stats::percentile(&mut all_ms, 50.0),
            p95: mcprobe_monitor::stats::percentile(&mut all_ms, 95.0),
            answered_p50: mcprobe_monitor::stats::percentile(&mut answered, 50.0),
            answered_p95: mcprobe_monitor::stats::percentile(&mut answered, 95.0),
        };
        let buckets = [Bucket::Loud, Bucket::Quiet, Bucket::Passing]
            .into_iter()
            .map(|b| {
                let count = self
                    .modes
                    .iter()
                    .filter(|(m, _)| Bucket::of(**m) == b)
                    .map(|(_, n)| n)
                    .sum();
                BucketShare {
                    bucket: b,
                    modes: b.modes(),
                    count,
                    share: share(count, probed),
                }
            })
            .collect();
        let registries = self
            .registry_order
            .iter()
            .filter_map(|r| {
                let counts = self.registries.get(r)?;
                let n: u64 = counts.values().sum();
                let failing = counts
                    .iter()
                    .filter(|(m, _)| Bucket::of(**m) != Bucket::Passing)
                    .map(|(_, c)| c)
                    .sum();
                Some(RegistryShare {
                    registry: r.clone(),
                    probed: n,
                    failing,
                    failing_share: share(failing, n),
                    modes: ranked(counts, n),
                })
            })
            .collect();
        let mut slowest = self.seen.clone();
        // Slowest first; ties by URL so the report is stable across runs.
        slowest.sort_by(|a, b| b.elapsed_ms.cmp(&a.elapsed_ms).then(a.url.cmp(&b.url)));
        slowest.truncate(Audit::TOP);
        let common_failures = ranked(&self.modes, probed)
            .into_iter()
            .filter(|m| Bucket::of(m.mode) != Bucket::Passing)
            .map(|m| {
                let (url, reason) = self.examples.get(&m.mode).cloned().unwrap_or_default();
                CommonFailure {
                    mode: m.mode,
                    bucket: Bucket::of(m.mode),
                    count: m.count,
                    share: m.share,
                    example_url: url,
                    example_reason: reason,
                }
            })
            .collect();
        let mut drift = self.drift.clone();
        drift.sort_by(|a, b| b.breaking.cmp(&a.breaking).then(a.url.cmp(&b.url)));
        AuditReport {
            probed,
            status: self.status.clone(),
            modes: ranked(&self.modes, probed),
            buckets,
            registries,
            latency_ms,
            slowest,
            common_failures,
            drift,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcprobe_core::verdict::{Severity, Step};
    use serde_json::json;

    fn page(v: Value) -> Page {
        parse_page(v.to_string().as_bytes()).expect("page parses")
    }

    fn entry(name: &str, status: &str, remotes: Value) -> Value {
        json!({
            "server": {"name": name, "description": "d", "version": "1.0.0", "remotes": remotes},
            "_meta": {OFFICIAL_META: {"status": status, "isLatest": true}}
        })
    }

    #[test]
    fn page_urls_append_the_list_path_and_encode_the_cursor() {
        assert_eq!(
            page_url("https://registry.example.com", None, 100).unwrap(),
            "https://registry.example.com/v0.1/servers?limit=100&version=latest"
        );
        assert_eq!(
            page_url("https://r.example.com/sub/", Some("io.x/a:1.0.0"), 50).unwrap(),
            "https://r.example.com/sub/v0.1/servers?limit=50&version=latest&cursor=io.x%2Fa%3A1.0.0"
        );
        // Already the list endpoint: used as is, our parameters replace its own.
        assert_eq!(
            page_url("http://127.0.0.1:9/v0.1/servers?limit=3&search=x", None, 7).unwrap(),
            "http://127.0.0.1:9/v0.1/servers?search=x&limit=7&version=latest"
        );
        assert!(matches!(
            page_url("ftp://r.example.com", None, 1),
            Err(RegistryError::BadBaseUrl { .. })
        ));
        assert!(page_url("not a url", None, 1).is_err());
    }

    #[test]
    fn pages_skip_deleted_and_superseded_entries_and_keep_headers() {
        let p = page(json!({
            "servers": [
                entry("io.x/live", "active", json!([
                    {"type": "streamable-http", "url": "https://x.example.com/mcp",
                     "headers": [
                        {"name": "X-API-Key", "isRequired": true, "isSecret": true},
                        {"name": "X-Trace", "isRequired": false}
                     ]},
                    {"type": "sse", "url": "https://x.example.com/sse"}
                ])),
                entry("io.x/gone", "deleted", json!([{"type": "sse", "url": "https://gone.example.com/sse"}])),
                {"server": {"name": "io.x/old", "version": "0.9", "remotes": [{"type": "sse", "url": "https://old.example.com"}]},
                 "_meta": {OFFICIAL_META: {"status": "active", "isLatest": false}}},
                entry("io.x/deprecated", "deprecated", json!([{"type": "streamable-http", "url": "https://dep.example.com/mcp"}])),
                {"server": {"name": "io.x/pkg", "version": "1", "packages": []}},
            ],
            "metadata": {"nextCursor": "io.x/pkg:1", "count": 5}
        }));
        assert_eq!(p.servers, 5);
        assert_eq!(p.deleted, 1);
        assert_eq!(p.superseded, 1);
        assert_eq!(p.next_cursor.as_deref(), Some("io.x/pkg:1"));
        let urls: Vec<&str> = p.remotes.iter().map(|r| r.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://x.example.com/mcp",
                "https://x.example.com/sse",
                "https://dep.example.com/mcp"
            ]
        );
        assert_eq!(p.remotes[0].required_secret_headers(), ["X-API-Key"]);
        assert_eq!(p.remotes[1].transport, RemoteTransport::Sse);
        assert!(p.problems.is_empty(), "{:?}", p.problems);
    }

    #[test]
    fn a_bad_entry_is_a_problem_not_a_failed_page() {
        let p = page(json!({
            "servers": [
                {"server": {"version": "1"}},
                entry("io.x/a", "active", json!([{"type": "stdio"}, {"type": "sse"}, {"type": "sse", "url": "https://a.example.com/sse"}])),
                entry("io.x/b", "active", json!({"not": "an array"})),
            ],
            "metadata": {"nextCursor": ""}
        }));
        assert_eq!(p.remotes.len(), 1);
        assert_eq!(p.problems.len(), 4, "{:?}", p.problems);
        assert!(p.problems[1].contains("\"stdio\""), "{:?}", p.problems);
        assert_eq!(p.next_cursor, None, "an empty cursor ends the crawl");
    }

    #[test]
    fn a_hostile_page_is_read_within_bounds() {
        let remote = json!({"type": "sse", "url": "https://h.example.com/sse"});
        // A name over the schema's maximum: the entry is skipped, its
        // remotes never copy it.
        let long = "n".repeat(100_000);
        let p =
            page(json!({"servers": [entry(&long, "active", json!(vec![remote.clone(); 5_000]))]}));
        assert!(p.remotes.is_empty());
        assert_eq!(p.problems.len(), 1, "{:?}", p.problems);
        assert!(p.problems[0].len() < 200, "{}", p.problems[0]);
        // Many remotes on one entry: the first few are read.
        let p = page(
            json!({"servers": [entry("io.x/many", "active", json!(vec![remote.clone(); 5_000]))]}),
        );
        assert_eq!(p.remotes.len(), MAX_REMOTES_PER_ENTRY);
        assert!(p.problems[0].contains("5000 remotes"), "{:?}", p.problems);
        // Many bad remotes: problem lines are capped and the rest counted.
        let bad = vec![entry("io.x/bad", "active", json!([{}, {}, {}])); 100];
        let p = page(json!({ "servers": bad }));
        assert_eq!(p.problems.len(), MAX_PROBLEMS_PER_PAGE + 1);
        // Many entries on one page: the first MAX_ENTRIES_PER_PAGE are read.
        let entries = vec![entry("io.x/e", "active", json!([remote])); 3_000];
        let p = page(json!({ "servers": entries }));
        assert_eq!(p.servers, 3_000);
        assert_eq!(p.remotes.len(), MAX_ENTRIES_PER_PAGE);
        assert!(p.problems[0].contains("3000 entries"), "{:?}", p.problems);
        // A page of empty objects past the value budget: cut, and said.
        let body = format!(
            r#"{{"servers": [{}{{}}]}}"#,
            "{},".repeat(MAX_PAGE_VALUES + 10)
        );
        let p = parse_page(body.as_bytes()).expect("still a page");
        assert!(p.servers < MAX_PAGE_VALUES, "{}", p.servers);
        assert!(p.problems[0].contains("JSON values"), "{:?}", p.problems);
    }

    #[test]
    fn unreadable_pages_say_what_was_expected() {
        let e = parse_page(b"<html>").unwrap_err();
        assert!(e.to_string().contains("not JSON"), "{e}");
        let e = parse_page(br#"{"items": []}"#).unwrap_err();
        assert_eq!(e, RegistryError::NoServers("an object".into()));
    }

    #[test]
    fn the_v0_shape_without_a_server_wrapper_still_reads() {
        let p = page(json!({"servers": [
            {"name": "io.x/v0", "version": "1", "status": "active",
             "remotes": [{"type": "sse", "url": "https://v0.example.com/sse"}]},
            {"name": "io.x/v0-gone", "version": "1", "status": "deleted",
             "remotes": [{"type": "sse", "url": "https://v0.example.com/gone"}]}
        ]}));
        assert_eq!(p.remotes.len(), 1);
        assert_eq!(p.deleted, 1);
    }

    #[test]
    fn normalisation_merges_spellings_of_one_endpoint() {
        let table = [
            ("HTTPS://Example.COM:443/mcp/", "https://example.com/mcp"),
            ("https://example.com/mcp#frag", "https://example.com/mcp"),
            ("http://example.com:80/", "http://example.com/"),
            ("http://example.com", "http://example.com/"),
            (
                "http://example.com:8080/MCP//",
                "http://example.com:8080/MCP",
            ),
            ("  https://example.com/mcp?  ", "https://example.com/mcp"),
            (
                "https://example.com/mcp?key=A",
                "https://example.com/mcp?key=A",
            ),
        ];
        for (raw, want) in table {
            assert_eq!(classify_listing(raw), Listed::Url(want.into()), "{raw}");
        }
        assert!(matches!(
            classify_listing("ftp://x.example.com"),
            Listed::Invalid(_)
        ));
        assert!(matches!(
            classify_listing("example.com/mcp"),
            Listed::Invalid(_)
        ));
        assert_eq!(
            classify_listing("https://{tenant}.example.com/mcp"),
            Listed::Templated("https://{tenant}.example.com/mcp".into())
        );
        assert!(is_templated("{baseUrl}/mcp"));
        assert!(!is_templated("https://example.com/mcp?q={}"));
        assert!(!is_templated("https://example.com/{1}"));
    }

    #[test]
    fn endpoint_sets_merge_duplicates_and_keep_every_registry() {
        let remote = |url: &str, secret: bool| Remote {
            server: "io.x/a".into(),
            version: "1".into(),
            transport: RemoteTransport::StreamableHttp,
            url: url.into(),
            headers: vec![HeaderSpec {
                name: "X-API-Key".into(),
                is_required: secret,
                is_secret: secret,
            }],
            variables: vec![],
        };
        let mut set = EndpointSet::new();
        set.add_remote(
            "https://a.example",
            &remote("https://Example.com/mcp/", false),
        );
        set.add_remote(
            "https://a.example",
            &remote("https://example.com/mcp", true),
        );
        set.add_url("file:list.txt", "HTTPS://EXAMPLE.COM:443/mcp");
        set.add_url("file:list.txt", "https://other.example.com/mcp");
        set.add_url("file:list.txt", "mailto:x@example.com");
        let mut t = remote("https://{region}.example.com/mcp", false);
        t.variables = vec!["region".into()];
        set.add_remote("https://b.example", &t);

        assert_eq!(set.listings(), 6);
        assert_eq!(set.invalid().len(), 1);
        assert_eq!(set.duplicates(), 2);
        let eps = set.endpoints();
        assert_eq!(eps.len(), 3);
        assert_eq!(eps[0].url, "https://example.com/mcp");
        assert_eq!(eps[0].registries, ["https://a.example", "file:list.txt"]);
        assert_eq!(eps[0].listed_as.len(), 3);
        assert_eq!(eps[0].required_secret_headers, ["X-API-Key"]);
        assert_eq!(eps[0].host_key(), "example.com:443");
        assert!(eps[2].templated);
        assert_eq!(eps[2].variables, ["region"]);
    }

    fn verdict(mode: Mode, reason: &str, steps: &[(&str, bool, &str)]) -> Verdict {
        Verdict {
            steps: steps
                .iter()
                .map(|(n, ok, d)| Step {
                    name: (*n).into(),
                    ok: *ok,
                    ms: 1,
                    detail: (*d).into(),
                })
                .collect(),
            elapsed_ms: 5,
            ..Verdict::of("https://x.example.com/mcp", mode, reason)
        }
    }

    #[test]
    fn a_401_of_a_remote_with_a_required_secret_reads_as_needs_credentials() {
        let secret = vec!["X-API-Key".to_string()];
        let mut v = verdict(
            Mode::HttpError,
            "The server wants credentials but does not say how to get them: HTTP 401 without a WWW-Authenticate challenge",
            &[("http", true, "first answer: HTTP 401"), ("server/discover", false, "HTTP 401")],
        );
        assert!(needs_credentials(&mut v, &secret));
        assert_eq!(
            (v.mode, v.status, v.severity),
            (Mode::AuthRequired, Status::Up, Severity::None)
        );
        assert!(v.reason.starts_with("Needs credentials"), "{}", v.reason);
        assert!(
            v.reason.contains("X-API-Key") && v.reason.contains("HTTP 401"),
            "{}",
            v.reason
        );
        assert_eq!(v.findings[0].mode, Mode::HttpError);
        assert!(
            v.hint.contains("--header 'X-API-Key: <value>'"),
            "{}",
            v.hint
        );

        // Without the declaration, or for another failure, nothing changes.
        let mut v = verdict(
            Mode::HttpError,
            "HTTP 401",
            &[("server/discover", false, "HTTP 401")],
        );
        assert!(!needs_credentials(&mut v, &[]));
        let mut v = verdict(
            Mode::HttpError,
            "HTTP 503",
            &[("server/discover", false, "HTTP 503")],
        );
        assert!(!needs_credentials(&mut v, &secret));
        assert_eq!(v.mode, Mode::HttpError);
        let mut v = verdict(Mode::HttpError, "HTTP 4010", &[]);
        assert!(!needs_credentials(&mut v, &secret), "4010 is not 401");
        let mut v = verdict(Mode::ConnectRefused, "refused", &[]);
        assert!(!needs_credentials(&mut v, &secret));
        // tools/list turned away, and the auth-flavoured safe call, count too.
        let mut v = verdict(
            Mode::ToolsListFailed,
            "tools/list answered HTTP 403 (x)",
            &[],
        );
        assert!(needs_credentials(&mut v, &secret));
        let mut v = verdict(Mode::AuthHalfConfigured, "missing API key", &[]);
        assert!(needs_credentials(&mut v, &secret));
        assert_eq!(v.mode, Mode::AuthRequired);
    }

    #[test]
    fn baseline_names_are_hex_of_the_normalised_url() {
        let a = baseline_file_name("https://example.com/mcp");
        assert_eq!(a.len(), 64 + 5);
        assert!(a.ends_with(".json"));
        assert!(a[..64].bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, baseline_file_name("https://example.com/mcp2"));
    }

    #[test]
    fn buckets_cover_every_verdict_mode_once() {
        for m in Mode::ALL
            .into_iter()
            .filter(|m| m.layer() != "finding" && m.layer() != "aggregate")
        {
            let n = [Bucket::Loud, Bucket::Quiet, Bucket::Passing]
                .iter()
                .filter(|b| b.modes().contains(&m))
                .count();
            assert_eq!(n, 1, "{m} is in {n} buckets");
        }
    }

    #[test]
    fn the_audit_counts_shares_buckets_registries_and_latency() {
        let mut audit = Audit::new();
        let a = vec!["reg-a".to_string()];
        let ab = vec!["reg-a".to_string(), "reg-b".to_string()];
        let mut ok = verdict(Mode::Ok, "fine", &[]);
        ok.elapsed_ms = 100;
        audit.add(&ok, &ab);
        let mut ok2 = ok.clone();
        ok2.elapsed_ms = 300;
        ok2.url = "https://y.example.com/mcp".into();
        audit.add(&ok2, &a);
        let mut down = verdict(Mode::ConnectRefused, "refused", &[]);
        down.elapsed_ms = 5;
        audit.add(&down, &ab);
        let mut quiet = verdict(Mode::MalformedJsonrpc, "no jsonrpc", &[]);
        quiet.elapsed_ms = 900;
        audit.add(&quiet, &a);

        let r = audit.report();
        assert_eq!(r.probed, 4);
        assert_eq!(
            r.status,
            StatusCounts {
                up: 2,
                degraded: 1,
                down: 1
            }
        );
        assert_eq!(r.modes[0].mode, Mode::Ok);
        assert_eq!(r.modes[0].count, 2);
        assert_eq!(r.modes[0].share, 0.5);
        let bucket = |b: Bucket| r.buckets.iter().find(|x| x.bucket == b).unwrap().count;
        assert_eq!(
            (
                bucket(Bucket::Loud),
                bucket(Bucket::Quiet),
                bucket(Bucket::Passing)
            ),
            (1, 1, 2)
        );
        assert_eq!(r.registries[0].registry, "reg-a");
        assert_eq!(r.registries[0].probed, 4);
        assert_eq!(r.registries[0].failing, 2);
        assert_eq!(r.registries[1].probed, 2);
        assert_eq!(r.registries[1].failing_share, 0.5);
        assert_eq!(r.latency_ms.p50, Some(100));
        assert_eq!(r.latency_ms.p95, Some(900));
        assert_eq!(r.latency_ms.answered_p50, Some(300));
        assert_eq!(r.slowest[0].elapsed_ms, 900);
        assert_eq!(r.common_failures.len(), 2);
        assert!(r
            .common_failures
            .iter()
            .all(|c| c.bucket != Bucket::Passing));
        assert_eq!(r.common_failures[0].example_reason, "refused");
        assert_eq!(audit.mode_counts()[0], (Mode::Ok, 2));
        assert!(r.drift.is_empty());
    }

    #[test]
    fn the_audit_lists_only_real_drift() {
        use mcprobe_core::fingerprint::{Change, Drift};
        let drift = |from: &str, to: &str, changes: Vec<Change>| Drift {
            breaking: !changes.is_empty(),
            from_hash: from.into(),
            to_hash: to.into(),
            changes,
        };
        let mut audit = Audit::new();
        let mut same = verdict(Mode::Ok, "fine", &[]);
        same.drift = Some(drift("sha256:a", "sha256:a", vec![]));
        audit.add(&same, &[]);
        let mut moved = verdict(Mode::SchemaDrift, "changed", &[]);
        moved.url = "https://z.example.com/mcp".into();
        moved.drift = Some(drift(
            "sha256:a",
            "sha256:b",
            vec![Change::ToolRemoved { tool: "t".into() }],
        ));
        audit.add(&moved, &[]);
        let r = audit.report();
        assert_eq!(
            r.drift,
            vec![DriftNote {
                url: "https://z.example.com/mcp".into(),
                breaking: true,
                changes: 1
            }]
        );
    }
}
