//! The probe engine: one file per stage, every stage under a deadline.
//!
//! This module runs the stages and records what they observed ([`ClusterObservation`],
//! [`HostObservation`]). It never judges: what the observations mean, and how they are shown,
//! is decided in one place, `diagnose`, which this module does not name.

pub mod auth;
pub mod ca_bundle;
pub mod certs;
pub mod dns;
pub mod hello;
pub mod legacy;
pub mod tcp;
pub mod tls;
pub mod versions;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use futures::StreamExt;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rustls::pki_types::UnixTime;

use crate::error::AppError;
use crate::uri::{ConnectionString, HostPort};

pub use crate::model::TlsVersion;

/// How to probe one cluster.
#[derive(Debug, Clone)]
pub struct ProbeSettings {
    /// Deadline for each network stage.
    pub timeout: Duration,
    /// Trust anchors replacing the Mozilla roots (the URI's `tlsCAFile` wins over this).
    pub ca_file: Option<PathBuf>,
    /// Add the operating system's store to the trust anchors.
    pub system_roots: bool,
    /// Where every DNS query goes; `None` uses the system resolver configuration.
    pub dns_server: Option<SocketAddr>,
    /// Certificate expiry: warning under this many days.
    pub warn_days: u32,
    /// Certificate expiry: error under this many days.
    pub fail_days: u32,
    pub min_tls_version: Option<TlsVersion>,
    /// PEM holding the client certificate and key (the URI's `tlsCertificateKeyFile` wins).
    pub client_cert: Option<PathBuf>,
    /// Also offer TLS 1.0, 1.1, 1.2 and 1.3 one at a time, to learn the oldest version each
    /// host accepts (for the posture lock: `lock`, and `check` when a lock exists).
    pub posture: bool,
}

impl Default for ProbeSettings {
    fn default() -> Self {
        ProbeSettings {
            timeout: Duration::from_secs(10),
            ca_file: None,
            system_roots: false,
            dns_server: None,
            warn_days: 30,
            fail_days: 7,
            min_tls_version: None,
            client_cert: None,
            posture: false,
        }
    }
}

/// One cluster to probe.
#[derive(Debug, Clone)]
pub struct ProbeTarget {
    pub name: String,
    pub uri: ConnectionString,
    pub settings: ProbeSettings,
    /// An unreachable optional cluster only warns.
    pub required: bool,
    /// Where the cluster is declared in the policy file, for SARIF locations.
    pub policy_line: Option<u32>,
}

/// Everything needed to probe a cluster, with files already loaded.
#[derive(Debug, Clone)]
struct Prepared {
    target: ProbeTarget,
    tls: tls::TlsSetup,
    ca_file: Option<PathBuf>,
    client_cert: Option<PathBuf>,
}

/// Loads every target's trust anchors and client certificate. Unreadable files stop the run
/// before any probing (exit 2), so a typo in a path is never reported as a server problem.
/// Targets with the same trust and client certificate share one loaded setup.
fn prepare(target: ProbeTarget, setups: &mut HashMap<SetupKey, tls::TlsSetup>) -> Result<Prepared, AppError> {
    let ca_file = target.uri.ca_file().map(PathBuf::from).or_else(|| target.settings.ca_file.clone());
    let client_cert =
        target.uri.certificate_key_file().map(PathBuf::from).or_else(|| target.settings.client_cert.clone());
    let key = (ca_file.clone(), target.settings.system_roots, client_cert.clone());
    let tls = match setups.get(&key) {
        Some(tls) => tls.clone(),
        None => {
            let tls = tls::TlsSetup::load(ca_file.as_deref(), target.settings.system_roots, client_cert.as_deref())
                .map_err(|e| AppError::Other(format!("cluster `{}`: {e}", target.name)))?;
            setups.insert(key, tls.clone());
            tls
        }
    };
    Ok(Prepared { target, tls, ca_file, client_cert })
}

/// What a loaded TLS setup depends on: the CA file, the system store, the client certificate.
type SetupKey = (Option<PathBuf>, bool, Option<PathBuf>);

/// Clusters probed at the same time. Each probes its hosts concurrently (three for an Atlas
/// replica set), so this bounds the open connections and DNS queries of a run over thousands
/// of clusters (an Atlas organization) well under the usual limit of 1,024 open files, and
/// keeps memory flat; a run over a few clusters is not slowed.
pub const CLUSTERS_AT_ONCE: usize = 64;

