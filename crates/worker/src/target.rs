//! Start here: which URLs a public `/api/check` may probe.
//!
//! Strangers type these URLs, and the Worker fetches them, so a URL must not
//! turn the Worker into a proxy towards addresses that are not the public
//! internet: private networks, loopback, link-local and the cloud metadata
//! services. This module judges a URL by its scheme and its host, a literal IP
//! (in every spelling the WHATWG URL parser accepts: `http://0x7f.1/` is
//! 127.0.0.1) or a name (`localhost`, `metadata.google.internal`). It is pure,
//! so it is unit-tested on the host, and the probe host applies it again to
//! every request the probe makes (redirects, alternate routes, the legacy SSE
//! `endpoint`), not only to the URL typed in.
//!
//! What it cannot see: a public name whose DNS points at a private address
//! (the Worker has no resolver API). On Cloudflare's edge such a fetch does not
//! reach anyone's private network anyway; under `wrangler dev` it would, which
//! is one more reason `ALLOW_LOOPBACK` is a dev-only setting.

use std::net::{Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// Why a target is refused (the `error` text says which rule, the hint what to do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not http or https (HTTP 400: the request itself is wrong).
    Scheme,
    /// 127/8, ::1, `localhost` (allowed with `ALLOW_LOOPBACK = "1"`).
    Loopback,
    /// 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7.
    Private,
    /// 169.254/16, fe80::/10.
    LinkLocal,
    /// 169.254.169.254, fd00:ec2::254, `metadata.google.internal`.
    Metadata,
    /// 0/8, multicast, broadcast, reserved, `::`: nothing public listens there.
    NotPublic,
}

impl Refusal {
    /// The HTTP status `/api/check` answers with.
    pub fn status(self) -> u16 {
        match self {
            Refusal::Scheme => 400,
            _ => 422,
        }
    }

    /// What is wrong, for the `error` field.
    pub fn describe(self) -> &'static str {
        match self {
            Refusal::Scheme => "only http:// and https:// URLs can be checked",
            Refusal::Loopback => "the URL points at a loopback address (127.0.0.0/8, ::1, localhost)",
            Refusal::Private => "the URL points at a private network address (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7)",
            Refusal::LinkLocal => "the URL points at a link-local address (169.254/16, fe80::/10)",
            Refusal::Metadata => "the URL points at a cloud metadata service",
            Refusal::NotPublic => "the URL points at an address that is not on the public internet",
        }
    }

    /// The first thing to try, for the `hint` field.
    pub fn hint(self) -> &'static str {
        match self {
            Refusal::Scheme => "give the server's full http(s) endpoint, e.g. https://example.com/mcp",
            Refusal::Loopback => "to check a server on your own machine, run `mcprobe check URL` locally (or `wrangler dev` with ALLOW_LOOPBACK=1)",
            _ => "the public checker only reaches public servers; run `mcprobe check URL` from inside that network",
        }
    }
}

/// The policy in force: `allow_loopback` comes from the `ALLOW_LOOPBACK` var.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    pub allow_loopback: bool,
}

impl Policy {
    /// Judges a parsed URL.
    pub fn check(self, url: &Url) -> Result<(), Refusal> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refusal::Scheme);
        }
        let refusal = match url.host() {
            // A special scheme always has a host once parsed; be safe anyway.
            None => Some(Refusal::NotPublic),
            Some(Host::Ipv4(ip)) => classify_v4(ip),
            Some(Host::Ipv6(ip)) => classify_v6(ip),
            Some(Host::Domain(name)) => classify_name(name),
        };
        match refusal {
            None => Ok(()),
            Some(Refusal::Loopback) if self.allow_loopback => Ok(()),
            Some(r) => Err(r),
        }
    }

    /// Judges a URL string the probe wants to fetch; one that does not parse
    /// is refused as not public (the core only hands out URLs it built).
    pub fn check_str(self, url: &str) -> Result<(), Refusal> {
        match Url::parse(url) {
            Ok(u) => self.check(&u),
            Err(_) => Err(Refusal::NotPublic),
        }
    }
}

fn classify_name(name: &str) -> Option<Refusal> {
    // The URL parser lowercases names; a trailing dot is the same name.
    let name = name.strip_suffix('.').unwrap_or(name);
    if name == "localhost" || name.ends_with(".localhost") {
        // RFC 6761: every *.localhost name is loopback.
        return Some(Refusal::Loopback);
    }
    if name == "metadata.google.internal" || name == "metadata" {
        return Some(Refusal::Metadata);
    }
    None
}

fn classify_v4(ip: Ipv4Addr) -> Option<Refusal> {
    let [a, b, c, d] = ip.octets();
    if [a, b, c, d] == [169, 254, 169, 254] || [a, b, c, d] == [169, 254, 170, 2] {
        // AWS / GCP / Azure metadata, and the ECS task metadata endpoint.
        return Some(Refusal::Metadata);
    }
    if a == 127 {
        return Some(Refusal::Loopback);
    }
    if a == 10 || (a == 172 && (16..=31).contains(&b)) || (a == 192 && b == 168) {
        return Some(Refusal::Private);
    }
    if a == 100 && (64..=127).contains(&b) {
        // Carrier-grade NAT space (RFC 6598): someone's private network.
        return Some(Refusal::Private);
    }
    if a == 169 && b == 254 {
        return Some(Refusal::LinkLocal);
    }
    if a == 0 || a >= 224 {
        // "This network" (0.0.0.0 reaches localhost on Linux), multicast,
        // reserved and broadcast.
        return Some(Refusal::NotPublic);
    }
    None
}

