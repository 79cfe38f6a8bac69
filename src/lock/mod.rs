//! The posture lock: `mongo-preflight.lock`, each cluster's TLS floor.
//!
//! A floor is what the probe saw when the cluster was locked, reduced to the properties that
//! can only get weaker or stronger: the oldest TLS version any host accepts, whether every
//! host passed strict verification, the roots its chains end in, the weakest leaf key and the
//! host names its certificates cover. Serials and expiry dates are left out on purpose, so a
//! renewal from the same roots changes nothing. The file is JSON with sorted keys and sorted
//! lists and no timestamp: two `lock` runs on an unchanged cluster write the same bytes, and a
//! change reads well in review.
//!
//! This module holds the data, builds a floor from a probe's observation ([`Observed`]), and
//! compares two locks ([`lowered`], the pull request's loosenings). Judging a live cluster
//! against its floor is `diagnose::regression`'s job.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::model::{ChangeKind, PolicyChange, TlsVersion};
use crate::probe::certs::{self, AnchorFacts};
use crate::probe::tls::TlsFailure;
use crate::probe::{ClusterObservation, HostObservation};

/// The lock's file name; it lives next to the policy file.
pub const FILE_NAME: &str = "mongo-preflight.lock";

/// The version of the lock's format.
pub const FORMAT_VERSION: u32 = 1;

/// The whole lock file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    /// The format version, 1.
    pub version: u32,
    /// Each cluster's floor, by the cluster's name in the policy.
    pub clusters: BTreeMap<String, Floor>,
}

/// One cluster's floor: what it may raise but never silently lower.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Floor {
    /// The oldest TLS version any host accepted, each version offered on its own.
    pub min_tls_version: TlsVersion,
    /// Every host passed strict verification (chain, dates and host name).
    pub strict_verification: bool,
    /// The roots the hosts' chains end in, sorted by key hash.
    pub trust_anchors: Vec<TrustAnchor>,
    /// The weakest leaf key among the hosts; `null` when no leaf could be read.
    pub weakest_leaf_key: Option<LeafKey>,
    /// The hosts whose leaf certificate covers their name, sorted.
    pub hosts_covered: Vec<String>,
}

/// A root a chain ends in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustAnchor {
    /// Lowercase hex SHA-256 of the root's DER SubjectPublicKeyInfo: what is compared.
    pub spki_sha256: String,
    /// The root's subject, for people; not compared.
    pub subject: String,
}

/// A leaf certificate's public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeafKey {
    /// `RSA`, `EC`, `Ed25519`, …
    #[serde(rename = "type")]
    pub kind: String,
    pub bits: u32,
}

impl LeafKey {
    /// Security strength in bits (NIST SP 800-57 Part 1, table 2): what makes an RSA and an EC
    /// key comparable.
    pub fn strength(&self) -> u32 {
        match self.kind.as_str() {
            "RSA" | "DSA" => match self.bits {
                b if b >= 15_360 => 256,
                b if b >= 7_680 => 192,
                b if b >= 3_072 => 128,
                b if b >= 2_048 => 112,
                b if b >= 1_024 => 80,
                _ => 0,
            },
            "EC" => self.bits / 2,
            "Ed25519" => 128,
            "Ed448" => 224,
            _ => 0,
        }
    }

    /// Weaker: less security strength, or the same type with fewer bits (RSA 4096 → 3072).
    pub fn weaker_than(&self, other: &LeafKey) -> bool {
        self.strength() < other.strength() || (self.kind == other.kind && self.bits < other.bits)
    }
}

impl std::fmt::Display for LeafKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind, self.bits)
    }
}

impl From<&AnchorFacts> for TrustAnchor {
    fn from(a: &AnchorFacts) -> Self {
        TrustAnchor { spki_sha256: a.spki_sha256.clone(), subject: a.subject.clone() }
    }
}

impl TrustAnchor {
    /// `CN=Root (sha256 1a2b3c4d…)`.
    pub fn describe(&self) -> String {
        let short: String = self.spki_sha256.chars().take(16).collect();
        format!("{} (SPKI sha256 {short}…)", self.subject)
    }
}