/// Probes the targets concurrently, at most [`CLUSTERS_AT_ONCE`] at a time; the results come
/// back in the targets' order.
pub async fn probe_all(targets: Vec<ProbeTarget>) -> Result<Vec<ClusterObservation>, AppError> {
    let mut setups = HashMap::new();
    let prepared = targets.into_iter().map(|t| prepare(t, &mut setups)).collect::<Result<Vec<_>, _>>()?;
    Ok(futures::stream::iter(prepared.into_iter().map(probe_cluster)).buffered(CLUSTERS_AT_ONCE).collect().await)
}

/// What cluster-level DNS observed for a `mongodb+srv` name.
#[derive(Debug, Clone)]
pub struct SrvObservation {
    pub name: String,
    pub elapsed: Duration,
    pub result: Result<Vec<dns::SrvTarget>, dns::DnsFailure>,
    pub txt: Result<Option<String>, dns::DnsFailure>,
    /// Targets outside the SRV name's parent domain.
    pub rejected: Vec<dns::SrvTarget>,
}

/// Everything observed about one cluster.
#[derive(Debug, Clone)]
pub struct ClusterObservation {
    pub name: String,
    /// The connection string with user info shown as `****`.
    pub uri: String,
    pub required: bool,
    pub policy_line: Option<u32>,
    /// The SRV and TXT lookups of a `mongodb+srv` name.
    pub srv: Option<SrvObservation>,
    pub hosts: Vec<HostObservation>,
    /// SRV targets left out by [`MAX_SRV_HOSTS`].
    pub not_probed: Vec<HostPort>,
    /// The CA file the cluster's trust comes from (`tlsCAFile`, the policy's or `--ca-file`).
    pub ca_bundle: Option<ca_bundle::CaBundle>,
}

async fn probe_cluster(p: Prepared) -> ClusterObservation {
    let target = &p.target;
    let settings = &target.settings;
    let mut observed = ClusterObservation {
        name: target.name.clone(),
        uri: target.uri.redacted(),
        required: target.required,
        policy_line: target.policy_line,
        srv: None,
        hosts: Vec::new(),
        not_probed: Vec::new(),
        ca_bundle: p.ca_file.as_deref().map(ca_bundle::read),
    };
    let dns = dns::Dns::new(settings.dns_server, settings.timeout);

    let mut txt_options = Vec::new();
    let hosts: Vec<HostPort> = match target.uri.srv_name() {
        None => target.uri.hosts.clone(),
        Some(name) => {
            let service = target.uri.option("srvServiceName").unwrap_or("mongodb").to_string();
            let start = Instant::now();
            let (srv, txt) = tokio::join!(dns.srv(name, &service), dns.txt(name));
            let elapsed = start.elapsed();
            let (allowed, rejected): (Vec<_>, Vec<_>) = match &srv {
                Ok(targets) => targets.iter().cloned().partition(|t| dns::srv_target_allowed(name, &t.target)),
                Err(_) => (Vec::new(), Vec::new()),
            };
            if let Ok(Some(text)) = &txt {
                txt_options = parse_txt_options(text);
            }
            observed.srv = Some(SrvObservation { name: name.to_string(), elapsed, result: srv, txt, rejected });
            let max_hosts = target.uri.option("srvMaxHosts").and_then(|v| v.parse::<usize>().ok()).filter(|n| *n > 0);
            let mut hosts: Vec<HostPort> =
                allowed.into_iter().map(|t| HostPort { host: t.target, port: t.port }).collect();
            if let Some(max) = max_hosts {
                hosts.truncate(max);
            }
            if hosts.len() > MAX_SRV_HOSTS {
                observed.not_probed = hosts.split_off(MAX_SRV_HOSTS);
            }
            hosts
        }
    };

    let replica_set = target
        .uri
        .option("replicaSet")
        .map(str::to_string)
        .or_else(|| txt_options.iter().find(|(k, _)| k.eq_ignore_ascii_case("replicaSet")).map(|(_, v)| v.clone()));
    let ctx = HostContext {
        prepared: &p,
        dns: &dns,
        txt_options: &txt_options,
        tls_expected: target.uri.tls_enabled(),
        now: SystemTime::now(),
        replica_set,
    };
    observed.hosts = futures::future::join_all(hosts.iter().map(|h| probe_host(&ctx, h.clone()))).await;
    observed
}

