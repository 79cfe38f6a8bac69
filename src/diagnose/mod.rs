//! The one place that maps what a probe observed to diagnosis codes.
//!
//! Every rule that decides between codes lives here, so the probe stages only observe and
//! the renderers only render.

pub use crate::catalog::codes;
pub mod atlas;
pub mod ca_bundle;
mod diagnosis;
pub mod group;
pub mod hello_facts;
pub mod interception;
pub mod organization;
pub mod regression;
pub mod stages;

use rustls::{AlertDescription, CertificateError};

use crate::model::{ClusterReport, Diagnosis, HostReport, Severity};
use crate::probe::certs::{self, CertFacts};
use crate::probe::hello::HelloError;
use crate::probe::tcp::AttemptError;
use crate::probe::tls::{HandshakeObservation, TlsFailure, alert_name, describe_bytes};
use crate::probe::{
    ClusterObservation, HostObservation, SrvObservation, TlsVersion, auth::AuthOutcome, dns::DnsFailure,
};
use codes::DiagnosisCode as Code;
pub(crate) use diagnosis::Diagnose;

/// The policy's judgement thresholds.
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    pub warn_days: u32,
    pub fail_days: u32,
    pub min_tls_version: Option<TlsVersion>,
}

impl Thresholds {
    /// The thresholds a probe was asked to judge by.
    pub fn of(settings: &crate::probe::ProbeSettings) -> Thresholds {
        Thresholds {
            warn_days: settings.warn_days,
            fail_days: settings.fail_days,
            min_tls_version: settings.min_tls_version,
        }
    }
}

/// A cluster's report: its diagnoses and each host's stages, from what the probe observed.
pub fn cluster(obs: &ClusterObservation, t: &Thresholds) -> ClusterReport {
    let mut diagnoses = obs.srv.as_ref().map(srv).unwrap_or_default();
    if let (Some(srv), false) = (&obs.srv, obs.not_probed.is_empty()) {
        diagnoses.push(srv_hosts_not_probed(&srv.name, &obs.not_probed));
    }
    if let Some(bundle) = &obs.ca_bundle {
        let families = ca_bundle::families(obs);
        diagnoses.extend(ca_bundle::judge(bundle, families, &format!("cluster `{}`", obs.name)));
    }
    let mut report = ClusterReport {
        name: obs.name.clone(),
        uri: obs.uri.clone(),
        diagnoses,
        hosts: obs
            .hosts
            .iter()
            .map(|h| HostReport {
                host: h.host.host.clone(),
                port: h.host.port,
                address: h.address(),
                stages: stages::of(h),
                diagnoses: host(h, t),
            })
            .collect(),
        required: obs.required,
        policy_line: obs.policy_line,
        shared: Vec::new(),
    };
    group::group(&mut report);
    report
}

/// How many of the unprobed targets the evidence names; the count covers the rest.
const NOT_PROBED_NAMED: usize = 5;

/// Says which SRV targets the probe's cap left out. There is no code for "too many targets";
/// this reuses `srv-invalid-target` (targets ignored) as a warning, because unprobed is
/// unknown, not broken.
fn srv_hosts_not_probed(name: &str, skipped: &[crate::uri::HostPort]) -> Diagnosis {
    let cap = crate::probe::MAX_SRV_HOSTS;
    let total = cap + skipped.len();
    let named: Vec<String> = skipped.iter().take(NOT_PROBED_NAMED).map(|h| h.to_string()).collect();
    let more = skipped.len().saturating_sub(NOT_PROBED_NAMED);
    let rest = if more > 0 { format!(" and {more} more") } else { String::new() };
    let mut diagnosis = Code::SrvInvalidTarget.diagnose(
        format!("`{name}` lists {total} SRV targets; only the first {cap} were probed, {} were not", skipped.len()),
        format!(
            "the SRV answer held {total} targets (a replica set has at most 50 members); probed the first \
             {cap} in name order; not probed: {}{rest}",
            named.join(", ")
        ),
        "Check the SRV records: this many targets is unusual and every driver would try to monitor all of them. \
         If they are intended, set `srvMaxHosts` in the connection string to bound how many hosts drivers use.",
    );
    diagnosis.severity = Severity::Warning;
    diagnosis
}