/// A version as the lock writes it (`1.2`).
pub fn version_number(v: TlsVersion) -> &'static str {
    match v {
        TlsVersion::Tls10 => "1.0",
        TlsVersion::Tls11 => "1.1",
        TlsVersion::Tls12 => "1.2",
        TlsVersion::Tls13 => "1.3",
    }
}

impl Lock {
    pub fn new() -> Lock {
        Lock { version: FORMAT_VERSION, clusters: BTreeMap::new() }
    }

    /// Parses a lock; `shown` names the file in errors, which point at line and column.
    pub fn parse(text: &str, shown: &str) -> Result<Lock, AppError> {
        let lock: Lock = serde_json::from_str(text)
            .map_err(|e| AppError::Policy(format!("{shown}:{}:{}: invalid lock: {e}", e.line(), e.column())))?;
        if lock.version != FORMAT_VERSION {
            return Err(AppError::Policy(format!(
                "{shown}: lock format version {} is not supported (this mongo-preflight writes version {FORMAT_VERSION})",
                lock.version
            )));
        }
        Ok(lock)
    }

    /// The stable text: sorted keys and lists, two-space indentation, a final newline.
    pub fn to_text(&self) -> String {
        let mut lock = self.clone();
        for floor in lock.clusters.values_mut() {
            floor.trust_anchors.sort();
            floor.trust_anchors.dedup();
            floor.hosts_covered.sort();
            floor.hosts_covered.dedup();
        }
        let mut text = serde_json::to_string_pretty(&lock).unwrap_or_default();
        text.push('\n');
        text
    }
}

impl Default for Lock {
    fn default() -> Self {
        Lock::new()
    }
}

/// Where the lock lives for a policy file: next to it (the repository root without one).
pub fn path_for(policy_file: Option<&Path>, root: &Path) -> PathBuf {
    policy_file.and_then(Path::parent).filter(|p| !p.as_os_str().is_empty()).unwrap_or(root).join(FILE_NAME)
}

/// The lock's repository-relative path for a policy shown as `policy_path` (`dir/x.yml` →
/// `dir/mongo-preflight.lock`).
pub fn shown_path_for(policy_path: &str) -> String {
    match policy_path.rsplit_once('/') {
        Some((dir, _)) => format!("{dir}/{FILE_NAME}"),
        None => FILE_NAME.to_string(),
    }
}

/// A cluster's floor as observed now, with the hosts behind each value for the evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub floor: Floor,
    /// `host:port` of the hosts that accept [`Floor::min_tls_version`].
    pub lowest_at: Vec<String>,
    /// `host:port` of the hosts that failed strict verification, with why.
    pub strict_failures: Vec<String>,
    /// `host:port` of the hosts behind each anchor, by key hash.
    pub anchor_hosts: BTreeMap<String, Vec<String>>,
    /// `host:port` of the host with the weakest leaf key.
    pub weakest_key_at: Option<String>,
    /// Every host name that answered TLS (lowercase), covered or not.
    pub hosts_probed: BTreeSet<String>,
    /// Hosts whose leaf does not cover their name: (host name, `host:port` and the names
    /// the leaf does hold).
    pub uncovered: Vec<(String, String)>,
    /// `host:port` of hosts that gave no TLS answer: they add nothing to the floor.
    pub unanswered: Vec<String>,
}

fn host_name(h: &HostObservation) -> String {
    h.host.host.trim_end_matches('.').to_ascii_lowercase()
}

fn address(h: &HostObservation) -> String {
    format!("{}:{}", h.host.host, h.host.port)
}

/// The oldest version this host was seen to accept, from every handshake it answered.
fn lowest_version(h: &HostObservation) -> Option<TlsVersion> {
    let negotiated = [h.strict.as_ref(), h.relaxed.as_ref()]
        .into_iter()
        .flatten()
        .filter_map(|s| s.outcome.as_ref().ok())
        .filter_map(|n| TlsVersion::from_name(&n.version));
    let legacy = h.legacy.as_ref().and_then(|l| match l.value {
        crate::probe::legacy::LegacyAnswer::ServerHello { version, .. } => {
            TlsVersion::from_name(&crate::probe::legacy::version_name(version))
        }
        _ => None,
    });
    let offered = h.versions.as_ref().and_then(|v| v.lowest());
    negotiated.chain(legacy).chain(offered).min()
}

