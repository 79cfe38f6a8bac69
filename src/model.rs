//! The result model: everything a run observed, as plain data.
//!
//! Probes and the scanner produce these values; `verdict` judges them; renderers in
//! `report/` only render them. The serialized form is the public JSON contract
//! (schema_version 1), so field names here are part of the contract.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// JSON schema version of [`RunReport`].
pub const SCHEMA_VERSION: u32 = 1;

pub use crate::catalog::Severity;

/// TLS protocol versions a policy can require as a minimum.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub enum TlsVersion {
    #[serde(rename = "1.0")]
    Tls10,
    #[serde(rename = "1.1")]
    Tls11,
    #[serde(rename = "1.2")]
    Tls12,
    #[serde(rename = "1.3")]
    Tls13,
}

impl TlsVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            TlsVersion::Tls10 => "TLS 1.0",
            TlsVersion::Tls11 => "TLS 1.1",
            TlsVersion::Tls12 => "TLS 1.2",
            TlsVersion::Tls13 => "TLS 1.3",
        }
    }

    /// Parses the names `probe::tls::version_name` produces.
    pub fn from_name(name: &str) -> Option<TlsVersion> {
        match name {
            "TLS 1.0" => Some(TlsVersion::Tls10),
            "TLS 1.1" => Some(TlsVersion::Tls11),
            "TLS 1.2" => Some(TlsVersion::Tls12),
            "TLS 1.3" => Some(TlsVersion::Tls13),
            _ => None,
        }
    }
}

/// One explained problem found by probing a cluster or host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnosis {
    /// A stable code, serialized as its kebab-case id.
    pub code: crate::catalog::codes::DiagnosisCode,
    pub severity: Severity,
    /// One line: what is wrong.
    pub summary: String,
    /// What was actually observed (alert name, error, certificate fields, timings).
    pub evidence: String,
    /// What the user can do about it.
    pub remedy: String,
    /// Set when a policy waiver covers this diagnosis; a waived diagnosis never fails a run.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub waived: bool,
}

/// The outcome of one probe stage on one host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageResult {
    pub ok: bool,
    pub elapsed_ms: u64,
    /// Stage-specific facts (negotiated version, presented chain, error text, ...).
    #[serde(default)]
    pub details: serde_json::Map<String, serde_json::Value>,
}

/// Stage names, in the order a probe runs them. Used as keys of [`HostReport::stages`].
pub mod stage {
    pub const DNS: &str = "dns";
    pub const TCP: &str = "tcp";
    pub const TLS_STRICT: &str = "tls_strict";
    pub const TLS_RELAXED: &str = "tls_relaxed";
    pub const TLS_LEGACY: &str = "tls_legacy";
    pub const HELLO: &str = "hello";
    pub const PLAINTEXT_HELLO: &str = "plaintext_hello";
    /// `hello` over the relaxed connection, for the server's facts only.
    pub const RELAXED_HELLO: &str = "relaxed_hello";
    pub const AUTH: &str = "auth";
    /// Each TLS version offered on its own (the posture lock's question; `lock`, and `check`
    /// with a lock).
    pub const TLS_VERSIONS: &str = "tls_versions";
    /// All stages in display order.
    pub const ORDER: &[&str] =
        &[DNS, TCP, TLS_STRICT, TLS_RELAXED, RELAXED_HELLO, TLS_LEGACY, TLS_VERSIONS, HELLO, PLAINTEXT_HELLO, AUTH];
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostReport {
    pub host: String,
    pub port: u16,
    /// The socket address finally used (or last tried), e.g. `127.0.0.1:27017`.
    pub address: String,
    /// Keyed by the names in [`stage`]; stages that did not run are absent.
    pub stages: BTreeMap<String, StageResult>,
    pub diagnoses: Vec<Diagnosis>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterReport {
    pub name: String,
    /// The connection string with user info shown as `****`.
    pub uri: String,
    /// Cluster-wide problems (DNS, SRV).
    pub diagnoses: Vec<Diagnosis>,
    pub hosts: Vec<HostReport>,
    /// Whether this cluster must be reachable; an unreachable optional cluster only warns.
    #[serde(default = "default_true", skip_serializing_if = "Clone::clone")]
    pub required: bool,
    /// 1-based line of this cluster's entry in the policy file, when it came from one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_line: Option<u32>,
    /// Diagnoses that several hosts share (same code and cause): each is shown once, naming
    /// its hosts. The per-host diagnoses stay in `hosts[].diagnoses`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shared: Vec<SharedDiagnosis>,
}

/// One cause that several hosts of a cluster share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedDiagnosis {
    pub code: crate::catalog::codes::DiagnosisCode,
    /// The summary in words that fit every host (no single host named).
    pub summary: String,
    /// Each host that has it, and where in that host's `diagnoses` it sits.
    pub hosts: Vec<SharedBy>,
}

/// A host's share of a [`SharedDiagnosis`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedBy {
    pub host: String,
    pub port: u16,
    /// Index into that host's `diagnoses`.
    pub diagnosis: usize,
}