const RELAXED_ALSO_FAILED: &str = "A second handshake with certificate verification disabled failed the same way: \
disabling certificate validation (tlsAllowInvalidCertificates, tlsInsecure) would not help.";

fn ms(d: std::time::Duration) -> u128 {
    d.as_millis()
}

/// Cluster-wide DNS diagnoses for a `mongodb+srv` name.
pub fn srv(obs: &SrvObservation) -> Vec<Diagnosis> {
    let mut out = Vec::new();
    match &obs.result {
        Err(DnsFailure::NotFound(detail)) => out.push(Code::DnsSrvNotFound.diagnosed(
            format!("No SRV record for `{}`: the cluster name does not exist (deleted, paused, or a typo)", obs.name),
            format!("{detail}; lookup took {} ms", ms(obs.elapsed)),
        )),
        Err(DnsFailure::Failed(detail)) => out.push(
            Code::DnsLookupFailed
                .diagnosed(format!("The DNS server failed to answer the SRV query for `{}`", obs.name), detail.clone()),
        ),
        Ok(_) => {}
    }
    if !obs.rejected.is_empty() {
        let names: Vec<String> = obs.rejected.iter().map(|t| format!("{}:{}", t.target, t.port)).collect();
        out.push(Code::SrvInvalidTarget.diagnosed(
            format!("SRV targets outside `{}`'s parent domain were ignored, as drivers do", obs.name),
            format!("rejected targets: {}", names.join(", ")),
        ));
    }
    // A TXT failure only matters once the SRV lookup worked; otherwise it repeats the same cause.
    if let (Ok(_), Err(DnsFailure::Failed(detail))) = (&obs.result, &obs.txt) {
        out.push(Code::DnsLookupFailed.diagnose(
            format!("The DNS server failed to answer the TXT query for `{}`", obs.name),
            detail.clone(),
            "Drivers fail when the TXT lookup fails. Check the resolver, or use a standard seed-list connection string.",
        ));
    }
    out
}

/// Diagnoses for one host, from its observations.
pub fn host(obs: &HostObservation, t: &Thresholds) -> Vec<Diagnosis> {
    let mut out = Vec::new();
    let target = obs.host.to_string();

    match obs.dns.as_ref().map(|d| &d.value) {
        Some(Err(DnsFailure::NotFound(detail))) => {
            out.push(
                Code::DnsHostNotFound
                    .diagnosed(format!("`{}` does not resolve to any address", obs.host.host), detail.clone()),
            );
            return out;
        }
        Some(Err(DnsFailure::Failed(detail))) => {
            out.push(
                Code::DnsLookupFailed
                    .diagnosed(format!("The DNS server failed to resolve `{}`", obs.host.host), detail.clone()),
            );
            return out;
        }
        _ => {}
    }

    if obs.connected.is_none() {
        if !obs.tcp_failures.is_empty() {
            out.push(tcp_failure(obs, &target));
        }
        return out;
    }

    if !obs.tls_expected {
        plaintext_mongo(obs, &target, &mut out);
        return out;
    }

    let Some(strict) = &obs.strict else { return out };
    match &strict.outcome {
        Ok(negotiated) => {
            expiry(obs, t, &mut out);
            if let (Some(min), Some(got)) = (t.min_tls_version, TlsVersion::from_name(&negotiated.version))
                && got < min
            {
                out.push(Code::TlsVersionBelowMinimum.diagnosed(
                    format!(
                        "{target} negotiated {} but the policy requires at least {}",
                        negotiated.version,
                        min.as_str()
                    ),
                    format!("strict handshake: {} with {}", negotiated.version, negotiated.cipher_suite),
                ));
            }
            after_handshake(obs, strict, &target, &mut out);
        }
        Err(failure) => handshake_failure(obs, strict, failure, t, &target, &mut out),
    }
    out
}