impl Observed {
    /// The floor a probe observed; `None` when the cluster does not use TLS or no host
    /// answered TLS (the other diagnoses explain why).
    pub fn of(obs: &ClusterObservation) -> Option<Observed> {
        let mut lowest: Option<(TlsVersion, Vec<String>)> = None;
        let mut strict_failures = Vec::new();
        let mut anchor_hosts: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut anchors: BTreeMap<String, TrustAnchor> = BTreeMap::new();
        let mut weakest: Option<(LeafKey, String)> = None;
        let mut covered = BTreeSet::new();
        let mut hosts_probed = BTreeSet::new();
        let mut uncovered = Vec::new();
        let mut unanswered = Vec::new();
        for h in &obs.hosts {
            if !h.tls_expected {
                return None;
            }
            // A host that gave no TLS answer says nothing about the floor (its own diagnoses say
            // why), so a member that is down never reads as a name no longer covered.
            let Some(version) = lowest_version(h) else {
                unanswered.push(address(h));
                continue;
            };
            hosts_probed.insert(host_name(h));
            match &mut lowest {
                Some((v, at)) if *v == version => at.push(address(h)),
                Some((v, _)) if *v < version => {}
                _ => lowest = Some((version, vec![address(h)])),
            }
            match h.strict.as_ref().map(|s| &s.outcome) {
                Some(Ok(_)) => {}
                Some(Err(failure)) => strict_failures.push(format!("{}: {}", address(h), strict_words(failure))),
                None => strict_failures.push(format!("{}: no strict handshake", address(h))),
            }
            if let Some(anchor) = &h.anchor {
                anchors.insert(anchor.spki_sha256.clone(), TrustAnchor::from(anchor));
                anchor_hosts.entry(anchor.spki_sha256.clone()).or_default().push(address(h));
            }
            if let Some(Some(leaf)) = h.chain.first() {
                let key = LeafKey { kind: leaf.key_type.clone(), bits: leaf.key_bits };
                if weakest.as_ref().is_none_or(|(w, _)| key.weaker_than(w)) {
                    weakest = Some((key, address(h)));
                }
                if certs::name_matches(leaf, &h.host.host) {
                    covered.insert(host_name(h));
                } else {
                    let held = if leaf.sans.is_empty() { "no name".to_string() } else { leaf.sans.join(", ") };
                    uncovered.push((host_name(h), format!("{} (its leaf names {held})", address(h))));
                }
            }
        }
        let (min_tls_version, lowest_at) = lowest?;
        let (weakest_leaf_key, weakest_key_at) = match weakest {
            Some((key, at)) => (Some(key), Some(at)),
            None => (None, None),
        };
        Some(Observed {
            floor: Floor {
                min_tls_version,
                strict_verification: strict_failures.is_empty(),
                trust_anchors: anchors.into_values().collect(),
                weakest_leaf_key,
                hosts_covered: covered.into_iter().collect(),
            },
            lowest_at,
            strict_failures,
            anchor_hosts,
            weakest_key_at,
            hosts_probed,
            uncovered,
            unanswered,
        })
    }
}

fn strict_words(failure: &TlsFailure) -> String {
    crate::redact::text(&failure.describe()).into_owned()
}

/// One way a floor is lower than another, in words shared by the regression's evidence and
/// the pull request's loosenings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lowering {
    /// The floor's field, as the lock spells it.
    pub property: &'static str,
    /// `TLS floor 1.3 → 1.2`: the property in words, the old value, the new one.
    pub words: String,
}