/// Most SRV targets probed per cluster. A replica set has at most 50 members, so a real seed
/// list fits; an SRV answer with hundreds of targets (hostile or broken DNS) would otherwise
/// open hundreds of connections and DNS queries at once. Targets are sorted by name, so the
/// probed ones are the same on every run.
pub const MAX_SRV_HOSTS: usize = 50;

/// TXT options per the seedlist spec: only `authSource`, `replicaSet` and `loadBalanced`.
fn parse_txt_options(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter_map(|pair| pair.split_once('='))
        .filter(|(k, _)| matches!(k.to_ascii_lowercase().as_str(), "authsource" | "replicaset" | "loadbalanced"))
        .map(|(k, v)| {
            let v = percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned();
            (k.to_string(), v)
        })
        .collect()
}

struct HostContext<'a> {
    prepared: &'a Prepared,
    dns: &'a dns::Dns,
    txt_options: &'a [(String, String)],
    tls_expected: bool,
    now: SystemTime,
    replica_set: Option<String>,
}

/// A timed result of one stage.
#[derive(Debug, Clone)]
pub struct Timed<T> {
    pub elapsed: Duration,
    pub value: T,
}

/// Everything observed on one host.
#[derive(Debug, Clone)]
pub struct HostObservation {
    pub host: HostPort,
    pub tls_expected: bool,
    pub is_atlas: bool,
    pub trust: String,
    pub dns: Option<Timed<Result<Vec<IpAddr>, dns::DnsFailure>>>,
    pub tcp_elapsed: Duration,
    pub tcp_failures: Vec<(SocketAddr, tcp::AttemptError)>,
    pub connected: Option<SocketAddr>,
    pub strict: Option<tls::HandshakeObservation>,
    pub relaxed: Option<tls::HandshakeObservation>,
    pub legacy: Option<Timed<legacy::LegacyAnswer>>,
    /// `hello` over the verified TLS connection, or over plain TCP when TLS is off.
    pub hello: Option<Timed<Result<hello::HelloReply, hello::HelloError>>>,
    /// A plaintext `hello` on a fresh connection after TLS failed: proof of a non-TLS server.
    pub plaintext_hello: Option<Timed<Result<hello::HelloReply, hello::HelloError>>>,
    /// `hello` over the relaxed (unverified) connection after strict TLS failed, for the
    /// server's facts (`setName`, `maxWireVersion`, `localTime`). `hello` carries no
    /// credentials, and nothing else is ever sent over an unverified connection.
    pub relaxed_hello: Option<Timed<Result<hello::HelloReply, hello::HelloError>>>,
    /// The replica set the connection string (or its TXT record) names.
    pub replica_set: Option<String>,
    pub auth: Option<Timed<auth::AuthOutcome>>,
    /// The presented chain, parsed (leaf first).
    pub chain: Vec<Option<certs::CertFacts>>,
    /// webpki's verdict on the chain re-run inside the leaf's validity window, so that chain
    /// problems are seen even when dates fail first.
    pub chain_verdict: Option<Result<(), rustls::Error>>,
    /// The leaf is itself one of the supplied trust anchors.
    pub leaf_is_anchor: bool,
    /// The trust anchor the presented chain ends in, by path building at the run's time
    /// (host names aside); `None` when no path reaches the trust.
    pub anchor: Option<certs::AnchorFacts>,
    /// Each TLS version offered on its own (only with [`ProbeSettings::posture`]).
    pub versions: Option<versions::AcceptedVersions>,
    pub now_unix: i64,
}

impl HostObservation {
    fn new(host: HostPort, ctx: &HostContext<'_>) -> Self {
        let now_unix = ctx.now.duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        HostObservation {
            is_atlas: is_atlas_host(&host.host),
            host,
            tls_expected: ctx.tls_expected,
            trust: ctx.prepared.tls.trust_description.clone(),
            dns: None,
            tcp_elapsed: Duration::ZERO,
            tcp_failures: Vec::new(),
            connected: None,
            strict: None,
            relaxed: None,
            legacy: None,
            hello: None,
            plaintext_hello: None,
            relaxed_hello: None,
            replica_set: ctx.replica_set.clone(),
            auth: None,
            chain: Vec::new(),
            chain_verdict: None,
            leaf_is_anchor: false,
            anchor: None,
            versions: None,
            now_unix,
        }
    }