fn tcp_failure(obs: &HostObservation, target: &str) -> Diagnosis {
    let attempts: Vec<String> = obs
        .tcp_failures
        .iter()
        .map(|(addr, e)| match e {
            AttemptError::Refused => format!("{addr}: connection refused"),
            AttemptError::TimedOut => format!("{addr}: no answer"),
            AttemptError::Other(s) => format!("{addr}: {s}"),
        })
        .collect();
    let evidence = format!("{} (after {} ms)", attempts.join("; "), ms(obs.tcp_elapsed));
    if obs.tcp_failures.iter().all(|(_, e)| *e == AttemptError::Refused) {
        Code::TcpConnectionRefused
            .diagnosed(format!("Nothing listens on {target}: the connection was refused"), evidence)
    } else {
        Code::TcpConnectTimeout.diagnosed(
            format!("No TCP answer from {target} in time: a firewall or blocked egress port is likely"),
            evidence,
        )
    }
}

fn plaintext_mongo(obs: &HostObservation, target: &str, out: &mut Vec<Diagnosis>) {
    if let Some(h) = &obs.hello
        && let Err(e) = &h.value
    {
        out.push(Code::MongoHandshakeFailed.diagnose(
            format!("{target} accepted TCP but did not answer the MongoDB `hello` (TLS is off in the connection string)"),
            e.describe(),
            "Check that the port is a MongoDB port; if the server requires TLS, add `tls=true` to the connection string.",
        ));
        return;
    }
    let blocking = hello_facts::facts(obs, target, out);
    auth_result(obs, target, blocking, out);
}

/// After a verified handshake: the `hello`, a late mTLS refusal, then auth.
fn after_handshake(obs: &HostObservation, strict: &HandshakeObservation, target: &str, out: &mut Vec<Diagnosis>) {
    let Some(hello) = &obs.hello else { return };
    match &hello.value {
        Ok(_) => {
            let blocking = hello_facts::facts(obs, target, out);
            auth_result(obs, target, blocking, out)
        }
        Err(e) if strict.certificate_requested && is_refusal(e) => {
            out.push(client_cert_required(strict, &e.describe(), target))
        }
        Err(e) => out.push(Code::MongoHandshakeFailed.diagnosed(
            format!("TLS to {target} is fine, but the MongoDB `hello` failed"),
            format!("{} ({} ms after the handshake)", e.describe(), ms(hello.elapsed)),
        )),
    }
}

fn is_refusal(e: &HelloError) -> bool {
    match e {
        HelloError::Closed(_) => true,
        HelloError::Tls(rustls::Error::AlertReceived(a)) => is_client_cert_alert(*a),
        _ => false,
    }
}

fn is_client_cert_alert(a: AlertDescription) -> bool {
    matches!(
        a,
        AlertDescription::CertificateRequired
            | AlertDescription::BadCertificate
            | AlertDescription::UnknownCA
            | AlertDescription::CertificateUnknown
            | AlertDescription::AccessDenied
            | AlertDescription::HandshakeFailure
            | AlertDescription::UnsupportedCertificate
            | AlertDescription::DecryptError
    )
}

fn client_cert_required(strict: &HandshakeObservation, what: &str, target: &str) -> Diagnosis {
    let offered = "the client offered no certificate, or one the server does not accept";
    Code::ClientCertificateRequired.diagnosed(
        format!("{target} requires a client certificate (mutual TLS) and refused the connection"),
        format!("The server sent a CertificateRequest during the handshake; then {what} ({offered}). Strict handshake took {} ms.", ms(strict.elapsed)))
}