/// A diagnosis as reports show it: once per cluster and cause.
#[derive(Debug, Clone)]
pub struct Shown<'a> {
    /// The diagnosis (for a shared one, its first host's: severity, evidence and remedy).
    pub diagnosis: &'a Diagnosis,
    pub summary: &'a str,
    /// No host for a cluster-wide diagnosis, one for a host's own, several for a shared one.
    pub hosts: Vec<&'a HostReport>,
}

impl ClusterReport {
    /// Every diagnosis of this cluster once: cluster-wide ones, then shared ones (once, with
    /// their hosts), then each host's own. A shared diagnosis whose members no longer agree on
    /// severity or waiver is shown per host.
    pub fn shown(&self) -> Vec<Shown<'_>> {
        let mut out: Vec<Shown<'_>> =
            self.diagnoses.iter().map(|d| Shown { diagnosis: d, summary: &d.summary, hosts: Vec::new() }).collect();
        // (host index, diagnosis index) of every diagnosis shown as part of a shared one.
        let mut grouped = std::collections::BTreeSet::new();
        for shared in &self.shared {
            let members: Vec<(usize, usize, &HostReport, &Diagnosis)> = shared
                .hosts
                .iter()
                .filter_map(|by| {
                    let (i, host) =
                        self.hosts.iter().enumerate().find(|(_, h)| h.host == by.host && h.port == by.port)?;
                    let d = host.diagnoses.get(by.diagnosis).filter(|d| d.code == shared.code)?;
                    Some((i, by.diagnosis, host, d))
                })
                .collect();
            let Some((_, _, _, first)) = members.first() else { continue };
            if members.len() < 2
                || members.iter().any(|(_, _, _, d)| d.severity != first.severity || d.waived != first.waived)
            {
                continue;
            }
            grouped.extend(members.iter().map(|(i, j, _, _)| (*i, *j)));
            out.push(Shown {
                diagnosis: first,
                summary: &shared.summary,
                hosts: members.iter().map(|(_, _, h, _)| *h).collect(),
            });
        }
        for (i, host) in self.hosts.iter().enumerate() {
            for (j, d) in host.diagnoses.iter().enumerate() {
                if !grouped.contains(&(i, j)) {
                    out.push(Shown { diagnosis: d, summary: &d.summary, hosts: vec![host] });
                }
            }
        }
        out
    }
}

fn default_true() -> bool {
    true
}

/// One insecure setting found by the scanner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Serialized as the rule's id.
    pub rule: crate::catalog::rules::Rule,
    pub severity: Severity,
    /// Path relative to the repository root, `/`-separated.
    pub path: String,
    /// 1-based line that names the option.
    pub line: u32,
    /// 1-based column (in characters) where the option name starts.
    pub column: u32,
    /// The line's text, trimmed, with credentials redacted.
    pub snippet: String,
    /// False when the same finding already exists at the `--base` ref.
    pub new: bool,
    pub waived: bool,
    /// Stable identity across line moves: rule + path + normalised line content.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub fingerprint: String,
    /// Why the rule matched, for humans (`tlsAllowInvalidCertificates=true in a connection string`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

impl Default for ToolInfo {
    fn default() -> Self {
        ToolInfo { name: env!("CARGO_PKG_NAME").to_string(), version: env!("CARGO_PKG_VERSION").to_string() }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
}

impl Verdict {
    pub fn exit_code(self) -> i32 {
        match self {
            Verdict::Pass => 0,
            Verdict::Fail => 1,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
        }
    }
}

/// A policy-level message that is neither a diagnosis nor a finding: an expired or unused
/// waiver, a skipped probe, files the scanner skipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub severity: Severity,
    pub message: String,
}

/// Which policy judged the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicySource {
    /// The pull request's base commit: the change under review cannot loosen its own gate.
    Base,
    /// The checked-out files (outside pull requests, or when the base could not be read).
    WorkingTree,
    /// The embedded default: no policy file.
    Default,
}

