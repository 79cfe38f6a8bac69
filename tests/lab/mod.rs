//! The probe test lab: real servers on 127.0.0.1 for every case the probe must diagnose.
//!
//! `lab::shared()` starts the lab once per process (test binary or `examples/lab.rs`) on its own
//! runtime in a background thread: each `#[tokio::test]` has its own runtime, which would stop
//! the servers when the first test ends. Child processes stop by themselves once this process
//! is gone (see `process.rs`). See docs/lab.md for the endpoint map.

// Each test binary uses a different part of the lab, and `pub` items here are reachable only
// through the including crate's private `mod lab`.
#![allow(dead_code, unreachable_pub)]

pub mod atlas;
pub mod atlas_org;
pub mod causes;
pub mod certs;
pub mod dns;
pub mod fake_mongo;
pub mod hostile;
pub mod process;
pub mod raw;
pub mod secantus;
pub mod tls;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use time::{Duration as Days, OffsetDateTime};

use certs::{LeafSpec, Pki, Send, Signer};
use process::Guarded;
use tls::ProxyOptions;

/// The zone every lab name lives in; dnsmasq answers A 127.0.0.1 for each endpoint's name.
pub const ZONE: &str = "lab.test";
/// A fake Atlas project zone, so Atlas-specific remedies can be tested.
pub const ATLAS_ZONE: &str = "abcde.mongodb.net";
/// The user on the `auth` instances.
pub const AUTH_USER: &str = "labuser";
/// The user's password. Tests assert it never appears in any output. Plain ASCII on purpose:
/// its percent-encoded form is the same string.
pub const CANARY_PASSWORD: &str = "Canary7f3e9b2dPw";
/// How many certificates the `hostile-long-chain` endpoint presents (leaf included).
pub const LONG_CHAIN_LENGTH: usize = 100;
/// Size of the opaque extension that makes the `hostile-huge-cert` leaf about 1 MiB.
pub const HUGE_CERT_PADDING: usize = 1024 * 1024;
/// How many SRV targets the `many` name holds.
pub const MANY_SRV_TARGETS: usize = 1000;
/// How long child processes may live at most when nobody said otherwise.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);

/// How a client should talk to an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Transport {
    /// TLS is expected (`?tls=true`), whether or not the server manages it.
    Tls,
    /// Plain MongoDB wire protocol.
    Plain,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Endpoint {
    pub name: String,
    /// The host name to use: `<name>.lab.test` (needs `--dns-server`), or `localhost` for the
    /// endpoints the `mongodb` driver must reach (it resolves names itself).
    pub host: String,
    pub port: u16,
    /// `mongodb://host:port/` plus `?tls=true` for TLS endpoints.
    pub uri: String,
    pub transport: Transport,
    /// The diagnosis code(s) this endpoint was built to provoke with the default thresholds and
    /// `--ca-file` = the lab CA (none for healthy endpoints).
    pub provokes: Vec<&'static str>,
    pub description: &'static str,
}

impl Endpoint {
    fn new(
        name: &str,
        host: String,
        port: u16,
        transport: Transport,
        provokes: &[&'static str],
        description: &'static str,
    ) -> Endpoint {
        let mut endpoint = Endpoint {
            name: name.to_string(),
            host,
            port,
            uri: String::new(),
            transport,
            provokes: provokes.to_vec(),
            description,
        };
        endpoint.uri = endpoint.uri_via(&endpoint.host);
        endpoint
    }

    /// The same endpoint reached through another host name (`localhost`, `127.0.0.1`, …).
    pub fn uri_via(&self, host: &str) -> String {
        match self.transport {
            Transport::Tls => format!("mongodb://{host}:{}/?tls=true", self.port),
            Transport::Plain => format!("mongodb://{host}:{}/", self.port),
        }
    }

    /// `mongodb://host:port/?tls=true` whatever the endpoint's transport (e.g. TLS against the
    /// plain SecantusDB: `server-not-tls`).
    pub fn tls_uri(&self) -> String {
        format!("mongodb://{}:{}/?tls=true", self.host, self.port)
    }

    /// `mongodb://host:port/` without TLS.
    pub fn plain_uri(&self) -> String {
        format!("mongodb://{}:{}/", self.host, self.port)
    }

    /// `uri` with `labuser:<password>@` in it, e.g. to check that a failing probe never shows
    /// the canary password.
    pub fn uri_with_credentials(&self, password: &str) -> String {
        self.uri.replacen("mongodb://", &format!("mongodb://{AUTH_USER}:{password}@"), 1)
    }

    /// `host:port`.
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    pub fn socket_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }
}

/// A `mongodb+srv` name the lab DNS holds (or deliberately does not hold).
#[derive(Debug, Clone, serde::Serialize)]
pub struct SrvName {
    pub name: String,
    pub uri: String,
    pub provokes: Vec<&'static str>,
    pub description: &'static str,
}

