//! Start here: the address guard of `mcprobe scan`.
//!
//! A registry is anyone's server, and what it lists is anyone's URL: probing
//! it blindly would let a listing point the scanner at loopback, a private
//! network or the cloud metadata service, and quote their answers into the
//! report. The guard applies the public checker's policy
//! ([`mcprobe_core::address`]) to the RESOLVED addresses, because the CLI
//! resolves names itself: a public-looking name that resolves to 127.0.0.1
//! (or is pinned there with `--resolve`) is refused like 127.0.0.1.
//!
//! It is applied three times: before an endpoint is probed ([`Guard::admit`]:
//! refused endpoints are reported, not probed); in the host loop to every URL
//! the probe fetches (redirects, alternate routes, the legacy `endpoint`); and
//! in the HTTP client's resolver ([`Guard::resolver`]), so a name that resolves
//! differently the second time (DNS rebinding) still reaches no refused
//! address. `--allow-private` opens loopback, private and link-local ranges
//! (an internal registry scanned on purpose); metadata services stay refused.
//!
//! The registries named on the command line are the operator's choice and are
//! trusted (a registry on 127.0.0.1 can be read); what they list is not.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use mcprobe_core::address::{Policy, Refusal};
use mcprobe_core::http::TransportError;
use url::{Host, Url};

/// The policy, the `--resolve` pins and the trusted hosts.
#[derive(Debug, Clone)]
pub struct Guard {
    policy: Policy,
    pins: Vec<(String, u16, SocketAddr)>,
    /// `host`, `port` of each registry named on the command line.
    trusted: Vec<(String, u16)>,
}

/// Why an endpoint or a connection was refused, for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub refusal: Refusal,
    pub text: String,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for Refused {}

fn refused_text(what: &str, refusal: Refusal) -> String {
    let why = refusal
        .describe()
        .strip_prefix("the URL points at ")
        .unwrap_or(refusal.describe());
    format!("refused by the address policy: {what} is {why}")
}

impl Guard {
    pub fn new(
        policy: Policy,
        pins: Vec<(String, u16, SocketAddr)>,
        trusted_urls: &[String],
    ) -> Guard {
        let trusted = trusted_urls
            .iter()
            .filter_map(|u| {
                let u = Url::parse(u).ok()?;
                Some((
                    u.host_str()?.to_ascii_lowercase(),
                    u.port_or_known_default()?,
                ))
            })
            .collect();
        Guard {
            policy,
            pins,
            trusted,
        }
    }

    /// Whether `host` (on `port`; on any port when `None`, as the HTTP
    /// client's resolver asks without one) is a registry the operator named.
    fn trusts(&self, host: &str, port: Option<u16>) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.trusted.iter().any(|(h, p)| {
            h.trim_start_matches('[')
                .trim_end_matches(']')
                .eq_ignore_ascii_case(host)
                && port.is_none_or(|port| port == *p)
        })
    }

    /// Judges a URL by its scheme and host as written (a literal address or
    /// a name such as `localhost`); `None` when it may be fetched.
    pub fn refuse_url(&self, url: &str) -> Option<Refused> {
        let parsed = Url::parse(url).ok();
        if let Some(u) = &parsed {
            if u.host_str()
                .is_some_and(|h| self.trusts(h, u.port_or_known_default()))
            {
                return None;
            }
        }
        let host = parsed
            .as_ref()
            .and_then(Url::host_str)
            .unwrap_or("the URL")
            .to_string();
        let refusal = self.policy.check_str(url).err()?;
        Some(Refused {
            refusal,
            text: refused_text(&host, refusal),
        })
    }

    /// Judges addresses `host` resolved to: refused when ANY of them is (a
    /// name that answers both public and private addresses is a rebinding
    /// trick, not a server).
    pub fn judge(&self, host: &str, addrs: &[SocketAddr]) -> Result<(), Refused> {
        let port = addrs.first().map(SocketAddr::port).filter(|p| *p != 0);
        if self.trusts(host, port) {
            return Ok(());
        }
        for a in addrs {
            if let Err(refusal) = self.policy.check_ip(a.ip()) {
                return Err(Refused {
                    refusal,
                    text: refused_text(&format!("{host} resolves to {}, which", a.ip()), refusal),
                });
            }
        }
        Ok(())
    }

    /// The `--resolve` pin of `host` (on `port`, or any port when `None`).
    fn pinned(&self, host: &str, port: Option<u16>) -> Option<SocketAddr> {
        self.pins
            .iter()
            .find(|(h, p, _)| h.eq_ignore_ascii_case(host) && port.is_none_or(|port| *p == port))
            .map(|(_, _, a)| *a)
    }

    /// Resolves `host` as the probe will (pins first) and judges every
    /// address.
    async fn lookup(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
        if let Some(a) = self.pinned(host, Some(port)) {
            return Ok(vec![a]);
        }
        Ok(tokio::net::lookup_host((host, port)).await?.collect())
    }

    /// Whether an endpoint may be probed: its URL, then every address its
    /// host resolves to. A name that does not resolve is let through (the
    /// probe reports `dns_unresolved`, as it would for anyone).
    pub async fn admit(&self, url: &str) -> Result<(), Refused> {
        if let Some(r) = self.refuse_url(url) {
            return Err(r);
        }
        let Ok(parsed) = Url::parse(url) else {
            return Ok(());
        };
        let port = parsed.port_or_known_default().unwrap_or(0);
        let host = match parsed.host() {
            Some(Host::Domain(name)) => name.to_string(),
            // A literal is what refuse_url judged, unless a pin redirects it.
            Some(Host::Ipv4(ip)) => ip.to_string(),
            Some(Host::Ipv6(ip)) => ip.to_string(),
            None => return Ok(()),
        };
        let addrs = match host.parse::<IpAddr>() {
            Ok(ip) => vec![self
                .pinned(&host, Some(port))
                .unwrap_or(SocketAddr::new(ip, port))],
            Err(_) => match self.lookup(&host, port).await {
                Ok(a) => a,
                Err(_) => return Ok(()),
            },
        };
        self.judge(&host, &addrs)
    }

    /// The connect preflight's check of the addresses it is about to try.
    pub fn check_connect(&self, host: &str, addrs: &[SocketAddr]) -> Result<(), TransportError> {
        self.judge(host, addrs)
            .map_err(|r| TransportError::Other { message: r.text })
    }

    /// The probe loop's check of a URL it is about to fetch.
    pub fn check_fetch(&self, url: &str) -> Result<(), TransportError> {
        match self.refuse_url(url) {
            None => Ok(()),
            Some(r) => Err(TransportError::Other {
                message: format!("not fetched: {}", r.text),
            }),
        }
    }

    /// A resolver for reqwest that applies the pins and judges what it
    /// resolves (reqwest's own `resolve` overrides would bypass it).
    pub fn resolver(self: &Arc<Guard>) -> Arc<GuardedResolver> {
        Arc::new(GuardedResolver(self.clone()))
    }
}

