//! Start here: which URLs a public `/api/check` may probe.
//!
//! Strangers type these URLs, and the Worker fetches them, so a URL must not
//! turn the Worker into a proxy towards addresses that are not the public
//! internet. The rules themselves (every private, loopback, link-local,
//! metadata and not-public range, the IPv6 forms that wrap an IPv4 address,
//! the localhost and metadata names) live in [`mcprobe_core::address`], the
//! one policy the Worker and `mcprobe scan` share; this module is the
//! Worker's view of it: loopback is the only thing a deployment may open
//! (`ALLOW_LOOPBACK`). The probe host applies it again to every request the
//! probe makes (redirects, alternate routes, the legacy SSE `endpoint`), not
//! only to the URL typed in.
//!
//! What it cannot see: a public name whose DNS points at a private address
//! (the Worker has no resolver API). On Cloudflare's edge such a fetch does not
//! reach anyone's private network anyway; under `wrangler dev` it would, which
//! is one more reason `ALLOW_LOOPBACK` is a dev-only setting.

use url::Url;

pub use mcprobe_core::address::Refusal;

/// The policy in force: `allow_loopback` comes from the `ALLOW_LOOPBACK` var.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    pub allow_loopback: bool,
}

/// The `[vars]` switch that lets the Worker reach loopback (dev and tests only).
pub const ALLOW_LOOPBACK_VAR: &str = "ALLOW_LOOPBACK";

impl Policy {
    /// The deployment's policy: loopback only where `ALLOW_LOOPBACK = "1"`.
    pub fn from_env(env: &worker::Env) -> Policy {
        Policy {
            allow_loopback: env
                .var(ALLOW_LOOPBACK_VAR)
                .map(|v| v.to_string() == "1")
                .unwrap_or(false),
        }
    }

    fn core(self) -> mcprobe_core::address::Policy {
        mcprobe_core::address::Policy {
            allow_loopback: self.allow_loopback,
            allow_private: false,
        }
    }

    /// Judges a parsed URL.
    pub fn check(self, url: &Url) -> Result<(), Refusal> {
        self.core().check(url)
    }

    /// Judges a URL string the probe wants to fetch; one that does not parse
    /// is refused as not public (the core only hands out URLs it built).
    pub fn check_str(self, url: &str) -> Result<(), Refusal> {
        self.core().check_str(url)
    }
}

#[cfg(test)]
mod tests {
    // The ranges are tested where they live (`mcprobe_core::address`); these
    // pin the Worker's view: loopback opens with the flag, nothing else does.
    use super::*;

    #[test]
    fn the_worker_policy_is_the_core_policy_with_loopback_only() {
        let closed = Policy::default();
        let open = Policy {
            allow_loopback: true,
        };
        assert_eq!(closed.check_str("https://example.com/mcp"), Ok(()));
        assert_eq!(
            closed.check_str("http://[::7f00:1]/"),
            Err(Refusal::Loopback)
        );
        assert_eq!(open.check_str("http://[::7f00:1]/"), Ok(()));
        assert_eq!(
            open.check_str("http://198.18.0.1/"),
            Err(Refusal::NotPublic)
        );
        assert_eq!(open.check_str("http://10.0.0.1/"), Err(Refusal::Private));
        assert_eq!(
            open.check_str("http://instance-data/"),
            Err(Refusal::Metadata)
        );
        assert_eq!(closed.check_str("ftp://example.com/"), Err(Refusal::Scheme));
    }
}
