//! Start here: the TLS side of the native host: a rustls client config (the
//! Mozilla roots from webpki-roots plus any `--cacert`), mapping rustls errors
//! to the core's TLS error kinds, and reading a certificate's not-after.

use std::sync::Arc;

use mcprobe_core::http::{TlsErrorKind, TransportError};
use rustls::CertificateError;

/// The client TLS configuration shared by the preflight and reqwest.
#[derive(Clone)]
pub struct TlsSetup {
    config: Arc<rustls::ClientConfig>,
}

impl TlsSetup {
    /// Builds the config; `extra_ca_pem` is the content of a `--cacert` file.
    pub fn new(extra_ca_pem: Option<&[u8]>) -> anyhow::Result<TlsSetup> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(pem) = extra_ca_pem {
            let mut reader = std::io::BufReader::new(pem);
            let mut added = 0;
            for cert in rustls_pemfile::certs(&mut reader) {
                let cert =
                    cert.map_err(|e| anyhow::anyhow!("the CA file is not valid PEM: {e}"))?;
                roots.add(cert).map_err(|e| {
                    anyhow::anyhow!("the CA file holds a certificate rustls rejects: {e}")
                })?;
                added += 1;
            }
            if added == 0 {
                anyhow::bail!(
                    "the CA file holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)"
                );
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| anyhow::anyhow!("TLS setup failed: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(TlsSetup {
            config: Arc::new(config),
        })
    }

    pub fn client_config(&self) -> Arc<rustls::ClientConfig> {
        self.config.clone()
    }
}

/// A rustls error in an io::Error (as tokio-rustls reports them)?
pub fn from_io(io: &std::io::Error) -> Option<TransportError> {
    io.get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .map(map_rustls_error)
}

pub fn map_io_tls_error(io: &std::io::Error) -> TransportError {
    from_io(io).unwrap_or_else(|| TransportError::Tls {
        tls: TlsErrorKind::Handshake,
        message: io.to_string(),
        not_after: None,
    })
}

pub fn map_rustls_error(e: &rustls::Error) -> TransportError {
    let (kind, not_after) = match e {
        rustls::Error::InvalidCertificate(c) => match c {
            CertificateError::Expired => (TlsErrorKind::Expired, None),
            CertificateError::ExpiredContext { not_after, .. } => (
                TlsErrorKind::Expired,
                Some(crate::time::rfc3339(not_after.as_secs())),
            ),
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                (TlsErrorKind::NotYetValid, None)
            }
            CertificateError::UnknownIssuer => (TlsErrorKind::UnknownIssuer, None),
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                (TlsErrorKind::NameMismatch, None)
            }
            CertificateError::Revoked => (TlsErrorKind::Revoked, None),
            _ => (TlsErrorKind::Other, None),
        },
        rustls::Error::AlertReceived(_)
        | rustls::Error::InappropriateHandshakeMessage { .. }
        | rustls::Error::InappropriateMessage { .. }
        | rustls::Error::PeerIncompatible(_)
        | rustls::Error::PeerMisbehaved(_)
        | rustls::Error::InvalidMessage(_) => (TlsErrorKind::Handshake, None),
        _ => (TlsErrorKind::Other, None),
    };
    TransportError::Tls {
        tls: kind,
        message: e.to_string(),
        not_after,
    }
}

/// The not-after of a DER X.509 certificate, RFC 3339; `None` if unreadable.
/// A tiny DER walk (Certificate -> tbsCertificate -> validity) instead of a
/// whole X.509 crate for one field.
pub fn not_after(der: &[u8]) -> Option<String> {
    let (cert, _) = der_item(der, 0x30)?;
    let (tbs, _) = der_item(cert, 0x30)?;
    let mut rest = tbs;
    if rest.first() == Some(&0xa0) {
        rest = der_skip(rest)?;
    }
    rest = der_skip(rest)?; // serialNumber
    rest = der_skip(rest)?; // signature
    rest = der_skip(rest)?; // issuer
    let (validity, _) = der_item(rest, 0x30)?;
    let after_before = der_skip(validity)?;
    let tag = *after_before.first()?;
    let (time, _) = der_item(after_before, tag)?;
    let text = std::str::from_utf8(time).ok()?;
    let full = match tag {
        0x17 if text.len() >= 12 => {
            let yy: u32 = text[0..2].parse().ok()?;
            let century = if yy >= 50 { "19" } else { "20" };
            format!("{century}{text}")
        }
        0x18 => text.to_string(),
        _ => return None,
    };
    let b = full.as_bytes();
    if b.len() < 14 || !b[..14].iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(format!(
        "{}-{}-{}T{}:{}:{}Z",
        &full[0..4],
        &full[4..6],
        &full[6..8],
        &full[8..10],
        &full[10..12],
        &full[12..14]
    ))
}

/// Reads one DER item with the expected tag: (content, rest).
fn der_item(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    if *input.first()? != tag {
        return None;
    }
    let (len, header) = der_len(&input[1..])?;
    let start = 1 + header;
    let end = start.checked_add(len)?;
    if end > input.len() {
        return None;
    }
    Some((&input[start..end], &input[end..]))
}

fn der_skip(input: &[u8]) -> Option<&[u8]> {
    let tag = *input.first()?;
    der_item(input, tag).map(|(_, rest)| rest)
}

fn der_len(input: &[u8]) -> Option<(usize, usize)> {
    let first = *input.first()?;
    if first < 0x80 {
        return Some((first as usize, 1));
    }
    let n = (first & 0x7f) as usize;
    if n == 0 || n > 4 || input.len() < 1 + n {
        return None;
    }
    let mut len = 0usize;
    for b in &input[1..=n] {
        len = (len << 8) | *b as usize;
    }
    Some((len, 1 + n))
}