/// The driver's authentication. When `hello` already named a cause the driver cannot get past
/// (a wrong replica set, an unsupported server), its failure to connect repeats that cause
/// and is not reported again; a rejected password still is.
fn auth_result(obs: &HostObservation, target: &str, explained: bool, out: &mut Vec<Diagnosis>) {
    let Some(auth) = &obs.auth else { return };
    match &auth.value {
        AuthOutcome::Ok => {}
        AuthOutcome::Failed(_) | AuthOutcome::Timeout if explained => {}
        AuthOutcome::Rejected(e) => out.push(
            Code::AuthFailed
                .diagnosed(format!("{target} rejected the credentials"), format!("{e} ({} ms)", ms(auth.elapsed))),
        ),
        AuthOutcome::Failed(e) => out.push(Code::MongoHandshakeFailed.diagnosed(
            format!("The MongoDB driver could not authenticate to {target}"),
            format!("{e} ({} ms)", ms(auth.elapsed)),
        )),
        AuthOutcome::Timeout => out.push(Code::MongoHandshakeFailed.diagnosed(
            format!("Authentication to {target} did not finish in time"),
            format!("no answer within {} ms", ms(auth.elapsed)),
        )),
    }
}

fn relaxed_note(obs: &HostObservation) -> Option<&'static str> {
    let relaxed = obs.relaxed.as_ref()?;
    relaxed.outcome.is_err().then_some(RELAXED_ALSO_FAILED)
}

fn with_relaxed_note(evidence: String, obs: &HostObservation) -> String {
    match relaxed_note(obs) {
        Some(note) => sentence_then(&evidence, note),
        None => evidence,
    }
}

/// Joins two pieces of evidence as sentences.
fn sentence_then(first: &str, second: &str) -> String {
    let first = first.trim_end();
    if first.ends_with(['.', '!', '?']) { format!("{first} {second}") } else { format!("{first}. {second}") }
}

fn handshake_failure(
    obs: &HostObservation,
    strict: &HandshakeObservation,
    failure: &TlsFailure,
    t: &Thresholds,
    target: &str,
    out: &mut Vec<Diagnosis>,
) {
    let took = ms(strict.elapsed);
    match failure {
        TlsFailure::Alert(AlertDescription::InternalError) => out.push(access_list(obs, target, took)),
        TlsFailure::Alert(a) if strict.certificate_requested && is_client_cert_alert(*a) => {
            out.push(client_cert_required(strict, &format!("it sent alert `{}`", alert_name(*a)), target));
        }
        TlsFailure::Alert(
            a @ (AlertDescription::ProtocolVersion
            | AlertDescription::HandshakeFailure
            | AlertDescription::InsufficientSecurity),
        ) => out.push(protocol_mismatch(
            obs,
            target,
            &format!("the server answered the ClientHello with alert `{}` after {took} ms", alert_name(*a)),
        )),
        TlsFailure::Alert(a) => out.push(Code::TlsHandshakeFailed.diagnosed(
            format!("The TLS handshake with {target} failed with alert `{}`", alert_name(*a)),
            with_relaxed_note(
                format!("strict handshake: received fatal alert `{}` after {took} ms", alert_name(*a)),
                obs,
            ),
        )),
        TlsFailure::Certificate(e) => certificate_failure(obs, e, t, target, out),
        TlsFailure::NotTls => out.push(Code::ServerNotTls.diagnosed(
            format!("{target} does not speak TLS"),
            format!(
                "the server answered the ClientHello with non-TLS bytes: {} (after {took} ms)",
                describe_bytes(&strict.first_bytes)
            ),
        )),
        TlsFailure::Timeout => out.push(silent_handshake(obs, strict, target, took)),
        TlsFailure::Closed | TlsFailure::Reset => out.push(dropped_handshake(obs, strict, failure, target, took)),
        TlsFailure::Other(detail) => out.push(Code::TlsHandshakeFailed.diagnosed(
            format!("The TLS handshake with {target} failed"),
            with_relaxed_note(format!("{} after {took} ms", crate::redact::text(detail)), obs),
        )),
    }
}

