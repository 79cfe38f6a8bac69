//! `mongo-preflight lock`: probe the policy's clusters and write each one's TLS floor.

use crate::cli::LockArgs;
use crate::diagnose::Thresholds;
use crate::error::AppError;
use crate::lock::{Lock, Observed};
use crate::plan::LockRun;

pub async fn run(args: LockArgs) -> Result<i32, AppError> {
    let plan = LockRun::build(args).await?;
    // The listed clusters and the organization's discovered ones, this job's share of them.
    let org = super::organization::clusters(&plan.probe.targets, plan.organization.as_ref(), plan.shard).await;
    for note in plan.notes.iter().chain(&org.notes) {
        eprintln!("{}: {}", note.severity, crate::redact::text(&note.message));
    }
    if plan.organization.is_some() && !org.discovered {
        return Err(AppError::Other(format!(
            "{} was not written: the organization's clusters could not be discovered",
            plan.shown
        )));
    }
    let targets = org.targets.clone();
    let progress = crate::output::Spinner::start(format!(
        "probing {} for the lock…",
        crate::report::plural(targets.len(), "cluster")
    ));
    let observed = crate::probe::probe_all(targets.clone()).await;
    progress.finish();
    let observed = observed?;

    let mut lock = Lock::new();
    // Clusters that exist but cannot be probed now (paused, being created or deleted, in a
    // project the credentials cannot read) keep the floor they have.
    if let Some(existing) = &plan.existing {
        for (name, floor) in &existing.clusters {
            let unreadable = org.unreadable_projects.iter().any(|p| name.starts_with(&format!("{p}/")));
            if plan.shard.owns(name) && (org.not_probed.contains(name) || unreadable) {
                eprintln!("{name}: not probed now; its floor in {} is kept", plan.shown);
                lock.clusters.insert(name.clone(), floor.clone());
            }
        }
        for note in org.gone(existing.clusters.keys(), &plan.shown, plan.shard) {
            eprintln!("{}: {}", note.severity, crate::redact::text(&note.message));
        }
    }
    let mut refused = Vec::new();
    for (cluster, target) in observed.iter().zip(&targets) {
        match Observed::of(cluster) {
            Some(o) if o.unanswered.is_empty() => {
                lock.clusters.insert(cluster.name.clone(), o.floor);
            }
            found => {
                let why = match (found, cluster.hosts.first().map(|h| h.tls_expected)) {
                    (_, Some(false)) => {
                        "it does not use TLS (`tls=true` is not set), so there is no TLS floor to hold".to_string()
                    }
                    (Some(o), _) => format!("no TLS answer from {}", o.unanswered.join(", ")),
                    (None, _) => "no host gave a TLS answer".to_string(),
                };
                // The diagnoses say why, in the probe's own words.
                let report = crate::diagnose::cluster(cluster, &Thresholds::of(&target.settings));
                let causes: Vec<String> = report
                    .diagnoses
                    .iter()
                    .chain(report.hosts.iter().flat_map(|h| h.diagnoses.iter()))
                    .map(|d| format!("{}: {}", d.code, d.summary))
                    .collect();
                let causes = if causes.is_empty() { String::new() } else { format!(" ({})", causes.join("; ")) };
                refused.push(format!("cluster `{}`: {why}{causes}", cluster.name));
            }
        }
    }
    if !refused.is_empty() {
        return Err(AppError::Other(format!(
            "{} was not written: a lock must hold every cluster's floor, and {}",
            plan.shown,
            crate::redact::text(&refused.join("; "))
        )));
    }

    if !plan.shard.is_all() {
        return super::merge::write_partial(&lock, plan.shard, &plan.file);
    }
    let text = lock.to_text();
    let unchanged = std::fs::read_to_string(&plan.file).is_ok_and(|old| old == text);
    if !unchanged {
        crate::output::write_atomic(&plan.file, text.as_bytes())?;
    }
    for (name, floor) in &lock.clusters {
        let key = floor.weakest_leaf_key.as_ref().map_or("none read".to_string(), ToString::to_string);
        eprintln!(
            "{name}: TLS floor {}, strict verification {}, {} trust anchor(s), weakest leaf key {key}, {} host name(s) covered",
            crate::lock::version_number(floor.min_tls_version),
            floor.strict_verification,
            floor.trust_anchors.len(),
            floor.hosts_covered.len()
        );
    }
    let lowered = crate::lock::lowered(plan.existing.as_ref(), Some(&lock));
    for change in &lowered {
        eprintln!("lowered: {} (a pull request lists this as a loosening)", change.detail);
    }
    if unchanged {
        eprintln!("{} is unchanged", plan.shown);
    } else {
        eprintln!(
            "wrote {}: commit it; `mongo-preflight check` now fails when a cluster falls below its floor",
            plan.shown
        );
    }
    Ok(0)
}
