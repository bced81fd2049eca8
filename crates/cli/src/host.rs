//! Start here: the native host of the core probe loop
//! (`mcprobe_core::drive`, the same loop the page and the Worker run). Each
//! HTTP exchange is a reqwest request streaming its body back; each connect
//! preflight resolves, connects and handshakes (DNS, TCP, TLS, each timed),
//! which a browser or a Worker cannot; a cancelled exchange is dropped, and
//! with it its connection. The probe, not this file, decides everything;
//! this file only does I/O.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream::{self, BoxStream, StreamExt};
use mcprobe_core::drive::{self, Event, Host, Response};
use mcprobe_core::http::{
    ConnectReport, ConnectRequest, ExchangeId, Headers, HttpRequest, Method, TlsErrorKind,
    TransportError,
};
use mcprobe_core::{Probe, Verdict};

use crate::tls::TlsSetup;

/// Network settings of the host (from the command line).
#[derive(Clone)]
pub struct NetConfig {
    pub tls: TlsSetup,
    /// `--resolve HOST:PORT:ADDR` pins.
    pub resolve: Vec<(String, u16, SocketAddr)>,
    /// `scan`'s address policy, applied to every URL fetched and every
    /// address connected to (`None`: `check` and `watch`, whose URLs are the
    /// operator's own).
    pub guard: Option<Arc<crate::guard::Guard>>,
}

/// Milliseconds since the host loop started: the probe's clock.
pub struct Clock(Instant);

impl Clock {
    pub fn start() -> Clock {
        Clock(Instant::now())
    }
    pub fn now_ms(&self) -> u64 {
        u64::try_from(self.0.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
    pub fn instant_at(&self, ms: u64) -> tokio::time::Instant {
        tokio::time::Instant::from_std(self.0 + Duration::from_millis(ms))
    }
}

/// Runs an HTTP probe to its verdict.
pub async fn run_http(
    probe: Probe,
    clock: &Clock,
    net: &NetConfig,
) -> anyhow::Result<(Verdict, Option<mcprobe_core::fingerprint::Snapshot>)> {
    let client = build_client(net)?;
    run_http_with(probe, clock, net, &client, &mut |_, _| {}).await
}

/// [`run_http`] over a client the caller keeps (`scan` shares one across its
/// probes), telling `on_head` the status and headers of every response the
/// probe gets (`scan` watches for 429 and its `Retry-After`).
pub async fn run_http_with(
    probe: Probe,
    clock: &Clock,
    net: &NetConfig,
    client: &reqwest::Client,
    on_head: &mut (dyn FnMut(u16, &Headers) + Send),
) -> anyhow::Result<(Verdict, Option<mcprobe_core::fingerprint::Snapshot>)> {
    let mut native = Native {
        clock,
        net,
        client,
        on_head,
    };
    match drive::run(probe, &mut native).await {
        Ok(done) => Ok(done),
        Err(never) => match never {},
    }
}

/// This process as the probe loop's host.
struct Native<'a> {
    clock: &'a Clock,
    net: &'a NetConfig,
    client: &'a reqwest::Client,
    on_head: &'a mut (dyn FnMut(u16, &Headers) + Send),
}

impl Host for Native<'_> {
    type Stop = std::convert::Infallible;
    type Exchange = BoxStream<'static, Event>;

    fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    fn sleep(&self, ms: u64) -> impl std::future::Future<Output = ()> {
        tokio::time::sleep(Duration::from_millis(ms))
    }

    fn send(
        &mut self,
        _: ExchangeId,
        request: HttpRequest,
    ) -> Result<Self::Exchange, TransportError> {
        if let Some(guard) = &self.net.guard {
            guard.check_fetch(&request.url)?;
        }
        Ok(perform(request, self.client.clone()).boxed())
    }

    fn connect(
        &mut self,
        _: ExchangeId,
        request: ConnectRequest,
    ) -> Result<Self::Exchange, TransportError> {
        let net = self.net.clone();
        let preflight = async move {
            match preflight(&request, &net).await {
                Ok(report) => Event::Connected(report),
                Err(e) => Event::Error(e),
            }
        };
        Ok(stream::once(preflight).boxed())
    }

    fn observe(&mut self, _: ExchangeId, event: &Event, _: u64) {
        if let Event::Head { status, headers } = event {
            (self.on_head)(*status, headers);
        }
    }
}

/// The reqwest client a probe's requests go through: no redirects followed
/// (the probe follows them itself), no proxy, `--cacert` and `--resolve` applied.
///
/// Compressed answers are read as real clients read them: every request says
/// `Accept-Encoding: gzip, br, deflate` and reqwest decodes the body as it
/// streams, so the probe sees (and its body cap counts) decoded bytes; a gzip
/// bomb is over the cap after 4 MiB of output, whatever its size on the wire.
pub fn build_client(net: &NetConfig) -> anyhow::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .gzip(true)
        .brotli(true)
        .deflate(true)
        .use_preconfigured_tls((*net.tls.client_config()).clone())
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .pool_max_idle_per_host(4);
    if let Some(guard) = &net.guard {
        // The guard's resolver applies the pins itself: reqwest's overrides
        // would bypass it.
        builder = builder.dns_resolver(guard.resolver());
    } else {
        for (host, port, addr) in &net.resolve {
            let _ = port;
            builder = builder.resolve(host, *addr);
        }
    }
    Ok(builder.build()?)
}