/// No answer to the ClientHello in time: a plaintext MongoDB server if a plaintext `hello`
/// proves it, else a peer that never finished the handshake.
fn silent_handshake(obs: &HostObservation, strict: &HandshakeObservation, target: &str, took: u128) -> Diagnosis {
    if let Some(proof) = plaintext_proof(obs) {
        return Code::ServerNotTls.diagnosed(
            format!("{target} is a plaintext MongoDB server, but the connection string asks for TLS"),
            format!("the TLS handshake got no answer in {took} ms; {proof}"),
        );
    }
    // A peer that trickles bytes is not silent: say what little it sent.
    let received = if strict.first_bytes.is_empty() {
        format!("no TLS bytes within {took} ms")
    } else {
        format!(
            "the handshake did not complete within {took} ms (the server sent only {})",
            describe_bytes(&strict.first_bytes)
        )
    };
    Code::TlsHandshakeTimeout.diagnosed(
        format!("{target} accepted TCP but never answered the TLS ClientHello"),
        format!("{received}; a plaintext `hello` on a fresh connection got no answer either"),
    )
}

/// The server closed or reset the handshake without an alert. In order of what explains it: it
/// asked for a client certificate, it speaks only TLS 1.0/1.1, it is plaintext MongoDB.
fn dropped_handshake(
    obs: &HostObservation,
    strict: &HandshakeObservation,
    failure: &TlsFailure,
    target: &str,
    took: u128,
) -> Diagnosis {
    let how = failure.describe();
    if strict.certificate_requested {
        return client_cert_required(strict, &how, target);
    }
    if let Some(legacy) = obs.legacy.as_ref().filter(|l| l.value.is_legacy_only()) {
        return protocol_mismatch(
            obs,
            target,
            &format!(
                "{how} in response to a TLS 1.2/1.3 ClientHello after {took} ms, while {}",
                legacy.value.describe()
            ),
        );
    }
    if let Some(proof) = plaintext_proof(obs) {
        return Code::ServerNotTls.diagnosed(
            format!("{target} is a plaintext MongoDB server, but the connection string asks for TLS"),
            format!("{how} after {took} ms; {proof}"),
        );
    }
    let legacy = obs.legacy.as_ref().map(|l| format!("; {}", l.value.describe())).unwrap_or_default();
    Code::TlsHandshakeFailed.diagnosed(
        format!("{target} dropped the TLS handshake without saying why"),
        with_relaxed_note(format!("{how} after {took} ms{legacy}; a plaintext `hello` got no answer"), obs),
    )
}

fn plaintext_proof(obs: &HostObservation) -> Option<String> {
    let h = obs.plaintext_hello.as_ref()?;
    let reply = h.value.as_ref().ok()?;
    Some(format!(
        "a plaintext MongoDB `hello` on a fresh connection succeeded in {} ms ({}, maxWireVersion {})",
        ms(h.elapsed),
        reply.server_type,
        reply.max_wire_version.map(|v| v.to_string()).unwrap_or_else(|| "?".into())
    ))
}

fn access_list(obs: &HostObservation, target: &str, took: u128) -> Diagnosis {
    let relaxed = match obs.relaxed.as_ref().map(|r| &r.outcome) {
        Some(Err(TlsFailure::Alert(AlertDescription::InternalError))) => {
            " A second handshake with certificate verification disabled got the same alert: no certificate or TLS setting can change this."
        }
        Some(Err(_)) => RELAXED_ALSO_FAILED,
        _ => "",
    };
    let evidence = format!(
        "the server answered the ClientHello with fatal alert `internal_error` (record 15 03 03 00 02 02 50) after {took} ms, before any certificate was sent.{relaxed}"
    );
    if obs.is_atlas {
        Code::IpAccessListRejected.diagnose(
            format!("Atlas refused {target} before TLS began: the runner's IP is likely not on the project's IP access list"),
            evidence,
            "In MongoDB Atlas open Security > Network Access (the project's IP Access List) and add this runner's egress IP address \
(or its CIDR range). No certificate, CA bundle or TLS setting can fix this: the refusal comes before any certificate is checked. \
`tlsAllowInvalidCertificates=true` will not help and must not be shipped.",
        )
    } else {
        Code::IpAccessListRejected.diagnose(
            format!("{target} refused the TLS ClientHello with `internal_error`: likely an IP access list or allow-list"),
            evidence,
            "This is how MongoDB Atlas (and similar proxies) refuse clients whose IP is not allowed: add the client's egress IP to \
the server's access list. No certificate or TLS setting can fix it; disabling verification will not help.",
        )
    }
}