    /// The socket address finally used, or last tried.
    pub fn address(&self) -> String {
        match (self.connected, self.tcp_failures.last()) {
            (Some(a), _) => a.to_string(),
            (None, Some((a, _))) => a.to_string(),
            (None, None) => String::new(),
        }
    }
}

/// Atlas's front ends: the hosts for which Atlas-specific remedies apply.
pub fn is_atlas_host(host: &str) -> bool {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    ["mongodb.net", "mongodb-dev.net", "mongodbgov.net"].iter().any(|d| h == *d || h.ends_with(&format!(".{d}")))
}

async fn probe_host(ctx: &HostContext<'_>, host: HostPort) -> HostObservation {
    let mut obs = HostObservation::new(host.clone(), ctx);
    let timeout = ctx.prepared.target.settings.timeout;

    let start = Instant::now();
    let addresses = ctx.dns.addresses(&host.host).await;
    let resolved = addresses.clone();
    obs.dns = Some(Timed { elapsed: start.elapsed(), value: addresses });
    let Ok(addresses) = resolved else { return obs };

    let connection = tcp::connect(&addresses, host.port, timeout).await;
    obs.tcp_elapsed = connection.elapsed;
    obs.tcp_failures = connection.failures;
    let Some((addr, mut stream)) = connection.connected else { return obs };
    obs.connected = Some(addr);

    if !ctx.tls_expected {
        hello_and_authenticate(ctx, &mut obs, &mut stream, false).await;
        return obs;
    }

    let setup = &ctx.prepared.tls;
    let (strict, tls_stream) = tls::handshake(setup, tls::Mode::Strict, stream, &host.host, timeout).await;
    let failure = strict.outcome.clone().err();
    obs.strict = Some(strict);
    match (tls_stream, failure) {
        (Some(mut tls_stream), _) => hello_and_authenticate(ctx, &mut obs, &mut tls_stream, true).await,
        (None, Some(failure)) => follow_up_failure(setup, addr, &host, &failure, timeout, &mut obs).await,
        (None, None) => {}
    }

    analyse_chain(ctx, &mut obs);
    // The posture probe asks only a server that answered TLS at all: after a timeout or a
    // non-TLS answer it would only wait out its deadlines again.
    let answered_tls = obs
        .strict
        .as_ref()
        .is_some_and(|s| !matches!(s.outcome, Err(tls::TlsFailure::Timeout | tls::TlsFailure::NotTls)));
    if ctx.prepared.target.settings.posture && answered_tls {
        obs.versions = Some(versions::probe(setup, addr, &host.host, timeout).await);
    }
    obs
}

/// `hello` over the connection the application would use, then authentication through the
/// driver when it answered.
async fn hello_and_authenticate<S>(ctx: &HostContext<'_>, obs: &mut HostObservation, stream: &mut S, tls: bool)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let start = Instant::now();
    let reply = hello::hello(stream, ctx.prepared.target.settings.timeout).await;
    let ok = reply.is_ok();
    obs.hello = Some(Timed { elapsed: start.elapsed(), value: reply });
    if ok {
        authenticate(ctx, obs, tls).await;
    }
}

