//! Start here: the fleet's certificates, generated fresh at every start with
//! rcgen (ECDSA P-256, a few milliseconds each). One test CA, whose PEM the
//! probe is given with `--cacert`, issues the good, expired and wrong-name
//! leaves; a second CA that nobody is told about issues the unknown-issuer
//! leaf. Each TLS scenario gets its own rustls `ServerConfig`.

use std::sync::Arc;

use anyhow::Context;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

/// Which leaf a TLS scenario presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CertKind {
    /// From the test CA, for 127.0.0.1 and localhost, valid now.
    Good,
    /// From the test CA, for 127.0.0.1 and localhost, not_after in 2021.
    Expired,
    /// From a CA that is not in the PEM the probe trusts.
    UnknownIssuer,
    /// From the test CA, but only for other.example.
    NameMismatch,
}

/// The generated CA and the acceptors built from it.
pub(crate) struct Certs {
    /// PEM of the test CA (what `--cacert` reads).
    pub ca_pem: String,
    good: TlsAcceptor,
    expired: TlsAcceptor,
    unknown_issuer: TlsAcceptor,
    name_mismatch: TlsAcceptor,
}

impl Certs {
    pub fn generate() -> anyhow::Result<Certs> {
        let (ca_pem, ca) = new_ca("mcprobe fleet test CA")?;
        let (_, stranger) = new_ca("mcprobe fleet stranger CA (not trusted)")?;
        let local = ["127.0.0.1", "localhost"];
        // Validity in whole years (Jan 1st to Jan 1st): long enough for any
        // test run, short of rcgen's default year 4096, which some verifiers
        // reject as absurd; the expired one ended in 2021.
        let valid = (2020, 2100);
        let expired = (2020, 2021);
        Ok(Certs {
            ca_pem,
            good: acceptor(leaf(&local, valid, &ca)?)?,
            expired: acceptor(leaf(&local, expired, &ca)?)?,
            unknown_issuer: acceptor(leaf(&local, valid, &stranger)?)?,
            name_mismatch: acceptor(leaf(&["other.example"], valid, &ca)?)?,
        })
    }

    pub fn acceptor(&self, kind: CertKind) -> TlsAcceptor {
        match kind {
            CertKind::Good => self.good.clone(),
            CertKind::Expired => self.expired.clone(),
            CertKind::UnknownIssuer => self.unknown_issuer.clone(),
            CertKind::NameMismatch => self.name_mismatch.clone(),
        }
    }
}

fn new_ca(common_name: &str) -> anyhow::Result<(String, Issuer<'static, KeyPair>)> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
    ];
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2099, 12, 31);
    let key = KeyPair::generate().context("generating a CA key")?;
    let cert = params.self_signed(&key).context("self-signing the CA")?;
    Ok((cert.pem(), Issuer::new(params, key)))
}

/// A leaf's DER and its PKCS#8 key.
struct Leaf {
    cert: CertificateDer<'static>,
    key: Vec<u8>,
}

fn leaf(
    names: &[&str],
    (from_year, to_year): (i32, i32),
    issuer: &Issuer<'static, KeyPair>,
) -> anyhow::Result<Leaf> {
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())?;
    params.distinguished_name.push(
        DnType::CommonName,
        names.first().copied().unwrap_or("fleet"),
    );
    params.use_authority_key_identifier_extension = true;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.not_before = rcgen::date_time_ymd(from_year, 1, 1);
    params.not_after = rcgen::date_time_ymd(to_year, 1, 1);
    let key = KeyPair::generate().context("generating a leaf key")?;
    let cert = params.signed_by(&key, issuer).context("signing a leaf")?;
    Ok(Leaf {
        cert: cert.der().clone(),
        key: key.serialize_der(),
    })
}

fn acceptor(leaf: Leaf) -> anyhow::Result<TlsAcceptor> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf.key));
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![leaf.cert], key)
        .context("building a TLS server config")?;
    // HTTP/1.1 only: the server side speaks nothing else.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
