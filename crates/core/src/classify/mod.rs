//! Start here: recognising what an HTTP answer *is* before reading it as MCP:
//! hosting platforms' sleep / suspended / app-not-found pages (by headers and
//! body, whatever the status code), OAuth challenges (`WWW-Authenticate`,
//! RFC 9728 protected-resource metadata), and auth-flavoured JSON-RPC errors.
//!
//! Everything here is a pure function over bytes the probe already holds; none
//! of it panics on hostile input. The platform rules are deliberately narrow:
//! a platform's routing header on a healthy answer (Vercel's `x-vercel-id`,
//! `server: Netlify`, Fly's `fly-request-id`) is *not* a sleep page, and an
//! answer that is JSON-RPC is never one, so a working server can't be called
//! asleep just because of where it is hosted.

mod challenge;
mod metadata;
mod platform;
mod refusal;

pub use challenge::{parse_www_authenticate, AuthChallenge};
pub use metadata::{
    authorization_server_metadata_urls, parse_authorization_server_metadata,
    parse_resource_metadata, resource_covers, AuthServerMetadata, ResourceMetadata,
};
pub use platform::{detect_platform, PlatformMatch, BODY_PREFIX_MAX, PLATFORMS};
pub use refusal::{body_message, is_auth_message, is_host_refusal, speaks_of_api_key};
