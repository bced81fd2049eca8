//! Start here: which addresses a probe may reach when the URL came from a
//! stranger (the public `/api/check`, a registry listing).
//!
//! A URL typed by someone else must not turn mcprobe into a proxy towards
//! addresses that are not the public internet: private networks, loopback,
//! link-local, the cloud metadata services, and the IPv6 spellings that reach
//! any of those through an embedded IPv4 address. One policy serves every
//! host: the Worker judges the URL (it has no resolver), the CLI's `scan`
//! judges the URL and then every address its own resolver returns (a public
//! name that resolves to 127.0.0.1 is refused like 127.0.0.1).
//!
//! Pure: no I/O, no resolver; the host hands in a parsed URL, a host string or
//! an [`IpAddr`].

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// Why a target is refused (the `error` text says which rule, the hint what to do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not http or https (HTTP 400: the request itself is wrong).
    Scheme,
    /// 127/8, ::1, `localhost` and its aliases.
    Loopback,
    /// 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7, fec0::/10,
    /// 64:ff9b:1::/48 (local-use NAT64), `*.internal`, `*.local`, `home.arpa`.
    Private,
    /// 169.254/16, fe80::/10.
    LinkLocal,
    /// 169.254.169.254 and its kin, fd00:ec2::254, `metadata.google.internal`,
    /// `instance-data`.
    Metadata,
    /// 0/8, 192.0.0/24, the documentation and benchmarking ranges,
    /// multicast, broadcast, reserved, `::`: nothing public listens there.
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

    /// A short stable name (`loopback`, `private`...), for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Scheme => "scheme",
            Refusal::Loopback => "loopback",
            Refusal::Private => "private",
            Refusal::LinkLocal => "link_local",
            Refusal::Metadata => "metadata",
            Refusal::NotPublic => "not_public",
        }
    }
}

/// The policy in force. The default refuses everything that is not public.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    /// Loopback allowed (the Worker's dev-only `ALLOW_LOOPBACK`).
    pub allow_loopback: bool,
    /// Loopback, private and link-local allowed (`mcprobe scan
    /// --allow-private`, an internal registry scanned on purpose). Metadata
    /// services and addresses nothing public listens on stay refused: no MCP
    /// server lives there, and a listing naming them is an attack.
    pub allow_private: bool,
}

impl Policy {
    /// Public addresses only.
    pub const PUBLIC: Policy = Policy {
        allow_loopback: false,
        allow_private: false,
    };

    /// Judges a parsed URL: its scheme, then its host (a literal address in
    /// every spelling the WHATWG parser accepts, or a name).
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
        self.verdict(refusal)
    }

    /// Judges a URL string; one that does not parse is refused as not public.
    pub fn check_str(self, url: &str) -> Result<(), Refusal> {
        match Url::parse(url) {
            Ok(u) => self.check(&u),
            Err(_) => Err(Refusal::NotPublic),
        }
    }

    /// Judges one resolved address.
    pub fn check_ip(self, ip: IpAddr) -> Result<(), Refusal> {
        self.verdict(classify_ip(ip))
    }

    fn verdict(self, refusal: Option<Refusal>) -> Result<(), Refusal> {
        match refusal {
            None => Ok(()),
            Some(Refusal::Loopback) if self.allow_loopback || self.allow_private => Ok(()),
            Some(Refusal::Private | Refusal::LinkLocal) if self.allow_private => Ok(()),
            Some(r) => Err(r),
        }
    }
}

/// What is wrong with an address, whatever the policy (`None`: public).
pub fn classify_ip(ip: IpAddr) -> Option<Refusal> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

/// Loopback names besides `localhost` and `*.localhost` (RFC 6761): the
/// aliases distributions put in `/etc/hosts`.
const LOOPBACK_NAMES: [&str; 8] = [
    "localhost.localdomain",
    "localhost4",
    "localhost4.localdomain4",
    "localhost6",
    "localhost6.localdomain6",
    "ip6-localhost",
    "ip6-loopback",
    "loopback",
];

