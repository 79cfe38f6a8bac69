//! One diagnosis per cluster and cause: the hosts of a cluster that share a diagnosis (same
//! code, same severity, same summary once each host's own name is set aside) are listed
//! together, so reports show the cause once and name its hosts.

use std::collections::BTreeMap;

use crate::model::{ClusterReport, HostReport, SharedBy, SharedDiagnosis};

/// Stands for the host's `host:port` in a summary while comparing.
const TARGET: char = '\u{1}';
/// Stands for the host's name in backticks.
const NAME: char = '\u{2}';

fn target_of(h: &HostReport) -> String {
    if h.host.contains(':') { format!("[{}]:{}", h.host, h.port) } else { format!("{}:{}", h.host, h.port) }
}

/// Addresses and timings, which differ from host to host whatever the cause.
static INCIDENTAL: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    #[allow(clippy::unwrap_used)] // constant pattern
    regex::Regex::new(r"\[[0-9A-Fa-f:.]+\](:\d+)?|\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b|\b\d+ ms\b").unwrap()
});

/// The text with this host's own names replaced by placeholders.
fn neutral(text: &str, h: &HostReport) -> String {
    text.replace(&target_of(h), &TARGET.to_string()).replace(&format!("`{}`", h.host), &NAME.to_string())
}

/// What makes two diagnoses the same cause: the summary and the evidence once the host's own
/// names, addresses and timings are set aside.
fn cause(summary: &str, evidence: &str, h: &HostReport) -> (String, String) {
    let evidence = neutral(evidence, h).replace(&h.host, &NAME.to_string());
    (neutral(summary, h), INCIDENTAL.replace_all(&evidence, "#").into_owned())
}

/// Words for a cause that `n` hosts share, from its placeholder form.
fn shared_summary(cause: &str, n: usize) -> String {
    let each = format!("each of {n} hosts");
    let name = if cause.contains(TARGET) { "its host".to_string() } else { each.clone() };
    let text = cause.replace(TARGET, &each).replace(NAME, &name);
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    }
}

/// Fills `cluster.shared` from its hosts' diagnoses.
pub fn group(cluster: &mut ClusterReport) {
    let mut causes: BTreeMap<(String, String, (String, String)), Vec<SharedBy>> = BTreeMap::new();
    let mut order = Vec::new();
    for h in &cluster.hosts {
        for (i, d) in h.diagnoses.iter().enumerate() {
            let key = (d.code.to_string(), d.severity.to_string(), cause(&d.summary, &d.evidence, h));
            let members = causes.entry(key.clone()).or_default();
            if members.is_empty() {
                order.push(key);
            }
            // One share per host: a host with the same cause twice keeps its second apart.
            if !members.iter().any(|m| m.host == h.host && m.port == h.port) {
                members.push(SharedBy { host: h.host.clone(), port: h.port, diagnosis: i });
            }
        }
    }
    cluster.shared = order
        .into_iter()
        .filter_map(|key| {
            let hosts = causes.remove(&key)?;
            if hosts.len() < 2 {
                return None;
            }
            let first = &hosts[0];
            let code = cluster
                .hosts
                .iter()
                .find(|h| h.host == first.host && h.port == first.port)
                .and_then(|h| h.diagnoses.get(first.diagnosis))?
                .code;
            Some(SharedDiagnosis { code, summary: shared_summary(&key.2.0, hosts.len()), hosts })
        })
        .collect();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::codes::DiagnosisCode;
    use crate::diagnose::Diagnose;

    fn host(name: &str, summaries: &[(DiagnosisCode, &str)]) -> HostReport {
        HostReport {
            host: name.to_string(),
            port: 27017,
            address: String::new(),
            stages: Default::default(),
            diagnoses: summaries
                .iter()
                .map(|(c, s)| {
                    c.diagnose(
                        *s,
                        format!("alert after {} ms from 10.0.0.{}:27017", name.as_bytes()[0], name.as_bytes()[0]),
                        "",
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn one_cause_on_three_hosts_is_shared_once_and_names_no_single_host() {
        let hosts = ["a.example.net", "b.example.net", "c.example.net"]
            .iter()
            .map(|h| {
                host(
                    h,
                    &[
                        (DiagnosisCode::CertSelfSigned, &format!("{h}:27017 presents a self-signed certificate")),
                        (
                            DiagnosisCode::CertHostnameMismatch,
                            &format!("The certificate of {h}:27017 does not name `{h}`"),
                        ),
                    ],
                )
            })
            .collect();
        let mut cluster = ClusterReport {
            name: "c".into(),
            uri: String::new(),
            diagnoses: vec![],
            hosts,
            required: true,
            policy_line: None,
            shared: vec![],
        };
        group(&mut cluster);
        assert_eq!(cluster.shared.len(), 2);
        assert_eq!(cluster.shared[0].summary, "Each of 3 hosts presents a self-signed certificate");
        assert_eq!(cluster.shared[1].summary, "The certificate of each of 3 hosts does not name its host");
        assert_eq!(cluster.shared[0].hosts.len(), 3);
        let shown = cluster.shown();
        assert_eq!(shown.len(), 2, "each cause once");
        assert_eq!(shown[0].hosts.len(), 3);

        // The same words for another reason are another cause.
        cluster.hosts[1].diagnoses[1].evidence = "the certificate names only db.example.net".into();
        group(&mut cluster);
        assert_eq!(cluster.shared[1].hosts.len(), 2, "{:?}", cluster.shared);
        cluster.hosts[1].diagnoses[1].evidence = cluster.hosts[0].diagnoses[1].evidence.clone();

        // A different cause on one host stays its own.
        cluster.hosts[2].diagnoses[0].summary = "c.example.net:27017 presents something else".into();
        group(&mut cluster);
        assert_eq!(cluster.shared.len(), 2);
        assert_eq!(cluster.shared[0].hosts.len(), 2);
        assert_eq!(cluster.shown().len(), 3);
    }
}
