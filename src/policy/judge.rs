//! Every severity decision, in one ordered pass: the answer to "why is this a warning?".
//!
//! 1. A finding that already exists at the base is at most a warning: only new findings may
//!    fail a change.
//! 2. On an optional cluster (`required: false`), "this runner cannot reach it" only warns.
//! 3. Severity overrides that raise or keep a level (the user's explicit word).
//! 4. Lowering overrides, then `allow[]` waivers, each while it is live. An expired one covers
//!    nothing and is itself an error that names it; a live one that covered nothing is a
//!    warning, so stale waivers do not pile up.
//!
//! Nothing before this pass sets a severity other than a code's or rule's own default.

use std::collections::BTreeMap;

use time::Date;

use super::waivers::{Waiver, WaiverEffect};
use crate::catalog::Documented;
use crate::diagnose::codes::DiagnosisCode;
use crate::model::{ClusterReport, Diagnosis, Finding, Note, Severity, WaiverUse};

/// Codes that mean "this runner cannot reach the cluster" rather than "the cluster is
/// misconfigured": on an optional cluster (`required: false`) they only warn.
pub const UNREACHABLE_CODES: &[DiagnosisCode] = &[
    DiagnosisCode::DnsSrvNotFound,
    DiagnosisCode::DnsHostNotFound,
    DiagnosisCode::DnsLookupFailed,
    DiagnosisCode::TcpConnectionRefused,
    DiagnosisCode::TcpConnectTimeout,
    DiagnosisCode::TlsHandshakeTimeout,
    DiagnosisCode::IpAccessListRejected,
    DiagnosisCode::AtlasClusterPaused,
];

/// What the pass said about the policy itself.
#[derive(Debug, Default)]
pub struct Judged {
    /// Expired waivers (errors) and waivers that matched nothing (warnings).
    pub notes: Vec<Note>,
    /// Every waiver, with what it covered: for the report's list of applied waivers.
    pub waivers: Vec<WaiverUse>,
}

/// What the pass reads from a policy: nothing else in it weighs a result.
#[derive(Debug, Clone, Copy)]
pub struct Weights<'p> {
    /// Waivers, and the severity overrides that lower a level.
    pub waivers: &'p [Waiver],
    /// Severity by diagnosis code or scan rule id, where the policy raises or keeps it.
    pub overrides: &'p BTreeMap<String, Severity>,
}

/// Applies the policy's weights to the results; `today` (UTC) decides which waivers are live.
pub fn apply(policy: Weights<'_>, clusters: &mut [ClusterReport], findings: &mut [Finding], today: Date) -> Judged {
    for finding in findings.iter_mut().filter(|f| !f.new) {
        finding.severity = finding.severity.min(Severity::Warning);
    }
    for cluster in clusters.iter_mut().filter(|c| !c.required) {
        for d in diagnoses_of(cluster) {
            if d.severity == Severity::Error && UNREACHABLE_CODES.contains(&d.code) {
                d.severity = Severity::Warning;
            }
        }
    }
    apply_overrides(policy, clusters, findings);

    let mut judged = Judged::default();
    // Lowering before waiving: a waived item's severity is then the one it would have had.
    let ordered = policy
        .waivers
        .iter()
        .filter(|w| matches!(w.effect, WaiverEffect::Lower(_)))
        .chain(policy.waivers.iter().filter(|w| w.effect == WaiverEffect::Waive));
    for waiver in ordered {
        let expired = waiver.is_expired(today);
        let covered = if expired { 0 } else { apply_waiver(waiver, clusters, findings) };
        judged.waivers.push(WaiverUse {
            kind: match waiver.effect {
                WaiverEffect::Waive => "waiver".to_string(),
                WaiverEffect::Lower(_) => "severity".to_string(),
            },
            target: waiver.target_id().to_string(),
            scope: waiver.scope().map(str::to_string),
            level: match waiver.effect {
                WaiverEffect::Lower(level) => Some(level),
                WaiverEffect::Waive => None,
            },
            reason: waiver.reason.clone(),
            expires: waiver.expires.to_string(),
            origin: waiver.origin.clone(),
            covered,
            expired,
        });
        if expired {
            judged.notes.push(Note {
                severity: Severity::Error,
                message: format!(
                    "{}: the waiver for {} expired on {} (reason given: {}); renew `expires` with a reason that \
                     still holds, or fix what it covered",
                    waiver.origin,
                    waiver.describe(),
                    waiver.expires,
                    waiver.reason
                ),
            });
        } else if covered == 0 {
            judged.notes.push(Note {
                severity: Severity::Warning,
                message: format!("{}: the waiver for {} matched nothing; remove it", waiver.origin, waiver.describe()),
            });
        }
    }
    judged
}

/// Applies one live waiver; returns how many findings and diagnoses it covered.
fn apply_waiver(waiver: &Waiver, clusters: &mut [ClusterReport], findings: &mut [Finding]) -> usize {
    let mut covered = 0usize;
    let mut take = |severity: &mut Severity, waived: &mut bool| {
        match waiver.effect {
            WaiverEffect::Waive => *waived = true,
            WaiverEffect::Lower(level) => *severity = (*severity).min(level),
        }
        covered += 1;
    };
    for finding in findings.iter_mut().filter(|f| waiver.covers_finding(f)) {
        take(&mut finding.severity, &mut finding.waived);
    }
    for cluster in clusters.iter_mut() {
        let name = cluster.name.clone();
        for d in diagnoses_of(cluster).filter(|d| waiver.covers_diagnosis(&name, d.code)) {
            take(&mut d.severity, &mut d.waived);
        }
    }
    covered
}

fn apply_overrides(policy: Weights<'_>, clusters: &mut [ClusterReport], findings: &mut [Finding]) {
    if policy.overrides.is_empty() {
        return;
    }
    for finding in findings.iter_mut() {
        if let Some(severity) = policy.overrides.get(finding.rule.id()) {
            // Step 1 still holds: an existing finding stays a warning at most.
            finding.severity = if finding.new { *severity } else { (*severity).min(Severity::Warning) };
        }
    }
    for cluster in clusters.iter_mut() {
        for d in diagnoses_of(cluster) {
            if let Some(severity) = policy.overrides.get(d.code.id()) {
                d.severity = *severity;
            }
        }
    }
}

fn diagnoses_of(cluster: &mut ClusterReport) -> impl Iterator<Item = &mut Diagnosis> {
    cluster.diagnoses.iter_mut().chain(cluster.hosts.iter_mut().flat_map(|h| h.diagnoses.iter_mut()))
}
