//! Start here: the bounds a probe never exceeds, whatever the server does.
//! They sit below the probe and the budget that enforces them.

/// Bounds a probe never exceeds, whatever the server does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest body (or SSE stream) read for one exchange.
    pub max_body_bytes: usize,
    /// Redirects followed for one request before "redirect loop".
    pub max_redirects: u8,
    /// `tools/list` pages fetched before stopping.
    pub max_tool_pages: u32,
    /// Tools kept before stopping.
    pub max_tools: usize,
    /// Characters of a body quoted as evidence.
    pub excerpt_chars: usize,
    /// HTTP requests handed out for one check, redirects included (see
    /// `MAX_REQUESTS` in `limits.rs` for why this many; `budget.rs` counts them).
    pub max_requests: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 4 * 1024 * 1024,
            max_redirects: 5,
            max_tool_pages: 20,
            max_tools: 5_000,
            excerpt_chars: 160,
            max_requests: MAX_REQUESTS,
        }
    }
}

/// HTTP requests one check may hand out, redirects included. The longest
/// honest climb makes about 32: discover, initialize and the HTTP+SSE
/// fallback (3), `notifications/initialized`, 20 `tools/list` pages, the safe
/// call and a DELETE of the session (23), or instead the route search (up to
/// 12), plus the auth discovery (3 protected-resource candidates and 3
/// authorization-server names). 64 leaves room for a redirect on most of
/// them and still bounds what one check can make a public checker send.
pub(crate) const MAX_REQUESTS: u32 = 64;
