//! mcprobe-testkit: the fault fleet.
//!
//! Start here: [`Fleet::start`] brings up every scenario of `scenarios.rs` on
//! its own 127.0.0.1 listener (TLS ones with certificates from a test CA made
//! at startup) and hands out their URLs; tests probe them and read back what
//! each server saw with [`Fleet::requests`]. The servers answer correctly in
//! every era of MCP, or fail in exactly one of the ways the verdict contract
//! (`docs/failure-modes.md`) names.
//!
//! Modules, one concern each:
//! - `server`: listeners, TLS accept, hyper, the request log
//! - `engine`: the configurable MCP server (`modern`, `legacy`, `tools`)
//! - `http_sse`: the deprecated 2024-11-05 HTTP+SSE transport
//! - `tls`: the test CA and the good / expired / stranger / wrong-name leaves
//! - `faults`: non-MCP answers (sleep pages, HTTP errors, OAuth challenges)
//! - `auth_faults`: refusals easy to misread (OAuth discovery gone wrong, Host
//!   refusals, API keys)
//! - `hostile`: bodies and timings meant to hang or exhaust a client
//! - `spellings`: real deployments' shapes (HTTP+SSE beside Streamable HTTP)
//! - `hostile_bounds`: answers meant to bloat a verdict, compressed answers,
//!   and servers that try to pull credentials to another origin
//! - `scenarios`: the table of names and what serves each
//! - [`stdio`]: the same engine over stdin/stdout (`mcprobe-fleet stdio <kind>`),
//!   with the stdio-only faults (silence, stdout noise, a crash, a hang, a
//!   server that stops reading, a slow start)

mod auth_faults;
mod engine;
mod faults;
mod hostile;
mod hostile_bounds;
mod http_sse;
pub mod registry;
mod scenarios;
mod server;
mod spellings;
pub mod stdio;
mod tls;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};

use scenarios::{Kind, SCENARIOS};
use server::State;

/// One request as a scenario's server saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedRequest {
    pub method: String,
    /// The URL path, without the query string.
    pub path: String,
    /// In arrival order; names lowercased (as HTTP/1.1 parsing gives them).
    pub headers: Vec<(String, String)>,
    /// The body, when it parsed as JSON.
    pub body: Option<serde_json::Value>,
}

impl LoggedRequest {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The JSON-RPC `method` of the body, if any.
    pub fn rpc_method(&self) -> Option<&str> {
        self.body.as_ref()?.get("method")?.as_str()
    }
}

/// The running fleet. Dropping it stops every server and joins its thread.
pub struct Fleet {
    /// (name, URL) in table order.
    urls: Vec<(String, String)>,
    states: HashMap<String, Arc<State>>,
    ca_dir: PathBuf,
    ca_pem: PathBuf,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// The refused scenarios' ports, bound but never listening, held for the
    /// fleet's life: a connect gets RST, and no other fleet, test or process
    /// can be handed the same port meanwhile.
    _refused: Vec<socket2::Socket>,
}

impl Fleet {
    /// Starts every scenario; all are listening when this returns.
    pub fn start() -> anyhow::Result<Fleet> {
        Fleet::start_only(&[])
    }

