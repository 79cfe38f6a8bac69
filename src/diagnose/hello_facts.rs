//! What the server says about itself in `hello`: its replica set name, its wire version and
//! its clock, judged against the connection string and the runner.

use super::diagnosis::Diagnose;
use crate::catalog::codes::DiagnosisCode as Code;
use crate::model::Diagnosis;
use crate::probe::HostObservation;
use crate::probe::certs::CertFacts;
use crate::probe::hello::HelloReply;

/// The lowest wire version current official drivers accept (MongoDB 4.0).
pub const MIN_WIRE_VERSION: i64 = 7;
/// A clock difference above this explains nothing by itself; above it, validity dates can.
pub const MAX_CLOCK_SKEW_SECONDS: i64 = 5 * 60;

/// The server's `hello` reply, over the verified connection or, when strict TLS failed, over
/// the relaxed one; and which one it was.
pub fn reply(obs: &HostObservation) -> Option<(&HelloReply, &'static str)> {
    if let Some(Ok(r)) = obs.hello.as_ref().map(|h| &h.value) {
        return Some((r, "the server's `hello`"));
    }
    if let Some(Ok(r)) = obs.relaxed_hello.as_ref().map(|h| &h.value) {
        return Some((r, "the server's `hello`, read over the relaxed connection (no credentials sent)"));
    }
    None
}

/// The server's clock minus the runner's, in seconds, when `hello` said.
pub fn skew_seconds(r: &HelloReply) -> Option<i64> {
    let local = r.local_time_ms?;
    (r.received_ms > 0).then(|| (local - r.received_ms) / 1000)
}

/// `replica-set-name-mismatch` and `server-version-unsupported`; true when one was found.
pub fn facts(obs: &HostObservation, target: &str, out: &mut Vec<Diagnosis>) -> bool {
    let Some((r, source)) = reply(obs) else { return false };
    let before = out.len();
    if let Some(wire) = r.max_wire_version
        && wire < MIN_WIRE_VERSION
    {
        let legacy =
            if r.legacy_is_master { " (it does not know `hello`; the legacy `isMaster` answered)" } else { "" };
        out.push(Code::ServerVersionUnsupported.diagnosed(
            format!("{target} runs a MongoDB older than 4.0 (wire version {wire}), which current drivers refuse"),
            format!(
                "{source} reports maxWireVersion {wire}{legacy}; current official drivers require at least \
                 {MIN_WIRE_VERSION} (MongoDB 4.0)"
            ),
        ));
    }
    if let Some(wanted) = &obs.replica_set {
        let wanted = crate::redact::printable(wanted);
        let reported = match (&r.set_name, r.server_type.as_str()) {
            (Some(name), _) if *name == wanted => None,
            (Some(name), _) => Some(format!("reports replica set `{name}`")),
            (None, "mongos") => Some("is a mongos (sharded cluster router), not a replica set member".to_string()),
            (None, kind) => Some(format!("is not a replica set member (server type: {kind})")),
        };
        if let Some(reported) = reported {
            out.push(Code::ReplicaSetNameMismatch.diagnosed(
                format!("The connection string names replica set `{wanted}`, but {target} {reported}"),
                format!(
                    "replicaSet={wanted} in the connection string; {source}: setName {}, server type {}",
                    r.set_name.as_deref().map(|n| format!("`{n}`")).unwrap_or_else(|| "absent".to_string()),
                    r.server_type
                ),
            ));
        }
    }
    out.len() > before
}

/// When the server's clock explains every validity-date failure of the chain: the
/// `clock-skew` diagnosis that replaces them.
pub fn clock_skew(obs: &HostObservation, target: &str, date_failures: &[&CertFacts]) -> Option<Diagnosis> {
    if date_failures.is_empty() {
        return None;
    }
    let (r, source) = reply(obs)?;
    let skew = skew_seconds(r)?;
    if skew.abs() <= MAX_CLOCK_SKEW_SECONDS {
        return None;
    }
    let server_now = obs.now_unix + skew;
    if !date_failures.iter().all(|c| c.not_before_unix <= server_now && server_now <= c.not_after_unix) {
        return None;
    }
    let direction = if skew > 0 { "behind" } else { "ahead of" };
    let dates: Vec<String> =
        date_failures.iter().map(|c| format!("`{}` valid {} to {}", c.subject, c.not_before, c.not_after)).collect();
    Some(Code::ClockSkew.diagnosed(
        format!(
            "The runner's clock is {} {direction} the server's: that is why {target}'s certificate looks invalid",
            span(skew.abs())
        ),
        format!(
            "{source} gives localTime {}; the runner's clock read {} when the reply arrived (the server is {} s \
             {}); at the server's time the certificate is valid: {}",
            r.local_time.as_deref().unwrap_or("?"),
            rfc3339(r.received_ms),
            skew.abs(),
            if skew > 0 { "ahead" } else { "behind" },
            dates.join("; ")
        ),
    ))
}

fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| format!("{ms} ms"))
}

/// `3 days`, `4 hours`, `12 minutes`.
fn span(seconds: i64) -> String {
    let (n, unit) = if seconds >= 2 * 86_400 {
        (seconds / 86_400, "days")
    } else if seconds >= 2 * 3600 {
        (seconds / 3600, "hours")
    } else {
        (seconds / 60, "minutes")
    };
    format!("{n} {unit}")
}
