//! The MongoDB Atlas Administration API (v2): what it says about the project behind the probed
//! clusters, and temporary access for a CI runner.
//!
//! This module only observes and acts on request: it reads the project's IP access list (every
//! page), its clusters (paused or not, their host names) and the runner's egress IP, and it can
//! add and remove one temporary access-list entry. What the facts mean for a diagnosis is decided
//! in `diagnose::atlas`, which this module does not name.

pub mod access;
pub mod client;
pub mod cluster;
pub mod egress;
mod http;
pub mod organization;
pub mod settings;
pub mod temporary;

use std::net::IpAddr;

pub use access::{AccessEntry, EntryStatus};
pub use client::{ApiFailure, AtlasClient, Project};
pub use cluster::AtlasCluster;
pub use settings::{
    AtlasSettings, Credentials, DEFAULT_BASE_URL, ENV_BASE_URL, ENV_CLIENT_ID, ENV_CLIENT_SECRET, ENV_PRIVATE_KEY,
    ENV_PUBLIC_KEY, SECRET_VARS,
};

/// An access-list entry that covers the runner's IP, with the status the API gave for it.
#[derive(Debug, Clone)]
pub struct Covering {
    pub entry: AccessEntry,
    pub status: Result<EntryStatus, ApiFailure>,
}

/// What the API said about one project, each part kept with its own failure.
#[derive(Debug, Clone)]
pub struct AtlasObservation {
    pub project_id: String,
    /// The runner's egress IP, or why it is unknown.
    pub egress_ip: Result<IpAddr, String>,
    /// Where the egress IP came from (`--egress-ip`, an environment variable, an echo URL).
    pub egress_source: String,
    /// Every entry of the project's IP access list.
    pub access_list: Result<Vec<AccessEntry>, ApiFailure>,
    /// The entries that cover the egress IP, with their status.
    pub covering: Vec<Covering>,
    /// The project's clusters, dedicated and flex.
    pub clusters: Result<Vec<AtlasCluster>, ApiFailure>,
}

impl AtlasObservation {
    /// The cluster that owns any of these hosts or this SRV name.
    pub fn cluster_for(&self, hosts: &[(String, u16)], srv: Option<&str>) -> Option<&AtlasCluster> {
        let clusters = self.clusters.as_ref().ok()?;
        clusters.iter().find(|c| srv.is_some_and(|s| c.owns_srv(s)) || hosts.iter().any(|(h, p)| c.owns(h, *p)))
    }
}

/// Reads everything the diagnosis needs about the project: its access list (every page), the
/// status of each entry that covers the runner, and its clusters. Each read has the client's
/// deadline; a failure is kept with the part it concerns.
pub async fn observe(client: &AtlasClient, egress: &egress::Egress) -> AtlasObservation {
    let project = client.project_id().to_string();
    let (access_list, clusters) = tokio::join!(client.access_list(), client.clusters());
    let mut covering = Vec::new();
    if let (Ok(ip), Ok(entries)) = (&egress.ip, &access_list) {
        for entry in entries.iter().filter(|e| e.covers(*ip)) {
            let status = client.entry_status(&entry.key()).await;
            covering.push(Covering { entry: entry.clone(), status });
        }
    }
    AtlasObservation {
        project_id: project,
        egress_ip: egress.ip.clone(),
        egress_source: egress.source.clone(),
        access_list,
        covering,
        clusters,
    }
}