pub struct Lab {
    /// Temporary directory holding certificates, keys, logs and the auth instance's storage.
    /// Removed shortly after this process exits.
    pub dir: PathBuf,
    /// The lab root CA (PEM): pass as `--ca-file` / `tlsCAFile`.
    pub ca_file: PathBuf,
    /// A root the lab does not trust (PEM); it signs the `untrusted-root` chain.
    pub untrusted_ca_file: PathBuf,
    /// The lab intermediate (PEM), as the AIA URL would serve it.
    pub intermediate_file: PathBuf,
    /// Client certificate chain + key (PEM, one file, as `tlsCertificateKeyFile` expects),
    /// signed by the lab CA, with the clientAuth EKU.
    pub client_cert_key_file: PathBuf,
    /// A client certificate + key from the untrusted CA: "a wrong certificate was offered".
    pub untrusted_client_cert_key_file: PathBuf,
    /// dnsmasq (UDP and TCP), answering for `lab.test`, `elsewhere.test` and `mongodb.net`.
    pub dns_server: SocketAddr,
    /// CA files for trust and bundle cases, by name (see `causes.rs`): `zscaler_root`,
    /// `bundle_complete`, `bundle_without_gts`, `bundle_intermediate_only`,
    /// `bundle_intermediate_and_root`.
    pub files: BTreeMap<&'static str, PathBuf>,
    endpoints: BTreeMap<String, Endpoint>,
    srv: BTreeMap<String, SrvName>,
    children: Mutex<Vec<Guarded>>,
    /// Keeps the `closed` endpoint's port bound (but not listening).
    _closed_port_holder: tokio::net::TcpSocket,
    _blackhole: raw::Blackhole,
}

static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
static LAB: OnceLock<Result<Lab, String>> = OnceLock::new();

/// The lab shared by every test of this process, started on first use.
pub fn shared() -> &'static Lab {
    shared_with_lifetime(DEFAULT_LIFETIME)
}

/// Like [`shared`], with the backstop after which child processes stop even if this process
/// still runs (only the first call's value counts).
pub fn shared_with_lifetime(lifetime: Duration) -> &'static Lab {
    let started = LAB.get_or_init(|| {
        // Started from a plain thread: `block_on` panics inside a `#[tokio::test]` runtime.
        let thread = std::thread::Builder::new().name("lab-start".into()).spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("lab")
                .enable_all()
                .build()
                .expect("lab: build runtime");
            let lab = runtime.block_on(Lab::start(lifetime));
            let _ = RUNTIME.set(runtime);
            lab
        });
        match thread.map(|t| t.join()) {
            Ok(Ok(lab)) => Ok(lab),
            Ok(Err(panic)) => Err(panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "lab: startup panicked".into())),
            Err(e) => Err(format!("lab: cannot start thread: {e}")),
        }
    });
    match started {
        Ok(lab) => lab,
        Err(why) => panic!("the probe lab failed to start (run scripts/test to install its tools):\n{why}"),
    }
}

fn lab_name(name: &str) -> String {
    format!("{name}.{ZONE}")
}

/// SANs for a healthy leaf: its lab name plus the loopback names, so `localhost` works too.
fn names_for(name: &str) -> Vec<String> {
    vec![lab_name(name), "localhost".into(), "127.0.0.1".into()]
}

struct ProxySpec {
    name: &'static str,
    leaf: LeafSpec,
    tls12_only: bool,
    mtls: bool,
    provokes: &'static [&'static str],
    description: &'static str,
}

