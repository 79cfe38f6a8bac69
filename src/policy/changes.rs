//! What a pull request's own policy and ignore files would loosen, compared with the base's.
//!
//! The base judges the pull request; these changes only take effect once merged. Listing
//! them in the comment is what lets a reviewer see, before approving, that the gate is being
//! loosened, and by how much.

use std::collections::{BTreeMap, BTreeSet};

use super::waivers::{Waiver, WaiverEffect};
use super::{ClusterPolicy, Policy};
use crate::catalog;
use crate::model::{ChangeKind, PolicyChange, Severity};
use crate::scan::ignore_entries;

/// One `.mongo-preflight-ignore` file: its repository-relative path and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreFileText {
    pub path: String,
    pub content: String,
}

/// Every loosening from `base` to `head`, sorted by kind, then detail.
pub fn loosenings(
    base: &Policy,
    head: &Policy,
    base_ignores: &[IgnoreFileText],
    head_ignores: &[IgnoreFileText],
) -> Vec<PolicyChange> {
    let mut changes = Vec::new();
    let mut add = |kind: ChangeKind, detail: String| changes.push(PolicyChange { kind, detail });

    waiver_changes(base, head, &mut add);
    severity_changes(base, head, &mut add);
    cluster_changes(base, head, &mut add);
    scan_changes(base, head, &mut add);
    ignore_changes(base_ignores, head_ignores, &mut add);

    changes.sort();
    changes.dedup();
    changes
}

fn waiver_changes(base: &Policy, head: &Policy, add: &mut impl FnMut(ChangeKind, String)) {
    let key = |w: &Waiver| (w.target_id(), w.scope().map(str::to_string), w.effect);
    let base_waivers: BTreeMap<_, &Waiver> = base.waivers.iter().map(|w| (key(w), w)).collect();
    for waiver in &head.waivers {
        match base_waivers.get(&key(waiver)) {
            // A new lowering override is reported as a lowered severity.
            None if waiver.effect == WaiverEffect::Waive => add(
                ChangeKind::WaiverAdded,
                format!(
                    "{}: waives {} until {} (reason: {})",
                    waiver.origin,
                    waiver.describe(),
                    waiver.expires,
                    waiver.reason
                ),
            ),
            Some(old) if waiver.expires > old.expires => add(
                ChangeKind::WaiverExtended,
                format!("{}: {} now ends {} (was {})", waiver.origin, waiver.describe(), waiver.expires, old.expires),
            ),
            _ => {}
        }
    }
    if head.max_waiver_days > base.max_waiver_days {
        add(
            ChangeKind::WaiverExtended,
            format!("`max_waiver_days` raised from {} to {}", base.max_waiver_days, head.max_waiver_days),
        );
    }
}

/// The level a policy gives each rule or code it mentions (override or lowering waiver).
fn levels(policy: &Policy) -> BTreeMap<&str, Severity> {
    let mut levels: BTreeMap<&str, Severity> = policy.overrides.iter().map(|(id, s)| (id.as_str(), *s)).collect();
    for waiver in &policy.waivers {
        if let WaiverEffect::Lower(level) = waiver.effect {
            levels.insert(waiver.target_id(), level);
        }
    }
    levels
}

fn severity_changes(base: &Policy, head: &Policy, add: &mut impl FnMut(ChangeKind, String)) {
    let (base_levels, head_levels) = (levels(base), levels(head));
    let ids: BTreeSet<&str> = base_levels.keys().chain(head_levels.keys()).copied().collect();
    for id in ids {
        let Some(default) = catalog::lookup(id).map(|e| e.documented().default_severity()) else { continue };
        let before = base_levels.get(id).copied().unwrap_or(default);
        let after = head_levels.get(id).copied().unwrap_or(default);
        if after < before {
            add(ChangeKind::SeverityLowered, format!("`{id}` lowered from {before} to {after}"));
        }
    }
}