/// Names of cloud metadata services (GCP, AWS, the short forms their
/// resolvers answer).
const METADATA_NAMES: [&str; 6] = [
    "metadata",
    "metadata.google.internal",
    "metadata.goog",
    "instance-data",
    "instance-data.ec2.internal",
    "metadata.azure.internal",
];

/// What is wrong with a host name, whatever it resolves to (`None`: it may be
/// public; the host still judges the addresses it resolves to).
pub fn classify_name(name: &str) -> Option<Refusal> {
    let lower = name.to_ascii_lowercase();
    // A trailing dot is the same name.
    let name = lower.strip_suffix('.').unwrap_or(&lower);
    if name == "localhost" || name.ends_with(".localhost") || LOOPBACK_NAMES.contains(&name) {
        return Some(Refusal::Loopback);
    }
    if METADATA_NAMES.contains(&name) {
        return Some(Refusal::Metadata);
    }
    // Names only a private network resolves: `.internal` (reserved for
    // private use), `.local` (mDNS, RFC 6762), `home.arpa` (RFC 8375).
    let private_suffix = |s: &str| name == s || name.ends_with(&format!(".{s}"));
    if private_suffix("internal") || private_suffix("local") || private_suffix("home.arpa") {
        return Some(Refusal::Private);
    }
    None
}

