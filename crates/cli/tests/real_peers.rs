//! Start here: the real-peer matrix. `mcprobe check` against MCP servers and SDKs as
//! they are published on npm and PyPI, each started by the test in each of its
//! transport modes (Streamable HTTP with and without sessions, JSON or SSE answers, the
//! old HTTP+SSE transport, stdio warm and cold), each with the verdict it must get.
//!
//! `tests/peers.rs` checks four peers closely; this file checks many broadly: one
//! [`ROWS`] entry per setup, all run in parallel (a few at a time, see [`SLOTS`]).
//! The packages are pinned in `xtask/src/tools.rs` (`REAL_PEERS_NPM`,
//! `REAL_PEERS_PY`); `cargo xtask install` puts them in `.tools/peers-npm` and
//! `.tools/peers-py/<venv>`, and `cargo xtask test` passes those paths as
//! `MCPROBE_REAL_PEERS_NPM` and `MCPROBE_REAL_PEERS_PY` (with `MCPROBE_NODE`; `cargo
//! xtask env` prints them for `cargo test -p mcprobe --test real_peers`). Without them
//! each test prints "skipped: ..." and passes, unless `MCPROBE_REQUIRE_PEERS=1` (CI).
//!
//! SDKs are libraries: `tests/peers/*.cjs|py` are the smallest servers on them, in the
//! shape of each SDK's own examples. Published servers run from their own entry points.
//!
//! Every server binds 127.0.0.1 on a port picked here (node processes also preload
//! `peers/loopback.cjs`, which pins any listen to loopback), and runs with a cleared
//! environment, a HOME of its own and update checks and telemetry off: nothing here
//! talks to anything beyond this machine. The tests are grouped by what they need: the
//! rows mcprobe is right about get [`Needs::Nothing`]; a row that checks a fix names it.

use std::fs::File;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

// ---- The matrix ----

/// What a row's expected verdict depends on: nothing (mcprobe gets it right as it
/// is), or a named fix of a disagreement with real servers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Needs {
    Nothing,
    /// A server slow to start on stdio answers `server/discover` after the probe
    /// moved on to `initialize`: that late answer is still the server's.
    LateStdioAnswer,
    /// RFC 9728 §3.3: protected-resource metadata naming another resource is unusable.
    ResourceMatch,
    /// A 403/421 refusing the Host header is `http_error`, whatever the SDK.
    HostRefusal,
    /// `/mcp` listed as `/mcp/` (or the reverse) is `route_moved`.
    RouteSpelling,
    /// A 401's `error_description` is what the reason quotes and the hint follows.
    ErrorDescription,
    /// A tool annotated `openWorldHint: true` is never the automatic safe call.
    OpenWorldHint,
}