/// After a strict handshake failed: fresh connections, concurrently, each answering one question
/// about the failure. Would a relaxed handshake work, and what does the server say over it (only
/// `hello`, never credentials)? Does the server speak only TLS 1.0/1.1? Is it plaintext MongoDB?
async fn follow_up_failure(
    setup: &tls::TlsSetup,
    addr: std::net::SocketAddr,
    host: &HostPort,
    failure: &tls::TlsFailure,
    timeout: Duration,
    obs: &mut HostObservation,
) {
    use tls::TlsFailure as F;
    let want_relaxed = !matches!(failure, F::Timeout);
    let want_legacy = matches!(
        failure,
        F::Closed
            | F::Reset
            | F::Alert(rustls::AlertDescription::ProtocolVersion)
            | F::Alert(rustls::AlertDescription::HandshakeFailure)
            | F::Alert(rustls::AlertDescription::InsufficientSecurity)
    );
    let want_plaintext = matches!(failure, F::Timeout | F::Closed | F::Reset);
    let relaxed = async {
        if !want_relaxed {
            return (None, None);
        }
        let Ok(tcp) = tcp::reconnect(addr, timeout).await else { return (None, None) };
        let (observed, stream) = tls::handshake(setup, tls::Mode::Relaxed, tcp, &host.host, timeout).await;
        // Only `hello`, which holds no credentials, ever goes over this connection. A
        // MongoDB answers it in milliseconds: a quarter of the deadline is plenty.
        let reply = match stream {
            Some(mut stream) => {
                let start = Instant::now();
                let reply = hello::hello(&mut stream, quarter(timeout)).await;
                Some(Timed { elapsed: start.elapsed(), value: reply })
            }
            None => None,
        };
        (Some(observed), reply)
    };
    let legacy = async {
        if !want_legacy {
            return None;
        }
        let start = Instant::now();
        let answer = legacy::probe(addr, &host.host, timeout).await;
        Some(Timed { elapsed: start.elapsed(), value: answer })
    };
    let plaintext = async {
        if !want_plaintext {
            return None;
        }
        // A plaintext MongoDB answers `hello` in milliseconds; after a handshake that
        // already used its whole deadline, a quarter of it is plenty of proof.
        let follow_up = if matches!(failure, F::Timeout) { quarter(timeout) } else { timeout };
        let start = Instant::now();
        let reply = match tcp::reconnect(addr, follow_up).await {
            Ok(mut tcp) => hello::hello(&mut tcp, follow_up).await,
            Err(e) => Err(hello::HelloError::Closed(e.to_string())),
        };
        Some(Timed { elapsed: start.elapsed(), value: reply })
    };
    let ((relaxed, relaxed_hello), legacy, plaintext) = tokio::join!(relaxed, legacy, plaintext);
    obs.relaxed = relaxed;
    obs.relaxed_hello = relaxed_hello;
    obs.legacy = legacy;
    obs.plaintext_hello = plaintext;
}

/// A quarter of the deadline, at least a second (never more than the deadline): enough for
/// a follow-up question a MongoDB answers in milliseconds.
fn quarter(timeout: Duration) -> Duration {
    (timeout / 4).max(Duration::from_secs(1)).min(timeout)
}

fn analyse_chain(ctx: &HostContext<'_>, obs: &mut HostObservation) {
    let presented = [obs.strict.as_ref(), obs.relaxed.as_ref()]
        .into_iter()
        .flatten()
        .map(|h| &h.chain)
        .find(|c| !c.is_empty())
        .cloned()
        .unwrap_or_default();
    if presented.is_empty() {
        return;
    }
    obs.chain = certs::analyse(&presented, obs.now_unix);
    obs.anchor = ctx
        .prepared
        .tls
        .anchor_of(&presented, UnixTime::since_unix_epoch(Duration::from_secs(obs.now_unix.max(0) as u64)))
        .as_ref()
        .map(certs::anchor_facts);
    obs.leaf_is_anchor = presented.first().is_some_and(|leaf| ctx.prepared.tls.supplied_anchors.contains(leaf));
    let strict_failed = obs.strict.as_ref().is_some_and(|s| s.outcome.is_err());
    if strict_failed && let Some(Some(leaf)) = obs.chain.first() {
        // Inside the leaf's validity window, dates cannot mask the chain's own verdict.
        let midpoint = leaf.not_before_unix / 2 + leaf.not_after_unix / 2;
        let at = UnixTime::since_unix_epoch(Duration::from_secs(midpoint.max(0) as u64));
        obs.chain_verdict = Some(ctx.prepared.tls.verify_at(&presented, &obs.host.host, at));
    }
}

async fn authenticate(ctx: &HostContext<'_>, obs: &mut HostObservation, tls: bool) {
    let uri = &ctx.prepared.target.uri;
    if !uri.has_credentials() {
        return;
    }
    let target = auth::DriverTarget {
        uri,
        host: &obs.host,
        txt_options: ctx.txt_options,
        tls,
        ca_file: ctx.prepared.ca_file.as_deref(),
        client_cert: ctx.prepared.client_cert.as_deref(),
    };
    let (elapsed, outcome) = auth::authenticate(&target, ctx.prepared.target.settings.timeout).await;
    obs.auth = Some(Timed { elapsed, value: outcome });
}