/// [`Guard`] as reqwest's DNS resolver.
pub struct GuardedResolver(Arc<Guard>);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let guard = self.0.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            // The port is the URL's, filled in by the connector.
            let addrs = match guard.pinned(&host, None) {
                Some(a) => vec![a],
                None => tokio::net::lookup_host((host.as_str(), 0))
                    .await?
                    .collect::<Vec<_>>(),
            };
            guard.judge(&host, &addrs)?;
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(allow_private: bool) -> Guard {
        Guard::new(
            Policy {
                allow_loopback: false,
                allow_private,
            },
            vec![(
                "pinned.example".into(),
                8080,
                "127.0.0.1:9".parse().unwrap(),
            )],
            &["http://127.0.0.1:5000/registry".to_string()],
        )
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn literals_names_and_pins_are_judged_before_a_probe() {
        let g = guard(false);
        let rt = rt();
        for (url, want) in [
            ("http://10.0.0.1/mcp", Refusal::Private),
            ("http://[::7f00:1]/mcp", Refusal::Loopback),
            ("http://169.254.169.254/latest", Refusal::Metadata),
            ("http://localhost.localdomain/mcp", Refusal::Loopback),
            ("http://instance-data/latest", Refusal::Metadata),
            // A public-looking name pinned to loopback: the address decides.
            ("http://pinned.example:8080/mcp", Refusal::Loopback),
        ] {
            let r = rt.block_on(g.admit(url)).expect_err(url);
            assert_eq!(r.refusal, want, "{url}");
            assert!(r.text.starts_with("refused by the address policy"), "{r}");
        }
        let r = rt
            .block_on(g.admit("http://pinned.example:8080/mcp"))
            .unwrap_err();
        assert!(r.text.contains("resolves to 127.0.0.1"), "{r}");
        // Unresolvable names are the probe's to report.
        assert_eq!(
            rt.block_on(g.admit("http://no-such-host.invalid/mcp")),
            Ok(())
        );
        // The registry named on the command line is trusted, what it lists is not.
        assert_eq!(
            g.refuse_url("http://127.0.0.1:5000/registry/v0.1/servers"),
            None
        );
        // ...on its own port only: another port of that host is a listing.
        assert_eq!(
            g.refuse_url("http://127.0.0.1:5001/mcp").map(|r| r.refusal),
            Some(Refusal::Loopback)
        );
    }

    #[test]
    fn allow_private_opens_private_ranges_but_not_metadata() {
        let g = guard(true);
        let rt = rt();
        assert_eq!(
            rt.block_on(g.admit("http://pinned.example:8080/mcp")),
            Ok(())
        );
        assert_eq!(rt.block_on(g.admit("http://10.0.0.1/mcp")), Ok(()));
        let r = rt.block_on(g.admit("http://169.254.169.254/")).unwrap_err();
        assert_eq!(r.refusal, Refusal::Metadata);
    }
}
