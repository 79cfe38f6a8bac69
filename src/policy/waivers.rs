//! Waivers (`allow[]`) and severity overrides, applied to the results before the verdict.
//!
//! A live waiver marks what it covers `waived: true`, which never counts toward the verdict.
//! An expired waiver covers nothing and is itself an error that names it; a live waiver that
//! covered nothing is a warning, so stale waivers do not pile up.

use serde_saphyr::Spanned;
use time::Date;

use super::Policy;
use super::diagnostic::{Source, did_you_mean};
use super::file::WaiverFile;
use crate::catalog::Documented;
use crate::diagnose::codes::DiagnosisCode;
use crate::error::AppError;
use crate::model::{ClusterReport, Finding, Note, Severity};
use crate::scan::rules::Rule;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaiverTarget {
    Rule(Rule),
    Code(DiagnosisCode),
}

#[derive(Debug, Clone)]
pub struct Waiver {
    pub target: WaiverTarget,
    /// With a rule: which paths (a glob as written, and its matcher).
    pub path: Option<(String, globset::GlobMatcher)>,
    /// With a code: which cluster.
    pub cluster: Option<String>,
    pub reason: String,
    /// The last day the waiver applies.
    pub expires: Date,
    /// `FILE:LINE` of the waiver's entry, to name it in notes.
    pub origin: String,
}

const DATE_FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

impl Waiver {
    pub(super) fn from_file(
        entry: &Spanned<WaiverFile>,
        source: &Source<'_>,
        cluster_names: &[&str],
    ) -> Result<Waiver, AppError> {
        let w = &entry.value;
        let at = |s: &Spanned<String>, m: String| source.error_at(s.referenced, m);
        let target = match (&w.rule, &w.code) {
            (Some(_), Some(code)) => {
                return Err(at(code, "a waiver takes `rule` or `code`, not both; write two waivers".to_string()));
            }
            (None, None) => {
                return Err(source.error_at(
                    entry.referenced,
                    "a waiver needs `rule` (a scan rule) or `code` (a diagnosis code)".to_string(),
                ));
            }
            (Some(rule), None) => match Rule::from_id(rule.value.trim()) {
                Some(r) => WaiverTarget::Rule(r),
                None => {
                    let suggestion = did_you_mean(&rule.value, Rule::ALL.iter().map(|r| r.id())).to_string();
                    let hint = if DiagnosisCode::from_id(rule.value.trim()).is_some() {
                        "; it is a diagnosis code: write `code:`".to_string()
                    } else {
                        suggestion
                    };
                    return Err(at(rule, format!("unknown scan rule `{}`{hint}", rule.value)));
                }
            },
            (None, Some(code)) => match DiagnosisCode::from_id(code.value.trim()) {
                Some(c) => WaiverTarget::Code(c),
                None => {
                    let hint = if Rule::from_id(code.value.trim()).is_some() {
                        "; it is a scan rule: write `rule:`".to_string()
                    } else {
                        did_you_mean(&code.value, DiagnosisCode::ALL.iter().map(|c| c.id()))
                    };
                    return Err(at(code, format!("unknown diagnosis code `{}`{hint}", code.value)));
                }
            },
        };

        let path = match (&w.path, &target) {
            (Some(p), WaiverTarget::Code(_)) => {
                return Err(at(
                    p,
                    "`path` narrows a scan-rule waiver; a diagnosis-code waiver is narrowed with `cluster`".to_string(),
                ));
            }
            (Some(p), WaiverTarget::Rule(_)) => {
                let glob = globset::GlobBuilder::new(p.value.trim())
                    .literal_separator(true)
                    .build()
                    .map_err(|e| at(p, format!("`path` `{}` is not a valid glob: {}", p.value, e.kind())))?;
                Some((p.value.trim().to_string(), glob.compile_matcher()))
            }
            (None, _) => None,
        };
        let cluster = match (&w.cluster, &target) {
            (Some(c), WaiverTarget::Rule(_)) => {
                return Err(at(
                    c,
                    "`cluster` narrows a diagnosis-code waiver; a scan-rule waiver is narrowed with `path`".to_string(),
                ));
            }
            (Some(c), WaiverTarget::Code(_)) => {
                if !cluster_names.contains(&c.value.as_str()) {
                    return Err(at(
                        c,
                        format!(
                            "`cluster` `{}` is not a cluster of this policy{}",
                            c.value,
                            did_you_mean(&c.value, cluster_names.iter().copied())
                        ),
                    ));
                }
                Some(c.value.clone())
            }
            (None, _) => None,
        };

        let reason = w.reason.value.trim().to_string();
        if reason.is_empty() {
            return Err(at(&w.reason, "a waiver's `reason` cannot be empty: say why this is acceptable".to_string()));
        }
        let expires = Date::parse(w.expires.value.trim(), DATE_FORMAT).map_err(|_| {
            at(&w.expires, format!("`expires` must be a date written YYYY-MM-DD, not `{}`", w.expires.value))
        })?;

        let line = entry.referenced.line();
        Ok(Waiver { target, path, cluster, reason, expires, origin: format!("{}:{line}", source.name) })
    }

