//! `check` and `lock` with `atlas.organization_id`: the clusters of this run are the listed
//! ones plus every cluster discovered in the organization, each named
//! `PROJECT_NAME/CLUSTER_NAME` and probed through its public `mongodb+srv` string with no
//! credentials; with `--shard I/N`, only this job's share of them.

use std::collections::BTreeSet;

use crate::atlas::AtlasClient;
use crate::atlas::organization::Discovered;
use crate::diagnose::organization::{self as judge, NotProbed};
use crate::model::{ClusterReport, Note, Severity};
use crate::plan::OrganizationPlan;
use crate::probe::ProbeTarget;
use crate::shard::Shard;

/// The clusters of one run (one share), and what discovery had to say.
#[derive(Debug, Default)]
pub struct Clusters {
    /// Probed in this share: the listed clusters, then the discovered ones.
    pub targets: Vec<ProbeTarget>,
    /// Discovered clusters of this share judged without a probe (paused ones).
    pub reports: Vec<ClusterReport>,
    pub notes: Vec<Note>,
    /// Whether the organization's clusters were discovered (its projects could be listed).
    pub discovered: bool,
    /// Every cluster that exists, in every share: listed and discovered.
    pub existing: BTreeSet<String>,
    /// Projects whose clusters could not be read: their locked clusters are unknown, not gone.
    pub unreadable_projects: Vec<String>,
    /// Discovered clusters of this share that exist but were not probed (paused, being
    /// created or deleted): a lock keeps their floors.
    pub not_probed: Vec<String>,
}

impl Clusters {
    /// Notes for the clusters of this share that the lock holds and that no longer exist.
    pub fn gone(&self, locked: impl Iterator<Item = impl AsRef<str>>, lock_path: &str, shard: Shard) -> Vec<Note> {
        if !self.discovered {
            return Vec::new();
        }
        locked
            .filter(|name| {
                let name = name.as_ref();
                shard.owns(name)
                    && !self.existing.contains(name)
                    && !self.unreadable_projects.iter().any(|p| name.starts_with(&format!("{p}/")))
            })
            .map(|name| judge::gone(name.as_ref(), lock_path))
            .collect()
    }
}

/// Whether a listed cluster is this discovered one (same `mongodb+srv` name, or a host of its
/// standard string).
fn same_cluster(listed: &ProbeTarget, d: &Discovered) -> bool {
    listed.uri.srv_name().is_some_and(|s| d.cluster.owns_srv(s))
        || listed.uri.hosts.iter().any(|h| d.cluster.owns(&h.host, h.port))
}

/// The listed clusters of this share, plus the organization's when there is one.
pub async fn clusters(listed: &[ProbeTarget], organization: Option<&OrganizationPlan>, shard: Shard) -> Clusters {
    let mut out = Clusters {
        targets: listed.iter().filter(|t| shard.owns(&t.name)).cloned().collect(),
        existing: listed.iter().map(|t| t.name.clone()).collect(),
        ..Clusters::default()
    };
    let Some(plan) = organization else { return out };
    let org = &plan.selection.organization_id;
    // The service account's bearer token is masked in GitHub Actions before its first use.
    let client = match AtlasClient::new(&plan.settings) {
        Ok(client) => client.on_token(std::sync::Arc::new(crate::output::mask_secret_now)),
        Err(failure) => {
            out.notes.push(judge::discovery_failed(org, &failure));
            return out;
        }
    };
    let discovery = crate::atlas::organization::discover(&client, &plan.selection).await;
    client.revoke().await;
    let discovery = match discovery {
        Ok(discovery) => discovery,
        Err(failure) => {
            out.notes.push(judge::discovery_failed(org, &failure));
            return out;
        }
    };
    out.discovered = true;
    out.notes.extend(judge::unmatched_projects(org, &discovery.unmatched));
    for unreadable in &discovery.unreadable {
        out.notes.push(judge::unreadable(unreadable));
        out.unreadable_projects.push(unreadable.project.name.clone());
    }
    let mut probed_elsewhere = 0;
    for d in &discovery.clusters {
        if listed.iter().any(|t| same_cluster(t, d)) {
            // Probed once, under its listed name.
            probed_elsewhere += 1;
            continue;
        }
        out.existing.insert(d.name.clone());
        if !shard.owns(&d.name) {
            continue;
        }
        match judge::not_probed(d) {
            Some(NotProbed::Paused) => {
                out.reports.push(judge::paused(d));
                out.not_probed.push(d.name.clone());
            }
            Some(why) => {
                out.notes.extend(judge::not_probed_note(d, &why));
                out.not_probed.push(d.name.clone());
            }
            None => match d.srv_uri().map(|uri| crate::uri::ConnectionString::parse(&uri)) {
                Some(Ok(uri)) => out.targets.push(ProbeTarget {
                    name: d.name.clone(),
                    uri,
                    settings: plan.probe.clone(),
                    required: true,
                    policy_line: None,
                }),
                _ => {
                    out.notes.extend(judge::not_probed_note(d, &NotProbed::NoPublicString));
                    out.not_probed.push(d.name.clone());
                }
            },
        }
    }
    let listed_too = if probed_elsewhere > 0 {
        format!(", {probed_elsewhere} of them under their listed names")
    } else {
        String::new()
    };
    let excluded = if discovery.excluded > 0 {
        format!("; {} left out by `atlas.exclude`", discovery.excluded)
    } else {
        String::new()
    };
    out.notes.push(Note {
        severity: Severity::Info,
        message: format!(
            "Atlas organization {org}: {} discovered in {}{listed_too}{excluded}",
            crate::report::plural(discovery.clusters.len(), "cluster"),
            crate::report::plural(discovery.projects.len(), "project"),
        ),
    });
    out
}
