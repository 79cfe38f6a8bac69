//! Strict and relaxed TLS handshakes, recording what the server presented and how it refused.
//!
//! Both modes use one recording verifier around webpki: strict mode returns webpki's verdict,
//! relaxed mode records it and accepts anyway. Relaxed mode exists only to learn what the
//! server presents and whether an insecure fallback would change anything; its connection is
//! never used for MongoDB traffic.

use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use crate::error::AppError;

/// How many of the peer's first bytes are kept as evidence.
const FIRST_BYTES_KEPT: usize = 64;

pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Trust anchors and client identity, loaded once per cluster.
#[derive(Clone)]
pub struct TlsSetup {
    /// webpki over the trust anchors, built once and shared by every handshake.
    verifier: Arc<WebPkiServerVerifier>,
    /// Human description of the trust, for evidence ("Mozilla roots (webpki-roots)", a file).
    pub trust_description: String,
    pub client_key: Option<Arc<CertifiedKey>>,
    /// Certificates the user supplied as trust anchors, to recognise a self-signed leaf that
    /// is deliberately trusted.
    pub supplied_anchors: Vec<CertificateDer<'static>>,
    provider: Arc<CryptoProvider>,
    /// The trust anchors themselves, to learn which one a verified chain ends in.
    roots: Arc<RootCertStore>,
}

impl std::fmt::Debug for TlsSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSetup").field("trust", &self.trust_description).finish_non_exhaustive()
    }
}

impl TlsSetup {
    /// Loads trust anchors (a CA file replaces the Mozilla roots, as in the drivers) and the
    /// client certificate. Unreadable files are an error: the run cannot be judged.
    pub fn load(ca_file: Option<&Path>, system_roots: bool, client_cert: Option<&Path>) -> Result<TlsSetup, AppError> {
        let provider = provider();
        let mut roots = RootCertStore::empty();
        let mut trust = Vec::new();
        let mut supplied_anchors = Vec::new();
        match ca_file {
            Some(path) => {
                let certs = read_certs(path)?;
                supplied_anchors.extend(certs.iter().cloned());
                let (added, _ignored) = roots.add_parsable_certificates(certs);
                if added == 0 {
                    return Err(AppError::Other(format!("the CA file {} holds no usable certificate", path.display())));
                }
                trust.push(format!("CA file {} ({added} certificates)", path.display()));
            }
            None => {
                roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
                trust.push("Mozilla roots (webpki-roots)".to_string());
            }
        }
        if system_roots {
            // A bare container may have no store at all: that is not fatal.
            let native = rustls_native_certs::load_native_certs();
            let (added, _) = roots.add_parsable_certificates(native.certs);
            trust.push(format!("the system store ({added} certificates)"));
        }
        let client_key = client_cert.map(|p| load_client_key(p, &provider)).transpose()?.map(Arc::new);
        let roots = Arc::new(roots);
        let verifier = WebPkiServerVerifier::builder_with_provider(roots.clone(), provider.clone())
            .build()
            .map_err(|e| AppError::Other(format!("cannot use the trust anchors: {e}")))?;
        Ok(TlsSetup { verifier, trust_description: trust.join(" + "), client_key, supplied_anchors, provider, roots })
    }

    fn config(&self, mode: Mode, record: &Arc<Recorder>) -> Result<ClientConfig, rustls::Error> {
        self.config_offering(mode, record, &[&rustls::version::TLS13, &rustls::version::TLS12])
    }

