//! TLS-terminating proxies (tokio-rustls) in front of a plain SecantusDB, and the TLS 1.0-only
//! endpoint (Python's `ssl`, that is OpenSSL, because rustls cannot speak TLS 1.0).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::RootCertStore;
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use super::certs::Identity;
use super::process::{self, Guarded};

/// Upper bound on a client's handshake, so a stalled client cannot pin a task forever.
const HANDSHAKE_DEADLINE: Duration = Duration::from_secs(15);

pub struct ProxyOptions {
    /// Only TLS 1.2 (otherwise 1.2 and 1.3, rustls's defaults).
    pub tls12_only: bool,
    /// Require a client certificate chaining to these roots.
    pub client_roots: Option<Vec<rustls::pki_types::CertificateDer<'static>>>,
}

pub fn server_config(identity: &Identity, options: &ProxyOptions) -> rustls::ServerConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] =
        if options.tls12_only { &[&rustls::version::TLS12] } else { rustls::ALL_VERSIONS };
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .expect("lab: protocol versions");
    let builder = match &options.client_roots {
        Some(roots) => {
            let mut store = RootCertStore::empty();
            for root in roots {
                store.add(root.clone()).expect("lab: client root");
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(store), provider)
                .build()
                .expect("lab: client verifier");
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    builder.with_single_cert(identity.chain.clone(), identity.key()).expect("lab: server certificate")
}

/// Presents a chain rustls itself would refuse to load: `with_single_cert` parses the leaf
/// with webpki, which rejects certificates over 64 KiB, and the lab needs such a server.
#[derive(Debug)]
struct Unchecked(Arc<CertifiedKey>);

impl ResolvesServerCert for Unchecked {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// A server configuration (TLS 1.2 and 1.3, no client authentication) that sends
/// `identity`'s chain without parsing it.
pub fn unchecked_server_config(identity: &Identity) -> rustls::ServerConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = provider.key_provider.load_private_key(identity.key()).expect("lab: signing key");
    let certified = Arc::new(CertifiedKey::new(identity.chain.clone(), key));
    rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .expect("lab: protocol versions")
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(Unchecked(certified)))
}

/// Terminates TLS and pipes the plaintext to `upstream` both ways, so a MongoDB `hello` over
/// the TLS connection really gets a server's answer.
pub async fn proxy(identity: &Identity, options: &ProxyOptions, upstream: SocketAddr) -> u16 {
    proxy_with(server_config(identity, options), upstream).await
}

/// [`proxy`] with a ready configuration.
pub async fn proxy_with(config: rustls::ServerConfig, upstream: SocketAddr) -> u16 {
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("lab: bind TLS proxy");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        loop {
            if let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(relay(acceptor.clone(), stream, upstream));
            }
        }
    });
    port
}

async fn relay(acceptor: TlsAcceptor, stream: TcpStream, upstream: SocketAddr) {
    let Ok(Ok(mut tls)) = tokio::time::timeout(HANDSHAKE_DEADLINE, acceptor.accept(stream)).await else {
        return;
    };
    let Ok(mut plain) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
}

/// A TLS 1.0-only server: Python's `ssl` module (OpenSSL underneath) in the SecantusDB venv,
/// one thread per connection, so that tests probing it at once never queue behind each other
/// (`openssl s_server` serves one connection at a time). `@SECLEVEL=0` and the explicit
/// version range override Debian's system-wide TLS 1.2 minimum without touching `OPENSSL_CONF`.
/// After the handshake it waits for one byte, then closes.
pub async fn tls10_server(identity: &Identity, dir: &Path, lifetime: Duration) -> (Guarded, u16) {
    const SERVER: &str = r#"
import socketserver, ssl, sys, warnings
warnings.simplefilter("ignore", DeprecationWarning)
chain, key, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.set_ciphers("DEFAULT:@SECLEVEL=0")
context.minimum_version = ssl.TLSVersion.TLSv1
context.maximum_version = ssl.TLSVersion.TLSv1
context.load_cert_chain(chain, key)

class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.settimeout(10)
        try:
            with context.wrap_socket(self.request, server_side=True) as tls:
                tls.recv(1)
        except (OSError, ssl.SSLError):
            pass

class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True

Server(("127.0.0.1", port), Handler).serve_forever()
"#;
    let python = process::tool("MONGO_PREFLIGHT_PYTHON", &["python3"]);
    let script = dir.join("tls10_server.py");
    std::fs::write(&script, SERVER).expect("lab: write the TLS 1.0 server");
    let chain = identity.chain_file.to_string_lossy().into_owned();
    let key = identity.key_file.to_string_lossy().into_owned();
    let script = script.to_string_lossy().into_owned();
    process::start_listening("python-tls10", &python, dir, lifetime, Duration::from_secs(20), move |port| {
        vec![script.clone(), chain.clone(), key.clone(), port.to_string()]
    })
    .await
}
