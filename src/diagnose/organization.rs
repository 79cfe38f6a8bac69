//! What the discovery of an Atlas organization's clusters means for the report: a paused
//! cluster is `atlas-cluster-paused` without a probe, a cluster being created or deleted is a
//! note, a project the credentials cannot read is a warning naming it, and a locked cluster
//! that no longer exists is a note, never a failure.
//!
//! The facts come from `atlas::organization`; this file only judges them.

use crate::atlas::ApiFailure;
use crate::atlas::organization::{Discovered, Unreadable};
use crate::model::{ClusterReport, Note, Severity};

use super::diagnosis::Diagnose;
use crate::catalog::codes::DiagnosisCode as Code;

/// Why a discovered cluster is not probed, when it is not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotProbed {
    /// Paused: reported as `atlas-cluster-paused`.
    Paused,
    /// Being created or deleted (the state's name): a note.
    InTransit(String),
    /// The API gives no public `mongodb+srv` string: a note.
    NoPublicString,
}

/// Whether a discovered cluster can be probed now, and if not, why.
pub fn not_probed(d: &Discovered) -> Option<NotProbed> {
    let state = d.cluster.state_name.to_ascii_uppercase();
    if d.cluster.paused {
        return Some(NotProbed::Paused);
    }
    if matches!(state.as_str(), "CREATING" | "DELETING" | "DELETED") {
        return Some(NotProbed::InTransit(state));
    }
    if d.srv_uri().is_none() {
        return Some(NotProbed::NoPublicString);
    }
    None
}

/// The report of a paused cluster, which is not probed.
pub fn paused(d: &Discovered) -> ClusterReport {
    let c = &d.cluster;
    let state = if c.state_name.is_empty() { "unknown" } else { c.state_name.as_str() };
    let diagnosis = Code::AtlasClusterPaused.diagnose(
        format!("Atlas cluster `{}` is paused: it was not probed", crate::redact::printable(&d.name)),
        format!(
            "the Administration API lists cluster `{}` of project `{}` ({}) with paused: true (state {})",
            crate::redact::printable(&c.name),
            crate::redact::printable(&d.project.name),
            d.project.id,
            crate::redact::printable(state)
        ),
        Code::AtlasClusterPaused.remedy(),
    );
    ClusterReport {
        name: d.name.clone(),
        uri: d.srv_uri().unwrap_or_default(),
        diagnoses: vec![diagnosis],
        hosts: Vec::new(),
        required: true,
        policy_line: None,
        shared: Vec::new(),
    }
}

/// The note for a cluster that is not probed and not paused.
pub fn not_probed_note(d: &Discovered, why: &NotProbed) -> Option<Note> {
    let name = crate::redact::printable(&d.name);
    let message = match why {
        NotProbed::Paused => return None,
        NotProbed::InTransit(state) => format!(
            "Atlas cluster `{name}` was not probed: the Administration API reports it as {state}; it is probed once it is running"
        ),
        NotProbed::NoPublicString => format!(
            "Atlas cluster `{name}` was not probed: the Administration API gives no public `mongodb+srv` connection string for it (private endpoints only?)"
        ),
    };
    Some(Note { severity: Severity::Info, message })
}

/// A project whose clusters could not be read: a warning naming it; the others are checked.
pub fn unreadable(u: &Unreadable) -> Note {
    Note {
        severity: Severity::Warning,
        message: format!(
            "the clusters of Atlas project `{}` ({}) were not checked: {}; the organization's other projects were",
            crate::redact::printable(&u.project.name),
            u.project.id,
            u.failure.describe()
        ),
    }
}

/// The organization's projects could not be listed: nothing was discovered, which a gate
/// meant for every cluster of the organization must not pass silently.
pub fn discovery_failed(organization_id: &str, failure: &ApiFailure) -> Note {
    Note {
        severity: Severity::Error,
        message: format!(
            "no cluster of Atlas organization {organization_id} could be discovered: {} (discovery needs Organization Read Only)",
            failure.describe()
        ),
    }
}

/// `projects:` entries that name no project of the organization.
pub fn unmatched_projects(organization_id: &str, unmatched: &[String]) -> Option<Note> {
    if unmatched.is_empty() {
        return None;
    }
    let names: Vec<String> = unmatched.iter().map(|p| format!("`{}`", crate::redact::printable(p))).collect();
    Some(Note {
        severity: Severity::Warning,
        message: format!(
            "`atlas.projects` names {} that Atlas organization {organization_id} does not have (or the credentials cannot see)",
            names.join(", ")
        ),
    })
}

/// A cluster the lock holds that no longer exists: a note, never a failure.
pub fn gone(name: &str, lock_path: &str) -> Note {
    Note {
        severity: Severity::Info,
        message: format!(
            "cluster `{}` has a floor in {lock_path} but no longer exists: run `mongo-preflight lock` to drop it",
            crate::redact::printable(name)
        ),
    }
}
