//! A cluster judged against its floor in the posture lock: `tls-regression` for each property
//! that got weaker, `tls-baseline-missing` for a cluster the lock does not hold, and a note
//! when the cluster got stronger (the lock can be raised).

use super::diagnosis::Diagnose;
use crate::lock::{self, Lock, Observed};
use crate::model::{Diagnosis, Note, Severity};
use crate::probe::ClusterObservation;
use codes::DiagnosisCode as Code;

use crate::catalog::codes;

/// What the comparison found for one cluster.
#[derive(Debug, Default)]
pub struct Comparison {
    /// Cluster-wide diagnoses.
    pub diagnoses: Vec<Diagnosis>,
    pub notes: Vec<Note>,
}

/// Compares one cluster's observation with its floor in `lock` (shown as `lock_path`).
pub fn compare(obs: &ClusterObservation, lock: &Lock, lock_path: &str) -> Comparison {
    let mut out = Comparison::default();
    let name = &obs.name;
    let Some(floor) = lock.clusters.get(name) else {
        out.diagnoses.push(Code::TlsBaselineMissing.diagnose(
            format!("`{name}` has no floor in {lock_path}: its TLS may get weaker without failing the gate"),
            format!("{lock_path} holds floors for {}", listed(lock.clusters.keys())),
            "Run `mongo-preflight lock` and commit the lock file.",
        ));
        return out;
    };
    // A cluster that gave no TLS answer has its failure explained by the other diagnoses.
    let Some(observed) = Observed::of(obs) else { return out };
    let lowerings = lock::lowerings(floor, &observed.floor, Some(&observed.hosts_probed));
    for lowering in &lowerings {
        out.diagnoses.push(Code::TlsRegression.diagnose(
            format!("`{name}` is weaker than its lock: {}", lowering.words),
            format!(
                "{}: lock {} → observed {}; {}",
                lowering.property,
                lock_value(floor, lowering.property),
                lock_value(&observed.floor, lowering.property),
                witness(&observed, floor, lowering.property)
            ),
            remedy(lowering.property),
        ));
    }
    if lowerings.is_empty() && observed.floor != *floor {
        // Lowerings from the observation to the lock are the ways the cluster got stronger.
        let raised = lock::lowerings(&observed.floor, floor, None);
        let how = if raised.is_empty() {
            "differs from".to_string()
        } else {
            let words: Vec<String> = raised
                .iter()
                .map(|l| {
                    format!(
                        "{}: lock {} → observed {}",
                        l.property,
                        lock_value(floor, l.property),
                        lock_value(&observed.floor, l.property)
                    )
                })
                .collect();
            format!("is stronger than ({})", words.join("; "))
        };
        out.notes.push(Note {
            severity: Severity::Info,
            message: format!(
                "cluster `{name}` {how} its floor in {lock_path} without getting weaker: run `mongo-preflight lock` to raise the floor"
            ),
        });
    }
    out
}

fn listed<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let names: Vec<String> = names.map(|n| format!("`{n}`")).collect();
    if names.is_empty() { "no cluster".to_string() } else { names.join(", ") }
}

/// One property's value as the lock writes it.
fn lock_value(floor: &lock::Floor, property: &str) -> String {
    let list = |items: Vec<String>| if items.is_empty() { "[]".to_string() } else { format!("[{}]", items.join(", ")) };
    match property {
        "min_tls_version" => lock::version_number(floor.min_tls_version).to_string(),
        "strict_verification" => floor.strict_verification.to_string(),
        "trust_anchors" => list(floor.trust_anchors.iter().map(lock::TrustAnchor::describe).collect()),
        "weakest_leaf_key" => floor.weakest_leaf_key.as_ref().map_or("none".to_string(), ToString::to_string),
        "hosts_covered" => list(floor.hosts_covered.clone()),
        _ => String::new(),
    }
}

/// Which hosts show the weaker value.
fn witness(observed: &Observed, floor: &lock::Floor, property: &str) -> String {
    match property {
        "min_tls_version" => format!(
            "{} accepted a ClientHello offering only TLS {}",
            observed.lowest_at.join(", "),
            lock::version_number(observed.floor.min_tls_version)
        ),
        "strict_verification" => format!("strict verification failed on {}", observed.strict_failures.join("; ")),
        "trust_anchors" => {
            let known: Vec<&str> = floor.trust_anchors.iter().map(|a| a.spki_sha256.as_str()).collect();
            let hosts: Vec<String> = observed
                .anchor_hosts
                .iter()
                .filter(|(spki, _)| !known.contains(&spki.as_str()))
                .flat_map(|(_, hosts)| hosts.iter().cloned())
                .collect();
            format!("the chain of {} ends in a root the lock does not hold", hosts.join(", "))
        }
        "weakest_leaf_key" => match &observed.weakest_key_at {
            Some(at) => format!("the leaf of {at} has it"),
            None => "no leaf certificate could be read".to_string(),
        },
        "hosts_covered" => {
            let lost: Vec<&str> = observed
                .uncovered
                .iter()
                .filter(|(name, _)| floor.hosts_covered.contains(name))
                .map(|(_, detail)| detail.as_str())
                .collect();
            format!("no longer covered: {}", lost.join("; "))
        }
        _ => String::new(),
    }
}

fn remedy(property: &str) -> &'static str {
    match property {
        "min_tls_version" => {
            "Raise the server's minimum TLS version back (mongod `net.tls.disabledProtocols`, or the proxy's setting); if the old version is needed on purpose, run `mongo-preflight lock` and let the pull request's reviewers see the lowered floor."
        }
        "strict_verification" => {
            "Fix the certificate problem the other diagnoses name; the lock records that every host passed strict verification."
        }
        "trust_anchors" => {
            "Find out why the chain ends in another root (a new CA, a TLS-inspecting proxy, a private CA in front) and restore the old issuer; if the new root is intended, run `mongo-preflight lock` so the change is reviewed."
        }
        "weakest_leaf_key" => {
            "Reissue the leaf with a key at least as strong as the lock's; if the weaker key is intended, run `mongo-preflight lock` so the change is reviewed."
        }
        _ => {
            "Reissue the certificate with every member's host name in its subject alternative names; if a name left on purpose, run `mongo-preflight lock` so the change is reviewed."
        }
    }
}