fn cluster_changes(base: &Policy, head: &Policy, add: &mut impl FnMut(ChangeKind, String)) {
    let head_clusters: BTreeMap<&str, &ClusterPolicy> = head.clusters.iter().map(|c| (c.name.as_str(), c)).collect();
    for name in &base.skipped_clusters {
        if !head_clusters.contains_key(name.as_str()) && !head.skipped_clusters.contains(name) {
            add(ChangeKind::ClusterRemoved, format!("cluster `{name}` is no longer probed"));
        }
    }
    for old in &base.clusters {
        let Some(new) = head_clusters.get(old.name.as_str()) else {
            if !head.skipped_clusters.contains(&old.name) {
                add(ChangeKind::ClusterRemoved, format!("cluster `{}` is no longer probed", old.name));
            }
            continue;
        };
        let name = &old.name;
        if old.required && !new.required {
            add(ChangeKind::SeverityLowered, format!("cluster `{name}` made optional: being unreachable only warns"));
        }
        if old.min_tls_version.is_some() && new.min_tls_version < old.min_tls_version {
            let shown = |v: Option<crate::model::TlsVersion>| v.map_or("none", |v| v.as_str());
            add(
                ChangeKind::SeverityLowered,
                format!(
                    "cluster `{name}`: `min_tls_version` lowered from {} to {}",
                    shown(old.min_tls_version),
                    shown(new.min_tls_version)
                ),
            );
        }
        for (key, before, after) in
            [("warn_days", old.warn_days, new.warn_days), ("fail_days", old.fail_days, new.fail_days)]
        {
            if after < before {
                add(ChangeKind::SeverityLowered, format!("cluster `{name}`: `{key}` lowered from {before} to {after}"));
            }
        }
    }
}

fn scan_changes(base: &Policy, head: &Policy, add: &mut impl FnMut(ChangeKind, String)) {
    let whole = |paths: &[std::path::PathBuf]| {
        paths.is_empty() || paths.iter().any(|p| matches!(p.to_str().map(|s| s.trim_end_matches('/')), Some("." | "")))
    };
    let shown = |paths: &[std::path::PathBuf]| {
        paths.iter().map(|p| format!("`{}`", p.display())).collect::<Vec<_>>().join(", ")
    };
    if whole(&base.scan.paths) && !whole(&head.scan.paths) {
        add(
            ChangeKind::ScanNarrowed,
            format!("`scan.paths` limits the scan to {} (was the whole repository)", shown(&head.scan.paths)),
        );
    } else if !whole(&head.scan.paths) {
        for removed in base.scan.paths.iter().filter(|p| !head.scan.paths.contains(p)) {
            add(ChangeKind::ScanNarrowed, format!("`scan.paths` no longer lists `{}`", removed.display()));
        }
    }
    for pattern in head.scan.exclude.iter().filter(|p| !base.scan.exclude.contains(p)) {
        add(ChangeKind::ScanNarrowed, format!("`scan.exclude` adds `{pattern}`"));
    }
    if head.scan.base.is_some() && head.scan.base != base.scan.base {
        let was = base.scan.base.as_deref().map_or("unset".to_string(), |b| format!("`{b}`"));
        add(
            ChangeKind::ScanNarrowed,
            format!("`scan.base` set to `{}` (was {was})", head.scan.base.as_deref().unwrap_or_default()),
        );
    }
}

fn ignore_changes(base: &[IgnoreFileText], head: &[IgnoreFileText], add: &mut impl FnMut(ChangeKind, String)) {
    for file in head {
        let before: BTreeSet<String> =
            base.iter().filter(|b| b.path == file.path).flat_map(|b| ignore_entries(&b.content)).collect();
        for pattern in ignore_entries(&file.content).into_iter().filter(|p| !before.contains(p)) {
            add(ChangeKind::IgnoreAdded, format!("`{}` adds `{pattern}`", file.path));
        }
    }
}
