//! Start here: an auth discovery in progress (see `auth.rs` for what a
//! refusal means). It rides along its requests' [`super::exchange::Purpose`],
//! so it lives below both the purposes and the auth rules that fill it in.

use crate::classify::ResourceMetadata;

/// At which rung a 401/403 came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthCtx {
    Handshake,
    ToolsList,
    SafeCall,
}

/// An auth discovery in progress; it rides along its requests' purpose.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Discovery {
    pub(super) ctx: AuthCtx,
    /// The refusal's status (401, 403).
    pub(super) status: u16,
    /// What the server said about the refusal (the challenge's
    /// `error_description`, else the body's message), capped.
    pub(super) said: Option<String>,
    /// The refusal speaks of an API key.
    pub(super) api_key: bool,
    /// A challenge's scheme is Bearer.
    pub(super) bearer: bool,
    /// Each document of the current phase tried and what came of it.
    pub(super) tried: Vec<String>,
    pub(super) phase: Phase,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Phase {
    /// Reading protected-resource metadata: `url` now, then `left`.
    Resource { url: String, left: Vec<String> },
    /// Reading the first authorization server's metadata (the one the
    /// official TypeScript SDK uses): `url` now, then `left`.
    AuthServer {
        resource_url: String,
        meta: ResourceMetadata,
        url: String,
        left: Vec<String>,
    },
}