/// What is wrong with an IPv4 address (`None`: public).
pub fn classify_v4(ip: Ipv4Addr) -> Option<Refusal> {
    let [a, b, c, d] = ip.octets();
    if matches!(
        [a, b, c, d],
        // AWS / GCP / Azure / OpenStack, the ECS task endpoint, Oracle's
        // legacy one, Alibaba's.
        [169, 254, 169, 254] | [169, 254, 170, 2] | [192, 0, 0, 192] | [100, 100, 100, 200]
    ) {
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
    let not_public = a == 0 // "this network": 0.0.0.0 reaches localhost on Linux
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments (RFC 6890)
        || (a == 192 && b == 0 && c == 2) // TEST-NET-1
        || (a == 198 && (b & 0xfe) == 18) // benchmarking, 198.18/15 (RFC 2544)
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3
        || a >= 224; // multicast, reserved, broadcast
    not_public.then_some(Refusal::NotPublic)
}

/// The IPv4 address in the low 32 bits.
fn low_v4(seg: &[u16; 8]) -> Ipv4Addr {
    Ipv4Addr::from((u32::from(seg[6]) << 16) | u32::from(seg[7]))
}

/// What is wrong with an IPv6 address (`None`: public). Every form that
/// carries an IPv4 address to a translator or tunnel is judged by that
/// IPv4 address.
pub fn classify_v6(ip: Ipv6Addr) -> Option<Refusal> {
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
    if seg[..5] == [0; 5] && seg[5] == 0xffff {
        // IPv4-mapped ::ffff:a.b.c.d: the IPv4 address itself.
        return classify_v4(low_v4(&seg));
    }
    if seg[..6] == [0; 6] {
        // IPv4-compatible ::a.b.c.d (deprecated; some stacks still route it
        // to the IPv4 address). One of a public IPv4 is no public IPv6
        // address either.
        return Some(classify_v4(low_v4(&seg)).unwrap_or(Refusal::NotPublic));
    }
    if seg[..4] == [0; 4] && seg[4] == 0xffff && seg[5] == 0 {
        // IPv4-translated ::ffff:0:a.b.c.d (SIIT, RFC 2765).
        return classify_v4(low_v4(&seg));
    }
    if seg[0] == 0x0064 && seg[1] == 0xff9b && seg[2..6] == [0, 0, 0, 0] {
        // NAT64, the well-known prefix 64:ff9b::/96 (RFC 6052).
        return classify_v4(low_v4(&seg));
    }
    if seg[0] == 0x0064 && seg[1] == 0xff9b && seg[2] == 1 {
        // Local-use NAT64 64:ff9b:1::/48 (RFC 8215): some network's own
        // translator, never a public address, whatever it wraps.
        return Some(classify_v4(low_v4(&seg)).unwrap_or(Refusal::Private));
    }
    if seg[0] == 0x2002 {
        // 6to4 (RFC 3056): 2002:AABB:CCDD::/48 tunnels to a.b.c.d.
        let v4 = Ipv4Addr::from((u32::from(seg[1]) << 16) | u32::from(seg[2]));
        return classify_v4(v4);
    }
    if seg[0] == 0x2001 && seg[1] == 0 {
        // Teredo (RFC 4380): the client's IPv4 address, inverted, in the low
        // 32 bits; the server's in segments 2 and 3.
        let client = Ipv4Addr::from(!u32::from(low_v4(&seg)));
        let server = Ipv4Addr::from((u32::from(seg[2]) << 16) | u32::from(seg[3]));
        return classify_v4(client).or_else(|| classify_v4(server));
    }
    if seg[0] == 0x2001 && seg[1] == 0x0db8 {
        // Documentation (RFC 3849).
        return Some(Refusal::NotPublic);
    }
    if seg[0] == 0x0100 && seg[1..4] == [0, 0, 0] {
        // Discard-only (RFC 6666).
        return Some(Refusal::NotPublic);
    }
    if seg[0] & 0xfe00 == 0xfc00 || seg[0] & 0xffc0 == 0xfec0 {
        // Unique local (fc00::/7) and the deprecated site-local fec0::/10.
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
        Policy {
            allow_loopback,
            allow_private: false,
        }
        .check_str(url)
    }

    #[test]
    fn public_targets_pass() {
        for url in [
            "https://example.com/mcp",
            "http://93.184.215.14:8080/mcp",
            "https://[2606:4700::1111]/mcp",
            "https://172.32.0.1/",  // just outside 172.16/12
            "https://100.128.0.1/", // just outside 100.64/10
            "https://198.20.0.1/",  // just outside 198.18/15
            "https://192.0.1.1/",   // just outside 192.0.0/24
            "https://metadata.example.com/",
            "https://localhost.example.com/",
            "https://internal.example.com/",
            "https://[2002:5db8:d70e::1]/",    // 6to4 of 93.184.215.14
            "https://[64:ff9b::5db8:d70e]/",   // NAT64 of 93.184.215.14
            "https://[::ffff:0:5db8:d70e]/",   // translated 93.184.215.14
            "https://[::ffff:93.184.215.14]/", // mapped 93.184.215.14
            "https://[2001:4860:4860::8888]/", // a plain global address
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
            ("http://[fec0::1]/", Refusal::Private),
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
            ("http://100.100.100.200/", Refusal::Metadata),
            ("http://192.0.0.192/", Refusal::Metadata),
            ("http://0.0.0.0:8080/", Refusal::NotPublic),
            ("http://224.0.0.1/", Refusal::NotPublic),
            ("http://255.255.255.255/", Refusal::NotPublic),
            ("http://[::]/", Refusal::NotPublic),
            ("http://[ff02::1]/", Refusal::NotPublic),
            ("http://198.18.0.1/", Refusal::NotPublic),
            ("http://198.19.255.254/", Refusal::NotPublic),
            ("http://192.0.0.1/", Refusal::NotPublic),
            ("http://192.0.0.170/", Refusal::NotPublic),
            ("http://192.0.2.1/", Refusal::NotPublic),
            ("http://198.51.100.7/", Refusal::NotPublic),
            ("http://203.0.113.9/", Refusal::NotPublic),
            ("http://[2001:db8::1]/", Refusal::NotPublic),
            ("http://[100::1]/", Refusal::NotPublic),
        ];
        for (url, want) in cases {
            assert_eq!(judge(url, false), Err(want), "{url}");
            assert_eq!(want.status(), 422, "{url}");
        }
    }

    #[test]
    fn loopback_and_metadata_aliases_are_refused() {
        for (name, want) in [
            ("localhost.localdomain", Refusal::Loopback),
            ("ip6-localhost", Refusal::Loopback),
            ("ip6-loopback", Refusal::Loopback),
            ("localhost6", Refusal::Loopback),
            ("localhost4.localdomain4", Refusal::Loopback),
            ("Localhost.Localdomain.", Refusal::Loopback),
            ("instance-data", Refusal::Metadata),
            ("instance-data.ec2.internal", Refusal::Metadata),
            ("metadata.goog", Refusal::Metadata),
            ("metadata", Refusal::Metadata),
            ("db.internal", Refusal::Private),
            ("printer.local", Refusal::Private),
            ("nas.home.arpa", Refusal::Private),
        ] {
            assert_eq!(
                judge(&format!("http://{name}/mcp"), false),
                Err(want),
                "{name}"
            );
            assert_eq!(classify_name(name), Some(want), "{name}");
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
    fn ipv6_forms_that_wrap_an_ipv4_address_are_judged_by_it() {
        for (url, want) in [
            // IPv4-compatible.
            ("http://[::7f00:1]/", Refusal::Loopback),
            ("http://[::127.0.0.1]/", Refusal::Loopback),
            ("http://[::a9fe:a9fe]/", Refusal::Metadata),
            ("http://[::a00:1]/", Refusal::Private),
            // ...of a public IPv4: no public IPv6 address either.
            ("http://[::5db8:d70e]/", Refusal::NotPublic),
            // IPv4-translated.
            ("http://[::ffff:0:7f00:1]/", Refusal::Loopback),
            ("http://[::ffff:0:a9fe:a9fe]/", Refusal::Metadata),
            ("http://[::ffff:0:c0a8:101]/", Refusal::Private),
            // 6to4.
            ("http://[2002:7f00:1::]/", Refusal::Loopback),
            ("http://[2002:a00:1::1]/", Refusal::Private),
            ("http://[2002:a9fe:a9fe::]/", Refusal::Metadata),
            ("http://[2002:c0a8:101:1::1]/", Refusal::Private),
            // NAT64, well-known and local-use.
            ("http://[64:ff9b::7f00:1]/", Refusal::Loopback),
            ("http://[64:ff9b:1::a9fe:a9fe]/", Refusal::Metadata),
            ("http://[64:ff9b:1::a00:1]/", Refusal::Private),
            ("http://[64:ff9b:1::5db8:d70e]/", Refusal::Private),
            // Teredo whose client (inverted) is 10.0.0.1.
            ("http://[2001:0:5db8:d70e::f5ff:fffe]/", Refusal::Private),
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
            "http://ip6-localhost/",
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
    fn allow_private_opens_private_networks_but_never_metadata() {
        let p = Policy {
            allow_loopback: false,
            allow_private: true,
        };
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.9",
            "169.254.3.4",
            "fd12::1",
        ] {
            assert_eq!(p.check_ip(ip.parse().unwrap()), Ok(()), "{ip}");
        }
        for (ip, want) in [
            ("169.254.169.254", Refusal::Metadata),
            ("fd00:ec2::254", Refusal::Metadata),
            ("0.0.0.0", Refusal::NotPublic),
            ("224.0.0.1", Refusal::NotPublic),
        ] {
            assert_eq!(p.check_ip(ip.parse().unwrap()), Err(want), "{ip}");
        }
        assert_eq!(
            Policy::PUBLIC.check_ip("::1".parse().unwrap()),
            Err(Refusal::Loopback)
        );
    }

    #[test]
    fn an_unparsable_url_is_refused() {
        assert_eq!(judge("not a url", true), Err(Refusal::NotPublic));
    }
}