/// How a pull request loosens the policy that judges it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    WaiverAdded,
    WaiverExtended,
    SeverityLowered,
    ScanNarrowed,
    IgnoreAdded,
    ClusterRemoved,
    /// A cluster's floor in `mongo-preflight.lock` lowered or removed.
    LockLowered,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::WaiverAdded => "waiver-added",
            ChangeKind::WaiverExtended => "waiver-extended",
            ChangeKind::SeverityLowered => "severity-lowered",
            ChangeKind::ScanNarrowed => "scan-narrowed",
            ChangeKind::IgnoreAdded => "ignore-added",
            ChangeKind::ClusterRemoved => "cluster-removed",
            ChangeKind::LockLowered => "lock-lowered",
        }
    }
}

/// One loosening a pull request makes; it takes effect once merged, after review.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PolicyChange {
    pub kind: ChangeKind,
    pub detail: String,
}

/// One waiver of the judging policy (an `allow[]` entry, or a severity override that lowers a
/// level), and what it did in this run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaiverUse {
    /// `waiver` (allow[]) or `severity` (a lowering override).
    pub kind: String,
    /// The scan rule or diagnosis code.
    pub target: String,
    /// The path glob or cluster it is narrowed to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// For a lowering override: the level it lowers to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Severity>,
    pub reason: String,
    /// The last day it applies, `YYYY-MM-DD`.
    pub expires: String,
    /// `FILE:LINE` of its entry.
    pub origin: String,
    /// How many findings and diagnoses it covered in this run.
    pub covered: usize,
    pub expired: bool,
}

/// The policy that judged the run, and what the pull request would change in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyReport {
    /// The policy file, relative to the repository root; `None` for the embedded default.
    pub path: Option<String>,
    pub source: PolicySource,
    /// Loosenings the pull request makes to the base policy (empty outside pull requests).
    pub changes: Vec<PolicyChange>,
    /// Every waiver of the judging policy, applied or not.
    #[serde(default)]
    pub waivers: Vec<WaiverUse>,
}

/// Everything one run produced. Serialises to the public JSON contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub schema_version: u32,
    pub tool: ToolInfo,
    pub verdict: Verdict,
    /// Present for `check`: which policy judged, and the pull request's loosenings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyReport>,
    pub clusters: Vec<ClusterReport>,
    pub findings: Vec<Finding>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<Note>,
}

/// Counts of what is not waived, by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

impl RunReport {
    /// Builds a report and decides its verdict from its contents.
    pub fn new(clusters: Vec<ClusterReport>, findings: Vec<Finding>, notes: Vec<Note>) -> Self {
        let mut report = RunReport {
            schema_version: SCHEMA_VERSION,
            tool: ToolInfo::default(),
            verdict: Verdict::Pass,
            policy: None,
            clusters,
            findings,
            notes,
        };
        report.verdict = report.judge();
        report
    }

    /// The same report with the policy that judged it.
    pub fn with_policy(mut self, policy: PolicyReport) -> Self {
        self.policy = Some(policy);
        self
    }

    /// All diagnoses, cluster-wide and per host, with their cluster (and host, if any).
    pub fn diagnoses(&self) -> impl Iterator<Item = (&ClusterReport, Option<&HostReport>, &Diagnosis)> {
        self.clusters.iter().flat_map(|c| {
            c.diagnoses
                .iter()
                .map(move |d| (c, None, d))
                .chain(c.hosts.iter().flat_map(move |h| h.diagnoses.iter().map(move |d| (c, Some(h), d))))
        })
    }

    /// Unwaived counts by severity over diagnoses, findings and notes.
    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        // A cause several hosts share counts once, as it is shown.
        let shown: Vec<Severity> = self
            .clusters
            .iter()
            .flat_map(|c| c.shown().into_iter().map(|s| s.diagnosis).filter(|d| !d.waived).map(|d| d.severity))
            .collect();
        let severities = shown
            .into_iter()
            .chain(self.findings.iter().filter(|f| !f.waived).map(|f| f.severity))
            .chain(self.notes.iter().map(|n| n.severity));
        for s in severities {
            match s {
                Severity::Error => t.errors += 1,
                Severity::Warning => t.warnings += 1,
                Severity::Info => t.infos += 1,
            }
        }
        t
    }

    /// Fail when anything unwaived has error severity.
    pub fn judge(&self) -> Verdict {
        if self.totals().errors > 0 { Verdict::Fail } else { Verdict::Pass }
    }
}
