//! Start here: the official MCP Registry API, its shapes and its pages.
//! [`page_url`] builds `GET /v0.1/servers?cursor=&limit=&version=latest`;
//! [`parse_page`] reads `{servers: [{server, _meta}], metadata: {nextCursor,
//! count}}` leniently (one bad entry is a [`Page::problems`] line, not a
//! failed crawl) and within bounds (a registry is anyone's server), skipping
//! entries the registry marks `deleted` (and superseded versions).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use crate::bounded;

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

#[cfg(test)]
mod tests {
    use super::*;
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
}