fn protocol_mismatch(obs: &HostObservation, target: &str, what: &str) -> Diagnosis {
    let legacy = obs
        .legacy
        .as_ref()
        .filter(|_| !what.contains("ServerHello"))
        .map(|l| format!("; {}", l.value.describe()))
        .unwrap_or_default();
    let old = obs.legacy.as_ref().is_some_and(|l| l.value.is_legacy_only());
    let atlas = if obs.is_atlas || old { " MongoDB Atlas stopped accepting TLS 1.0 and 1.1 in July 2025." } else { "" };
    let summary = if old {
        format!("{target} only speaks TLS 1.0/1.1, which this client (like every current driver) refuses")
    } else {
        format!("{target} and this client share no TLS version or cipher suite")
    };
    Code::TlsProtocolMismatch.diagnose(
        summary,
        with_relaxed_note(format!("{what}{legacy}"), obs),
        format!("{}{atlas}", Code::TlsProtocolMismatch.remedy()),
    )
}

fn leaf(obs: &HostObservation) -> Option<&CertFacts> {
    obs.chain.first().and_then(|c| c.as_ref())
}

fn describe_cert(c: &CertFacts) -> String {
    format!("subject `{}`, issuer `{}`", c.subject, c.issuer)
}

fn certificate_failure(
    obs: &HostObservation,
    error: &rustls::Error,
    t: &Thresholds,
    target: &str,
    out: &mut Vec<Diagnosis>,
) {
    let strict_error = match error {
        rustls::Error::InvalidCertificate(e) => Some(e),
        _ => None,
    };
    let start = out.len();
    let any_expired = validity_failures(obs, target, out);
    name_failure(obs, strict_error, target, out);
    chain_failure(obs, strict_error, target, out);
    if out.len() == start {
        // Verification failed but no specific defect was identified: say exactly what webpki said.
        out.push(
            Code::CertInvalid.diagnosed(format!("The certificate of {target} failed verification"), format!("{error}")),
        );
    }
    if !any_expired {
        expiry(obs, t, out);
    }
    hello_facts::facts(obs, target, out);
    insecure_fallback(obs, error, target, start, out);
}

/// Dates, judged from the parsed certificates independently of the chain. When the server's
/// clock explains every date failure, the runner's clock is the cause (`clock-skew`) and no
/// certificate is blamed. Returns whether a certificate has expired.
fn validity_failures(obs: &HostObservation, target: &str, out: &mut Vec<Diagnosis>) -> bool {
    let date_failures: Vec<&CertFacts> = obs
        .chain
        .iter()
        .flatten()
        .filter(|c| obs.now_unix > c.not_after_unix || obs.now_unix < c.not_before_unix)
        .collect();
    if let Some(skew) = hello_facts::clock_skew(obs, target, &date_failures) {
        out.push(skew);
        return false;
    }
    let mut any_expired = false;
    for (i, cert) in obs.chain.iter().enumerate() {
        let Some(cert) = cert else { continue };
        let which =
            if i == 0 { "The server's certificate".to_string() } else { format!("Chain certificate #{}", i + 1) };
        if obs.now_unix > cert.not_after_unix {
            any_expired = true;
            out.push(Code::CertExpired.diagnosed(
                format!("{which} for {target} expired {} days ago", -cert.days_left),
                format!("{}; notAfter {}", describe_cert(cert), cert.not_after),
            ));
        } else if obs.now_unix < cert.not_before_unix {
            out.push(Code::CertNotYetValid.diagnosed(
                format!("{which} for {target} is not valid yet"),
                format!("{}; notBefore {}", describe_cert(cert), cert.not_before),
            ));
        }
    }
    any_expired
}

/// The leaf does not name the host the client asked for.
fn name_failure(
    obs: &HostObservation,
    strict_error: Option<&CertificateError>,
    target: &str,
    out: &mut Vec<Diagnosis>,
) {
    let name_error = matches!(
        strict_error,
        Some(CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. })
    );
    if let Some(l) = leaf(obs)
        && (name_error || !certs::name_matches(l, &obs.host.host))
    {
        let sans = if l.sans.is_empty() { "none".to_string() } else { l.sans.join(", ") };
        out.push(Code::CertHostnameMismatch.diagnosed(
            format!("The certificate of {target} does not name `{}`", obs.host.host),
            format!("{}; subjectAltNames: {sans}", describe_cert(l)),
        ));
    }
}

