//! TLS-terminating proxies (tokio-rustls) in front of a plain SecantusDB, and the TLS 1.0-only
//! endpoint (OpenSSL's `s_server`, because rustls cannot speak TLS 1.0).

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

/// `openssl s_server` restricted to TLS 1.0 with legacy algorithms allowed. `OPENSSL_CONF` is
/// not touched: `-tls1` and `@SECLEVEL=0` override Debian's system-wide TLS 1.2 minimum.
/// It serves one connection at a time, which is enough for probes.
pub async fn tls10_server(identity: &Identity, dir: &Path, lifetime: Duration) -> (Guarded, u16) {
    let openssl = process::tool("MONGO_PREFLIGHT_OPENSSL", &["openssl"]);
    let cert = identity.leaf_file.to_string_lossy().into_owned();
    let key = identity.key_file.to_string_lossy().into_owned();
    let extra = identity.extra_chain_file.to_string_lossy().into_owned();
    let has_extra = identity.chain.len() > 1;
    process::start_listening("openssl-tls10", &openssl, dir, lifetime, Duration::from_secs(20), move |port| {
        let mut args: Vec<String> = [
            "s_server",
            "-accept",
            &format!("127.0.0.1:{port}"),
            "-tls1",
            "-cipher",
            "DEFAULT:@SECLEVEL=0",
            "-cert",
            &cert,
            "-key",
            &key,
            "-www",
            "-quiet",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        if has_extra {
            args.extend(["-cert_chain".to_string(), extra.clone()]);
        }
        args
    })
    .await
}
