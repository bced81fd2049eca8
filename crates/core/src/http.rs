//! Start here: the vocabulary between the sans-IO probe and the host that does
//! its I/O: requests to perform, and what came of them (a head, body chunks,
//! an end, or a transport error). Times are milliseconds on the host's
//! monotonic clock, passed in; the core never reads a clock.

use serde::{Deserialize, Serialize};

/// Header list in order; names compared case-insensitively.
pub type Headers = Vec<(String, String)>;

/// Case-insensitive lookup of the first header called `name`.
pub fn header<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Every value of the headers called `name`, joined with ", " (RFC 9110 §5.3).
pub fn header_joined(headers: &Headers, name: &str) -> Option<String> {
    let values: Vec<&str> = headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .collect();
    if values.is_empty() {
        None
    } else {
        Some(values.join(", "))
    }
}

/// Is `b` an RFC 9110 `tchar` (the characters of a header name or token)?
pub fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Is `name` a valid HTTP header name (a non-empty RFC 9110 token)?
pub fn is_header_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(is_tchar)
}

/// Headers the probe or the runtime owns: a value from a caller (a one-off
/// check or a stored monitor) would break every exchange or smuggle something
/// past it. The Worker's `/api/check` and the monitor spec refuse the same set.
pub fn reserved_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(
        n.as_str(),
        "host"
            | "content-length"
            | "transfer-encoding"
            | "connection"
            | "keep-alive"
            | "upgrade"
            | "te"
            | "trailer"
            | "content-type"
            | "accept"
    ) || n.starts_with("cf-")
        || n.starts_with("mcp-")
        || n.starts_with("proxy-")
}

/// Identifies one exchange (a connect preflight or an HTTP request) of a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ExchangeId(pub u32);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Method {
    Get,
    Post,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

/// An HTTP request the host must perform exactly as given: no redirects
/// followed (the probe follows them itself, counted), no cookies, no caching,
/// no automatic decompression beyond what `Accept-Encoding` it sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpRequest {
    pub method: Method,
    pub url: String,
    pub headers: Headers,
    pub body: Option<Vec<u8>>,
}

/// A connect preflight: resolve `host`, open TCP to `port`, and when `tls`,
/// complete a TLS handshake with SNI `host`, then close. It lets the ladder
/// show DNS, TCP and TLS as separate, timed steps. Hosts that cannot do this
/// (a browser) say so in the probe config and never get one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectRequest {
    pub host: String,
    pub port: u16,
    pub tls: bool,
}

/// What a connect preflight measured.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectReport {
    pub dns_ms: u64,
    pub tcp_ms: u64,
    /// `None` for plain http.
    pub tls_ms: Option<u64>,
    /// The address connected to, e.g. `127.0.0.1:8443`.
    pub address: String,
    /// TLS only: the negotiated protocol, e.g. `TLSv1.3`.
    pub tls_version: Option<String>,
    /// TLS only: the leaf certificate's not-after, RFC 3339, where known.
    pub cert_not_after: Option<String>,
}

/// Why a TLS handshake failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsErrorKind {
    Expired,
    NotYetValid,
    UnknownIssuer,
    NameMismatch,
    Revoked,
    /// Handshake-level failure (protocol version, alert, not TLS at all).
    Handshake,
    Other,
}

impl TlsErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TlsErrorKind::Expired => "certificate expired",
            TlsErrorKind::NotYetValid => "certificate not yet valid",
            TlsErrorKind::UnknownIssuer => "unknown issuer",
            TlsErrorKind::NameMismatch => "name mismatch",
            TlsErrorKind::Revoked => "certificate revoked",
            TlsErrorKind::Handshake => "handshake failure",
            TlsErrorKind::Other => "TLS error",
        }
    }
}

/// A failure below HTTP, or a host-side limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TransportError {
    /// The name did not resolve (NXDOMAIN, no A/AAAA).
    Dns { message: String },
    /// Nothing listens there (RST / ECONNREFUSED).
    Refused { address: String },
    /// The TLS handshake failed.
    Tls {
        tls: TlsErrorKind,
        message: String,
        /// The certificate's not-after, RFC 3339, where known.
        not_after: Option<String>,
    },
    /// The host gave up waiting (the probe also enforces its own deadlines).
    Timeout,
    /// The host refused to read more (the probe also enforces its own cap).
    BodyTooLarge,
    /// The connection broke (reset, closed mid-body, protocol error).
    Connection { message: String },
    /// The host could not perform the request at all (blocked by policy, CORS...).
    Other { message: String },
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransportError::Dns { message } => write!(f, "DNS lookup failed: {message}"),
            TransportError::Refused { address } => write!(f, "connection refused by {address}"),
            TransportError::Tls { tls, message, .. } => {
                write!(f, "TLS {}: {message}", tls.as_str())
            }
            TransportError::Timeout => f.write_str("timed out"),
            TransportError::BodyTooLarge => f.write_str("body too large"),
            TransportError::Connection { message } => write!(f, "connection failed: {message}"),
            TransportError::Other { message } => f.write_str(message),
        }
    }
}