fn classify_v6(ip: Ipv6Addr) -> Option<Refusal> {
    let seg = ip.segments();
    if ip == Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254) {
        // AWS's IPv6 metadata endpoint (inside fc00::/7, named for the hint).
        return Some(Refusal::Metadata);
    }
    if ip.is_loopback() {
        return Some(Refusal::Loopback);
    }
    if ip.is_unspecified() {
        return Some(Refusal::NotPublic);
    }
    // IPv4 inside IPv6 reaches the IPv4 address: judge that one.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    if seg[0] == 0x0064 && seg[1] == 0xff9b && seg[2..6] == [0, 0, 0, 0] {
        // NAT64 (RFC 6052 well-known prefix 64:ff9b::/96).
        let [.., hi, lo] = seg;
        let v4 = Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
        return classify_v4(v4);
    }
    if seg[0] & 0xfe00 == 0xfc00 {
        return Some(Refusal::Private);
    }
    if seg[0] & 0xffc0 == 0xfe80 {
        return Some(Refusal::LinkLocal);
    }
    if seg[0] & 0xff00 == 0xff00 {
        return Some(Refusal::NotPublic);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judge(url: &str, allow_loopback: bool) -> Result<(), Refusal> {
        Policy { allow_loopback }.check_str(url)
    }

    #[test]
    fn public_targets_pass() {
        for url in [
            "https://example.com/mcp",
            "http://93.184.215.14:8080/mcp",
            "https://[2606:4700::1111]/mcp",
            "https://172.32.0.1/",  // just outside 172.16/12
            "https://100.128.0.1/", // just outside 100.64/10
            "https://metadata.example.com/",
        ] {
            assert_eq!(judge(url, false), Ok(()), "{url}");
        }
    }

    #[test]
    fn schemes_other_than_http_are_a_bad_request() {
        for url in [
            "ftp://example.com/",
            "file:///etc/passwd",
            "gopher://x/",
            "ws://example.com/",
        ] {
            let r = judge(url, true);
            assert_eq!(r, Err(Refusal::Scheme), "{url}");
            assert_eq!(Refusal::Scheme.status(), 400);
        }
    }

    #[test]
    fn every_non_public_range_is_refused_with_its_reason() {
        let cases = [
            ("http://10.0.0.1/", Refusal::Private),
            ("http://10.255.255.255/", Refusal::Private),
            ("http://172.16.0.1/", Refusal::Private),
            ("http://172.31.255.1/", Refusal::Private),
            ("http://192.168.1.1/", Refusal::Private),
            ("http://100.64.0.1/", Refusal::Private),
            ("http://[fc00::1]/", Refusal::Private),
            ("http://[fd12:3456::1]/", Refusal::Private),
            ("http://127.0.0.1/", Refusal::Loopback),
            ("http://127.1.2.3:8080/", Refusal::Loopback),
            ("http://[::1]/", Refusal::Loopback),
            ("http://localhost:3000/mcp", Refusal::Loopback),
            ("http://LOCALHOST./mcp", Refusal::Loopback),
            ("http://api.localhost/", Refusal::Loopback),
            ("http://169.254.1.1/", Refusal::LinkLocal),
            ("http://[fe80::1]/", Refusal::LinkLocal),
            (
                "http://169.254.169.254/latest/meta-data/",
                Refusal::Metadata,
            ),
            (
                "http://metadata.google.internal/computeMetadata/v1/",
                Refusal::Metadata,
            ),
            ("http://[fd00:ec2::254]/", Refusal::Metadata),
            ("http://0.0.0.0:8080/", Refusal::NotPublic),
            ("http://224.0.0.1/", Refusal::NotPublic),
            ("http://255.255.255.255/", Refusal::NotPublic),
            ("http://[::]/", Refusal::NotPublic),
            ("http://[ff02::1]/", Refusal::NotPublic),
        ];
        for (url, want) in cases {
            assert_eq!(judge(url, false), Err(want), "{url}");
            assert_eq!(want.status(), 422, "{url}");
        }
    }

    #[test]
    fn other_spellings_of_an_address_are_judged_as_that_address() {
        // The WHATWG parser normalises these, and fetch() would reach them.
        for (url, want) in [
            ("http://0x7f.1/", Refusal::Loopback),
            ("http://2130706433/", Refusal::Loopback),
            ("http://017700000001/", Refusal::Loopback),
            ("http://0xa9.0xfe.0xa9.0xfe/", Refusal::Metadata),
            ("http://[::ffff:10.0.0.1]/", Refusal::Private),
            ("http://[::ffff:127.0.0.1]/", Refusal::Loopback),
            ("http://[::ffff:169.254.169.254]/", Refusal::Metadata),
            ("http://[64:ff9b::a9fe:a9fe]/", Refusal::Metadata),
            ("http://[64:ff9b::10.1.2.3]/", Refusal::Private),
        ] {
            assert_eq!(judge(url, false), Err(want), "{url}");
        }
    }

    #[test]
    fn allow_loopback_opens_loopback_only() {
        for url in [
            "http://127.0.0.1:9000/mcp",
            "http://[::1]:9000/",
            "http://localhost/",
        ] {
            assert_eq!(judge(url, true), Ok(()), "{url}");
        }
        for (url, want) in [
            ("http://10.0.0.1/", Refusal::Private),
            ("http://169.254.169.254/", Refusal::Metadata),
            ("http://[fe80::1]/", Refusal::LinkLocal),
            ("http://0.0.0.0/", Refusal::NotPublic),
        ] {
            assert_eq!(judge(url, true), Err(want), "{url}");
        }
    }

    #[test]
    fn an_unparsable_url_is_refused() {
        assert_eq!(judge("not a url", true), Err(Refusal::NotPublic));
    }
}
