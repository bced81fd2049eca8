//! Start here: normalisation and de-duplication of listed URLs.
//! [`classify_listing`] reads one listed URL (scheme and host lowercase,
//! default port, trailing slash and fragment dropped; templated URLs such as
//! `https://{tenant}.example.com/mcp` are recorded, never probed);
//! [`EndpointSet`] merges every listing of one endpoint, keeping which
//! registries list it and the secret headers they declare.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::page::{Remote, RemoteTransport};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::page::HeaderSpec;

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
}