    fn config_offering(
        &self,
        mode: Mode,
        record: &Arc<Recorder>,
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> Result<ClientConfig, rustls::Error> {
        let verifier = Arc::new(RecordingVerifier { inner: self.verifier.clone(), mode, record: record.clone() });
        let resolver = Arc::new(RecordingCertResolver { key: self.client_key.clone(), record: record.clone() });
        let config = ClientConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(versions)?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_client_cert_resolver(resolver);
        Ok(config)
    }

    /// Re-runs webpki on a recorded chain at another time, to judge the chain apart from dates.
    pub fn verify_at(&self, chain: &[CertificateDer<'static>], host: &str, at: UnixTime) -> Result<(), rustls::Error> {
        let Some((leaf, intermediates)) = chain.split_first() else {
            return Err(rustls::Error::NoCertificatesPresented);
        };
        let name = server_name(host)?;
        self.verifier.verify_server_cert(leaf, intermediates, &name, &[], at).map(|_| ())
    }

    /// The trust anchor a presented chain (leaf first) ends in at `at`, by webpki's own path
    /// building; host names are not part of the question. `None` when no path reaches one.
    pub fn anchor_of(
        &self,
        chain: &[CertificateDer<'static>],
        at: UnixTime,
    ) -> Option<rustls::pki_types::TrustAnchor<'static>> {
        let (leaf, intermediates) = chain.split_first()?;
        let leaf = webpki::EndEntityCert::try_from(leaf).ok()?;
        let path = leaf
            .verify_for_usage(
                self.provider.signature_verification_algorithms.all,
                &self.roots.roots,
                intermediates,
                at,
                webpki::KeyUsage::server_auth(),
                None,
                None,
            )
            .ok()?;
        Some(path.anchor().to_owned())
    }
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, AppError> {
    let shown = path.display().to_string();
    let iter = CertificateDer::pem_file_iter(path)
        .map_err(|e| AppError::Other(format!("cannot read certificates from {shown}: {e}")))?;
    iter.collect::<Result<Vec<_>, _>>()
        .map_err(|e| AppError::Other(format!("cannot parse certificates in {shown}: {e}")))
}

fn load_client_key(path: &Path, provider: &Arc<CryptoProvider>) -> Result<CertifiedKey, AppError> {
    let shown = path.display().to_string();
    let certs = read_certs(path)?;
    if certs.is_empty() {
        return Err(AppError::Other(format!("the client certificate file {shown} holds no certificate")));
    }
    let key = PrivateKeyDer::from_pem_file(path)
        .map_err(|e| AppError::Other(format!("cannot read the private key in {shown}: {e}")))?;
    CertifiedKey::from_der(certs, key, provider)
        .map_err(|e| AppError::Other(format!("the client certificate and key in {shown} do not fit: {e}")))
}

pub fn server_name(host: &str) -> Result<ServerName<'static>, rustls::Error> {
    ServerName::try_from(host.to_string())
        .map_err(|_| rustls::Error::General(format!("`{host}` is not a valid TLS server name")))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Verify as a driver would; the handshake fails on a bad certificate.
    Strict,
    /// Record everything, accept any certificate. Diagnosis only.
    Relaxed,
}

/// What one handshake observed, filled in by the verifier, the client-cert resolver and the stream.
#[derive(Debug, Default)]
pub struct Recorder {
    chain: Mutex<Vec<CertificateDer<'static>>>,
    verdict: Mutex<Option<Result<(), rustls::Error>>>,
    certificate_requested: AtomicBool,
    first_bytes: Mutex<Vec<u8>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[derive(Debug)]
struct RecordingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    mode: Mode,
    record: Arc<Recorder>,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut chain = vec![end_entity.clone().into_owned()];
        chain.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        *lock(&self.record.chain) = chain;
        let verdict = self.inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now);
        *lock(&self.record.verdict) = Some(verdict.as_ref().map(|_| ()).map_err(Clone::clone));
        match self.mode {
            Mode::Strict => verdict,
            Mode::Relaxed => Ok(ServerCertVerified::assertion()),
        }
    }

    // Handshake signatures are always checked, in both modes: relaxed mode skips only the
    // certificate verdict, never the proof that the peer holds the key.
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[derive(Debug)]
struct RecordingCertResolver {
    key: Option<Arc<CertifiedKey>>,
    record: Arc<Recorder>,
}

impl rustls::client::ResolvesClientCert for RecordingCertResolver {
    fn resolve(&self, _root_hint_subjects: &[&[u8]], _sigschemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        self.record.certificate_requested.store(true, Ordering::SeqCst);
        self.key.clone()
    }

    // Must be true even without a key, or rustls hides TLS 1.2 CertificateRequests from us.
    fn has_certs(&self) -> bool {
        true
    }
}

/// A TCP stream that keeps the first bytes the peer sent, so a non-TLS answer can be shown.
#[derive(Debug)]
pub struct RecordingStream {
    inner: TcpStream,
    record: Arc<Recorder>,
}

impl AsyncRead for RecordingStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &poll {
            let mut first = lock(&this.record.first_bytes);
            let room = FIRST_BYTES_KEPT.saturating_sub(first.len());
            let new = &buf.filled()[before..];
            first.extend_from_slice(&new[..new.len().min(room)]);
        }
        poll
    }
}

