//! The crawl: every `--registry` paged through with the official Registry API
//! (`mcprobe_registry` builds the URLs and reads the pages) and every `--file`
//! read a URL a line, all into one [`EndpointSet`], normalised and
//! de-duplicated, remembering who lists what.

use std::fmt::Write as _;
use std::time::Duration;

use indicatif::ProgressBar;
use mcprobe_registry::{self as registry, EndpointSet};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::host::NetConfig;

/// Entries asked for per registry page (the official registry's maximum).
const PAGE_LIMIT: u32 = 100;
/// Pages read from one registry at most (500,000 entries).
const MAX_PAGES: u32 = 5_000;
/// A registry page's deadline and size cap.
const PAGE_TIMEOUT: Duration = Duration::from_secs(30);
/// 8 MiB: the official API's 100-entry pages are a few hundred KB, and a
/// page is held whole while it is read, so this bounds what a registry costs.
const MAX_PAGE_BYTES: usize = 8 * 1024 * 1024;
/// Problems of one source kept in the report (the rest are counted).
const MAX_PROBLEMS: usize = 50;

/// What one registry or file contributed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SourceSummary {
    pub source: String,
    /// `registry` or `file`.
    pub kind: String,
    pub pages: u32,
    /// Registry entries seen (live, deleted, superseded, package-only).
    pub servers: usize,
    /// Remotes (registry) or URL lines (file) taken in.
    pub listings: usize,
    pub deleted: usize,
    pub superseded: usize,
    pub problems: Vec<String>,
    /// Why the crawl stopped early, if it did.
    pub error: Option<String>,
}

impl SourceSummary {
    fn problem(&mut self, p: String) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(p);
        } else if self.problems.len() == MAX_PROBLEMS {
            self.problems.push("... more problems left out".into());
        }
    }
}

/// The URLs of a `--file`: the first word of each line, skipping blank lines
/// and `#` comments (a URL holds no whitespace, so `URL  # note` works too).
pub fn parse_url_list(text: &str) -> Vec<&str> {
    text.lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| !w.starts_with('#'))
        .collect()
}

fn registry_client(net: &NetConfig) -> anyhow::Result<reqwest::Client> {
    // The registries named on the command line are trusted (the guard knows
    // their hosts); a redirect elsewhere meets the address policy.
    let guard = net.guard.clone();
    let redirects = reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= 5 {
            return attempt.error("more than 5 redirects");
        }
        match guard
            .as_ref()
            .and_then(|g| g.refuse_url(attempt.url().as_str()))
        {
            Some(refused) => attempt.error(refused),
            None => attempt.follow(),
        }
    });
    let mut builder = reqwest::Client::builder()
        .use_preconfigured_tls((*net.tls.client_config()).clone())
        .redirect(redirects)
        .timeout(PAGE_TIMEOUT)
        .user_agent(concat!("mcprobe/", env!("CARGO_PKG_VERSION"), " (scan)"))
        .no_proxy();
    if let Some(guard) = &net.guard {
        builder = builder.dns_resolver(guard.resolver());
    } else {
        for (host, _, addr) in &net.resolve {
            builder = builder.resolve(host, *addr);
        }
    }
    Ok(builder.build()?)
}

/// A reqwest error with its causes, one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let _ = write!(text, ": {s}");
        source = s.source();
    }
    text
}

async fn fetch_page(client: &reqwest::Client, url: &str) -> Result<Vec<u8>, String> {
    let mut resp = client
        .get(url)
        .header("Accept", "application/json")
        .send()
        .await
        .map_err(|e| error_chain(&e.without_url()))?;
    let status = resp.status();
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_PAGE_BYTES {
                    return Err(format!("the page is over {MAX_PAGE_BYTES} bytes"));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => return Err(error_chain(&e)),
        }
    }
    if !status.is_success() {
        let excerpt: String = String::from_utf8_lossy(&body).chars().take(160).collect();
        return Err(format!("HTTP {} {}", status.as_u16(), excerpt.trim()));
    }
    Ok(body)
}

/// Pages through one registry into `set`.
async fn crawl(
    client: &reqwest::Client,
    base: &str,
    set: &mut EndpointSet,
    bar: &ProgressBar,
) -> SourceSummary {
    let mut s = SourceSummary {
        source: base.to_string(),
        kind: "registry".into(),
        ..SourceSummary::default()
    };
    let mut cursor: Option<String> = None;
    let mut seen_cursors = std::collections::HashSet::new();
    loop {
        if s.pages >= MAX_PAGES {
            s.error = Some(format!("stopped after {MAX_PAGES} pages"));
            break;
        }
        let url = match registry::page_url(base, cursor.as_deref(), PAGE_LIMIT) {
            Ok(u) => u,
            Err(e) => {
                s.error = Some(e.to_string());
                break;
            }
        };
        bar.set_message(format!("reading {base}: page {}", s.pages + 1));
        let page = match fetch_page(client, &url).await {
            Ok(body) => registry::parse_page(&body).map_err(|e| e.to_string()),
            Err(e) => Err(e),
        };
        let page = match page {
            Ok(p) => p,
            Err(e) => {
                s.error = Some(format!("page {} ({url}): {e}", s.pages + 1));
                break;
            }
        };
        s.pages += 1;
        s.servers += page.servers;
        s.deleted += page.deleted;
        s.superseded += page.superseded;
        s.listings += page.remotes.len();
        for p in page.problems {
            s.problem(p);
        }
        for remote in &page.remotes {
            set.add_remote(base, remote);
        }
        match page.next_cursor {
            Some(c) if seen_cursors.insert(c.clone()) => cursor = Some(c),
            Some(c) => {
                s.error = Some(format!(
                    "the registry handed out the cursor {c:?} twice; stopped to avoid a loop"
                ));
                break;
            }
            None => break,
        }
    }
    s
}

/// Every source into `set`: the registries one after the other (until Ctrl-C
/// flips `stop`), then the files. Also whether Ctrl-C cut the crawl short.
pub(super) async fn crawl_all(
    registries: &[String],
    files: &[(String, String)],
    net: &NetConfig,
    set: &mut EndpointSet,
    stop: &mut watch::Receiver<bool>,
    spinner: &ProgressBar,
) -> anyhow::Result<(Vec<SourceSummary>, bool)> {
    let mut sources = Vec::new();
    let mut interrupted = false;
    let client = registry_client(net)?;
    for base in registries {
        tokio::select! {
            s = crawl(&client, base, set, spinner) => sources.push(s),
            _ = stop.wait_for(|s| *s) => { interrupted = true; break; }
        }
    }
    for (label, text) in files {
        let urls = parse_url_list(text);
        for u in &urls {
            set.add_url(label, u);
        }
        sources.push(SourceSummary {
            source: label.clone(),
            kind: "file".into(),
            listings: urls.len(),
            ..SourceSummary::default()
        });
    }
    Ok((sources, interrupted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_lists_skip_comments_and_blank_lines() {
        let text = "# the fleet\n\nhttp://a.example/mcp\n  https://b.example/mcp   # note\n#http://c.example\n";
        assert_eq!(
            parse_url_list(text),
            ["http://a.example/mcp", "https://b.example/mcp"]
        );
    }
}
