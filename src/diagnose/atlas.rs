//! What the Atlas Administration API's facts mean for a cluster's diagnoses: the access-list
//! rejection confirmed or refuted, a paused cluster, a project open to the world, and an API
//! that could not be asked.
//!
//! The facts come from `atlas::observe`; this file only judges them.

use crate::atlas::{ApiFailure, AtlasObservation, EntryStatus};
use crate::model::{ClusterReport, Diagnosis};

use super::diagnosis::Diagnose;
use crate::catalog::codes::DiagnosisCode as Code;

/// Adds the Atlas diagnoses to one cluster's report. `srv` is the cluster's `mongodb+srv` name,
/// if its connection string has one.
pub fn confirm(report: &mut ClusterReport, srv: Option<&str>, obs: &AtlasObservation) {
    confirm_hosts(report, srv, obs);
    // The hosts' diagnoses may have changed words or code: what they share is grouped again.
    super::group::group(report);
}

fn confirm_hosts(report: &mut ClusterReport, srv: Option<&str>, obs: &AtlasObservation) {
    let hosts: Vec<(String, u16)> = report.hosts.iter().map(|h| (h.host.clone(), h.port)).collect();
    let rejected = report.hosts.iter().any(|h| h.diagnoses.iter().any(|d| d.code == Code::IpAccessListRejected));
    let atlas_like = rejected
        || srv.is_some_and(crate::probe::is_atlas_host)
        || hosts.iter().any(|(h, _)| crate::probe::is_atlas_host(h));
    let cluster = obs.cluster_for(&hosts, srv);

    // When the project's clusters could not be read, nobody can tell whether this cluster is
    // one of them: the failure is reported on every cluster.
    if let Some(why) = unavailable(obs)
        && (cluster.is_some() || atlas_like || obs.clusters.is_err())
    {
        report.diagnoses.push(Code::AtlasApiUnavailable.diagnose(
            format!("The Atlas Administration API could not be asked about project {}", obs.project_id),
            why,
            "Check the Atlas credentials, their role in the project and their own API access list (see `mongo-preflight explain atlas-api-unavailable`). The probe's diagnosis stands meanwhile.",
        ));
    }
    let Some(cluster) = cluster else { return };
    let project = &obs.project_id;

    if cluster.paused {
        report.diagnoses.push(Code::AtlasClusterPaused.diagnose(
            format!("Atlas cluster `{}` is paused", cluster.name),
            format!(
                "the Administration API reports cluster `{}` of project {project} with paused: true (state {})",
                cluster.name,
                if cluster.state_name.is_empty() { "unknown" } else { cluster.state_name.as_str() }
            ),
            Code::AtlasClusterPaused.remedy(),
        ));
    }

    if let Ok(entries) = &obs.access_list {
        let open: Vec<String> = entries.iter().filter(|e| e.is_open_to_world()).map(|e| e.describe()).collect();
        if !open.is_empty() {
            report.diagnoses.push(Code::AtlasAccessListOpenToWorld.diagnose(
                format!("Atlas project {project}'s IP access list lets every address reach `{}`", cluster.name),
                format!("the project's IP access list holds {}", open.join(", ")),
                Code::AtlasAccessListOpenToWorld.remedy(),
            ));
        }
    }

    let (Ok(ip), Ok(entries)) = (&obs.egress_ip, &obs.access_list) else { return };
    let active = obs.covering.iter().find(|c| c.status == Ok(EntryStatus::Active));
    for host in &mut report.hosts {
        let target = format!("{}:{}", host.host, host.port);
        for d in host.diagnoses.iter_mut().filter(|d| d.code == Code::IpAccessListRejected) {
            let api = format!(
                "The Atlas Administration API lists {} entr{} in project {project}'s IP access list",
                entries.len(),
                if entries.len() == 1 { "y" } else { "ies" }
            );
            if let Some(active) = active {
                *d = refuted(
                    d,
                    &target,
                    *ip,
                    &format!(
                        "{api}; ACTIVE entry {} covers the runner's egress IP {ip} (from {}): the access list is not the cause.{}",
                        active.entry.describe(),
                        obs.egress_source,
                        if cluster.paused { " The cluster is paused (see atlas-cluster-paused)." } else { "" }
                    ),
                );
            } else if let Some(pending) = obs.covering.first() {
                let status = match &pending.status {
                    Ok(s) => s.as_str().to_string(),
                    Err(e) => format!("unknown ({})", e.describe()),
                };
                d.summary = format!(
                    "{target} refused the runner: the Atlas entry covering its egress IP {ip} is {status}, not ACTIVE"
                );
                d.evidence = format!(
                    "{} {api}; entry {} covers the runner's egress IP {ip} (from {}) but its status is {status}.",
                    d.evidence,
                    pending.entry.describe(),
                    obs.egress_source
                );
                d.remedy = "Wait until the entry's status is ACTIVE (Atlas applies new entries to every cloud provider first) and re-run; a FAILED entry must be deleted and added again.".to_string();
            } else {
                d.summary = format!(
                    "Atlas confirms it: {target} refused the runner because its egress IP {ip} is not on project {project}'s IP access list"
                );
                d.evidence = format!(
                    "{} {api}; none of them covers the runner's egress IP {ip} (from {}).",
                    d.evidence, obs.egress_source
                );
                d.remedy = format!(
                    "Add {ip}/32 to project {project}'s IP access list for this run: `mongo-preflight check --atlas-temporary-access 30m` adds it with an expiry, waits until it is ACTIVE and deletes it at the end of the run. For a permanent way in, use runners with static egress IPs or private endpoints. Never add 0.0.0.0/0, and do not touch TLS settings: none of them can help."
                );
            }
        }
    }
}

/// The rejection, refuted: an ACTIVE entry covers the runner, so the alert has another cause.
fn refuted(original: &Diagnosis, target: &str, ip: std::net::IpAddr, why: &str) -> Diagnosis {
    Code::TlsHandshakeFailed.diagnose(
        format!("{target} sent the access-list alert although an ACTIVE Atlas entry covers the runner's IP {ip}"),
        format!("{} {why}", original.evidence),
        "The alert has another cause than the IP access list: check that the cluster is running (not paused or resuming), that the runner reaches Atlas directly (a NAT gateway or proxy may give it another egress address than the one given: compare `--egress-ip` with https://checkip.amazonaws.com), and that the cluster accepts public connections (not private endpoints only).",
    )
}

/// Why the API facts are incomplete, if they are.
fn unavailable(obs: &AtlasObservation) -> Option<String> {
    let mut reasons: Vec<String> = Vec::new();
    let mut add = |what: &str, failure: &ApiFailure| {
        let text = format!("{what}: {}", failure.describe());
        if !reasons.contains(&text) {
            reasons.push(text);
        }
    };
    if let Err(f) = &obs.access_list {
        add("reading the project's IP access list", f);
    }
    if let Err(f) = &obs.clusters {
        add("reading the project's clusters", f);
    }
    for covering in &obs.covering {
        if let Err(f) = &covering.status {
            add("reading an access-list entry's status", f);
        }
    }
    if let Err(why) = &obs.egress_ip {
        reasons.push(format!("finding the runner's egress IP: {why}"));
    }
    (!reasons.is_empty()).then(|| reasons.join("; "))
}