    /// Starts only the named scenarios (all of them when `names` is empty).
    pub fn start_only(names: &[&str]) -> anyhow::Result<Fleet> {
        for n in names {
            if !SCENARIOS.iter().any(|s| s.name == *n) {
                bail!(
                    "unknown scenario {n:?}; valid ones: {}",
                    all_names().join(", ")
                );
            }
        }
        let wanted = |name: &str| names.is_empty() || names.contains(&name);

        let certs = tls::Certs::generate()?;
        let ca_dir = unique_temp_dir()?;
        let ca_pem = ca_dir.join("fleet-ca.pem");
        std::fs::write(&ca_pem, &certs.ca_pem)
            .with_context(|| format!("writing {}", ca_pem.display()))?;

        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("mcprobe-fleet")
            .enable_all()
            .build()
            .context("building the fleet's runtime")?;

        let mut urls = Vec::new();
        let mut states = HashMap::new();
        let mut refused = Vec::new();
        let started = (|| -> anyhow::Result<()> {
            for sc in SCENARIOS.iter().filter(|s| wanted(s.name)) {
                let url = match &sc.kind {
                    Kind::Unresolvable(url) => url.to_string(),
                    Kind::Refused { tls } => {
                        // Bound and kept, never listening: connecting is
                        // refused, and the port stays ours (a port closed
                        // right after binding was once handed to another
                        // fleet's server in the same test run).
                        let sock = socket2::Socket::new(
                            socket2::Domain::IPV4,
                            socket2::Type::STREAM,
                            None,
                        )?;
                        let any: std::net::SocketAddr = "127.0.0.1:0".parse()?;
                        sock.bind(&any.into())?;
                        let port = sock
                            .local_addr()?
                            .as_socket()
                            .map(|a| a.port())
                            .context("the refused socket has no port")?;
                        refused.push(sock);
                        format!("{}://127.0.0.1:{port}/mcp", scheme(*tls))
                    }
                    Kind::Serve { path, tls, make } => {
                        let l = std::net::TcpListener::bind("127.0.0.1:0")
                            .with_context(|| format!("binding {}", sc.name))?;
                        l.set_nonblocking(true)?;
                        let port = l.local_addr()?.port();
                        let origin = format!("{}://127.0.0.1:{port}", scheme(tls.is_some()));
                        let st = Arc::new(State::new(origin.clone()));
                        let acceptor = tls.map(|k| certs.acceptor(k));
                        let listener = {
                            let _guard = rt.enter();
                            tokio::net::TcpListener::from_std(l)?
                        };
                        rt.spawn(server::accept_loop(listener, acceptor, make(), st.clone()));
                        states.insert(sc.name.to_string(), st);
                        format!("{origin}{path}")
                    }
                };
                urls.push((sc.name.to_string(), url));
            }
            Ok(())
        })();
        if let Err(e) = started {
            rt.shutdown_background();
            let _ = std::fs::remove_dir_all(&ca_dir);
            return Err(e);
        }

        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("mcprobe-fleet-main".into())
            .spawn(move || {
                // Parks here until the Fleet drops (or is forgotten: a sender
                // dropped without sending ends the wait too).
                rt.block_on(async {
                    let _ = rx.await;
                });
                // Dropping the runtime cancels every accept loop, connection
                // and endless body.
                rt.shutdown_timeout(Duration::from_secs(2));
            })
            .context("spawning the fleet thread")?;

        Ok(Fleet {
            urls,
            states,
            ca_dir,
            ca_pem,
            shutdown: Some(tx),
            thread: Some(thread),
            _refused: refused,
        })
    }

    /// The URL a probe should be given for `name`.
    ///
    /// # Panics
    /// When `name` is not a scenario of this fleet (the message lists them).
    pub fn url(&self, name: &str) -> String {
        match self.urls.iter().find(|(n, _)| n == name) {
            Some((_, url)) => url.clone(),
            None => panic!(
                "no scenario {name:?} in this fleet; valid ones: {}",
                self.names().join(", ")
            ),
        }
    }

    /// The scenarios of this fleet, in table order.
    pub fn names(&self) -> Vec<String> {
        self.urls.iter().map(|(n, _)| n.clone()).collect()
    }

    /// The test CA's PEM file, for `--cacert`.
    pub fn ca_pem_path(&self) -> PathBuf {
        self.ca_pem.clone()
    }

    /// What `name`'s server received, in arrival order (empty for the
    /// scenarios without a server: dns-*, refused*).
    ///
    /// # Panics
    /// When `name` is not a scenario of this fleet.
    pub fn requests(&self, name: &str) -> Vec<LoggedRequest> {
        let _ = self.url(name);
        self.states
            .get(name)
            .map(|st| st.requests())
            .unwrap_or_default()
    }

    /// Switches a scenario's variant (only `drift` has more than one).
    ///
    /// # Panics
    /// When `name` is not a scenario of this fleet.
    pub fn set_variant(&self, name: &str, variant: u32) {
        let _ = self.url(name);
        if let Some(st) = self.states.get(name) {
            st.set_variant(variant);
        }
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_dir_all(&self.ca_dir);
    }
}

fn scheme(tls: bool) -> &'static str {
    if tls {
        "https"
    } else {
        "http"
    }
}

fn all_names() -> Vec<&'static str> {
    SCENARIOS.iter().map(|s| s.name).collect()
}

/// A fresh directory under the system temp dir, removed when the fleet drops.
fn unique_temp_dir() -> anyhow::Result<PathBuf> {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let base = std::env::temp_dir();
    sweep_stale_dirs(&base);
    for _ in 0..100 {
        let n = SEQ.fetch_add(1, Ordering::SeqCst);
        let dir = base.join(format!("mcprobe-fleet-{}-{n}", std::process::id()));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            // A stale directory from an earlier process with the same pid.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e).with_context(|| format!("creating {}", dir.display())),
        }
    }
    bail!(
        "no free temp directory under {}",
        Path::new(&base).display()
    )
}

/// Removes `mcprobe-fleet-<pid>-<n>` directories of processes that are gone. A
/// fleet in a `static` (the integration tests' `OnceLock`) is never dropped,
/// so its directory outlives it; the next fleet cleans up. Linux only (it asks
/// `/proc` whether the pid lives); elsewhere nothing is swept.
fn sweep_stale_dirs(base: &Path) {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix("mcprobe-fleet-")) else {
            continue;
        };
        let Some((pid, seq)) = rest.split_once('-') else {
            continue;
        };
        let ours = pid.parse::<u32>().is_ok() && seq.parse::<u64>().is_ok();
        if ours && !proc.join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
