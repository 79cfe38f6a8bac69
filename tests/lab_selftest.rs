//! Proves the probe lab: each endpoint behaves as intended, checked with independent clients
//! (tokio-rustls, raw sockets, openssl s_client, hickory, the mongodb driver), not the probe.

mod lab;

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::RData;
use mongodb::bson::{Document, doc};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, ProtocolVersion, RootCertStore, SignatureScheme};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

const STEP: Duration = Duration::from_secs(10);

/// Records the presented chain; in strict mode returns webpki's verdict, in relaxed mode
/// accepts anything (handshake signatures are still checked).
#[derive(Debug)]
struct Recorder {
    inner: Arc<WebPkiServerVerifier>,
    strict: bool,
    chain: Mutex<Vec<CertificateDer<'static>>>,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut chain = vec![end_entity.clone().into_owned()];
        chain.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        *self.chain.lock().expect("chain lock") = chain;
        let verdict = self.inner.verify_server_cert(end_entity, intermediates, server_name, ocsp, now);
        if self.strict { verdict } else { Ok(ServerCertVerified::assertion()) }
    }

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

struct Client {
    trust: &'static Path,
    strict: bool,
    client_cert: Option<&'static Path>,
    versions: &'static [&'static rustls::SupportedProtocolVersion],
}

impl Client {
    fn strict() -> Client {
        Client { trust: shared_ca(), strict: true, client_cert: None, versions: rustls::ALL_VERSIONS }
    }
    fn relaxed() -> Client {
        Client { strict: false, ..Client::strict() }
    }
}

fn shared_ca() -> &'static Path {
    lab::shared().ca_file.as_path()
}

fn certs_from(path: &Path) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_file_iter(path).expect("open PEM").collect::<Result<_, _>>().expect("parse PEM")
}

struct Outcome {
    chain: Vec<CertificateDer<'static>>,
    result: io::Result<TlsStream<TcpStream>>,
}

impl Outcome {
    fn rustls_error(&self) -> Option<rustls::Error> {
        let err = self.result.as_ref().err()?;
        err.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()).cloned()
    }
}

async fn handshake(port: u16, host: &str, client: &Client) -> Outcome {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    for cert in certs_from(client.trust) {
        roots.add(cert).expect("trust anchor");
    }
    let inner =
        WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone()).build().expect("verifier");
    let recorder = Arc::new(Recorder { inner, strict: client.strict, chain: Mutex::new(vec![]) });
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(client.versions)
        .expect("versions")
        .dangerous()
        .with_custom_certificate_verifier(recorder.clone());
    let config = match client.client_cert {
        Some(path) => {
            let certs = certs_from(path);
            let key = PrivateKeyDer::from_pem_file(path).expect("client key");
            builder.with_client_auth_cert(certs, key).expect("client cert")
        }
        None => builder.with_no_client_auth(),
    };
    let connector = TlsConnector::from(Arc::new(config));
    let name = ServerName::try_from(host.to_string()).expect("server name");
    let result = async {
        let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
        tokio::time::timeout(STEP, connector.connect(name, tcp)).await.map_err(io::Error::other)?
    }
    .await;
    let chain = recorder.chain.lock().expect("chain lock").clone();
    Outcome { chain, result }
}

/// A MongoDB `hello` as OP_MSG on any stream; returns the reply document.
async fn hello<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S) -> io::Result<Document> {
    let body = mongodb::bson::to_vec(&doc! { "hello": 1, "$db": "admin" }).map_err(io::Error::other)?;
    let length = i32::try_from(16 + 4 + 1 + body.len()).map_err(io::Error::other)?;
    let mut message = Vec::new();
    for field in [length, 1, 0, 2013] {
        message.extend_from_slice(&field.to_le_bytes());
    }
    message.extend_from_slice(&0u32.to_le_bytes());
    message.push(0);
    message.extend_from_slice(&body);
    tokio::time::timeout(STEP, async {
        stream.write_all(&message).await?;
        let mut header = [0u8; 16];
        stream.read_exact(&mut header).await?;
        let total = usize::try_from(i32::from_le_bytes([header[0], header[1], header[2], header[3]]))
            .map_err(io::Error::other)?;
        if !(21..=48_000_000).contains(&total) {
            return Err(io::Error::new(io::ErrorKind::InvalidData, format!("not an OP_MSG reply: {header:02x?}")));
        }
        let mut rest = vec![0u8; total - 16];
        stream.read_exact(&mut rest).await?;
        if i32::from_le_bytes([header[12], header[13], header[14], header[15]]) != 2013 {
            return Err(io::Error::new(io::ErrorKind::InvalidData, format!("not an OP_MSG reply: {header:02x?}")));
        }
        Document::from_reader(&rest[5..]).map_err(io::Error::other)
    })
    .await
    .map_err(io::Error::other)?
}