/// One HTTP exchange through reqwest; dropping it drops the connection.
fn perform(
    request: HttpRequest,
    client: reqwest::Client,
) -> impl futures_util::Stream<Item = Event> {
    let method = match request.method {
        Method::Get => reqwest::Method::GET,
        Method::Post => reqwest::Method::POST,
        Method::Delete => reqwest::Method::DELETE,
    };
    let mut rb = client.request(method, &request.url);
    for (k, v) in &request.headers {
        rb = rb.header(k.as_str(), v.as_str());
    }
    if let Some(body) = request.body {
        rb = rb.body(body);
    }
    let send = async move {
        let response = rb
            .send()
            .await
            .map_err(|e| Event::Error(map_reqwest_error(&e)))?;
        let headers: Headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let status = response.status().as_u16();
        let body = response
            .bytes_stream()
            .map(|chunk| chunk.map(|b| b.to_vec()).map_err(|e| map_reqwest_error(&e)));
        Ok(Response {
            status,
            headers,
            body: Some(body),
        })
    };
    drive::exchange(send, || {})
}

/// The connect preflight: DNS, TCP, TLS, each timed, then closed.
async fn preflight(req: &ConnectRequest, net: &NetConfig) -> Result<ConnectReport, TransportError> {
    let t0 = Instant::now();
    let pinned = net
        .resolve
        .iter()
        .find(|(h, p, _)| h.eq_ignore_ascii_case(&req.host) && *p == req.port)
        .map(|(_, _, a)| *a);
    let addrs: Vec<SocketAddr> = match pinned {
        Some(a) => vec![a],
        None => match req.host.parse::<std::net::IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, req.port)],
            Err(_) => match tokio::net::lookup_host((req.host.as_str(), req.port)).await {
                Ok(it) => it.collect(),
                Err(e) => {
                    return Err(TransportError::Dns {
                        message: e.to_string(),
                    })
                }
            },
        },
    };
    if addrs.is_empty() {
        return Err(TransportError::Dns {
            message: "no A or AAAA record".into(),
        });
    }
    if let Some(guard) = &net.guard {
        guard.check_connect(&req.host, &addrs)?;
    }
    let dns_ms = ms_since(t0);
    let t1 = Instant::now();
    let mut last_err = None;
    let mut stream = None;
    for addr in &addrs {
        match tokio::net::TcpStream::connect(addr).await {
            Ok(s) => {
                stream = Some((s, *addr));
                break;
            }
            Err(e) => last_err = Some((e, *addr)),
        }
    }
    let (stream, addr) = match (stream, last_err) {
        (Some(s), _) => s,
        (None, Some((e, addr))) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            return Err(TransportError::Refused {
                address: addr.to_string(),
            })
        }
        (None, Some((e, addr))) => {
            return Err(TransportError::Connection {
                message: format!("{addr}: {e}"),
            })
        }
        (None, None) => {
            return Err(TransportError::Dns {
                message: "no address".into(),
            })
        }
    };
    let tcp_ms = ms_since(t1);
    let mut report = ConnectReport {
        dns_ms,
        tcp_ms,
        tls_ms: None,
        address: addr.to_string(),
        ..Default::default()
    };
    if req.tls {
        let t2 = Instant::now();
        let name = rustls::pki_types::ServerName::try_from(req.host.clone()).map_err(|e| {
            TransportError::Tls {
                tls: TlsErrorKind::NameMismatch,
                message: e.to_string(),
                not_after: None,
            }
        })?;
        let connector = tokio_rustls::TlsConnector::from(net.tls.client_config());
        match connector.connect(name, stream).await {
            Ok(tls) => {
                let (_, conn) = tls.get_ref();
                report.tls_version = conn.protocol_version().map(|v| match v {
                    rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".to_string(),
                    rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".to_string(),
                    other => format!("{other:?}"),
                });
                report.cert_not_after = conn
                    .peer_certificates()
                    .and_then(|c| c.first())
                    .and_then(|c| crate::tls::not_after(c.as_ref()));
                report.tls_ms = Some(ms_since(t2));
            }
            Err(e) => return Err(crate::tls::map_io_tls_error(&e)),
        }
    }
    Ok(report)
}

fn ms_since(t: Instant) -> u64 {
    u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Maps a reqwest error to the core's vocabulary by walking its source chain.
fn map_reqwest_error(e: &reqwest::Error) -> TransportError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut text = e.to_string();
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return TransportError::Refused {
                    address: e
                        .url()
                        .map(|u| u.authority().to_string())
                        .unwrap_or_default(),
                };
            }
            if let Some(t) = crate::tls::from_io(io) {
                return t;
            }
        }
        if let Some(r) = s.downcast_ref::<rustls::Error>() {
            return crate::tls::map_rustls_error(r);
        }
        let msg = s.to_string();
        if msg.contains("dns error") || msg.contains("failed to lookup address") {
            return TransportError::Dns { message: msg };
        }
        text = msg;
        source = s.source();
    }
    if e.is_timeout() {
        return TransportError::Timeout;
    }
    TransportError::Connection { message: text }
}

/// Keeps the `Arc` import honest for the TLS setup users.
#[allow(dead_code)]
type SharedConfig = Arc<rustls::ClientConfig>;
