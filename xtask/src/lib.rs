//! Start here: the library half of xtask, what the `cargo xtask` binary
//! (`main.rs`) and the edge integration tests (`crates/edge-tests`) share.
//!
//! - [`edge`]: build the Worker with `worker-build` and run it under
//!   `wrangler dev` on 127.0.0.1, killed on drop.
//! - [`web`]: build the web page into `build/www/`, install the browser
//!   tests' Chromium and playwright-core.
//!
//! Both need only std and anyhow and only find tools under `.tools/`;
//! installing them is the binary's job (`tools.rs`, `worker.rs`).

pub mod edge;
pub mod web;