    /// `rule `x` on `glob`` / `code `y` on cluster `z``, to name the waiver in notes.
    pub fn describe(&self) -> String {
        match &self.target {
            WaiverTarget::Rule(r) => match &self.path {
                Some((glob, _)) => format!("rule `{}` on `{glob}`", r.id()),
                None => format!("rule `{}`", r.id()),
            },
            WaiverTarget::Code(c) => match &self.cluster {
                Some(name) => format!("code `{}` on cluster `{name}`", c.id()),
                None => format!("code `{}`", c.id()),
            },
        }
    }

    pub fn is_expired(&self, today: Date) -> bool {
        today > self.expires
    }

    fn covers_finding(&self, finding: &Finding) -> bool {
        match &self.target {
            WaiverTarget::Rule(rule) => {
                rule.id() == finding.rule && self.path.as_ref().is_none_or(|(_, glob)| glob.is_match(&finding.path))
            }
            WaiverTarget::Code(_) => false,
        }
    }

    fn covers_diagnosis(&self, cluster: &str, code: &str) -> bool {
        match &self.target {
            WaiverTarget::Code(c) => c.id() == code && self.cluster.as_deref().is_none_or(|name| name == cluster),
            WaiverTarget::Rule(_) => false,
        }
    }
}

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
];

/// Applies the policy to the results, in this order: an optional cluster's unreachability
/// becomes a warning, severity overrides (the user's explicit word wins), then waivers.
/// Returns the notes about the waivers themselves. `today` is the UTC date that decides expiry.
pub fn apply(policy: &Policy, clusters: &mut [ClusterReport], findings: &mut [Finding], today: Date) -> Vec<Note> {
    soften_optional_unreachable(clusters);
    apply_overrides(policy, clusters, findings);

    let mut notes = Vec::new();
    for waiver in &policy.waivers {
        if waiver.is_expired(today) {
            notes.push(Note {
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
            continue;
        }
        let mut covered = 0usize;
        for finding in findings.iter_mut().filter(|f| waiver.covers_finding(f)) {
            finding.waived = true;
            covered += 1;
        }
        for cluster in clusters.iter_mut() {
            let name = cluster.name.clone();
            let diagnoses =
                cluster.diagnoses.iter_mut().chain(cluster.hosts.iter_mut().flat_map(|h| h.diagnoses.iter_mut()));
            for d in diagnoses.filter(|d| waiver.covers_diagnosis(&name, &d.code)) {
                d.waived = true;
                covered += 1;
            }
        }
        if covered == 0 {
            notes.push(Note {
                severity: Severity::Warning,
                message: format!("{}: the waiver for {} matched nothing; remove it", waiver.origin, waiver.describe()),
            });
        }
    }
    notes
}

fn soften_optional_unreachable(clusters: &mut [ClusterReport]) {
    for cluster in clusters.iter_mut().filter(|c| !c.required) {
        let diagnoses =
            cluster.diagnoses.iter_mut().chain(cluster.hosts.iter_mut().flat_map(|h| h.diagnoses.iter_mut()));
        for d in diagnoses {
            if d.severity == Severity::Error && UNREACHABLE_CODES.iter().any(|c| c.id() == d.code) {
                d.severity = Severity::Warning;
            }
        }
    }
}

fn apply_overrides(policy: &Policy, clusters: &mut [ClusterReport], findings: &mut [Finding]) {
    if policy.overrides.is_empty() {
        return;
    }
    for finding in findings.iter_mut() {
        if let Some(severity) = policy.overrides.get(&finding.rule) {
            // A finding that already exists at the base ref stays a warning at most: only new
            // findings may fail a pull request.
            finding.severity = if finding.new { *severity } else { (*severity).min(Severity::Warning) };
        }
    }
    for cluster in clusters.iter_mut() {
        let diagnoses =
            cluster.diagnoses.iter_mut().chain(cluster.hosts.iter_mut().flat_map(|h| h.diagnoses.iter_mut()));
        for d in diagnoses {
            if let Some(severity) = policy.overrides.get(&d.code) {
                d.severity = *severity;
            }
        }
    }
}
