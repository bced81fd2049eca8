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
//!
//! One file a topic: `page.rs` (the API's shapes, reading a page),
//! `endpoint.rs` (normalisation, de-duplication), `credentials.rs`,
//! `baseline.rs`, `audit.rs`; `bounded.rs` reads JSON within a budget. Every
//! public item is re-exported here, so callers name `mcprobe_registry::X`.

mod audit;
mod baseline;
mod bounded;
mod credentials;
mod endpoint;
mod page;

pub use audit::*;
pub use baseline::*;
pub use credentials::*;
pub use endpoint::*;
pub use page::*;
