//! Every cluster of an Atlas organization, discovered through the Administration API: every
//! page of its projects, then every page of each project's clusters and flex clusters.
//!
//! This only observes. Each discovered cluster is named `PROJECT_NAME/CLUSTER_NAME`; what a
//! paused, creating or deleting cluster means, and how one is probed, is decided by the caller.
//! A project whose clusters cannot be read is kept with its failure, and the others are still
//! read.

use futures::StreamExt;

use super::client::{ApiFailure, AtlasClient, Project};
use super::cluster::AtlasCluster;

/// Projects whose clusters are read at the same time: enough to walk 200 projects quickly,
/// few enough to stay well inside the Admin API's rate limits.
const PROJECTS_AT_ONCE: usize = 8;

/// What to discover.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// The organization id.
    pub organization_id: String,
    /// Project names or ids; empty: every project of the organization.
    pub projects: Vec<String>,
    /// Names or globs over `PROJECT_NAME/CLUSTER_NAME` to leave out.
    pub exclude: Vec<String>,
}

/// One discovered cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    /// `PROJECT_NAME/CLUSTER_NAME`.
    pub name: String,
    pub project: Project,
    pub cluster: AtlasCluster,
}

impl Discovered {
    /// The public `mongodb+srv` connection string, without credentials; `None` when the API
    /// gave none (a cluster still being created, or private endpoints only).
    pub fn srv_uri(&self) -> Option<String> {
        self.cluster.srv_host.as_ref().map(|host| format!("mongodb+srv://{host}/"))
    }
}

/// A project whose clusters could not be read, and why.
#[derive(Debug, Clone)]
pub struct Unreadable {
    pub project: Project,
    pub failure: ApiFailure,
}

/// Everything discovery found.
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    pub organization_id: String,
    /// The projects looked at (after `projects:` narrowed them), sorted by name.
    pub projects: Vec<Project>,
    /// The clusters, sorted by name, the excluded ones left out.
    pub clusters: Vec<Discovered>,
    /// How many clusters `exclude:` left out.
    pub excluded: usize,
    pub unreadable: Vec<Unreadable>,
    /// Entries of `projects:` that named no project of the organization.
    pub unmatched: Vec<String>,
}

/// `PROJECT_NAME/CLUSTER_NAME`.
pub fn cluster_name(project: &str, cluster: &str) -> String {
    format!("{project}/{cluster}")
}

/// Lists the organization's projects (every page), then each project's clusters (every page,
/// a few projects at a time). `Err` only when the projects themselves cannot be listed.
pub async fn discover(client: &AtlasClient, selection: &Selection) -> Result<Discovery, ApiFailure> {
    let all = client.projects().await?;
    let mut projects: Vec<Project> = all.into_iter().filter(|p| p.org_id == selection.organization_id).collect();
    let mut unmatched = Vec::new();
    if !selection.projects.is_empty() {
        for wanted in &selection.projects {
            if !projects.iter().any(|p| p.id == *wanted || p.name == *wanted) {
                unmatched.push(wanted.clone());
            }
        }
        projects.retain(|p| selection.projects.iter().any(|w| *w == p.id || *w == p.name));
    }
    projects.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));

    let exclude = exclusions(&selection.exclude);
    let read: Vec<(Project, Result<Vec<AtlasCluster>, ApiFailure>)> = futures::stream::iter(projects.iter().cloned())
        .map(|project| async move {
            let clusters = client.clusters_in(&project.id).await;
            (project, clusters)
        })
        .buffered(PROJECTS_AT_ONCE)
        .collect()
        .await;

    let mut discovery =
        Discovery { organization_id: selection.organization_id.clone(), projects, unmatched, ..Discovery::default() };
    for (project, clusters) in read {
        match clusters {
            Ok(clusters) => {
                for cluster in clusters {
                    let name = cluster_name(&project.name, &cluster.name);
                    if exclude.is_match(&name) {
                        discovery.excluded += 1;
                        continue;
                    }
                    discovery.clusters.push(Discovered { name, project: project.clone(), cluster });
                }
            }
            Err(failure) => discovery.unreadable.push(Unreadable { project, failure }),
        }
    }
    discovery.clusters.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(discovery)
}

/// The `exclude:` globs (validated with the policy; an invalid one here matches nothing).
fn exclusions(patterns: &[String]) -> globset::GlobSet {
    let mut set = globset::GlobSetBuilder::new();
    for pattern in patterns {
        if let Ok(glob) = globset::GlobBuilder::new(pattern).literal_separator(true).build() {
            set.add(glob);
        }
    }
    set.build().unwrap_or_else(|_| globset::GlobSet::empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclude_takes_names_and_globs_within_one_part() {
        let set = exclusions(&["sandbox-*/*".to_string(), "*/scratch".to_string(), "shop/Cluster0".to_string()]);
        assert!(set.is_match("sandbox-alice/Cluster0"));
        assert!(set.is_match("payments/scratch"));
        assert!(set.is_match("shop/Cluster0"));
        assert!(!set.is_match("shop/Cluster1"));
        assert!(!set.is_match("payments/scratch-2"));
    }
}
