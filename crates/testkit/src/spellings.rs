//! Start here: servers shaped like real deployments the probe once judged
//! wrongly. One origin that serves the deprecated HTTP+SSE transport on
//! `/sse` and Streamable HTTP on `/mcp` (as the TypeScript SDK's examples
//! and many hosted servers do); the trailing-slash listings live in the
//! scenario table (an [`Engine`] on `/mcp/` listed as `/mcp`, and the
//! reverse).

use std::sync::Arc;

use futures_util::future::BoxFuture;

use crate::engine::Engine;
use crate::http_sse::HttpSse;
use crate::server::{Handler, Req, Resp, State};

/// `/sse` + `/messages`: the 2024-11-05 HTTP+SSE transport; `/mcp`: a
/// modern 2026-07-28 server.
pub(crate) struct SseBesideMcp {
    sse: Arc<HttpSse>,
    mcp: Arc<Engine>,
}

impl SseBesideMcp {
    pub fn new() -> SseBesideMcp {
        SseBesideMcp {
            sse: Arc::new(HttpSse::new()),
            mcp: Arc::new(Engine::modern()),
        }
    }
}

impl Handler for SseBesideMcp {
    fn handle(self: Arc<Self>, st: Arc<State>, req: Req) -> BoxFuture<'static, Resp> {
        if req.path == self.mcp.path {
            self.mcp.clone().handle(st, req)
        } else {
            self.sse.clone().handle(st, req)
        }
    }
}
