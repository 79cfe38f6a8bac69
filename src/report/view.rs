//! What the renderers share: the context they render in, and the views of a report that more
//! than one format shows the same way (labels, orderings, fingerprints, the verdict's causes).

use crate::catalog::Documented;
use crate::model::{ClusterReport, Finding, HostReport, RunReport, Severity, Shown, stage};

/// What a renderer may need besides the report itself.
#[derive(Debug, Clone, Default)]
pub struct RenderContext {
    /// Colour for the text format (a TTY without `NO_COLOR`).
    pub color: bool,
    /// The policy file, relative to the repository root, for locating cluster diagnoses.
    pub policy_path: Option<String>,
    /// A link to the CI run, for the markdown footer.
    pub run_url: Option<String>,
    /// When the run happened (RFC 3339, UTC), for the markdown footer; omitted when `None`.
    pub timestamp: Option<String>,
}

/// How a stage is named for people.
pub(super) fn stage_label(name: &str) -> &str {
    match name {
        stage::DNS => "DNS",
        stage::TCP => "TCP",
        stage::TLS_STRICT => "TLS strict",
        stage::TLS_RELAXED => "TLS relaxed",
        stage::TLS_LEGACY => "TLS 1.0/1.1",
        stage::HELLO => "hello",
        stage::PLAINTEXT_HELLO => "plaintext hello",
        stage::RELAXED_HELLO => "relaxed hello",
        stage::TLS_VERSIONS => "TLS versions",
        stage::AUTH => "auth",
        other => other,
    }
}

/// Stage names that ran on a host, in the order probes run them (unknown ones last).
pub(super) fn host_stages(host: &HostReport) -> Vec<&str> {
    let mut names: Vec<&str> = stage::ORDER.iter().copied().filter(|s| host.stages.contains_key(*s)).collect();
    names.extend(host.stages.keys().map(String::as_str).filter(|k| !stage::ORDER.contains(k)));
    names
}

/// `host:port`, with IPv6 literals bracketed.
pub(super) fn host_port(host: &HostReport) -> String {
    if host.host.contains(':') {
        format!("[{}]:{}", host.host, host.port)
    } else {
        format!("{}:{}", host.host, host.port)
    }
}

/// Findings in display order: new before existing, then by path and line; waived last.
pub(super) fn ordered_findings(report: &RunReport) -> Vec<&Finding> {
    let mut findings: Vec<&Finding> = report.findings.iter().collect();
    findings.sort_by(|a, b| {
        (a.waived, !a.new, &a.path, a.line, a.column, &a.rule)
            .cmp(&(b.waived, !b.new, &b.path, b.line, b.column, &b.rule))
    });
    findings
}

/// A stable identity for a finding across runs (used when the scanner gave none).
pub(super) fn finding_fingerprint(f: &Finding) -> String {
    if !f.fingerprint.is_empty() {
        return f.fingerprint.clone();
    }
    let normalised: String = f.snippet.split_whitespace().collect::<Vec<_>>().join(" ");
    format!("{:016x}", fnv1a(&[f.rule.id(), f.path.as_str(), normalised.as_str()]))
}

/// A stable identity for a diagnosis as shown: the same problem on the same host keeps it, and
/// a cause several hosts share keeps one whichever hosts share it.
pub(super) fn diagnosis_fingerprint(cluster: &ClusterReport, item: &Shown<'_>) -> String {
    let host = match item.hosts.as_slice() {
        [] => String::new(),
        [one] => host_port(one),
        _ => "*".to_string(),
    };
    format!("{:016x}", fnv1a(&[item.diagnosis.code.id(), cluster.name.as_str(), host.as_str()]))
}

/// FNV-1a over the parts, with a separator so that ("ab","c") and ("a","bc") differ. Stable
/// across platforms and releases, which is all a fingerprint needs.
fn fnv1a(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0xff)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

/// The first sentence of a catalogue text, for inline remedies.
pub(super) fn first_sentence(text: &str) -> &str {
    match text.find(". ") {
        Some(i) => &text[..=i],
        None => text,
    }
}

/// A plain-words summary of the counts, e.g. `2 errors, 1 warning, 3 waived`.
pub(super) fn totals_line(report: &RunReport) -> String {
    let t = report.totals();
    let waived =
        report.diagnoses().filter(|(_, _, d)| d.waived).count() + report.findings.iter().filter(|f| f.waived).count();
    let mut parts = vec![plural(t.errors, "error"), plural(t.warnings, "warning")];
    if t.infos > 0 {
        parts.push(plural(t.infos, "note"));
    }
    if waived > 0 {
        parts.push(format!("{waived} waived"));
    }
    parts.join(", ")
}

pub fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
}

/// The causes of the verdict, one sentence each, the pull request's own changes first:
/// `app/db.py:2 adds `tlsAllowInvalidCertificates``, `orders-prod: <summary>`, then any
/// error about the policy itself (an expired waiver). Empty when nothing fails.
pub fn verdict_causes(report: &RunReport) -> Vec<String> {
    let mut causes: Vec<String> = ordered_findings(report)
        .into_iter()
        .filter(|f| !f.waived && f.severity == Severity::Error)
        .map(|f| format!("{}:{} adds {}", f.path, f.line, finding_subject(f)))
        .collect();
    for cluster in &report.clusters {
        let mut seen = std::collections::BTreeSet::new();
        let shown = cluster.shown();
        let failing = shown.iter().filter(|s| !s.diagnosis.waived && s.diagnosis.severity == Severity::Error);
        for item in failing {
            // One sentence per cause, however many hosts share it.
            if seen.insert(item.diagnosis.code) {
                causes.push(format!("{}: {}", cluster.name, item.summary.trim_end_matches('.')));
            }
        }
    }
    causes.extend(report.notes.iter().filter(|n| n.severity == Severity::Error).map(|n| n.message.clone()));
    causes
}

/// What a finding adds: the option its message names (`` `tlsInsecure` set to ... ``), else
/// its rule.
pub(super) fn finding_subject(f: &Finding) -> String {
    let named = f.message.strip_prefix('`').and_then(|rest| rest.split_once('`')).map(|(name, _)| name);
    match named {
        Some(name) if !name.is_empty() && name.len() <= 80 => format!("`{name}`"),
        _ => format!("`{}`", f.rule),
    }
}