/// The chain's own verdict, free of date and name problems (those are diagnosed above).
fn chain_failure(
    obs: &HostObservation,
    strict_error: Option<&CertificateError>,
    target: &str,
    out: &mut Vec<Diagnosis>,
) {
    let chain_error = match &obs.chain_verdict {
        Some(Err(rustls::Error::InvalidCertificate(e))) => Some(e.clone()),
        Some(Err(other)) => Some(CertificateError::Other(rustls::OtherError(std::sync::Arc::new(
            std::io::Error::other(other.to_string()),
        )))),
        Some(Ok(())) => None,
        None => strict_error.cloned(),
    };
    // A self-signed certificate made with `openssl req -x509` carries CA:TRUE, so webpki calls it
    // CaUsedAsEndEntity; unless the user trusts it deliberately, the real problem is the issuer.
    let self_signed_untrusted = leaf(obs).is_some_and(|l| l.self_signed) && !obs.leaf_is_anchor;
    match chain_error {
        Some(CertificateError::UnknownIssuer) => out.push(unknown_issuer(obs, target)),
        Some(CertificateError::Other(ref other))
            if self_signed_untrusted && other.to_string().contains("CaUsedAsEndEntity") =>
        {
            out.push(unknown_issuer(obs, target))
        }
        Some(
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. }
            | CertificateError::NotValidForName
            | CertificateError::NotValidForNameContext { .. },
        )
        | None => {}
        Some(other) => out.push(Code::CertInvalid.diagnosed(
            format!("The certificate of {target} is unusable for a TLS server"),
            format!(
                "{}{}",
                cert_invalid_detail(&other),
                leaf(obs).map(|l| format!("; {}", describe_cert(l))).unwrap_or_default()
            ),
        )),
    }
}

/// What the relaxed handshake says about an insecure fallback: it would "work"
/// (`insecure-fallback-required`), or it fails too, which the first diagnosis then says.
fn insecure_fallback(
    obs: &HostObservation,
    error: &rustls::Error,
    target: &str,
    start: usize,
    out: &mut Vec<Diagnosis>,
) {
    match obs.relaxed.as_ref().map(|r| &r.outcome) {
        Some(Ok(n)) => out.push(Code::InsecureFallbackRequired.diagnosed(
            format!("Only disabling certificate verification would make {target} connect: do not"),
            format!(
                "strict TLS failed ({}); a handshake with verification disabled succeeded ({} with {}). \
tlsAllowInvalidCertificates/tlsInsecure would \"work\" only by accepting any certificate, including an attacker's.",
                describe_verification_error(error),
                n.version,
                n.cipher_suite
            ),
        )),
        Some(Err(_)) => {
            if let Some(first) = out.get_mut(start) {
                first.evidence = sentence_then(&first.evidence, RELAXED_ALSO_FAILED);
            }
        }
        None => {}
    }
}

fn describe_verification_error(e: &rustls::Error) -> String {
    match e {
        rustls::Error::InvalidCertificate(c) => cert_invalid_detail(c),
        other => other.to_string(),
    }
}