/// How a row's server is started. Paths are relative to the folders the environment
/// names: `NodeScript` and `PyScript` run a file of `tests/peers/`, `NodeBin` a
/// package's bin from `.tools/peers-npm/node_modules/.bin`, `PyBin` a console script
/// of a venv in `.tools/peers-py`.
#[derive(Clone, Copy, Debug)]
enum Program {
    NodeScript(&'static str),
    NodeBin(&'static str),
    PyScript(&'static str, &'static str),
    PyBin(&'static str, &'static str),
}

/// How mcprobe reaches the server.
#[derive(Clone, Copy, Debug)]
enum Reach {
    /// `http://HOST:PORT{path}`; a host other than 127.0.0.1 is pinned to it with
    /// `--resolve`, so the request carries that name in its Host header.
    Http(&'static str, &'static str),
    /// `mcprobe check -- CMD` on the venv's own bytecode (or node).
    Stdio,
    /// The same with an empty bytecode cache (a fresh `PYTHONPYCACHEPREFIX`): the
    /// first launch after an install, every module compiled as it is imported.
    StdioCold,
}

/// One check the verdict must pass beyond its mode and status.
#[derive(Clone, Copy, Debug)]
enum Also {
    /// The era and transport of a healthy verdict, and at least one tool.
    Speaks(&'static str, &'static str),
    /// A finding of this mode.
    Finding(&'static str),
    /// A finding with this rule id.
    Rule(&'static str),
    /// A step `tools/call NAME` (the safe call chose that tool).
    Called(&'static str),
    /// No step `tools/call NAME`.
    NotCalled(&'static str),
    /// `alternate_url` ends with this.
    AlternateEndsWith(&'static str),
    /// The reason quotes this.
    ReasonHas(&'static str),
    /// The hint says this.
    HintHas(&'static str),
    /// Neither reason nor hint says this.
    Never(&'static str),
}

struct Row {
    /// Unique, for logs and the table: `ts-sdk stateful`.
    name: &'static str,
    /// The package and version as published.
    package: &'static str,
    program: Program,
    /// Arguments; `{port}` is the port picked for it, `{dir}` a scratch folder.
    args: &'static [&'static str],
    reach: Reach,
    mode: &'static str,
    status: &'static str,
    also: &'static [Also],
    needs: Needs,
}

const OK: &str = "ok";
const UP: &str = "up";
const LEGACY_HTTP: Also = Also::Speaks("legacy", "streamable-http");
const MODERN_HTTP: Also = Also::Speaks("modern", "streamable-http");
const LEGACY_SSE: Also = Also::Speaks("legacy", "sse");
const LEGACY_STDIO: Also = Also::Speaks("legacy", "stdio");
const MODERN_STDIO: Also = Also::Speaks("modern", "stdio");
const DEPRECATED: Also = Also::Finding("deprecated_transport");
/// A host nobody serves, pinned to 127.0.0.1 with `--resolve`.
const FOREIGN_HOST: &str = "mcp.example.test";

/// One [`Row`], its fields in order, so the table reads as one.
macro_rules! row {
    ($name:expr, $package:expr, $program:expr, $args:expr, $reach:expr,
     $mode:expr, $status:expr, $also:expr, $needs:expr) => {
        Row {
            name: $name,
            package: $package,
            program: $program,
            args: $args,
            reach: $reach,
            mode: $mode,
            status: $status,
            also: $also,
            needs: $needs,
        }
    };
}

use Needs::*;
use Program::*;
use Reach::*;

const TS_SDK: &str = "@modelcontextprotocol/sdk 1.32.2";
const FASTMCP4: &str = "fastmcp 4.2.3 (PyPI)";
const FASTMCP3: &str = "fastmcp 3.4.11 (PyPI)";
const FASTMCP2: &str = "fastmcp 2.14.7 (PyPI)";
const FASTMCP_NPM: &str = "fastmcp 4.20.16 (npm)";
const PY_LOWLEVEL: &str = "mcp 1.30.0 (PyPI), low-level Server + EventStore";
const TMCP: &str = "tmcp 1.20.0 + @tmcp/transport-http 0.9.0";
const MCP_HANDLER: &str = "mcp-handler 2.4.0";
const PROXY_NPM: &str = "mcp-proxy 6.7.19 (npm) -> server-memory";
const PROXY_PY: &str = "mcp-proxy 0.13.0 (PyPI) -> server-memory";
const EXCEL: &str = "excel-mcp-server 2.2.2";
const MOTHERDUCK: &str = "mcp-server-motherduck 1.1.0";
const PLAYWRIGHT: &str = "@playwright/mcp 0.0.83";
const CONTEXT7: &str = "@upstash/context7-mcp 4.1.1";
const EVERYTHING: &str = "@modelcontextprotocol/server-everything 2026.8.31";
const FILESYSTEM: &str = "@modelcontextprotocol/server-filesystem 2026.8.31";
const MEMORY: &str = "@modelcontextprotocol/server-memory 2026.8.31";
const THINKING: &str = "@modelcontextprotocol/server-sequential-thinking 2026.8.31";
const SQLITE: &str = "mcp-server-sqlite 2025.4.25";
const TIME: &str = "mcp-server-time 2026.10.19";
const FETCH: &str = "mcp-server-fetch 2026.10.24";
const GIT: &str = "mcp-server-git 2026.10.19";

/// Each proxy serves the reference memory server, started on stdio by the proxy.
const PROXY_NPM_ARGS: &[&str] = &[
    "--host",
    "127.0.0.1",
    "--port",
    "{port}",
    "--",
    "{node}",
    "{npm}/.bin/mcp-server-memory",
];
/// The same behind `--apiKey`: a 401 whose challenge says Bearer, whose
/// error_description says what is really wanted.
const PROXY_NPM_API_KEY_ARGS: &[&str] = &[
    "--host",
    "127.0.0.1",
    "--port",
    "{port}",
    "--apiKey",
    "not-sent-by-the-probe",
    "--",
    "{node}",
    "{npm}/.bin/mcp-server-memory",
];
const PROXY_PY_ARGS: &[&str] = &[
    "--host",
    "127.0.0.1",
    "--port",
    "{port}",
    "--pass-environment",
    "--",
    "{node}",
    "{npm}/.bin/mcp-server-memory",
];

/// Every setup, its reach and the verdict it must get.
#[rustfmt::skip]
const ROWS: &[Row] = &[
    // -- TypeScript SDK 1.x: every Streamable HTTP mode and the old HTTP+SSE.
    row!("ts-sdk stateful", TS_SDK, NodeScript("ts_sdk1_server.cjs"), &["stateful", "{port}"],
        Http("127.0.0.1", "/mcp"), OK, UP, &[LEGACY_HTTP, Also::Called("ping")], Nothing),
    row!("ts-sdk stateful json", TS_SDK, NodeScript("ts_sdk1_server.cjs"), &["stateful-json", "{port}"],
        Http("127.0.0.1", "/mcp"), OK, UP, &[LEGACY_HTTP, Also::Called("ping")], Nothing),
    row!("ts-sdk stateless", TS_SDK, NodeScript("ts_sdk1_server.cjs"), &["stateless", "{port}"],
        Http("127.0.0.1", "/mcp"), OK, UP, &[LEGACY_HTTP, Also::Called("ping")], Nothing),
    row!("ts-sdk stateless json", TS_SDK, NodeScript("ts_sdk1_server.cjs"), &["stateless-json", "{port}"],
        Http("127.0.0.1", "/mcp"), OK, UP, &[LEGACY_HTTP, Also::Called("ping")], Nothing),
    row!("ts-sdk sse", TS_SDK, NodeScript("ts_sdk1_server.cjs"), &["sse", "{port}"],
        Http("127.0.0.1", "/sse"), OK, UP, &[LEGACY_SSE, DEPRECATED], Nothing),
    row!("ts-sdk bearer auth", TS_SDK, NodeScript("ts_sdk1_server.cjs"), &["auth", "{port}"],
        Http("127.0.0.1", "/mcp"), "auth_required", UP, &[], Nothing),
    row!("ts-sdk metadata for another resource", TS_SDK, NodeScript("ts_sdk1_server.cjs"),
        &["auth-elsewhere", "{port}"],
        Http("127.0.0.1", "/mcp"), "http_error", "down",
        &[Also::Rule("rfc9728.resource-match")], ResourceMatch),
    row!("ts-sdk foreign Host", TS_SDK, NodeScript("ts_sdk1_server.cjs"), &["stateful", "{port}"],
        Http(FOREIGN_HOST, "/mcp"), "http_error", "down",
        &[Also::ReasonHas("Invalid Host"), Also::Never("Authorization: Bearer")], HostRefusal),
    // -- fastmcp on PyPI, three major versions, each transport.
    row!("fastmcp4 http", FASTMCP4, PyScript("fastmcp4", "py_fastmcp_server.py"), &["http", "{port}"],
        Http("127.0.0.1", "/mcp"), OK, UP, &[Also::Called("ping")], Nothing),
    row!("fastmcp4 sse", FASTMCP4, PyScript("fastmcp4", "py_fastmcp_server.py"), &["sse", "{port}"],
        Http("127.0.0.1", "/sse"), OK, UP, &[LEGACY_SSE, DEPRECATED], Nothing),
    row!("fastmcp4 stdio", FASTMCP4, PyScript("fastmcp4", "py_fastmcp_server.py"), &["stdio"],
        Stdio, OK, UP, &[Also::Called("ping")], LateStdioAnswer),
    row!("fastmcp4 stdio cold", FASTMCP4, PyScript("fastmcp4", "py_fastmcp_server.py"), &["stdio"],
        StdioCold, OK, UP, &[Also::Called("ping")], LateStdioAnswer),
    row!("fastmcp3 http", FASTMCP3, PyScript("fastmcp3", "py_fastmcp_server.py"), &["http", "{port}"],
        Http("127.0.0.1", "/mcp"), OK, UP, &[LEGACY_HTTP, Also::Called("ping")], Nothing),
    row!("fastmcp3 sse", FASTMCP3, PyScript("fastmcp3", "py_fastmcp_server.py"), &["sse", "{port}"],
        Http("127.0.0.1", "/sse"), OK, UP, &[LEGACY_SSE, DEPRECATED], Nothing),
    row!("fastmcp3 stdio", FASTMCP3, PyScript("fastmcp3", "py_fastmcp_server.py"), &["stdio"],
        Stdio, OK, UP, &[LEGACY_STDIO, Also::Called("ping")], Nothing),
    row!("fastmcp3 stdio cold", FASTMCP3, PyScript("fastmcp3", "py_fastmcp_server.py"), &["stdio"],
        StdioCold, OK, UP, &[LEGACY_STDIO, Also::Called("ping")], LateStdioAnswer),
    row!("fastmcp2 http", FASTMCP2, PyScript("fastmcp2", "py_fastmcp_server.py"), &["http", "{port}"],
        Http("127.0.0.1", "/mcp"), OK, UP, &[LEGACY_HTTP, Also::Called("ping")], Nothing),
    row!("fastmcp2 sse", FASTMCP2, PyScript("fastmcp2", "py_fastmcp_server.py"), &["sse", "{port}"],
        Http("127.0.0.1", "/sse"), OK, UP, &[LEGACY_SSE, DEPRECATED], Nothing),
    row!("fastmcp2 stdio", FASTMCP2, PyScript("fastmcp2", "py_fastmcp_server.py"), &["stdio"],
        Stdio, OK, UP, &[LEGACY_STDIO, Also::Called("ping")], Nothing),
    row!("fastmcp2 stdio cold", FASTMCP2, PyScript("fastmcp2", "py_fastmcp_server.py"), &["stdio"],
        StdioCold, OK, UP, &[LEGACY_STDIO, Also::Called("ping")], LateStdioAnswer),
    // -- fastmcp on npm (its HTTP server is mcp-proxy's: /mcp and /sse at once).
    row!("fastmcp-npm http", FASTMCP_NPM, NodeScript("fastmcp_npm_server.cjs"), &["http", "{port}"],
        Http("127.0.0.1", "/mcp"), OK, UP, &[LEGACY_HTTP, Also::Called("ping")], Nothing),
    row!("fastmcp-npm stateless", FASTMCP_NPM, NodeScript("fastmcp_npm_server.cjs"), &["stateless", "{port}"],
        Http("127.0.0.1", "/mcp"), OK, UP, &[LEGACY_HTTP, Also::Called("ping")], Nothing),
    row!("fastmcp-npm sse", FASTMCP_NPM, NodeScript("fastmcp_npm_server.cjs"), &["http", "{port}"],
        Http("127.0.0.1", "/sse"), OK, UP, &[LEGACY_SSE], Nothing),
    row!("fastmcp-npm stdio", FASTMCP_NPM, NodeScript("fastmcp_npm_server.cjs"), &["stdio"],
        Stdio, OK, UP, &[LEGACY_STDIO, Also::Called("ping")], Nothing),
    row!("fastmcp-npm listed as /mcp/", FASTMCP_NPM, NodeScript("fastmcp_npm_server.cjs"),
        &["http", "{port}"],
        Http("127.0.0.1", "/mcp/"), "route_moved", "down", &[Also::AlternateEndsWith("/mcp")], RouteSpelling),
    // -- The Python SDK's low-level server with an event store (resumable streams).
    row!("py-sdk lowlevel + event store", PY_LOWLEVEL, PyScript("fastmcp3", "py_lowlevel_server.py"),
        &["{port}"],
        Http("127.0.0.1", "/mcp"), OK, UP, &[LEGACY_HTTP, Also::Called("ping")], Nothing),
    row!("py-sdk lowlevel foreign Host", PY_LOWLEVEL, PyScript("fastmcp3", "py_lowlevel_server.py"),
        &["{port}"],
        Http(FOREIGN_HOST, "/mcp"), "http_error", "down",
        &[Also::ReasonHas("Invalid Host header")], HostRefusal),
    // -- tmcp (a second TypeScript implementation) and Vercel's mcp-handler (SDK 2.x).
    row!("tmcp http", TMCP, NodeScript("tmcp_server.cjs"), &["http", "{port}"],
        Http("127.0.0.1", "/mcp"), OK, UP, &[Also::Called("ping")], Nothing),
    row!("tmcp stdio", TMCP, NodeScript("tmcp_server.cjs"), &["stdio"],
        Stdio, OK, UP, &[Also::Called("ping")], LateStdioAnswer),
    row!("mcp-handler", MCP_HANDLER, NodeScript("mcp_handler_server.cjs"), &["plain", "{port}"],
        Http("127.0.0.1", "/api/mcp"), OK, UP, &[MODERN_HTTP, Also::Called("ping")], Nothing),
    row!("mcp-handler withMcpAuth", MCP_HANDLER, NodeScript("mcp_handler_server.cjs"), &["auth", "{port}"],
        Http("127.0.0.1", "/api/mcp"), "auth_required", UP, &[], Nothing),
    // -- Proxies that put a stdio server on HTTP.
    row!("mcp-proxy npm /mcp", PROXY_NPM, NodeBin("mcp-proxy"), PROXY_NPM_ARGS,
        Http("127.0.0.1", "/mcp"), OK, UP, &[Also::Called("read_graph")], Nothing),
    row!("mcp-proxy npm /sse", PROXY_NPM, NodeBin("mcp-proxy"), PROXY_NPM_ARGS,
        Http("127.0.0.1", "/sse"), OK, UP, &[LEGACY_SSE, Also::Called("read_graph")], Nothing),
    row!("mcp-proxy npm --apiKey", PROXY_NPM, NodeBin("mcp-proxy"), PROXY_NPM_API_KEY_ARGS,
        Http("127.0.0.1", "/mcp"), "http_error", "down",
        &[Also::ReasonHas("Invalid or missing API key"), Also::HintHas("API key")], ErrorDescription),
    row!("mcp-proxy PyPI /mcp", PROXY_PY, PyBin("fastmcp3", "mcp-proxy"), PROXY_PY_ARGS,
        Http("127.0.0.1", "/mcp"), OK, UP, &[LEGACY_HTTP, Also::Called("read_graph")], Nothing),
    row!("mcp-proxy PyPI /sse", PROXY_PY, PyBin("fastmcp3", "mcp-proxy"), PROXY_PY_ARGS,
        Http("127.0.0.1", "/sse"), OK, UP, &[LEGACY_SSE, Also::Called("read_graph")], Nothing),
    // -- Published servers, HTTP and stdio.
    row!("excel http", EXCEL, PyBin("fastmcp4", "excel-mcp-server"),
        &["streamable-http", "--host", "127.0.0.1", "--port", "{port}", "--allow-dir", "{dir}"],
        Http("127.0.0.1", "/mcp"), OK, UP, &[Also::Called("list_workbooks")], Nothing),
    row!("excel stdio", EXCEL, PyBin("fastmcp4", "excel-mcp-server"), &["stdio", "--allow-dir", "{dir}"],
        Stdio, OK, UP, &[Also::Called("list_workbooks")], LateStdioAnswer),
    row!("excel stdio cold", EXCEL, PyBin("fastmcp4", "excel-mcp-server"), &["stdio", "--allow-dir", "{dir}"],
        StdioCold, OK, UP, &[Also::Called("list_workbooks")], LateStdioAnswer),
    row!("motherduck http", MOTHERDUCK, PyBin("fastmcp4", "mcp-server-motherduck"),
        &["--transport", "http", "--host", "127.0.0.1", "--port", "{port}",
          "--db-path", ":memory:", "--read-write"],
        Http("127.0.0.1", "/mcp"), OK, UP, &[Also::NotCalled("execute_query")], Nothing),
    row!("motherduck stdio", MOTHERDUCK, PyBin("fastmcp4", "mcp-server-motherduck"),
        &["--db-path", ":memory:", "--read-write"],
        Stdio, OK, UP, &[Also::NotCalled("execute_query")], LateStdioAnswer),
    row!("motherduck stdio cold", MOTHERDUCK, PyBin("fastmcp4", "mcp-server-motherduck"),
        &["--db-path", ":memory:", "--read-write"],
        StdioCold, OK, UP, &[Also::NotCalled("execute_query")], LateStdioAnswer),
    row!("playwright http", PLAYWRIGHT, NodeBin("playwright-mcp"),
        &["--host", "127.0.0.1", "--port", "{port}"],
        Http("localhost", "/mcp"), OK, UP, &[LEGACY_HTTP, Also::NotCalled("browser_find")], OpenWorldHint),
    row!("playwright http by IP", PLAYWRIGHT, NodeBin("playwright-mcp"),
        &["--host", "127.0.0.1", "--port", "{port}"],
        Http("127.0.0.1", "/mcp"), "http_error", "down",
        &[Also::ReasonHas("Access is only allowed at localhost"), Also::Never("Authorization: Bearer")],
        HostRefusal),
    row!("playwright stdio", PLAYWRIGHT, NodeBin("playwright-mcp"), &[],
        Stdio, OK, UP, &[LEGACY_STDIO, Also::NotCalled("browser_find")], OpenWorldHint),
    row!("context7 http", CONTEXT7, NodeBin("context7-mcp"), &["--transport", "http", "--port", "{port}"],
        Http("127.0.0.1", "/mcp"), OK, UP, &[MODERN_HTTP, Also::NotCalled("resolve-library-id")], Nothing),
    row!("context7 stdio", CONTEXT7, NodeBin("context7-mcp"), &[],
        Stdio, OK, UP, &[MODERN_STDIO, Also::NotCalled("resolve-library-id")], LateStdioAnswer),
    // -- The reference servers on stdio (npm, then PyPI warm and cold).
    row!("server-everything stdio", EVERYTHING, NodeBin("mcp-server-everything"), &["stdio"],
        Stdio, OK, UP, &[LEGACY_STDIO], Nothing),
    row!("server-filesystem stdio", FILESYSTEM, NodeBin("mcp-server-filesystem"), &["{dir}"],
        Stdio, OK, UP, &[LEGACY_STDIO, Also::Called("list_allowed_directories")], Nothing),
    row!("server-memory stdio", MEMORY, NodeBin("mcp-server-memory"), &[],
        Stdio, OK, UP, &[LEGACY_STDIO, Also::Called("read_graph")], Nothing),
    row!("server-sequential-thinking stdio", THINKING, NodeBin("mcp-server-sequential-thinking"), &[],
        Stdio, OK, UP, &[LEGACY_STDIO], Nothing),
    row!("mcp-server-time stdio", TIME, PyBin("fastmcp4", "mcp-server-time"), &["--local-timezone", "UTC"],
        Stdio, OK, UP, &[MODERN_STDIO], LateStdioAnswer),
    row!("mcp-server-time stdio cold", TIME, PyBin("fastmcp4", "mcp-server-time"),
        &["--local-timezone", "UTC"],
        StdioCold, OK, UP, &[MODERN_STDIO], LateStdioAnswer),
    row!("mcp-server-fetch stdio", FETCH, PyBin("fastmcp4", "mcp-server-fetch"), &[],
        Stdio, OK, UP, &[MODERN_STDIO, Also::NotCalled("fetch")], LateStdioAnswer),
    row!("mcp-server-fetch stdio cold", FETCH, PyBin("fastmcp4", "mcp-server-fetch"), &[],
        StdioCold, OK, UP, &[MODERN_STDIO, Also::NotCalled("fetch")], LateStdioAnswer),
    row!("mcp-server-git stdio", GIT, PyBin("fastmcp4", "mcp-server-git"), &["--repository", "{dir}"],
        Stdio, OK, UP, &[MODERN_STDIO], LateStdioAnswer),
    row!("mcp-server-git stdio cold", GIT, PyBin("fastmcp4", "mcp-server-git"), &["--repository", "{dir}"],
        StdioCold, OK, UP, &[MODERN_STDIO], LateStdioAnswer),
    row!("mcp-server-sqlite stdio", SQLITE, PyBin("fastmcp3", "mcp-server-sqlite"),
        &["--db-path", "{dir}/test.db"],
        Stdio, OK, UP, &[LEGACY_STDIO, Also::Called("list_tables")], Nothing),
    row!("mcp-server-sqlite stdio cold", SQLITE, PyBin("fastmcp3", "mcp-server-sqlite"),
        &["--db-path", "{dir}/test.db"],
        StdioCold, OK, UP, &[LEGACY_STDIO, Also::Called("list_tables")], LateStdioAnswer),
];

// ---- The tests: one per group, so a failure names what it is about ----

#[test]
fn real_peers_mcprobe_is_right_about() {
    run_group(Nothing);
}

#[test]
fn real_peers_cold_python_stdio_servers_are_ok() {
    run_group(LateStdioAnswer);
}

#[test]
fn real_peers_metadata_for_another_resource_is_refused() {
    run_group(ResourceMatch);
}

#[test]
fn real_peers_host_refusals_are_http_errors() {
    run_group(HostRefusal);
}

#[test]
fn real_peers_the_other_spelling_of_the_path_is_route_moved() {
    run_group(RouteSpelling);
}

#[test]
fn real_peers_api_key_refusals_quote_their_error_description() {
    run_group(ErrorDescription);
}

#[test]
fn real_peers_playwright_is_not_made_to_launch_a_browser() {
    run_group(OpenWorldHint);
}

#[test]
fn the_matrix_is_well_formed() {
    let mut names: Vec<&str> = ROWS.iter().map(|r| r.name).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(before, names.len(), "two rows share a name");
    for row in ROWS {
        let http = matches!(row.reach, Http(..));
        let has_port = row.args.contains(&"{port}");
        assert_eq!(
            http, has_port,
            "{}: an HTTP row takes {{port}}, a stdio one not",
            row.name
        );
        if matches!(row.reach, StdioCold) {
            assert!(
                matches!(row.program, PyScript(..) | PyBin(..)),
                "{}: a cold start is about Python bytecode",
                row.name
            );
        }
    }
    // Every group has rows, so none of the tests above passes by running nothing.
    for needs in [
        Nothing,
        LateStdioAnswer,
        ResourceMatch,
        HostRefusal,
        RouteSpelling,
        OpenWorldHint,
    ] {
        assert!(
            ROWS.iter().any(|r| r.needs == needs),
            "no row for {needs:?}"
        );
    }
}

// ---- Finding the peers ----

/// What the rows need from the environment.
struct Env {
    node: PathBuf,
    npm: PathBuf,
    py: PathBuf,
}

/// The peers' paths, or `None` (after printing why) when the tests should skip.
/// Panics when `MCPROBE_REQUIRE_PEERS=1` and one is missing, naming it.
fn peer_env() -> Option<Env> {
    let required = std::env::var("MCPROBE_REQUIRE_PEERS").is_ok_and(|v| v == "1");
    let mut found = Vec::new();
    for key in [
        "MCPROBE_NODE",
        "MCPROBE_REAL_PEERS_NPM",
        "MCPROBE_REAL_PEERS_PY",
    ] {
        let problem = match std::env::var_os(key) {
            None => format!("{key} is not set"),
            Some(value) if Path::new(&value).exists() => {
                found.push(PathBuf::from(value));
                continue;
            }
            Some(value) => format!("{key}={} does not exist", PathBuf::from(value).display()),
        };
        if required {
            panic!("MCPROBE_REQUIRE_PEERS=1 but {problem}; run `cargo xtask install`");
        }
        println!("skipped: run `cargo xtask test` ({problem})");
        return None;
    }
    let py = found.pop()?;
    let npm = found.pop()?;
    let node = found.pop()?;
    Some(Env { node, npm, py })
}

/// `tests/peers/`: the servers written here on each SDK.
fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers")
}

/// `peers/loopback.cjs` at the repository root: pins every listen to 127.0.0.1.
fn loopback_preload() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../peers/loopback.cjs")
}

// ---- Running rows, a few at a time ----

/// At most this many rows (a server and its probe) at once, across all the tests of
/// this file: a Python server takes a couple of seconds of CPU to import, a cold one
/// more, and the machine has two cores. Enough to overlap start-up waits, few enough
/// that no probe meets a starved server.
const SLOTS: usize = 4;
static RUNNING: Mutex<usize> = Mutex::new(0);
static FREED: Condvar = Condvar::new();

/// Holds one of the [`SLOTS`] until dropped.
struct Slot;

impl Slot {
    fn take() -> Slot {
        let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        while *running >= SLOTS {
            running = FREED.wait(running).unwrap_or_else(|e| e.into_inner());
        }
        *running += 1;
        Slot
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        *running -= 1;
        FREED.notify_one();
    }
}

/// What one row gave.
struct Outcome {
    row: &'static Row,
    verdict: Option<Value>,
    problems: Vec<String>,
    log: String,
    took: Duration,
}

fn run_group(needs: Needs) {
    let Some(env) = peer_env() else {
        return;
    };
    let started = Instant::now();
    let rows: Vec<&'static Row> = ROWS.iter().filter(|r| r.needs == needs).collect();
    let outcomes: Vec<Outcome> = std::thread::scope(|scope| {
        let handles: Vec<_> = rows
            .iter()
            .map(|row| {
                let env = &env;
                scope.spawn(move || {
                    let _slot = Slot::take();
                    run_row(row, env)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a row's thread panicked"))
            .collect()
    });
    print_table(needs, &outcomes, started.elapsed());
    let failures: Vec<String> = outcomes
        .iter()
        .filter(|o| !o.problems.is_empty())
        .map(|o| {
            format!(
                "=== {} ({}): {}\nverdict: {}\n{}",
                o.row.name,
                o.row.package,
                o.problems.join("; "),
                o.verdict
                    .as_ref()
                    .map(|v| serde_json::to_string_pretty(v).unwrap_or_default())
                    .unwrap_or_else(|| "none".into()),
                o.log
            )
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} rows ({needs:?}) got the wrong verdict:\n{}",
        failures.len(),
        outcomes.len(),
        failures.join("\n\n")
    );
}

fn print_table(needs: Needs, outcomes: &[Outcome], took: Duration) {
    println!(
        "real peers, {needs:?}: {} rows in {:.1}s",
        outcomes.len(),
        took.as_secs_f64()
    );
    println!("| setup | package | reach | expected | got | era, transport, safe call | s |");
    println!("|---|---|---|---|---|---|---|");
    for o in outcomes {
        let (got, spoke) = o.verdict.as_ref().map_or_else(
            || ("no verdict".to_string(), String::new()),
            |v| {
                (
                    format!("{} {}", text(&v["status"]), text(&v["mode"])),
                    spoke(v),
                )
            },
        );
        let mark = if o.problems.is_empty() { "" } else { " ✗" };
        println!(
            "| {} | {} | {} | {} {} | {got}{mark} | {spoke} | {:.1} |",
            o.row.name,
            o.row.package,
            reach_label(o.row.reach),
            o.row.status,
            o.row.mode,
            o.took.as_secs_f64()
        );
    }
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or("-")
}

/// `legacy streamable-http, tools/call ping`: how the verdict was reached.
fn spoke(v: &Value) -> String {
    let call = v["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["name"].as_str())
        .find(|n| n.starts_with("tools/call") || *n == "resources/list" || *n == "prompts/list")
        .unwrap_or("no call");
    format!("{} {}, {call}", text(&v["era"]), text(&v["transport"]))
}

fn reach_label(reach: Reach) -> String {
    match reach {
        Http(host, path) => format!("http://{host}{path}"),
        Stdio => "stdio".into(),
        StdioCold => "stdio, cold".into(),
    }
}

/// A scratch folder for one row: its HOME, its `{dir}`, its bytecode cache when cold,
/// its log. Removed when dropped unless the row failed (the log explains the failure).
struct Scratch {
    dir: PathBuf,
    keep: bool,
}

impl Scratch {
    fn new(name: &str) -> Scratch {
        let slug: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let dir = std::env::temp_dir().join(format!("mcprobe-real-{}-{slug}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("home")).expect("create scratch dir");
        std::fs::create_dir_all(dir.join("work")).expect("create scratch dir");
        Scratch { dir, keep: false }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn run_row(row: &'static Row, env: &Env) -> Outcome {
    let started = Instant::now();
    let mut scratch = Scratch::new(row.name);
    let work = scratch.dir.join("work");
    if row.args.contains(&"--repository") {
        // mcp-server-git wants a repository to serve.
        let status = Command::new("git")
            .args(["init", "--quiet"])
            .arg(&work)
            .stdout(Stdio::null())
            .status();
        assert!(
            status.is_ok_and(|s| s.success()),
            "git init {}",
            work.display()
        );
    }
    let port = matches!(row.reach, Http(..)).then(free_port);
    let argv = command_line(row, env, port, &work);
    let vars = environment(row, env, &scratch.dir);
    let log_path = scratch.dir.join("server.log");

    let (verdict, problems, log) = match row.reach {
        Http(host, path) => {
            let port = port.expect("an HTTP row has a port");
            match Server::start(&argv, &vars, port, &log_path) {
                Err(why) => (None, vec![why], read_tail(&log_path)),
                Ok(server) => {
                    let url = format!("http://{host}:{port}{path}");
                    let mut extra = Vec::new();
                    if host != "127.0.0.1" {
                        extra.push("--resolve".to_string());
                        extra.push(format!("{host}:{port}:127.0.0.1"));
                    }
                    let mut probe = mcprobe(&vars);
                    probe.arg(&url).args(&extra);
                    let (verdict, problems) = judge(row, probe.output());
                    drop(server);
                    (verdict, problems, read_tail(&log_path))
                }
            }
        }
        Stdio | StdioCold => {
            let mut probe = mcprobe(&vars);
            probe.arg("--").args(&argv);
            let (verdict, problems) = judge(row, probe.output());
            let log = verdict
                .as_ref()
                .map(|v| format!("steps: {}", v["steps"]))
                .unwrap_or_default();
            (verdict, problems, log)
        }
    };
    scratch.keep = !problems.is_empty();
    Outcome {
        row,
        verdict,
        problems,
        log: format!("--- log ({}) ---\n{log}", scratch.dir.display()),
        took: started.elapsed(),
    }
}

/// The server's argv: the program for its kind, then its arguments with `{port}`,
/// `{dir}`, `{node}` and `{npm}` filled in.
fn command_line(row: &Row, env: &Env, port: Option<u16>, work: &Path) -> Vec<String> {
    let node = env.node.to_string_lossy().into_owned();
    let venv = |name: &str| env.py.join(name).join("bin");
    let mut argv: Vec<String> = match row.program {
        NodeScript(file) => vec![
            node.clone(),
            "--require".into(),
            loopback_preload().to_string_lossy().into_owned(),
            scripts_dir().join(file).to_string_lossy().into_owned(),
        ],
        NodeBin(bin) => vec![
            node.clone(),
            "--require".into(),
            loopback_preload().to_string_lossy().into_owned(),
            env.npm
                .join(".bin")
                .join(bin)
                .to_string_lossy()
                .into_owned(),
        ],
        PyScript(name, file) => vec![
            venv(name).join("python").to_string_lossy().into_owned(),
            scripts_dir().join(file).to_string_lossy().into_owned(),
        ],
        PyBin(name, bin) => vec![venv(name).join(bin).to_string_lossy().into_owned()],
    };
    let port = port.map(|p| p.to_string()).unwrap_or_default();
    let work = work.to_string_lossy();
    let npm = env.npm.to_string_lossy();
    argv.extend(row.args.iter().map(|a| {
        a.replace("{port}", &port)
            .replace("{dir}", &work)
            .replace("{node}", &node)
            .replace("{npm}", &npm)
    }));
    argv
}

/// The whole environment of the server (and of mcprobe, whose stdio child inherits it):
/// nothing from the caller's but PATH, so no proxy setting, token or locale leaks in.
fn environment(row: &Row, env: &Env, scratch: &Path) -> Vec<(String, String)> {
    let node_bin = env.node.parent().unwrap_or(Path::new("/"));
    let path = std::env::join_paths(
        std::iter::once(node_bin.to_path_buf()).chain(
            std::env::var_os("PATH")
                .iter()
                .flat_map(std::env::split_paths),
        ),
    )
    .expect("PATH");
    let mut vars = vec![
        ("PATH".to_string(), path.to_string_lossy().into_owned()),
        (
            "HOME".into(),
            scratch.join("home").to_string_lossy().into_owned(),
        ),
        ("NODE_PATH".into(), env.npm.to_string_lossy().into_owned()),
        ("NO_COLOR".into(), "1".into()),
        // fastmcp asks PyPI for a newer version at start; context7 serves Prometheus
        // metrics on a fixed port unless told not to.
        ("FASTMCP_CHECK_FOR_UPDATES".into(), "off".into()),
        ("OTEL_SDK_DISABLED".into(), "true".into()),
        // server-memory writes its graph here, not into its package folder.
        (
            "MEMORY_FILE_PATH".into(),
            scratch
                .join("work/memory.jsonl")
                .to_string_lossy()
                .into_owned(),
        ),
        // server-everything's gzip tool fetches URLs; allow only loopback.
        ("GZIP_ALLOWED_DOMAINS".into(), "127.0.0.1".into()),
    ];
    if matches!(row.reach, StdioCold) {
        // An empty cache: every module is compiled from source as it is imported,
        // as on the first launch after `pip install --no-compile` or a fresh image.
        let cache = scratch.join("pycache");
        vars.push((
            "PYTHONPYCACHEPREFIX".into(),
            cache.to_string_lossy().into_owned(),
        ));
    } else {
        // Read the venv's bytecode, write none.
        vars.push(("PYTHONDONTWRITEBYTECODE".into(), "1".into()));
    }
    vars
}

fn mcprobe(vars: &[(String, String)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mcprobe"));
    cmd.env_clear()
        .envs(vars.iter().map(|(k, v)| (k, v)))
        .args(["check", "--json", "--timeout", "30"]);
    cmd
}

/// The verdict's problems against the row's expectation (empty: it is right).
fn judge(row: &Row, output: std::io::Result<Output>) -> (Option<Value>, Vec<String>) {
    let out = match output {
        Ok(out) => out,
        Err(e) => return (None, vec![format!("could not run mcprobe: {e}")]),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let verdict: Value = match serde_json::from_str(&stdout) {
        Ok(v) => v,
        Err(e) => {
            return (
                None,
                vec![format!(
                    "no verdict JSON ({e}); exit {:?}; stdout: {stdout}; stderr: {}",
                    out.status.code(),
                    String::from_utf8_lossy(&out.stderr)
                )],
            )
        }
    };
    let mut problems = Vec::new();
    let v = &verdict;
    if v["mode"] != row.mode || v["status"] != row.status {
        problems.push(format!(
            "got {} {}, want {} {}",
            v["status"], v["mode"], row.status, row.mode
        ));
    }
    let want_exit = if row.status == UP { 0 } else { 1 };
    if out.status.code() != Some(want_exit) {
        problems.push(format!("exit {:?}, want {want_exit}", out.status.code()));
    }
    let steps = v["steps"].as_array().cloned().unwrap_or_default();
    let called = |tool: &str| {
        steps
            .iter()
            .any(|s| s["name"].as_str() == Some(&format!("tools/call {tool}")))
    };
    let findings = v["findings"].as_array().cloned().unwrap_or_default();
    let text = format!(
        "{} {}",
        v["reason"].as_str().unwrap_or_default(),
        v["hint"].as_str().unwrap_or_default()
    );
    for also in row.also {
        let ok = match *also {
            Also::Speaks(era, transport) => {
                v["era"] == era
                    && v["transport"] == transport
                    && v["tools"]["count"].as_u64() > Some(0)
            }
            Also::Finding(mode) => findings.iter().any(|f| f["mode"] == mode),
            Also::Rule(rule) => findings.iter().any(|f| f["rule"] == rule),
            Also::Called(tool) => called(tool),
            Also::NotCalled(tool) => !called(tool),
            Also::AlternateEndsWith(end) => v["alternate_url"]
                .as_str()
                .is_some_and(|u| u.ends_with(end)),
            Also::ReasonHas(quote) => v["reason"].as_str().is_some_and(|r| r.contains(quote)),
            Also::HintHas(words) => v["hint"].as_str().is_some_and(|h| h.contains(words)),
            Also::Never(words) => !text.contains(words),
        };
        if !ok {
            problems.push(format!("fails {also:?}"));
        }
    }
    (Some(verdict), problems)
}

// ---- One HTTP server ----

/// A port nothing listens on right now: bind :0 on loopback, note it, let it go.
/// (Another process could take it before the server binds; the readiness wait then
/// fails with the server's log, which says so.)
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}

/// A running server; killed and reaped when dropped, whatever the test did.
struct Server {
    child: Child,
}

impl Server {
    /// Starts `argv` with exactly `vars`, its output in `log`, and returns once its
    /// port accepts connections, or why not.
    fn start(
        argv: &[String],
        vars: &[(String, String)],
        port: u16,
        log: &Path,
    ) -> Result<Server, String> {
        let out = File::create(log).map_err(|e| format!("create {}: {e}", log.display()))?;
        let err = out
            .try_clone()
            .map_err(|e| format!("clone log handle: {e}"))?;
        let child = Command::new(&argv[0])
            .args(&argv[1..])
            .env_clear()
            .envs(vars.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("could not start {argv:?}: {e}"))?;
        let mut server = Server { child };
        server.wait_ready(port)?;
        Ok(server)
    }

    /// Readiness is the port accepting a connection. Bounded: 1,200 attempts with a
    /// 50 ms pause between refused ones, about a minute, because several Python
    /// servers import at once on two cores here.
    fn wait_ready(&mut self, port: u16) -> Result<(), String> {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        for _ in 0..1200 {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(50)).is_ok() {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("exited ({status}) before listening on {addr}"));
            }
            // A refused connect returns at once; this pause paces the polling, the
            // successful connect above is what the row waits for.
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!("did not listen on {addr} within about a minute"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The last lines of a log, for failure messages.
fn read_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(25)..].join("\n")
}