/// Every way `new` is lower than `old`. `probed`: the host names looked at now; a host the
/// lock covers is only missed when it was probed (a member that left the cluster is not a
/// regression). `None` compares every host, as between two locks.
pub fn lowerings(old: &Floor, new: &Floor, probed: Option<&BTreeSet<String>>) -> Vec<Lowering> {
    let mut out = Vec::new();
    if new.min_tls_version < old.min_tls_version {
        out.push(Lowering {
            property: "min_tls_version",
            words: format!(
                "TLS floor {} → {}",
                version_number(old.min_tls_version),
                version_number(new.min_tls_version)
            ),
        });
    }
    if old.strict_verification && !new.strict_verification {
        out.push(Lowering { property: "strict_verification", words: "strict verification true → false".to_string() });
    }
    let known: BTreeSet<&str> = old.trust_anchors.iter().map(|a| a.spki_sha256.as_str()).collect();
    let added: Vec<&TrustAnchor> =
        new.trust_anchors.iter().filter(|a| !known.contains(a.spki_sha256.as_str())).collect();
    if !added.is_empty() {
        let list = |anchors: &mut dyn Iterator<Item = &TrustAnchor>| {
            let shown: Vec<String> = anchors.map(TrustAnchor::describe).collect();
            if shown.is_empty() { "none".to_string() } else { shown.join(", ") }
        };
        out.push(Lowering {
            property: "trust_anchors",
            words: format!(
                "trust anchors {} → {}",
                list(&mut old.trust_anchors.iter()),
                list(&mut new.trust_anchors.iter())
            ),
        });
    }
    match (&old.weakest_leaf_key, &new.weakest_leaf_key) {
        (Some(o), Some(n)) if n.weaker_than(o) => {
            out.push(Lowering { property: "weakest_leaf_key", words: format!("weakest leaf key {o} → {n}") })
        }
        (Some(o), None) => {
            out.push(Lowering { property: "weakest_leaf_key", words: format!("weakest leaf key {o} → none read") })
        }
        _ => {}
    }
    let now: BTreeSet<&str> = new.hosts_covered.iter().map(String::as_str).collect();
    let lost: Vec<&str> = old
        .hosts_covered
        .iter()
        .map(String::as_str)
        .filter(|h| !now.contains(h) && probed.is_none_or(|p| p.contains(*h)))
        .collect();
    if !lost.is_empty() {
        let shown = |hosts: &[String]| if hosts.is_empty() { "none".to_string() } else { hosts.join(", ") };
        out.push(Lowering {
            property: "hosts_covered",
            words: format!(
                "host names covered {} → {} (no longer covered: {})",
                shown(&old.hosts_covered),
                shown(&new.hosts_covered),
                lost.join(", ")
            ),
        });
    }
    out
}