fn proxy_specs(rsa_key_pem: String) -> Vec<ProxySpec> {
    let now = OffsetDateTime::now_utc();
    let spec = |name: &'static str, provokes: &'static [&'static str], description: &'static str, leaf: LeafSpec| {
        ProxySpec { name, leaf, tls12_only: false, mtls: false, provokes, description }
    };
    let server = |name: &'static str| LeafSpec::server(name, names_for(name));
    let mut specs = vec![
        spec("valid", &[], "leaf + intermediate, TLS 1.2/1.3, proxied to SecantusDB", server("valid")),
        spec(
            "full-chain",
            &[],
            "leaf + intermediate + root",
            LeafSpec { send: Send::WithIntermediateAndRoot, ..server("full-chain") },
        ),
        spec(
            "expired",
            &["cert-expired", "insecure-fallback-required"],
            "leaf expired 2 days ago",
            LeafSpec { not_before: now - Days::days(60), not_after: now - Days::days(2), ..server("expired") },
        ),
        spec(
            "not-yet-valid",
            &["cert-not-yet-valid", "insecure-fallback-required"],
            "leaf valid from 30 days from now",
            LeafSpec { not_before: now + Days::days(30), not_after: now + Days::days(400), ..server("not-yet-valid") },
        ),
        spec(
            "expiring-20d",
            &["cert-expiring-soon"],
            "leaf expires in 20 days (warning, verdict pass)",
            LeafSpec { not_after: now + Days::days(20) + Days::hours(1), ..server("expiring-20d") },
        ),
        spec(
            "expiring-3d",
            &["cert-expiring-soon"],
            "leaf expires in 3 days (error)",
            LeafSpec { not_after: now + Days::days(3) + Days::hours(1), ..server("expiring-3d") },
        ),
        spec(
            "wrong-host",
            &["cert-hostname-mismatch", "insecure-fallback-required"],
            "leaf for somewhere-else.lab.test only (no localhost SAN either)",
            LeafSpec::server("wrong-host", vec![format!("somewhere-else.{ZONE}")]),
        ),
        spec(
            "self-signed",
            &["cert-self-signed", "insecure-fallback-required"],
            "self-signed leaf with the right names",
            LeafSpec { signer: Signer::SelfSigned, send: Send::LeafOnly, ..server("self-signed") },
        ),
        spec(
            "untrusted-root",
            &["cert-untrusted-issuer", "insecure-fallback-required"],
            "leaf + intermediate + root of a CA not in the lab trust file",
            LeafSpec {
                signer: Signer::UntrustedIntermediate,
                send: Send::WithIntermediateAndRoot,
                ..server("untrusted-root")
            },
        ),
        spec(
            "aia-missing-intermediate",
            &["cert-chain-incomplete", "insecure-fallback-required"],
            "leaf with an AIA caIssuers URL, sent without its intermediate",
            LeafSpec {
                send: Send::LeafOnly,
                aia_ca_issuers: Some(certs::AIA_CA_ISSUERS_URL),
                ..server("aia-missing-intermediate")
            },
        ),
        spec(
            "no-aia-missing-intermediate",
            &["cert-untrusted-issuer", "insecure-fallback-required"],
            "leaf without AIA, sent without its intermediate (private CA or missing intermediate)",
            LeafSpec { send: Send::LeafOnly, ..server("no-aia-missing-intermediate") },
        ),
        spec(
            "ca-as-leaf",
            &["cert-invalid", "insecure-fallback-required"],
            "a CA certificate (basicConstraints CA:TRUE) presented as the leaf",
            LeafSpec { is_ca: true, ..server("ca-as-leaf") },
        ),
        spec(
            "wrong-eku",
            &["cert-invalid", "insecure-fallback-required"],
            "leaf whose extended key usage is clientAuth only (not serverAuth)",
            LeafSpec { client_auth: true, ..server("wrong-eku") },
        ),
        spec(
            "hostile-subject",
            &["cert-self-signed", "insecure-fallback-required"],
            "self-signed leaf whose subject/issuer CN is Markdown/HTML-hostile text (escaping tests)",
            LeafSpec {
                common_name: certs::HOSTILE_SUBJECT.to_string(),
                signer: Signer::SelfSigned,
                send: Send::LeafOnly,
                ..server("hostile-subject")
            },
        ),
        spec(
            "rsa",
            &[],
            "valid chain whose leaf has an RSA 2048 key (the others are ECDSA P-256)",
            LeafSpec { key_pem: Some(rsa_key_pem), ..server("rsa") },
        ),
        spec("healthy-1", &[], "member 1 of the healthy SRV cluster", server("healthy-1")),
        spec("healthy-2", &[], "member 2 of the healthy SRV cluster", server("healthy-2")),
        spec("healthy-3", &[], "member 3 of the healthy SRV cluster", server("healthy-3")),
        spec(
            "atlas-untrusted-root",
            &["tls-interception-suspected", "insecure-fallback-required", "ca-bundle-incomplete"],
            "an Atlas-like host name whose chain ends in a root outside the trust, from neither of Atlas's CAs",
            LeafSpec {
                signer: Signer::UntrustedIntermediate,
                ..LeafSpec::server("atlas-untrusted-root", vec![format!("cluster1-shard-00-00.{ATLAS_ZONE}")])
            },
        ),
    ];
    specs.push(ProxySpec { tls12_only: true, ..spec("tls12", &[], "TLS 1.2 only (no TLS 1.3)", server("tls12")) });
    specs.push(ProxySpec {
        mtls: true,
        ..spec(
            "mtls",
            &["client-certificate-required"],
            "requires a client certificate from the lab CA (fine with client_cert_key_file)",
            server("mtls"),
        )
    });
    specs.push(ProxySpec {
        mtls: true,
        tls12_only: true,
        ..spec(
            "mtls-tls12",
            &["client-certificate-required"],
            "requires a client certificate, TLS 1.2 only (the refusal comes inside the handshake)",
            server("mtls-tls12"),
        )
    });
    specs
}

/// The hostile peers (see `hostile.rs`): each must cost the probe at most its deadline and
/// bounded memory.
async fn add_hostile(endpoints: &mut BTreeMap<String, Endpoint>, pki: &Pki, upstream: SocketAddr) {
    let plain_tls = ProxyOptions { tls12_only: false, client_roots: None };
    let mut add = |name: &str, port: u16, provokes: &[&'static str], description: &'static str| {
        let endpoint = Endpoint::new(name, lab_name(name), port, Transport::Tls, provokes, description);
        endpoints.insert(endpoint.name.clone(), endpoint);
    };
    let long_chain =
        pki.issue_long_chain("hostile-long-chain", &names_for("hostile-long-chain"), LONG_CHAIN_LENGTH - 1);
    add(
        "hostile-long-chain",
        tls::proxy(&long_chain, &plain_tls, upstream).await,
        &["cert-invalid", "insecure-fallback-required"],
        "presents 100 certificates: a leaf under 99 CAs in a line from the lab root (webpki stops at depth 6)",
    );
    let huge = pki.issue(&LeafSpec {
        padding: HUGE_CERT_PADDING,
        ..LeafSpec::server("hostile-huge-cert", names_for("hostile-huge-cert"))
    });
    add(
        "hostile-huge-cert",
        tls::proxy_with(tls::unchecked_server_config(&huge), upstream).await,
        &["tls-handshake-failed"],
        "presents a 1 MiB leaf (an opaque extension), beyond rustls's 64 KiB handshake-message limit",
    );
    add(
        "hostile-trickle",
        hostile::trickle().await,
        &["tls-handshake-timeout"],
        "answers the ClientHello with a ServerHello's first bytes, one byte per second, for 30 s",
    );
    add(
        "hostile-tls-flood",
        hostile::tls_flood().await,
        &["tls-handshake-failed"],
        "answers the ClientHello with a ServerHello announcing 16 MiB and TLS records of filler (up to 1 GiB)",
    );
    let hello_leaf = |name: &'static str| {
        let identity = pki.issue(&LeafSpec::server(name, names_for(name)));
        Arc::new(tls::server_config(&identity, &plain_tls))
    };
    add(
        "hostile-hello-16mib",
        hostile::tls_then(hello_leaf("hostile-hello-16mib"), hostile::AfterHello::Announce(16 * 1024 * 1024)).await,
        &["mongo-handshake-failed"],
        "valid TLS; answers hello with an OP_MSG header announcing 16 MiB, 5 more bytes, then silence",
    );
    add(
        "hostile-hello-2gib",
        hostile::tls_then(hello_leaf("hostile-hello-2gib"), hostile::AfterHello::Announce(i32::MAX)).await,
        &["mongo-handshake-failed"],
        "valid TLS; answers hello with an OP_MSG header announcing i32::MAX bytes, 5 more bytes, then silence",
    );
    add(
        "hostile-hello-flood",
        hostile::tls_then(hello_leaf("hostile-hello-flood"), hostile::AfterHello::Flood).await,
        &["mongo-handshake-failed"],
        "valid TLS; answers hello with an OP_MSG header announcing i32::MAX bytes, then garbage (up to 1 GiB)",
    );
}

fn add(endpoints: &mut BTreeMap<String, Endpoint>, endpoint: Endpoint) {
    endpoints.insert(endpoint.name.clone(), endpoint);
}

/// Raw TCP servers that answer like Atlas's access list, like other protocols, or not at all.
/// Returns what must stay alive for the blackhole and the closed port to keep their behaviour.
async fn add_raw_endpoints(endpoints: &mut BTreeMap<String, Endpoint>) -> (raw::Blackhole, tokio::net::TcpSocket, u16) {
    let rejected = [
        raw::access_list_rejecting().await,
        raw::access_list_rejecting().await,
        raw::access_list_rejecting().await,
        raw::access_list_rejecting().await,
    ];
    let alert_description = "answers the ClientHello with 15 03 03 00 02 02 50 (fatal internal_error) and closes";
    add(
        endpoints,
        Endpoint::new(
            "rejected",
            lab_name("rejected"),
            rejected[0],
            Transport::Tls,
            &["ip-access-list-rejected"],
            alert_description,
        ),
    );
    for (i, port) in rejected[1..].iter().enumerate() {
        let name = format!("rejected-{}", i + 1);
        add(
            endpoints,
            Endpoint::new(
                &name,
                lab_name(&name),
                *port,
                Transport::Tls,
                &["ip-access-list-rejected"],
                alert_description,
            ),
        );
    }
    add(
        endpoints,
        Endpoint::new(
            "atlas-rejected",
            format!("cluster0-shard-00-00.{ATLAS_ZONE}"),
            rejected[1],
            Transport::Tls,
            &["ip-access-list-rejected", "ca-bundle-incomplete"],
            "the access-list alert under an Atlas-like *.mongodb.net name",
        ),
    );
    add(
        endpoints,
        Endpoint::new(
            "silent",
            lab_name("silent"),
            raw::silent().await,
            Transport::Tls,
            &["tls-handshake-timeout"],
            "accepts, never answers, closes after 30 s",
        ),
    );
    add(
        endpoints,
        Endpoint::new(
            "http",
            lab_name("http"),
            raw::http().await,
            Transport::Tls,
            &["server-not-tls"],
            "answers HTTP/1.1 400 Bad Request",
        ),
    );
    add(
        endpoints,
        Endpoint::new(
            "ssh",
            lab_name("ssh"),
            raw::ssh().await,
            Transport::Tls,
            &["server-not-tls"],
            "sends an SSH-2.0 banner",
        ),
    );
    add(
        endpoints,
        Endpoint::new(
            "bare-close",
            lab_name("bare-close"),
            raw::bare_close().await,
            Transport::Tls,
            &["tls-handshake-failed"],
            "reads the ClientHello and closes (FIN) without any answer",
        ),
    );
    add(
        endpoints,
        Endpoint::new(
            "reset",
            lab_name("reset"),
            raw::resetting().await,
            Transport::Tls,
            &["tls-handshake-failed"],
            "reads the ClientHello and resets the connection (RST)",
        ),
    );
    add(
        endpoints,
        Endpoint::new(
            "handshake-failure-alert",
            lab_name("handshake-failure-alert"),
            raw::alerting(raw::HANDSHAKE_FAILURE_ALERT).await,
            Transport::Tls,
            &["tls-protocol-mismatch"],
            "answers every ClientHello with a fatal handshake_failure alert (no common cipher)",
        ),
    );
    let blackhole = raw::blackhole();
    add(
        endpoints,
        Endpoint::new(
            "blackhole",
            lab_name("blackhole"),
            blackhole.port,
            Transport::Tls,
            &["tcp-connect-timeout"],
            "TCP connection attempts time out (SYNs dropped, as behind a firewall)",
        ),
    );
    let (closed_holder, closed_port) = raw::closed_port();
    add(
        endpoints,
        Endpoint::new(
            "closed",
            lab_name("closed"),
            closed_port,
            Transport::Tls,
            &["tcp-connection-refused"],
            "nothing listens",
        ),
    );
    (blackhole, closed_holder, closed_port)
}

/// The ports of the servers the lab runs as child processes.
struct NativePorts {
    plain: u16,
    tls: u16,
    mtls: u16,
    auth: u16,
    tls10: u16,
}

/// SecantusDB with its own TLS, mutual TLS and SCRAM, and the TLS 1.0-only server.
fn add_native_endpoints(endpoints: &mut BTreeMap<String, Endpoint>, ports: &NativePorts) {
    add(
        endpoints,
        Endpoint::new(
            "plain",
            lab_name("plain"),
            ports.plain,
            Transport::Plain,
            &[],
            "SecantusDB without TLS (with ?tls=true: server-not-tls)",
        ),
    );
    add(
        endpoints,
        Endpoint::new(
            "secantus-tls",
            lab_name("secantus-tls"),
            ports.tls,
            Transport::Tls,
            &[],
            "SecantusDB with native TLS",
        ),
    );
    add(
        endpoints,
        Endpoint::new(
            "secantus-mtls",
            lab_name("secantus-mtls"),
            ports.mtls,
            Transport::Tls,
            &["client-certificate-required"],
            "SecantusDB with native TLS requiring a client certificate from the lab CA",
        ),
    );
    add(
        endpoints,
        Endpoint::new(
            "auth",
            "localhost".into(),
            ports.auth,
            Transport::Plain,
            &[],
            "SecantusDB with --auth; user labuser / CANARY_PASSWORD in admin (wrong password: auth-failed)",
        ),
    );
    add(
        endpoints,
        Endpoint::new(
            "tls10",
            lab_name("tls10"),
            ports.tls10,
            Transport::Tls,
            &["tls-protocol-mismatch"],
            "OpenSSL (through Python's ssl) accepting only TLS 1.0, legacy ciphers allowed, a thread per connection",
        ),
    );
}

/// rustls proxies in front of the plain SecantusDB, each presenting a certificate built for one
/// failure (or none), and the hostile peers and the second round of causes.
async fn add_proxy_endpoints(
    endpoints: &mut BTreeMap<String, Endpoint>,
    pki: &Pki,
    upstream: SocketAddr,
    rsa_key_pem: String,
    auth_tls_id: &certs::Identity,
    auth_port: u16,
) -> causes::Files {
    let not_mongo_leaf = pki.issue(&LeafSpec::server("tls-not-mongodb", names_for("tls-not-mongodb")));
    let http_upstream = SocketAddr::from(([127, 0, 0, 1], endpoints["http"].port));
    let not_mongo_port =
        tls::proxy(&not_mongo_leaf, &ProxyOptions { tls12_only: false, client_roots: None }, http_upstream).await;
    add(
        endpoints,
        Endpoint::new(
            "tls-not-mongodb",
            lab_name("tls-not-mongodb"),
            not_mongo_port,
            Transport::Tls,
            &["mongo-handshake-failed"],
            "valid TLS, but behind it an HTTP server answers the hello with HTTP/1.1 400",
        ),
    );
    let sha1_leaf = pki.issue_sha1_signed("sha1-signature", &names_for("sha1-signature"));
    let sha1_port = tls::proxy(&sha1_leaf, &ProxyOptions { tls12_only: false, client_roots: None }, upstream).await;
    add(
        endpoints,
        Endpoint::new(
            "sha1-signature",
            lab_name("sha1-signature"),
            sha1_port,
            Transport::Tls,
            &["cert-invalid", "insecure-fallback-required"],
            "leaf signed by the lab intermediate with ecdsa-with-SHA1 (webpki: UnsupportedSignatureAlgorithm)",
        ),
    );
    add_hostile(endpoints, pki, upstream).await;
    let files = causes::add(endpoints, pki, upstream).await;
    for spec in proxy_specs(rsa_key_pem) {
        let identity = pki.issue(&spec.leaf);
        let options =
            ProxyOptions { tls12_only: spec.tls12_only, client_roots: spec.mtls.then(|| vec![pki.root_der().clone()]) };
        let port = tls::proxy(&identity, &options, upstream).await;
        // The leaf's first SAN is the name the endpoint is meant to be reached by (the
        // lab name, or the Atlas-like name); `wrong-host` is the exception by design.
        let host = if spec.name == "wrong-host" { lab_name(spec.name) } else { spec.leaf.names[0].clone() };
        add(endpoints, Endpoint::new(spec.name, host, port, Transport::Tls, spec.provokes, spec.description));
    }
    let auth_tls_port = tls::proxy(
        auth_tls_id,
        &ProxyOptions { tls12_only: false, client_roots: None },
        SocketAddr::from(([127, 0, 0, 1], auth_port)),
    )
    .await;
    add(
        endpoints,
        Endpoint::new(
            "auth-tls",
            "localhost".into(),
            auth_tls_port,
            Transport::Tls,
            &[],
            "valid TLS proxy in front of the --auth instance (for the driver's strict-TLS auth stage)",
        ),
    );
    files
}

/// The lab's DNS zone (every endpoint's name, SRV clusters with their TXT options, and the
/// names that fail on purpose) and the `mongodb+srv` names tests use.
fn dns_zone(endpoints: &BTreeMap<String, Endpoint>, closed_port: u16) -> (dns::Zone, BTreeMap<String, SrvName>) {
    let port_of = |name: &str| endpoints[name].port;
    let srv_list = [
        (
            "rejected",
            format!("rejected.{ZONE}"),
            (1..=3).map(|i| (lab_name(&format!("rejected-{i}")), port_of(&format!("rejected-{i}")))).collect(),
            Some("authSource=admin".to_string()),
            vec!["ip-access-list-rejected"],
            "three hosts that all send the access-list alert",
        ),
        (
            "healthy",
            format!("healthy.{ZONE}"),
            (1..=3).map(|i| (lab_name(&format!("healthy-{i}")), port_of(&format!("healthy-{i}")))).collect(),
            Some("authSource=admin".to_string()),
            vec![],
            "three valid TLS proxies to SecantusDB",
        ),
        (
            "outside",
            format!("outside.{ZONE}"),
            vec![("db.elsewhere.test".to_string(), port_of("valid"))],
            None,
            vec!["srv-invalid-target"],
            "SRV target outside the parent domain lab.test",
        ),
        (
            "dangling",
            format!("dangling.{ZONE}"),
            vec![(lab_name("ghost"), port_of("valid"))],
            None,
            vec!["dns-host-not-found"],
            "SRV target ghost.lab.test has no address (NXDOMAIN)",
        ),
        (
            "atlas-rejected",
            format!("cluster0.{ATLAS_ZONE}"),
            (0..3)
                .map(|i| (format!("cluster0-shard-00-0{i}.{ATLAS_ZONE}"), port_of(&format!("rejected-{}", i + 1))))
                .collect(),
            Some("authSource=admin&replicaSet=atlas-abcde-shard-0".to_string()),
            vec!["ip-access-list-rejected", "ca-bundle-incomplete"],
            "Atlas-like cluster whose three hosts send the access-list alert",
        ),
        (
            "rs-from-txt",
            format!("rs-txt.{ZONE}"),
            vec![(lab_name("rs-not-asked"), port_of("rs-not-asked"))],
            Some("authSource=admin&replicaSet=rs-expected".to_string()),
            vec!["replica-set-name-mismatch"],
            "the replica set name comes from the TXT record (rs-expected); the member is rs-actual",
        ),
        (
            "rs-from-txt-match",
            format!("rs-txt-match.{ZONE}"),
            vec![(lab_name("rs-not-asked"), port_of("rs-not-asked"))],
            Some(format!("authSource=admin&replicaSet={}", causes::SET_NAME)),
            vec![],
            "the TXT record names the member's own set (look-alike)",
        ),
    ];
    let many_targets: Vec<(String, u16)> =
        (1..=MANY_SRV_TARGETS).map(|i| (format!("m{i:04}.many-hosts.{ZONE}"), closed_port)).collect();
    let mut zone = dns::Zone {
        hosts: endpoints.values().map(|e| e.host.clone()).filter(|h| h != "localhost").collect(),
        clusters: vec![],
        no_address: vec![lab_name("noaddr")],
        broken_domains: vec![format!("broken.{ZONE}")],
        local_domains: vec![ZONE.to_string(), "elsewhere.test".to_string(), "mongodb.net".to_string()],
        wildcard_domains: vec![format!("many-hosts.{ZONE}")],
    };
    zone.hosts.extend(
        ["localhost".to_string(), "db.elsewhere.test".to_string()]
            .into_iter()
            .chain((0..3).map(|i| format!("cluster0-shard-00-0{i}.{ATLAS_ZONE}"))),
    );
    zone.hosts.sort();
    zone.hosts.dedup();
    let mut srv = BTreeMap::new();
    srv.insert(
        "many".to_string(),
        SrvName {
            uri: format!("mongodb+srv://many.{ZONE}/"),
            name: format!("many.{ZONE}"),
            provokes: vec!["srv-invalid-target", "tcp-connection-refused"],
            description: "1,000 SRV targets (the UDP answer truncates; TCP carries it), all on the refused port",
        },
    );
    zone.clusters.push(dns::SrvCluster { name: format!("many.{ZONE}"), targets: many_targets, txt: None });
    for (key, name, targets, txt, provokes, description) in srv_list {
        srv.insert(
            key.to_string(),
            SrvName { uri: format!("mongodb+srv://{name}/"), name: name.clone(), provokes, description },
        );
        zone.clusters.push(dns::SrvCluster { name, targets, txt });
    }
    let extra_srv: [(&str, String, Vec<&'static str>, &'static str); 3] = [
        ("missing", format!("missing.{ZONE}"), vec!["dns-srv-not-found"], "no SRV record (NXDOMAIN)"),
        (
            "broken",
            format!("broken.{ZONE}"),
            vec!["dns-lookup-failed"],
            "every lookup under broken.lab.test gets SERVFAIL",
        ),
        ("noaddr", format!("noaddr.{ZONE}"), vec!["dns-srv-not-found"], "the name exists (TXT only) but has no SRV"),
    ];
    for (key, name, provokes, description) in extra_srv {
        srv.insert(key.to_string(), SrvName { uri: format!("mongodb+srv://{name}/"), name, provokes, description });
    }
    (zone, srv)
}

/// Endpoints whose host name fails in the lab DNS: no address, NXDOMAIN, SERVFAIL.
fn add_dns_failure_endpoints(endpoints: &mut BTreeMap<String, Endpoint>) {
    let valid_port = endpoints["valid"].port;
    add(
        endpoints,
        Endpoint::new(
            "noaddr-host",
            lab_name("noaddr"),
            valid_port,
            Transport::Tls,
            &["dns-host-not-found"],
            "a host name that exists (TXT record) but has no A/AAAA record",
        ),
    );
    add(
        endpoints,
        Endpoint::new(
            "nxdomain-host",
            lab_name("nonexistent"),
            valid_port,
            Transport::Tls,
            &["dns-host-not-found"],
            "a host name the lab DNS answers NXDOMAIN for",
        ),
    );
    add(
        endpoints,
        Endpoint::new(
            "servfail-host",
            format!("db.broken.{ZONE}"),
            valid_port,
            Transport::Tls,
            &["dns-lookup-failed"],
            "a host name whose lookup gets SERVFAIL",
        ),
    );
}

impl Lab {
    /// Starts every server. Must run on a runtime that outlives the lab.
    pub async fn start(lifetime: Duration) -> Lab {
        process::trace("start");
        let dir = tempfile::Builder::new().prefix("mongo-preflight-lab-").tempdir().expect("lab: temp dir").keep();
        process::spawn_janitor(&dir, lifetime);
        let pki = Pki::generate(&dir);
        process::trace("PKI generated");
        let client =
            pki.issue(&LeafSpec { client_auth: true, ..LeafSpec::server("client", vec![format!("client.{ZONE}")]) });
        let untrusted_client = pki.issue(&LeafSpec {
            client_auth: true,
            signer: Signer::UntrustedIntermediate,
            ..LeafSpec::server("untrusted-client", vec![format!("untrusted-client.{ZONE}")])
        });
        let secantus_tls_id = pki.issue(&LeafSpec::server("secantus-tls", names_for("secantus-tls")));
        let secantus_mtls_id = pki.issue(&LeafSpec::server("secantus-mtls", names_for("secantus-mtls")));
        let tls10_id = pki.issue(&LeafSpec::server("tls10", names_for("tls10")));
        let auth_tls_id = pki.issue(&LeafSpec::server("auth-tls", names_for("auth-tls")));

        let mut endpoints = BTreeMap::new();
        let (blackhole, closed_holder, closed_port) = add_raw_endpoints(&mut endpoints).await;

        // The slow parts, concurrently: four SecantusDB instances and the TLS 1.0 server.
        let (plain, native_tls, native_mtls, auth, tls10, rsa_key_pem) = tokio::join!(
            secantus::start("secantus-plain", secantus::Mode::Plain, &dir, lifetime),
            secantus::start(
                "secantus-tls",
                secantus::Mode::Tls { cert_chain: &secantus_tls_id.chain_file, key: &secantus_tls_id.key_file },
                &dir,
                lifetime
            ),
            secantus::start(
                "secantus-mtls",
                secantus::Mode::MutualTls {
                    cert_chain: &secantus_mtls_id.chain_file,
                    key: &secantus_mtls_id.key_file,
                    ca: &pki.ca_file
                },
                &dir,
                lifetime
            ),
            secantus::start_with_user("secantus-auth", &dir, lifetime, AUTH_USER, CANARY_PASSWORD),
            tls::tls10_server(&tls10_id, &dir, lifetime),
            certs::rsa_key_pem(2048),
        );
        process::trace("child processes up");
        let upstream = SocketAddr::from(([127, 0, 0, 1], plain.1));
        let natives =
            NativePorts { plain: plain.1, tls: native_tls.1, mtls: native_mtls.1, auth: auth.1, tls10: tls10.1 };
        add_native_endpoints(&mut endpoints, &natives);
        let files = add_proxy_endpoints(&mut endpoints, &pki, upstream, rsa_key_pem, &auth_tls_id, auth.1).await;

        let (zone, srv) = dns_zone(&endpoints, closed_port);
        let dns_child = dns::start(&zone, &dir, lifetime).await;
        add_dns_failure_endpoints(&mut endpoints);

        process::trace("lab ready");
        Lab {
            ca_file: pki.ca_file.clone(),
            untrusted_ca_file: pki.untrusted_ca_file.clone(),
            intermediate_file: pki.intermediate_file.clone(),
            client_cert_key_file: client.combined_file.clone(),
            untrusted_client_cert_key_file: untrusted_client.combined_file.clone(),
            dns_server: SocketAddr::from(([127, 0, 0, 1], dns_child.1)),
            files,
            dir,
            endpoints,
            srv,
            _closed_port_holder: closed_holder,
            _blackhole: blackhole,
            children: Mutex::new(vec![plain.0, native_tls.0, native_mtls.0, auth.0, tls10.0, dns_child.0]),
        }
    }

    /// The endpoint called `name`; panics listing the known names otherwise.
    pub fn endpoint(&self, name: &str) -> &Endpoint {
        self.endpoints.get(name).unwrap_or_else(|| {
            panic!(
                "lab: no endpoint {name:?}; known: {}",
                self.endpoints.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        })
    }

    pub fn endpoints(&self) -> impl Iterator<Item = &Endpoint> {
        self.endpoints.values()
    }

    /// The `mongodb+srv` name called `name` (`rejected`, `healthy`, `missing`, `outside`,
    /// `dangling`, `broken`, `noaddr`, `atlas-rejected`).
    pub fn srv(&self, name: &str) -> &SrvName {
        self.srv.get(name).unwrap_or_else(|| {
            panic!("lab: no SRV name {name:?}; known: {}", self.srv.keys().cloned().collect::<Vec<_>>().join(", "))
        })
    }

    pub fn srv_names(&self) -> impl Iterator<Item = &SrvName> {
        self.srv.values()
    }

    /// `--dns-server` argument.
    pub fn dns_arg(&self) -> String {
        self.dns_server.to_string()
    }

    /// `--ca-file <lab CA> --dns-server <lab DNS>`, the arguments every lab probe needs.
    pub fn probe_args(&self) -> Vec<String> {
        vec!["--ca-file".into(), self.ca_file_arg(), "--dns-server".into(), self.dns_arg()]
    }

    pub fn ca_file_arg(&self) -> String {
        self.ca_file.to_string_lossy().into_owned()
    }

    /// `mongodb://labuser:<password>@localhost:<auth port>/?authSource=admin`.
    pub fn auth_uri(&self, password: &str) -> String {
        format!("mongodb://{AUTH_USER}:{password}@localhost:{}/?authSource=admin", self.endpoint("auth").port)
    }

    /// The same through the valid TLS proxy in front of the auth instance.
    pub fn auth_tls_uri(&self, password: &str) -> String {
        format!(
            "mongodb://{AUTH_USER}:{password}@localhost:{}/?tls=true&authSource=admin",
            self.endpoint("auth-tls").port
        )
    }

    /// `uri` with `tlsCertificateKeyFile` set to the lab client certificate.
    pub fn with_client_cert(&self, uri: &str) -> String {
        let separator = if uri.contains('?') { '&' } else { '?' };
        format!("{uri}{separator}tlsCertificateKeyFile={}", self.client_cert_key_file.display())
    }

    /// The lab as JSON: endpoints, SRV names, files, DNS server and canary.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "ca_file": self.ca_file,
            "untrusted_ca_file": self.untrusted_ca_file,
            "intermediate_file": self.intermediate_file,
            "client_cert_key_file": self.client_cert_key_file,
            "untrusted_client_cert_key_file": self.untrusted_client_cert_key_file,
            "dns_server": self.dns_arg(),
            "files": self.files,
            "auth_user": AUTH_USER,
            "canary_password": CANARY_PASSWORD,
            "auth_uri": self.auth_uri(CANARY_PASSWORD),
            "auth_tls_uri": self.auth_tls_uri(CANARY_PASSWORD),
            "dir": self.dir,
            "endpoints": self.endpoints,
            "srv": self.srv,
        })
    }

    /// Log of a child process (`secantus-plain`, `dnsmasq`, `python-tls10`, …), for debugging.
    pub fn log_of(&self, child: &str) -> PathBuf {
        self.dir.join(format!("{child}.log"))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}