#[allow(deprecated)] // older rustls versions still emit the unit variants
fn cert_invalid_detail(e: &CertificateError) -> String {
    if let CertificateError::Other(other) = e {
        let text = other.to_string();
        if text.contains("CaUsedAsEndEntity") {
            return "the server presents a CA certificate (basicConstraints CA:TRUE) as its own (CaUsedAsEndEntity); \
rustls-based clients such as the Rust driver refuse it, while OpenSSL-based drivers (PyMongo, Node.js) may accept it"
                .to_string();
        }
        return text;
    }
    match e {
        CertificateError::UnknownIssuer => "the chain does not reach a trusted root (UnknownIssuer)".to_string(),
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => "a certificate has expired".to_string(),
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "a certificate is not valid yet".to_string()
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            "the certificate does not name this host".to_string()
        }
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            "the certificate's extended key usage does not allow TLS server authentication".to_string()
        }
        CertificateError::BadSignature => "a signature in the chain does not verify".to_string(),
        CertificateError::UnsupportedSignatureAlgorithm
        | CertificateError::UnsupportedSignatureAlgorithmContext { .. }
        | CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
            "the chain uses a weak or unsupported signature algorithm (for example SHA-1)".to_string()
        }
        CertificateError::BadEncoding => "the certificate is malformed".to_string(),
        other => format!("{other:?}"),
    }
}

fn unknown_issuer(obs: &HostObservation, target: &str) -> Diagnosis {
    let Some(l) = leaf(obs) else {
        return Code::CertUntrustedIssuer.diagnosed(
            format!("The certificate chain of {target} does not reach a trusted root"),
            format!("webpki: unknown issuer; trust: {}", obs.trust),
        );
    };
    let sent = obs.chain.len();
    if l.self_signed {
        return Code::CertSelfSigned.diagnosed(
            format!("{target} presents a self-signed certificate"),
            format!("{}: issuer equals subject and the signature verifies with its own key; it is not among the trust anchors ({})", describe_cert(l), obs.trust));
    }
    if sent == 1 && !l.ca_issuers.is_empty() {
        return Code::CertChainIncomplete.diagnosed(
            format!("{target} sends its certificate without the intermediate that issued it"),
            format!(
                "the server sent only its leaf ({}); its AIA caIssuers names the missing issuer at {}",
                describe_cert(l),
                l.ca_issuers.join(", ")
            ),
        );
    }
    if let Some(intercepted) = interception::suspected(obs, target) {
        return intercepted;
    }
    let top = obs.chain.iter().rev().flatten().next().unwrap_or(l);
    let evidence = if sent == 1 {
        format!(
            "the server sent only its leaf ({}), which names no issuer location: either the issuer is a private CA that was \
not supplied (tlsCAFile / --ca-file), or the server omits an intermediate. Trust: {}",
            describe_cert(l),
            obs.trust
        )
    } else {
        format!(
            "the chain of {sent} certificates ends at `{}`, issued by `{}`, which the trust does not hold. Trust: {}",
            top.subject, top.issuer, obs.trust
        )
    };
    let mut remedy = Code::CertUntrustedIssuer.remedy();
    if obs.is_atlas {
        remedy.push_str(
            " Atlas added Google Trust Services roots alongside Let's Encrypt in 2025: update the client's CA bundle \
(ca-certificates, certifi, the JDK trust store) rather than pinning intermediates.",
        );
    }
    Code::CertUntrustedIssuer.diagnose(
        format!("The certificate chain of {target} does not reach a trusted root"),
        evidence,
        remedy,
    )
}

/// `cert-expiring-soon` from the parsed chain: warning under `warn_days`, error under `fail_days`.
fn expiry(obs: &HostObservation, t: &Thresholds, out: &mut Vec<Diagnosis>) {
    let soonest = obs
        .chain
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.as_ref().map(|c| (i, c)))
        .filter(|(_, c)| obs.now_unix <= c.not_after_unix)
        .min_by_key(|(_, c)| c.not_after_unix);
    let Some((i, cert)) = soonest else { return };
    let days = cert.days_left;
    if days >= i64::from(t.warn_days) {
        return;
    }
    let which = if i == 0 { "The server's certificate".to_string() } else { format!("Chain certificate #{}", i + 1) };
    let mut d = Code::CertExpiringSoon.diagnosed(
        format!("{which} for {} expires in {days} days", obs.host),
        format!(
            "{}; notAfter {} (warning under {} days, error under {} days)",
            describe_cert(cert),
            cert.not_after,
            t.warn_days,
            t.fail_days
        ),
    );
    d.severity = if days < i64::from(t.fail_days) { Severity::Error } else { Severity::Warning };
    out.push(d);
}
