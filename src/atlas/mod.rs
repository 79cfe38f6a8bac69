//! The MongoDB Atlas Administration API (v2): what it says about the project behind the probed
//! clusters, and temporary access for a CI runner.
//!
//! This module only observes and acts on request: it reads the project's IP access list (every
//! page), its clusters (paused or not, their host names) and the runner's egress IP, and it can
//! add and remove one temporary access-list entry. What the facts mean for a diagnosis is decided
//! in `diagnose::atlas`, which this module does not name.

pub mod access;
pub mod client;
pub mod egress;
mod http;
pub mod temporary;

use std::net::IpAddr;
use std::time::Duration;

pub use access::{AccessEntry, EntryStatus};
pub use client::{ApiFailure, AtlasClient};

/// The public Atlas API, unless `MONGODB_ATLAS_BASE_URL` says otherwise.
pub const DEFAULT_BASE_URL: &str = "https://cloud.mongodb.com";
/// Environment variables, named as the Atlas CLI and the Terraform provider name them.
pub const ENV_BASE_URL: &str = "MONGODB_ATLAS_BASE_URL";
pub const ENV_CLIENT_ID: &str = "MONGODB_ATLAS_CLIENT_ID";
pub const ENV_CLIENT_SECRET: &str = "MONGODB_ATLAS_CLIENT_SECRET";
pub const ENV_PUBLIC_KEY: &str = "MONGODB_ATLAS_PUBLIC_KEY";
pub const ENV_PRIVATE_KEY: &str = "MONGODB_ATLAS_PRIVATE_KEY";
/// The variables whose values are secrets: masked in GitHub Actions, never printed.
pub const SECRET_VARS: &[&str] = &[ENV_CLIENT_SECRET, ENV_PRIVATE_KEY];

/// How the API is authenticated.
#[derive(Clone)]
pub enum Credentials {
    /// A service account: OAuth 2.0 client credentials, then a bearer token.
    ServiceAccount { client_id: String, client_secret: String },
    /// A programmatic API key: HTTP digest with the public key as user name.
    ApiKey { public_key: String, private_key: String },
}

// Secrets never reach a Debug string.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::ServiceAccount { client_id, .. } => write!(f, "ServiceAccount({client_id})"),
            Credentials::ApiKey { public_key, .. } => write!(f, "ApiKey({public_key})"),
        }
    }
}

impl Credentials {
    /// The credentials in the environment: a service account wins over an API key. `Err` names
    /// what is missing when only half of a pair is set.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Option<Credentials>, String> {
        let get = |name: &str| env(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        match (get(ENV_CLIENT_ID), get(ENV_CLIENT_SECRET)) {
            (Some(client_id), Some(client_secret)) => {
                return Ok(Some(Credentials::ServiceAccount { client_id, client_secret }));
            }
            (Some(_), None) => return Err(format!("${ENV_CLIENT_ID} is set but ${ENV_CLIENT_SECRET} is not")),
            (None, Some(_)) => return Err(format!("${ENV_CLIENT_SECRET} is set but ${ENV_CLIENT_ID} is not")),
            (None, None) => {}
        }
        match (get(ENV_PUBLIC_KEY), get(ENV_PRIVATE_KEY)) {
            (Some(public_key), Some(private_key)) => Ok(Some(Credentials::ApiKey { public_key, private_key })),
            (Some(_), None) => Err(format!("${ENV_PUBLIC_KEY} is set but ${ENV_PRIVATE_KEY} is not")),
            (None, Some(_)) => Err(format!("${ENV_PRIVATE_KEY} is set but ${ENV_PUBLIC_KEY} is not")),
            (None, None) => Ok(None),
        }
    }

    /// How these credentials are described in a report (never the secret).
    pub fn describe(&self) -> String {
        match self {
            Credentials::ServiceAccount { client_id, .. } => format!("service account {client_id}"),
            Credentials::ApiKey { public_key, .. } => format!("API key {public_key}"),
        }
    }
}

/// Everything needed to ask the API about one project.
#[derive(Debug, Clone)]
pub struct AtlasSettings {
    pub base_url: String,
    /// `None` when the environment holds no credentials: nothing can be asked.
    pub credentials: Option<Credentials>,
    pub project_id: String,
    /// The deadline of each request.
    pub timeout: Duration,
}

/// One cluster of the project, as the API describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtlasCluster {
    pub name: String,
    pub paused: bool,
    /// IDLE, CREATING, UPDATING, DELETING, REPAIRING.
    pub state_name: String,
    /// A flex cluster (no `paused` field exists for those).
    pub flex: bool,
    /// The `mongodb+srv` name, lower case.
    pub srv_host: Option<String>,
    /// Every `host:port` of the standard connection string, host in lower case.
    pub hosts: Vec<(String, u16)>,
}

impl AtlasCluster {
    /// Whether a probed host (or the `mongodb+srv` name of its cluster) belongs to this cluster.
    pub fn owns(&self, host: &str, port: u16) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.hosts.iter().any(|(h, p)| *h == host && *p == port)
    }

    pub fn owns_srv(&self, srv: &str) -> bool {
        self.srv_host.as_deref() == Some(srv.trim_end_matches('.').to_ascii_lowercase().as_str())
    }
}

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