impl AsyncWrite for RecordingStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// How a handshake ended badly.
#[derive(Debug, Clone, PartialEq)]
pub enum TlsFailure {
    /// No answer before the deadline.
    Timeout,
    /// The peer sent a TLS alert.
    Alert(rustls::AlertDescription),
    /// Certificate verification failed (strict mode only).
    Certificate(rustls::Error),
    /// The peer answered with bytes that are not TLS.
    NotTls,
    /// The connection was closed with no alert.
    Closed,
    /// The connection was reset.
    Reset,
    /// Anything else, described.
    Other(String),
}

impl TlsFailure {
    pub fn describe(&self) -> String {
        match self {
            TlsFailure::Timeout => "no TLS answer before the deadline".to_string(),
            TlsFailure::Alert(a) => format!("received fatal alert `{}`", alert_name(*a)),
            TlsFailure::Certificate(e) => format!("certificate verification failed: {e}"),
            TlsFailure::NotTls => "the peer answered with bytes that are not TLS".to_string(),
            TlsFailure::Closed => "the server closed the connection without a TLS alert".to_string(),
            TlsFailure::Reset => "the server reset the connection without a TLS alert".to_string(),
            TlsFailure::Other(s) => s.clone(),
        }
    }
}

/// The TLS alert's name as RFC 8446 spells it (`internal_error`).
pub fn alert_name(a: rustls::AlertDescription) -> String {
    let debug = format!("{a:?}");
    let mut out = String::new();
    for (i, ch) in debug.chars().enumerate() {
        if ch.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(ch.to_ascii_lowercase());
        } else {
            out.push(ch);
        }
    }
    out
}

/// Everything one handshake attempt observed.
#[derive(Debug, Clone)]
pub struct HandshakeObservation {
    pub mode: Mode,
    pub elapsed: Duration,
    pub outcome: Result<Negotiated, TlsFailure>,
    /// The chain the server presented (leaf first), if it got that far.
    pub chain: Vec<CertificateDer<'static>>,
    /// webpki's verdict on the chain, recorded in both modes.
    pub verdict: Option<Result<(), rustls::Error>>,
    pub certificate_requested: bool,
    pub first_bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    pub version: String,
    pub cipher_suite: String,
}

/// Runs one handshake over `tcp` with a deadline. On success the TLS stream is returned too.
pub async fn handshake(
    setup: &TlsSetup,
    mode: Mode,
    tcp: TcpStream,
    host: &str,
    timeout: Duration,
) -> (HandshakeObservation, Option<TlsStream<RecordingStream>>) {
    let record = Arc::new(Recorder::default());
    let start = Instant::now();
    let result = match (setup.config(mode, &record), server_name(host)) {
        (Ok(config), Ok(name)) => {
            let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
            let stream = RecordingStream { inner: tcp, record: record.clone() };
            match tokio::time::timeout(timeout, connector.connect(name, stream)).await {
                Ok(Ok(tls)) => Ok(tls),
                Ok(Err(e)) => Err(classify_io_error(&e)),
                Err(_) => Err(TlsFailure::Timeout),
            }
        }
        (Err(e), _) | (_, Err(e)) => Err(TlsFailure::Other(e.to_string())),
    };
    let elapsed = start.elapsed();
    let (outcome, stream) = match result {
        Ok(tls) => {
            let conn = tls.get_ref().1;
            let negotiated = Negotiated {
                version: conn.protocol_version().map(version_name).unwrap_or_default(),
                cipher_suite: conn
                    .negotiated_cipher_suite()
                    .and_then(|s| s.suite().as_str())
                    .unwrap_or("unknown")
                    .to_string(),
            };
            (Ok(negotiated), Some(tls))
        }
        Err(f) => (Err(f), None),
    };
    let observation = HandshakeObservation {
        mode,
        elapsed,
        outcome,
        chain: lock(&record.chain).clone(),
        verdict: lock(&record.verdict).clone(),
        certificate_requested: record.certificate_requested.load(Ordering::SeqCst),
        first_bytes: lock(&record.first_bytes).clone(),
    };
    (observation, stream)
}