fn assert_hello_ok(reply: &Document, what: &str) {
    let ok = reply.get_f64("ok").ok().or_else(|| reply.get_i32("ok").ok().map(f64::from));
    assert_eq!(ok, Some(1.0), "{what}: hello reply {reply}");
    assert!(reply.get_bool("isWritablePrimary").unwrap_or(false), "{what}: not a writable primary: {reply}");
}

fn parse<'a>(der: &'a CertificateDer<'_>) -> x509_parser::certificate::X509Certificate<'a> {
    x509_parser::parse_x509_certificate(der.as_ref()).expect("parse certificate").1
}

fn days_left(der: &CertificateDer<'_>) -> i64 {
    let not_after = parse(der).validity().not_after.timestamp();
    (not_after - time::OffsetDateTime::now_utc().unix_timestamp()) / 86_400
}

fn aia_urls(der: &CertificateDer<'_>) -> Vec<String> {
    use x509_parser::extensions::{GeneralName, ParsedExtension};
    let cert = parse(der);
    let mut urls = Vec::new();
    for ext in cert.extensions() {
        if let ParsedExtension::AuthorityInfoAccess(aia) = ext.parsed_extension() {
            for desc in &aia.accessdescs {
                if let GeneralName::URI(uri) = desc.access_location {
                    urls.push(uri.to_string());
                }
            }
        }
    }
    urls
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Strict {
    Verified,
    Expired,
    NotYetValid,
    WrongName,
    UnknownIssuer,
    CaUsedAsEndEntity,
    WrongPurpose,
    WeakSignature,
}

// rustls still produces the deprecated plain variants on some paths, so both are matched.
#[allow(deprecated)]
fn classify(error: &rustls::Error) -> Option<Strict> {
    match error {
        rustls::Error::InvalidCertificate(cert) => match cert {
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => Some(Strict::Expired),
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => Some(Strict::NotYetValid),
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                Some(Strict::WrongName)
            }
            CertificateError::UnknownIssuer => Some(Strict::UnknownIssuer),
            CertificateError::UnsupportedSignatureAlgorithm
            | CertificateError::UnsupportedSignatureAlgorithmContext { .. } => Some(Strict::WeakSignature),
            CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
                Some(Strict::WrongPurpose)
            }
            CertificateError::Other(other) => match other.0.downcast_ref::<webpki::Error>() {
                Some(webpki::Error::CaUsedAsEndEntity) => Some(Strict::CaUsedAsEndEntity),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}

/// Every certificate endpoint: what strict verification against the lab CA says, how many
/// certificates the server sends, and that relaxed TLS then reaches SecantusDB.
#[tokio::test]
async fn certificate_endpoints_present_the_intended_chains() {
    let lab = lab::shared();
    let cases: &[(&str, Strict, usize)] = &[
        ("valid", Strict::Verified, 2),
        ("full-chain", Strict::Verified, 3),
        ("tls12", Strict::Verified, 2),
        ("expiring-20d", Strict::Verified, 2),
        ("expiring-3d", Strict::Verified, 2),
        ("healthy-1", Strict::Verified, 2),
        ("healthy-2", Strict::Verified, 2),
        ("healthy-3", Strict::Verified, 2),
        ("secantus-tls", Strict::Verified, 2),
        ("auth-tls", Strict::Verified, 2),
        ("expired", Strict::Expired, 2),
        ("not-yet-valid", Strict::NotYetValid, 2),
        ("wrong-host", Strict::WrongName, 2),
        ("self-signed", Strict::UnknownIssuer, 1),
        ("hostile-subject", Strict::UnknownIssuer, 1),
        ("untrusted-root", Strict::UnknownIssuer, 3),
        ("atlas-untrusted-root", Strict::UnknownIssuer, 2),
        ("aia-missing-intermediate", Strict::UnknownIssuer, 1),
        ("no-aia-missing-intermediate", Strict::UnknownIssuer, 1),
        ("ca-as-leaf", Strict::CaUsedAsEndEntity, 2),
        ("wrong-eku", Strict::WrongPurpose, 2),
        ("sha1-signature", Strict::WeakSignature, 2),
        ("rsa", Strict::Verified, 2),
    ];
    let mut failures = Vec::new();
    for &(name, expected, chain_len) in cases {
        let endpoint = lab.endpoint(name);
        let strict = handshake(endpoint.port, &endpoint.host, &Client::strict()).await;
        let verdict = match &strict.result {
            Ok(_) => Some(Strict::Verified),
            Err(_) => strict.rustls_error().as_ref().and_then(classify),
        };
        if verdict != Some(expected) {
            failures
                .push(format!("{name}: strict gave {verdict:?} ({:?}), expected {expected:?}", strict.result.err()));
            continue;
        }
        if strict.chain.len() != chain_len {
            failures.push(format!("{name}: server sent {} certificates, expected {chain_len}", strict.chain.len()));
        }
        // Relaxed TLS always completes and the proxy reaches a real server: this is what makes
        // `insecure-fallback-required` observable.
        let relaxed = handshake(endpoint.port, &endpoint.host, &Client::relaxed()).await;
        match relaxed.result {
            Ok(mut stream) => match hello(&mut stream).await {
                Ok(reply) => assert_hello_ok(&reply, name),
                Err(e) => failures.push(format!("{name}: hello over relaxed TLS failed: {e}")),
            },
            Err(e) => failures.push(format!("{name}: relaxed handshake failed: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn verified_endpoints_answer_hello_over_strict_tls() {
    let lab = lab::shared();
    for name in ["valid", "full-chain", "tls12", "healthy-1", "secantus-tls"] {
        let endpoint = lab.endpoint(name);
        let mut stream = handshake(endpoint.port, &endpoint.host, &Client::strict()).await.result.expect(name);
        assert_hello_ok(&hello(&mut stream).await.expect(name), name);
    }
    // Every healthy leaf also carries localhost and 127.0.0.1.
    let valid = lab.endpoint("valid");
    for host in ["localhost", "127.0.0.1"] {
        assert!(handshake(valid.port, host, &Client::strict()).await.result.is_ok(), "valid via {host}");
    }
}

#[tokio::test]
async fn expiring_leaves_have_the_intended_days_left() {
    let lab = lab::shared();
    for (name, days) in [("expiring-20d", 20), ("expiring-3d", 3)] {
        let endpoint = lab.endpoint(name);
        let outcome = handshake(endpoint.port, &endpoint.host, &Client::relaxed()).await;
        assert_eq!(days_left(&outcome.chain[0]), days, "{name}");
    }
}

#[tokio::test]
async fn chain_details_tell_the_unknown_issuer_cases_apart() {
    let lab = lab::shared();
    let chain_of = |name: &'static str| async move {
        let endpoint = lab.endpoint(name);
        handshake(endpoint.port, &endpoint.host, &Client::relaxed()).await.chain
    };
    let self_signed = chain_of("self-signed").await;
    let leaf = parse(&self_signed[0]);
    assert_eq!(leaf.subject(), leaf.issuer());

    let aia = chain_of("aia-missing-intermediate").await;
    assert_eq!(aia_urls(&aia[0]), vec![lab::certs::AIA_CA_ISSUERS_URL.to_string()]);
    let leaf = parse(&aia[0]);
    assert_ne!(leaf.subject(), leaf.issuer());
    // The leaf is fine once the intermediate is known: only the server's chain is incomplete.
    let endpoint = lab.endpoint("aia-missing-intermediate");
    let trusting_intermediate = Client { trust: &lab.intermediate_file, ..Client::strict() };
    assert!(handshake(endpoint.port, &endpoint.host, &trusting_intermediate).await.result.is_ok());

    let no_aia = chain_of("no-aia-missing-intermediate").await;
    assert!(aia_urls(&no_aia[0]).is_empty());
    assert_ne!(parse(&no_aia[0]).subject(), parse(&no_aia[0]).issuer());

    // The untrusted chain is coherent: trusting its root makes it verify.
    let untrusted = chain_of("untrusted-root").await;
    assert_eq!(untrusted.last(), certs_from(&lab.untrusted_ca_file).first());
    let endpoint = lab.endpoint("untrusted-root");
    let trusting_other = Client { trust: &lab.untrusted_ca_file, ..Client::strict() };
    assert!(handshake(endpoint.port, &endpoint.host, &trusting_other).await.result.is_ok());

    let hostile = chain_of("hostile-subject").await;
    let subject = parse(&hostile[0]).subject().to_string();
    assert!(subject.contains(lab::certs::HOSTILE_SUBJECT), "{subject}");

    let rsa = chain_of("rsa").await;
    let rsa_leaf = parse(&rsa[0]);
    assert_eq!(rsa_leaf.public_key().algorithm.algorithm, x509_parser::oid_registry::OID_PKCS1_RSAENCRYPTION);
    assert_eq!(rsa_leaf.public_key().parsed().expect("RSA key").key_size(), 2048);

    let sha1 = chain_of("sha1-signature").await;
    // 1.2.840.10045.4.1 = ecdsa-with-SHA1
    assert_eq!(parse(&sha1[0]).signature_algorithm.algorithm.to_id_string(), "1.2.840.10045.4.1");

    let ca_leaf = chain_of("ca-as-leaf").await;
    assert!(parse(&ca_leaf[0]).is_ca());

    // The CA file holds exactly the lab root.
    assert_eq!(certs_from(&lab.ca_file).len(), 1);
    assert!(parse(&certs_from(&lab.ca_file)[0]).is_ca());
}

#[tokio::test]
async fn tls12_endpoint_refuses_tls13() {
    let endpoint = lab::shared().endpoint("tls12");
    let outcome = handshake(endpoint.port, &endpoint.host, &Client::strict()).await;
    assert_eq!(
        outcome.result.expect("TLS 1.2 handshake").get_ref().1.protocol_version(),
        Some(ProtocolVersion::TLSv1_2)
    );
    static TLS13: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
    let tls13_only = Client { versions: &TLS13, ..Client::strict() };
    let outcome = handshake(endpoint.port, &endpoint.host, &tls13_only).await;
    assert!(
        matches!(outcome.rustls_error(), Some(rustls::Error::AlertReceived(rustls::AlertDescription::ProtocolVersion))),
        "a TLS 1.3-only client must get a protocol_version alert: {:?}",
        outcome.result.err()
    );
}

#[tokio::test]
async fn mtls_endpoints_require_a_lab_client_certificate() {
    let lab = lab::shared();
    let client_file: &'static Path = &lab.client_cert_key_file;
    let untrusted_file: &'static Path = &lab.untrusted_client_cert_key_file;
    for name in ["mtls", "mtls-tls12", "secantus-mtls"] {
        let endpoint = lab.endpoint(name);
        let with_cert = Client { client_cert: Some(client_file), ..Client::strict() };
        let mut stream = handshake(endpoint.port, &endpoint.host, &with_cert).await.result.expect(name);
        assert_hello_ok(&hello(&mut stream).await.expect(name), name);

        for (label, client) in [
            ("no client certificate", Client::strict()),
            ("untrusted client certificate", Client { client_cert: Some(untrusted_file), ..Client::strict() }),
        ] {
            // Under TLS 1.3 the client's handshake completes and the refusal comes on first read.
            let refusal = match handshake(endpoint.port, &endpoint.host, &client).await.result {
                Err(e) => e,
                Ok(mut stream) => hello(&mut stream).await.expect_err("the server must refuse"),
            };
            assert!(
                is_client_cert_refusal(&refusal),
                "{name} with {label}: not a client-certificate refusal: {refusal:?}"
            );
        }
    }
    let endpoint = lab.endpoint("mtls-tls12");
    let refusal =
        handshake(endpoint.port, &endpoint.host, &Client::strict()).await.result.expect_err("TLS 1.2 refuses");
    assert!(is_client_cert_refusal(&refusal), "TLS 1.2 refuses in the handshake: {refusal:?}");
}

/// The server's refusal of a missing or untrusted client certificate: a TLS alert about
/// certificates, or (TLS 1.3, where the client's handshake is already done) the connection
/// closed before any reply. Not a timeout, not a refused connection: those mean the endpoint is
/// not what this test thinks it is.
fn is_client_cert_refusal(error: &io::Error) -> bool {
    use rustls::AlertDescription as Alert;
    match error.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) {
        Some(rustls::Error::AlertReceived(alert)) => matches!(
            alert,
            Alert::CertificateRequired
                | Alert::HandshakeFailure
                | Alert::BadCertificate
                | Alert::UnknownCA
                | Alert::CertificateUnknown
                | Alert::DecryptError
                | Alert::AccessDenied
        ),
        Some(_) => false,
        None => matches!(error.kind(), io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset),
    }
}

async fn exchange(port: u16, send: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    stream.write_all(send).await.expect("send");
    let mut received = Vec::new();
    tokio::time::timeout(STEP, stream.read_to_end(&mut received)).await.expect("server closes").expect("read");
    received
}

/// Enough of a ClientHello for servers that only look at the first bytes.
const CLIENT_HELLO_START: &[u8] = &[0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x03];

#[tokio::test]
async fn access_list_endpoints_send_the_internal_error_alert() {
    let lab = lab::shared();
    for name in ["rejected", "rejected-1", "rejected-2", "rejected-3", "atlas-rejected"] {
        assert_eq!(
            exchange(lab.endpoint(name).port, CLIENT_HELLO_START).await,
            [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x50],
            "{name}"
        );
    }
    assert_eq!(
        exchange(lab.endpoint("handshake-failure-alert").port, CLIENT_HELLO_START).await,
        [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]
    );
    let endpoint = lab.endpoint("handshake-failure-alert");
    let outcome = handshake(endpoint.port, &endpoint.host, &Client::relaxed()).await;
    assert_eq!(outcome.rustls_error(), Some(rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure)));

    let endpoint = lab.endpoint("rejected");
    for client in [Client::strict(), Client::relaxed()] {
        let outcome = handshake(endpoint.port, &endpoint.host, &client).await;
        assert_eq!(outcome.rustls_error(), Some(rustls::Error::AlertReceived(rustls::AlertDescription::InternalError)));
    }
}

#[tokio::test]
async fn non_tls_endpoints_answer_like_their_servers() {
    let lab = lab::shared();
    let http = exchange(lab.endpoint("http").port, CLIENT_HELLO_START).await;
    assert!(http.starts_with(b"HTTP/1.1 400 Bad Request\r\n"), "{}", String::from_utf8_lossy(&http));
    let ssh = exchange(lab.endpoint("ssh").port, CLIENT_HELLO_START).await;
    assert!(ssh.starts_with(b"SSH-2.0-"), "{}", String::from_utf8_lossy(&ssh));
    for name in ["http", "ssh"] {
        let endpoint = lab.endpoint(name);
        let outcome = handshake(endpoint.port, &endpoint.host, &Client::relaxed()).await;
        assert!(
            matches!(
                outcome.rustls_error(),
                Some(rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType))
            ),
            "{name}: {:?}",
            outcome.result.err()
        );
    }

    assert!(
        exchange(lab.endpoint("bare-close").port, CLIENT_HELLO_START).await.is_empty(),
        "bare-close answers nothing"
    );
    let endpoint = lab.endpoint("bare-close");
    let outcome = handshake(endpoint.port, &endpoint.host, &Client::relaxed()).await;
    assert!(outcome.result.is_err() && outcome.rustls_error().is_none(), "bare close: {:?}", outcome.result.err());

    let mut reset = TcpStream::connect(("127.0.0.1", lab.endpoint("reset").port)).await.expect("reset accepts");
    reset.write_all(CLIENT_HELLO_START).await.expect("send");
    let mut sink = Vec::new();
    let read = tokio::time::timeout(STEP, reset.read_to_end(&mut sink)).await.expect("reset in time");
    assert_eq!(read.expect_err("reset").kind(), io::ErrorKind::ConnectionReset);

    // TLS is fine, but what answers behind it is not MongoDB.
    let endpoint = lab.endpoint("tls-not-mongodb");
    let mut stream = handshake(endpoint.port, &endpoint.host, &Client::strict()).await.result.expect("valid TLS");
    let not_mongo = hello(&mut stream).await.expect_err("hello must fail behind tls-not-mongodb");
    // The reply starts `HTTP`: what the probe must call not MongoDB, not a timeout or a reset.
    assert!(
        not_mongo.kind() == io::ErrorKind::InvalidData && not_mongo.to_string().contains("48, 54, 54, 50"),
        "{not_mongo:?}"
    );

    let mut silent = TcpStream::connect(("127.0.0.1", lab.endpoint("silent").port)).await.expect("silent accepts");
    silent.write_all(CLIENT_HELLO_START).await.expect("send");
    let mut buf = [0u8; 16];
    assert!(
        tokio::time::timeout(Duration::from_secs(1), silent.read(&mut buf)).await.is_err(),
        "silent must not answer"
    );

    let blackhole =
        tokio::time::timeout(Duration::from_secs(1), TcpStream::connect(("127.0.0.1", lab.endpoint("blackhole").port)))
            .await;
    assert!(blackhole.is_err(), "blackhole connect must hang, got {blackhole:?}");

    let refused = TcpStream::connect(("127.0.0.1", lab.endpoint("closed").port)).await;
    assert_eq!(refused.expect_err("closed port").kind(), io::ErrorKind::ConnectionRefused);
}

#[tokio::test]
async fn plain_secantus_answers_a_plaintext_hello() {
    let lab = lab::shared();
    for name in ["plain", "auth"] {
        let mut stream = TcpStream::connect(("127.0.0.1", lab.endpoint(name).port)).await.expect(name);
        assert_hello_ok(&hello(&mut stream).await.expect(name), name);
    }
}

#[tokio::test]
async fn tls10_endpoint_speaks_only_tls_1_0() {
    let endpoint = lab::shared().endpoint("tls10");
    let connect = format!("127.0.0.1:{}", endpoint.port);
    let s_client = |version: &'static str| {
        let connect = connect.clone();
        async move {
            let output = tokio::time::timeout(
                STEP,
                tokio::process::Command::new("openssl")
                    .args(["s_client", "-connect", &connect, version, "-cipher", "DEFAULT:@SECLEVEL=0", "-brief"])
                    .stdin(std::process::Stdio::null())
                    .output(),
            )
            .await
            .expect("s_client finishes")
            .expect("run openssl s_client");
            String::from_utf8_lossy(&output.stderr).into_owned() + &String::from_utf8_lossy(&output.stdout)
        }
    };
    // Probes also send plaintext (a MongoDB hello) to TLS ports; the server must survive it.
    let mut plaintext = TcpStream::connect(("127.0.0.1", endpoint.port)).await.expect("connect");
    assert!(hello(&mut plaintext).await.is_err(), "plaintext hello to the TLS 1.0 server");
    drop(plaintext);
    let legacy = s_client("-tls1").await;
    assert!(legacy.contains("Protocol version: TLSv1\n"), "{legacy}");
    let modern = s_client("-tls1_2").await;
    assert!(!modern.contains("Protocol version"), "{modern}");
    let outcome = handshake(endpoint.port, &endpoint.host, &Client::relaxed()).await;
    assert_eq!(
        outcome.rustls_error(),
        Some(rustls::Error::AlertReceived(rustls::AlertDescription::ProtocolVersion)),
        "rustls (TLS 1.2+) against the TLS 1.0 server"
    );

    // Tests probe it at the same time: a connection held open must not queue the next one.
    let held = TcpStream::connect(("127.0.0.1", endpoint.port)).await.expect("connect");
    let (version, _) = legacy_server_hello(endpoint.port).await;
    assert_eq!(version, 0x0301, "served while another connection is open");
    drop(held);

    // A minimal hand-built TLS 1.0 ClientHello, as the probe sends to learn what the server wants.
    let (version, cipher) = legacy_server_hello(endpoint.port).await;
    assert_eq!(version, 0x0301);
    assert!([0xc009, 0xc00a].contains(&cipher), "cipher {cipher:04x}");
}

/// Sends a TLS 1.0 ClientHello offering CBC suites with the EC extensions; returns the
/// ServerHello's version and cipher suite.
async fn legacy_server_hello(port: u16) -> (u16, u16) {
    let suites: [u16; 6] = [0xc009, 0xc00a, 0xc013, 0xc014, 0x002f, 0x0035];
    let mut extensions = Vec::new();
    extensions.extend_from_slice(&[0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x17, 0x00, 0x18]); // supported_groups
    extensions.extend_from_slice(&[0x00, 0x0b, 0x00, 0x02, 0x01, 0x00]); // ec_point_formats
    let mut body = vec![0x03, 0x01];
    body.extend_from_slice(&[0x42; 32]);
    body.push(0);
    body.extend_from_slice(&u16::try_from(suites.len() * 2).expect("len").to_be_bytes());
    for suite in suites {
        body.extend_from_slice(&suite.to_be_bytes());
    }
    body.extend_from_slice(&[0x01, 0x00]);
    body.extend_from_slice(&u16::try_from(extensions.len()).expect("len").to_be_bytes());
    body.extend_from_slice(&extensions);
    let mut handshake = vec![0x01, 0x00];
    handshake.extend_from_slice(&u16::try_from(body.len()).expect("len").to_be_bytes());
    handshake.extend_from_slice(&body);
    let mut record = vec![0x16, 0x03, 0x01];
    record.extend_from_slice(&u16::try_from(handshake.len()).expect("len").to_be_bytes());
    record.extend_from_slice(&handshake);

    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    stream.write_all(&record).await.expect("send ClientHello");
    let mut reply = [0u8; 5 + 4 + 2 + 32 + 1];
    tokio::time::timeout(STEP, stream.read_exact(&mut reply)).await.expect("ServerHello in time").expect("read");
    assert_eq!(reply[0], 0x16, "handshake record: {reply:02x?}");
    assert_eq!(reply[5], 0x02, "ServerHello: {reply:02x?}");
    let session_id_len = usize::from(reply[43]);
    let mut rest = vec![0u8; session_id_len + 2];
    tokio::time::timeout(STEP, stream.read_exact(&mut rest)).await.expect("cipher in time").expect("read");
    (u16::from_be_bytes([reply[9], reply[10]]), u16::from_be_bytes([rest[session_id_len], rest[session_id_len + 1]]))
}

#[tokio::test]
async fn auth_instance_accepts_the_user_and_rejects_a_wrong_password() {
    let lab = lab::shared();
    let connect = |uri: String| async move {
        let uri = format!("{uri}&serverSelectionTimeoutMS=10000&directConnection=true");
        let client = mongodb::Client::with_uri_str(&uri).await.expect("client");
        let result = client.database("admin").run_command(doc! { "ping": 1 }).await;
        client.shutdown().immediate(true).await;
        result
    };
    connect(lab.auth_uri(lab::CANARY_PASSWORD)).await.expect("right password");
    let tls_uri = format!("{}&tlsCAFile={}", lab.auth_tls_uri(lab::CANARY_PASSWORD), lab.ca_file.display());
    connect(tls_uri).await.expect("right password over TLS");
    let wrong = connect(lab.auth_uri("not-the-password")).await.expect_err("wrong password");
    assert!(matches!(*wrong.kind, mongodb::error::ErrorKind::Authentication { .. }), "{wrong}");
    assert!(!wrong.to_string().contains(lab::CANARY_PASSWORD));
}

fn resolver() -> TokioResolver {
    let server: SocketAddr = lab::shared().dns_server;
    let mut name_server = NameServerConfig::udp_and_tcp(server.ip());
    for connection in &mut name_server.connections {
        connection.port = server.port();
    }
    let mut builder = TokioResolver::builder_with_config(
        ResolverConfig::from_name_servers(vec![name_server]),
        TokioRuntimeProvider::default(),
    );
    builder.options_mut().timeout = Duration::from_secs(3);
    builder.options_mut().attempts = 1;
    builder.build().expect("resolver")
}

async fn srv_targets(resolver: &TokioResolver, name: &str) -> Vec<(String, u16)> {
    let lookup = resolver.srv_lookup(format!("_mongodb._tcp.{name}.")).await.expect(name);
    let mut targets: Vec<(String, u16)> = lookup
        .answers()
        .iter()
        .filter_map(|record| match &record.data {
            RData::SRV(srv) => Some((srv.target.to_utf8().trim_end_matches('.').to_string(), srv.port)),
            _ => None,
        })
        .collect();
    targets.sort();
    targets
}

async fn txt(resolver: &TokioResolver, name: &str) -> Vec<String> {
    let lookup = resolver.txt_lookup(format!("{name}.")).await.expect(name);
    lookup
        .answers()
        .iter()
        .filter_map(|record| match &record.data {
            RData::TXT(txt) => {
                Some(txt.txt_data.iter().map(|part| String::from_utf8_lossy(part).into_owned()).collect())
            }
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn lab_dns_serves_the_srv_clusters_and_the_failures() {
    let lab = lab::shared();
    let resolver = resolver();
    for (cluster, members) in [("rejected", "rejected"), ("healthy", "healthy")] {
        let expected: Vec<(String, u16)> = (1..=3)
            .map(|i| (format!("{members}-{i}.lab.test"), lab.endpoint(&format!("{members}-{i}")).port))
            .collect();
        assert_eq!(srv_targets(&resolver, &lab.srv(cluster).name).await, expected, "{cluster}");
        assert_eq!(txt(&resolver, &lab.srv(cluster).name).await, vec!["authSource=admin".to_string()]);
    }
    let atlas = srv_targets(&resolver, &lab.srv("atlas-rejected").name).await;
    assert_eq!(atlas.len(), 3);
    assert!(atlas.iter().all(|(host, _)| host.ends_with(".abcde.mongodb.net")));

    let outside = srv_targets(&resolver, &lab.srv("outside").name).await;
    assert_eq!(outside, vec![("db.elsewhere.test".to_string(), lab.endpoint("valid").port)]);

    let missing = resolver.srv_lookup("_mongodb._tcp.missing.lab.test.").await.expect_err("missing");
    assert!(missing.is_nx_domain(), "{missing}");
    let noaddr_srv = resolver.srv_lookup("_mongodb._tcp.noaddr.lab.test.").await.expect_err("noaddr SRV");
    assert!(noaddr_srv.is_no_records_found(), "{noaddr_srv}");

    let broken = resolver.srv_lookup("_mongodb._tcp.broken.lab.test.").await.expect_err("broken");
    assert!(
        matches!(broken, NetError::Dns(DnsError::ResponseCode(ResponseCode::ServFail))),
        "broken.lab.test must fail with SERVFAIL: {broken:?}"
    );
    let broken_host = resolver.lookup_ip("db.broken.lab.test.").await.expect_err("broken host");
    assert!(matches!(broken_host, NetError::Dns(DnsError::ResponseCode(ResponseCode::ServFail))), "{broken_host:?}");

    let noaddr = resolver.lookup_ip("noaddr.lab.test.").await.expect_err("noaddr has no address");
    assert!(noaddr.is_no_records_found(), "{noaddr}");
    let ghost = resolver.lookup_ip("ghost.lab.test.").await.expect_err("ghost");
    assert!(ghost.is_nx_domain(), "{ghost}");

    // Every endpoint's lab name resolves to 127.0.0.1 (and nothing else).
    let deliberate_failures = ["noaddr-host", "nxdomain-host", "servfail-host"];
    for endpoint in lab.endpoints().filter(|e| e.host != "localhost" && !deliberate_failures.contains(&e.name.as_str()))
    {
        let ips: Vec<IpAddr> =
            resolver.lookup_ip(format!("{}.", endpoint.host)).await.expect(&endpoint.host).iter().collect();
        assert_eq!(ips, vec![IpAddr::V4(Ipv4Addr::LOCALHOST)], "{}", endpoint.host);
    }
}

#[test]
fn endpoint_map_is_complete() {
    let lab = lab::shared();
    let json = lab.to_json();
    for name in [
        "valid",
        "full-chain",
        "tls12",
        "expired",
        "not-yet-valid",
        "expiring-20d",
        "expiring-3d",
        "wrong-host",
        "self-signed",
        "untrusted-root",
        "aia-missing-intermediate",
        "no-aia-missing-intermediate",
        "ca-as-leaf",
        "hostile-subject",
        "tls10",
        "mtls",
        "rejected",
        "silent",
        "http",
        "ssh",
        "closed",
        "plain",
        "secantus-tls",
        "secantus-mtls",
        "auth",
    ] {
        assert!(json["endpoints"][name]["uri"].as_str().is_some_and(|uri| uri.starts_with("mongodb://")), "{name}");
    }
    assert_eq!(json["srv"]["healthy"]["uri"], "mongodb+srv://healthy.lab.test/");
    let expired = lab.endpoint("expired");
    assert_eq!(
        expired.uri_with_credentials(lab::CANARY_PASSWORD),
        format!("mongodb://labuser:{}@expired.lab.test:{}/?tls=true", lab::CANARY_PASSWORD, expired.port)
    );
    assert_eq!(lab.probe_args()[1], lab.ca_file.to_string_lossy());
    let combined = std::fs::read_to_string(&lab.client_cert_key_file).expect("client PEM");
    assert!(combined.contains("BEGIN CERTIFICATE") && combined.contains("PRIVATE KEY"));
}