/// How a pull request's lock lowers the base's: each lowered or removed floor, a loosening
/// listed as `lock-lowered` ("orders-prod: TLS floor 1.3 → 1.2").
pub fn lowered(base: Option<&Lock>, head: Option<&Lock>) -> Vec<PolicyChange> {
    let Some(base) = base else { return Vec::new() };
    let mut changes = Vec::new();
    for (name, old) in &base.clusters {
        match head.and_then(|h| h.clusters.get(name)) {
            None => changes.push(PolicyChange {
                kind: ChangeKind::LockLowered,
                detail: format!("{name}: floor removed from the lock"),
            }),
            Some(new) => changes.extend(
                lowerings(old, new, None)
                    .into_iter()
                    .map(|l| PolicyChange { kind: ChangeKind::LockLowered, detail: format!("{name}: {}", l.words) }),
            ),
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn floor() -> Floor {
        Floor {
            min_tls_version: TlsVersion::Tls13,
            strict_verification: true,
            trust_anchors: vec![TrustAnchor { spki_sha256: "aa".repeat(32), subject: "CN=Root A".into() }],
            weakest_leaf_key: Some(LeafKey { kind: "EC".into(), bits: 384 }),
            hosts_covered: vec!["db1.example.net".into(), "db2.example.net".into()],
        }
    }

    #[test]
    fn a_lock_round_trips_and_its_text_is_stable() {
        let mut lock = Lock::new();
        let mut f = floor();
        f.hosts_covered.reverse();
        lock.clusters.insert("orders-prod".into(), f);
        let text = lock.to_text();
        assert!(text.ends_with("}\n"));
        let parsed = Lock::parse(&text, FILE_NAME).expect("parses");
        assert_eq!(parsed.to_text(), text);
        assert!(text.find("db1.example.net") < text.find("db2.example.net"), "{text}");
        assert!(text.contains("\"min_tls_version\": \"1.3\""), "{text}");
    }

    #[test]
    fn unknown_fields_and_versions_are_errors_with_a_location() {
        let err = Lock::parse("{\"version\": 1, \"clusters\": {}, \"extra\": 1}", "x/mongo-preflight.lock")
            .expect_err("unknown field");
        assert!(err.to_string().starts_with("x/mongo-preflight.lock:1:"), "{err}");
        let err = Lock::parse("{\"version\": 2, \"clusters\": {}}", FILE_NAME).expect_err("version");
        assert!(err.to_string().contains("version 2"), "{err}");
    }

    #[test]
    fn each_weaker_property_is_a_lowering_and_a_stronger_one_is_not() {
        let old = floor();
        assert!(lowerings(&old, &old, None).is_empty());
        let stronger = Floor { weakest_leaf_key: Some(LeafKey { kind: "EC".into(), bits: 521 }), ..floor() };
        assert!(lowerings(&old, &stronger, None).is_empty());
        let cases = [
            (Floor { min_tls_version: TlsVersion::Tls12, ..floor() }, "min_tls_version", "TLS floor 1.3 → 1.2"),
            (Floor { strict_verification: false, ..floor() }, "strict_verification", "true → false"),
            (
                Floor {
                    trust_anchors: vec![TrustAnchor { spki_sha256: "bb".repeat(32), subject: "CN=B".into() }],
                    ..floor()
                },
                "trust_anchors",
                "CN=B",
            ),
            (
                Floor { weakest_leaf_key: Some(LeafKey { kind: "EC".into(), bits: 256 }), ..floor() },
                "weakest_leaf_key",
                "EC 384 → EC 256",
            ),
            (Floor { hosts_covered: vec!["db1.example.net".into()], ..floor() }, "hosts_covered", "db2.example.net"),
        ];
        for (new, property, words) in cases {
            let found = lowerings(&old, &new, None);
            assert_eq!(found.len(), 1, "{property}: {found:?}");
            assert_eq!(found[0].property, property);
            assert!(found[0].words.contains(words), "{property}: {}", found[0].words);
        }
    }

    #[test]
    fn key_strength_compares_across_types() {
        let rsa = |bits| LeafKey { kind: "RSA".into(), bits };
        let ec = |bits| LeafKey { kind: "EC".into(), bits };
        assert!(rsa(2048).weaker_than(&ec(256)));
        assert!(!ec(256).weaker_than(&rsa(2048)));
        assert!(rsa(3072).weaker_than(&rsa(4096)));
        assert!(ec(256).weaker_than(&ec(384)));
    }

    #[test]
    fn a_lowered_or_removed_floor_is_a_loosening() {
        let mut base = Lock::new();
        base.clusters.insert("orders-prod".into(), floor());
        base.clusters.insert("billing".into(), floor());
        let mut head = base.clone();
        head.clusters.remove("billing");
        if let Some(f) = head.clusters.get_mut("orders-prod") {
            f.min_tls_version = TlsVersion::Tls12;
        }
        let changes = lowered(Some(&base), Some(&head));
        let details: Vec<&str> = changes.iter().map(|c| c.detail.as_str()).collect();
        assert_eq!(details, ["billing: floor removed from the lock", "orders-prod: TLS floor 1.3 → 1.2"]);
        assert!(changes.iter().all(|c| c.kind == ChangeKind::LockLowered));
        assert!(lowered(None, Some(&head)).is_empty());
        assert!(lowered(Some(&base), Some(&base)).is_empty());
        assert_eq!(lowered(Some(&base), None).len(), 2);
    }
}