/// Whether the server completes a handshake offering only `version` (1.2 or 1.3), whatever its
/// certificate: one question of the posture probe (see `probe::versions`).
pub async fn accepts(
    setup: &TlsSetup,
    version: &'static rustls::SupportedProtocolVersion,
    tcp: TcpStream,
    host: &str,
    timeout: Duration,
) -> Result<(), TlsFailure> {
    let record = Arc::new(Recorder::default());
    let config =
        setup.config_offering(Mode::Relaxed, &record, &[version]).map_err(|e| TlsFailure::Other(e.to_string()))?;
    let name = server_name(host).map_err(|e| TlsFailure::Other(e.to_string()))?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let stream = RecordingStream { inner: tcp, record };
    match tokio::time::timeout(timeout, connector.connect(name, stream)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(classify_io_error(&e)),
        Err(_) => Err(TlsFailure::Timeout),
    }
}

pub fn version_name(v: rustls::ProtocolVersion) -> String {
    match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLS 1.3".to_string(),
        rustls::ProtocolVersion::TLSv1_2 => "TLS 1.2".to_string(),
        rustls::ProtocolVersion::TLSv1_1 => "TLS 1.1".to_string(),
        rustls::ProtocolVersion::TLSv1_0 => "TLS 1.0".to_string(),
        other => format!("{other:?}"),
    }
}

/// tokio-rustls hides the typed error inside `io::Error`; this gets it back.
pub fn classify_io_error(e: &io::Error) -> TlsFailure {
    if let Some(tls) = e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        return classify_rustls_error(tls);
    }
    match e.kind() {
        // rustls's deframer refuses to buffer more than 64 KiB of one handshake message and
        // says so only in this text; without it the evidence would read "message buffer full".
        io::ErrorKind::InvalidData if e.to_string().contains("message buffer full") => {
            TlsFailure::Other(oversized_handshake(&e.to_string()))
        }
        io::ErrorKind::UnexpectedEof => TlsFailure::Closed,
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted | io::ErrorKind::BrokenPipe => {
            TlsFailure::Reset
        }
        io::ErrorKind::TimedOut => TlsFailure::Timeout,
        _ => TlsFailure::Other(e.to_string()),
    }
}

pub fn classify_rustls_error(e: &rustls::Error) -> TlsFailure {
    match e {
        rustls::Error::AlertReceived(a) => TlsFailure::Alert(*a),
        rustls::Error::InvalidCertificate(_) => TlsFailure::Certificate(e.clone()),
        rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType)
        | rustls::Error::InvalidMessage(rustls::InvalidMessage::UnknownProtocolVersion)
        | rustls::Error::InvalidMessage(rustls::InvalidMessage::MessageTooLarge)
        | rustls::Error::PeerSentOversizedRecord => TlsFailure::NotTls,
        rustls::Error::InvalidMessage(
            rustls::InvalidMessage::HandshakePayloadTooLarge | rustls::InvalidMessage::CertificatePayloadTooLarge,
        ) => TlsFailure::Other(oversized_handshake(&e.to_string())),
        other => TlsFailure::Other(other.to_string()),
    }
}

/// Evidence for a handshake message over rustls's 64 KiB ceiling (a huge certificate or
/// chain). It is TLS, so it must not read as "not TLS", and the limit is the client's, so say
/// which clients share it.
fn oversized_handshake(detail: &str) -> String {
    format!(
        "the server sent a TLS handshake message (its certificate chain) larger than the 64 KiB rustls accepts ({detail}); \
rustls-based clients such as the Rust driver refuse it, and so does this probe, without buffering it"
    )
}

/// Shows the first bytes a peer sent: printable ASCII as text, anything else as hex.
pub fn describe_bytes(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "no bytes".to_string();
    }
    let printable = bytes.iter().take_while(|b| b.is_ascii_graphic() || **b == b' ').count();
    if printable >= 4 {
        let text = String::from_utf8_lossy(&bytes[..printable]);
        format!("`{text}`")
    } else {
        let hex: Vec<String> = bytes.iter().take(16).map(|b| format!("{b:02x}")).collect();
        format!("bytes {}", hex.join(" "))
    }
}
