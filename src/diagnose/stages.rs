//! The public JSON view of each probe stage (`hosts[].stages`): ok, time, and the facts each
//! stage learned, in words. Nothing here decides a code; this is the observation, shown.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::model::{StageResult, stage};
use crate::probe::{HostObservation, auth, certs, hello, legacy, tls};

fn ms(d: Duration) -> u64 {
    d.as_millis().try_into().unwrap_or(u64::MAX)
}

fn stage_result(ok: bool, elapsed: Duration, details: Value) -> StageResult {
    let details = match details {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    StageResult { ok, elapsed_ms: ms(elapsed), details }
}

fn handshake_details(h: &tls::HandshakeObservation, chain: &[Option<certs::CertFacts>], trust: &str) -> Value {
    let mut d = Map::new();
    match &h.outcome {
        Ok(n) => {
            d.insert("version".into(), json!(n.version));
            d.insert("cipher_suite".into(), json!(n.cipher_suite));
        }
        Err(f) => {
            d.insert("error".into(), json!(crate::redact::text(&f.describe())));
            if let tls::TlsFailure::Alert(a) = f {
                d.insert("alert".into(), json!(tls::alert_name(*a)));
            }
            if !h.first_bytes.is_empty() {
                d.insert("first_bytes".into(), json!(tls::describe_bytes(&h.first_bytes)));
            }
        }
    }
    d.insert("certificate_requested".into(), json!(h.certificate_requested));
    if let Some(verdict) = &h.verdict {
        d.insert(
            "verification".into(),
            json!(match verdict {
                Ok(()) => "ok".to_string(),
                Err(e) => e.to_string(),
            }),
        );
    }
    if h.mode == tls::Mode::Strict {
        d.insert("trust".into(), json!(trust));
        if !chain.is_empty() {
            d.insert("chain".into(), json!(chain));
        }
    }
    Value::Object(d)
}

fn hello_details(r: &Result<hello::HelloReply, hello::HelloError>) -> Value {
    match r {
        Ok(reply) => serde_json::to_value(reply).unwrap_or(Value::Null),
        Err(e) => json!({ "error": crate::redact::text(&e.describe()) }),
    }
}

/// The per-stage view for reports: ok, time, and the facts each stage learned.
pub fn of(obs: &HostObservation) -> BTreeMap<String, StageResult> {
    let mut stages = BTreeMap::new();
    if let Some(dns) = &obs.dns {
        let details = match &dns.value {
            Ok(ips) => json!({ "addresses": ips.iter().map(|i| i.to_string()).collect::<Vec<_>>() }),
            Err(f) => json!({ "error": f.describe() }),
        };
        stages.insert(stage::DNS.to_string(), stage_result(dns.value.is_ok(), dns.elapsed, details));
    }
    if obs.connected.is_some() || !obs.tcp_failures.is_empty() {
        let attempts: Vec<Value> =
            obs.tcp_failures.iter().map(|(a, e)| json!({ "address": a.to_string(), "error": e.describe() })).collect();
        let mut d = json!({ "attempts": attempts });
        if let (Some(a), Some(map)) = (obs.connected, d.as_object_mut()) {
            map.insert("address".into(), json!(a.to_string()));
        }
        stages.insert(stage::TCP.to_string(), stage_result(obs.connected.is_some(), obs.tcp_elapsed, d));
    }
    if let Some(h) = &obs.strict {
        stages.insert(
            stage::TLS_STRICT.to_string(),
            stage_result(h.outcome.is_ok(), h.elapsed, handshake_details(h, &obs.chain, &obs.trust)),
        );
    }
    if let Some(h) = &obs.relaxed {
        stages.insert(
            stage::TLS_RELAXED.to_string(),
            stage_result(h.outcome.is_ok(), h.elapsed, handshake_details(h, &[], &obs.trust)),
        );
    }
    if let Some(l) = &obs.legacy {
        let mut d = json!({ "answer": l.value.describe() });
        if let (legacy::LegacyAnswer::ServerHello { version, .. }, Some(map)) = (&l.value, d.as_object_mut()) {
            map.insert("version".into(), json!(legacy::version_name(*version)));
        }
        stages.insert(
            stage::TLS_LEGACY.to_string(),
            stage_result(matches!(l.value, legacy::LegacyAnswer::ServerHello { .. }), l.elapsed, d),
        );
    }
    if let Some(v) = &obs.versions {
        let answers: Map<String, Value> = v
            .answers
            .iter()
            .map(|a| {
                let name = crate::lock::version_number(a.version).to_string();
                (name, json!({ "accepted": a.accepted, "answer": crate::redact::text(&a.detail) }))
            })
            .collect();
        let accepted: Vec<&str> = v.accepted().into_iter().map(crate::lock::version_number).collect();
        let mut d = json!({ "accepted": accepted, "offers": answers });
        if let (Some(anchor), Some(map)) = (&obs.anchor, d.as_object_mut()) {
            map.insert("trust_anchor".into(), json!({ "subject": anchor.subject, "spki_sha256": anchor.spki_sha256 }));
        }
        stages.insert(stage::TLS_VERSIONS.to_string(), stage_result(v.lowest().is_some(), v.elapsed, d));
    }
    if let Some(h) = &obs.hello {
        stages.insert(stage::HELLO.to_string(), stage_result(h.value.is_ok(), h.elapsed, hello_details(&h.value)));
    }
    if let Some(h) = &obs.relaxed_hello {
        stages.insert(
            stage::RELAXED_HELLO.to_string(),
            stage_result(h.value.is_ok(), h.elapsed, hello_details(&h.value)),
        );
    }
    if let Some(h) = &obs.plaintext_hello {
        stages.insert(
            stage::PLAINTEXT_HELLO.to_string(),
            stage_result(h.value.is_ok(), h.elapsed, hello_details(&h.value)),
        );
    }
    if let Some(a) = &obs.auth {
        let d = match &a.value {
            auth::AuthOutcome::Ok => json!({}),
            auth::AuthOutcome::Rejected(e) | auth::AuthOutcome::Failed(e) => json!({ "error": e }),
            auth::AuthOutcome::Timeout => json!({ "error": "no answer before the deadline" }),
        };
        stages.insert(stage::AUTH.to_string(), stage_result(a.value == auth::AuthOutcome::Ok, a.elapsed, d));
    }
    stages
}
