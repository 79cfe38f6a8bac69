//! `mongo-preflight merge`: the JSON reports of `check --shard I/N` jobs become one report (one
//! verdict, the totals of all, every format, the job summary and the scheduled issues), and the
//! partial locks of `lock --shard I/N` jobs become one `mongo-preflight.lock`.
//!
//! Nothing is judged again: each shard's diagnoses and findings arrive with the severity its
//! policy gave them, and the merged verdict is the one those severities make together.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cli::MergeArgs;
use crate::error::AppError;
use crate::lock::{Floor, Lock};
use crate::model::{ClusterReport, Finding, Note, PolicyReport, RunReport};
use crate::report::{Format, RenderContext};
use crate::shard::Shard;

/// The format version of a partial lock.
pub const PARTIAL_LOCK_VERSION: u32 = 1;

/// One share of the lock, as `lock --shard I/N` writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartialLock {
    /// The partial lock's format version (1); also what tells it from a report or a lock.
    pub partial_lock: u32,
    /// `I/N`.
    pub shard: String,
    /// The floors of this share's clusters.
    pub clusters: BTreeMap<String, Floor>,
}

/// Where `lock --shard I/N` writes its share: `mongo-preflight.lock.I-of-N` next to the lock.
pub fn partial_path(lock_file: &Path, shard: Shard) -> PathBuf {
    let mut name = lock_file.file_name().map(|n| n.to_os_string()).unwrap_or_else(|| crate::lock::FILE_NAME.into());
    name.push(format!(".{}-of-{}", shard.index, shard.count));
    lock_file.with_file_name(name)
}

/// Writes this share's floors as a partial lock (sorted, stable, like the lock).
pub fn write_partial(lock: &Lock, shard: Shard, lock_file: &Path) -> Result<i32, AppError> {
    let partial = PartialLock {
        partial_lock: PARTIAL_LOCK_VERSION,
        shard: shard.to_string(),
        clusters: Lock::parse(&lock.to_text(), "the lock")
            .map(|l| l.clusters)
            .unwrap_or_else(|_| lock.clusters.clone()),
    };
    let mut text = serde_json::to_string_pretty(&partial).unwrap_or_default();
    text.push('\n');
    let path = partial_path(lock_file, shard);
    crate::output::write_atomic(&path, text.as_bytes())?;
    eprintln!(
        "wrote {} ({} of share {shard}): `mongo-preflight merge` combines the {} shares into {}",
        path.display(),
        crate::report::plural(partial.clusters.len(), "cluster"),
        shard.count,
        crate::lock::FILE_NAME
    );
    Ok(0)
}

/// What one input file is.
enum Input {
    Report(Box<RunReport>),
    Partial(PartialLock),
}

fn read(path: &Path) -> Result<Input, AppError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| AppError::io(format!("cannot read {shown}"), e))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| AppError::Usage(format!("{shown}: not JSON ({e}): give `check --format json` reports")))?;
    if value.get("partial_lock").is_some() {
        let partial: PartialLock = serde_json::from_value(value)
            .map_err(|e| AppError::Usage(format!("{shown}: not a valid partial lock: {e}")))?;
        if partial.partial_lock != PARTIAL_LOCK_VERSION {
            return Err(AppError::Usage(format!(
                "{shown}: partial lock format {} is not supported (this mongo-preflight writes {PARTIAL_LOCK_VERSION})",
                partial.partial_lock
            )));
        }
        Shard::parse(&partial.shard).map_err(|e| AppError::Usage(format!("{shown}: shard {e}")))?;
        return Ok(Input::Partial(partial));
    }
    if value.get("schema_version").is_some() {
        let report: RunReport = serde_json::from_value(value)
            .map_err(|e| AppError::Usage(format!("{shown}: not a mongo-preflight JSON report: {e}")))?;
        if report.schema_version != crate::model::SCHEMA_VERSION {
            return Err(AppError::Usage(format!(
                "{shown}: report schema_version {} is not supported (this mongo-preflight writes {})",
                report.schema_version,
                crate::model::SCHEMA_VERSION
            )));
        }
        return Ok(Input::Report(Box::new(report)));
    }
    if value.get("version").is_some() && value.get("clusters").is_some() {
        return Err(AppError::Usage(format!(
            "{shown} is a whole lock, not a share of one: give the files `lock --shard I/N` writes"
        )));
    }
    Err(AppError::Usage(format!(
        "{shown} is neither a `check --format json` report nor a partial lock of `lock --shard`"
    )))
}

/// The reports as one: every cluster once (a cluster in two reports is an error: two jobs took
/// the same share), each finding and note once, the policy of the first report with every
/// change and waiver of all, and the verdict they make together.
pub fn merge_reports(reports: &[(String, RunReport)]) -> Result<RunReport, AppError> {
    let mut clusters: Vec<ClusterReport> = Vec::new();
    let mut owner: BTreeMap<String, &str> = BTreeMap::new();
    let mut findings: Vec<Finding> = Vec::new();
    let mut notes: Vec<Note> = Vec::new();
    let mut policy: Option<PolicyReport> = None;
    for (shown, report) in reports {
        for cluster in &report.clusters {
            if let Some(first) = owner.insert(cluster.name.clone(), shown) {
                return Err(AppError::Usage(format!(
                    "cluster `{}` is in both {first} and {shown}: were two jobs given the same --shard?",
                    crate::redact::printable(&cluster.name)
                )));
            }
            clusters.push(cluster.clone());
        }
        for finding in &report.findings {
            let key = |f: &Finding| (f.rule, f.path.clone(), f.line, f.column);
            if !findings.iter().any(|f| key(f) == key(finding)) {
                findings.push(finding.clone());
            }
        }
        for note in &report.notes {
            if !notes.contains(note) {
                notes.push(note.clone());
            }
        }
        match (&mut policy, &report.policy) {
            (None, Some(p)) => policy = Some(p.clone()),
            (Some(merged), Some(p)) => {
                for change in &p.changes {
                    if !merged.changes.contains(change) {
                        merged.changes.push(change.clone());
                    }
                }
                for waiver in &p.waivers {
                    if !merged.waivers.contains(waiver) {
                        merged.waivers.push(waiver.clone());
                    }
                }
            }
            _ => {}
        }
    }
    let merged = RunReport::new(clusters, findings, notes);
    Ok(match policy {
        Some(p) => merged.with_policy(p),
        None => merged,
    })
}

/// The shares as one lock; every share 1..N must be there exactly once, or the lock would
/// silently miss clusters.
pub fn merge_locks(partials: &[(String, PartialLock)]) -> Result<Lock, AppError> {
    let mut count = None;
    let mut seen: BTreeMap<u32, &str> = BTreeMap::new();
    let mut lock = Lock::new();
    for (shown, partial) in partials {
        let shard = Shard::parse(&partial.shard).map_err(|e| AppError::Usage(format!("{shown}: shard {e}")))?;
        match count {
            None => count = Some(shard.count),
            Some(n) if n != shard.count => {
                return Err(AppError::Usage(format!(
                    "{shown} is share {shard}, but the other partial locks are shares of {n}"
                )));
            }
            Some(_) => {}
        }
        if let Some(first) = seen.insert(shard.index, shown) {
            return Err(AppError::Usage(format!("share {shard} is given twice: {first} and {shown}")));
        }
        for (name, floor) in &partial.clusters {
            if lock.clusters.insert(name.clone(), floor.clone()).is_some() {
                return Err(AppError::Usage(format!(
                    "cluster `{}` is in two partial locks (the second: {shown})",
                    crate::redact::printable(name)
                )));
            }
        }
    }
    let count = count.unwrap_or(1);
    let missing: Vec<String> = (1..=count).filter(|i| !seen.contains_key(i)).map(|i| format!("{i}/{count}")).collect();
    if !missing.is_empty() {
        return Err(AppError::Usage(format!(
            "the lock was not written: share {} is missing (a `lock --shard` job failed or its file was not given)",
            missing.join(", ")
        )));
    }
    Ok(lock)
}

pub async fn run(args: MergeArgs) -> Result<i32, AppError> {
    let mut reports = Vec::new();
    let mut partials = Vec::new();
    let mut names = BTreeSet::new();
    for path in &args.files {
        if !names.insert(path.clone()) {
            continue;
        }
        match read(path)? {
            Input::Report(report) => reports.push((path.display().to_string(), *report)),
            Input::Partial(partial) => partials.push((path.display().to_string(), partial)),
        }
    }
    // Everything is read and checked before anything is written.
    let lock = if partials.is_empty() { None } else { Some(merge_locks(&partials)?) };
    let report = if reports.is_empty() { None } else { Some(merge_reports(&reports)?) };
    if lock.is_none() && args.lock.is_some() {
        return Err(AppError::Usage("--lock names where merged partial locks go, and none was given".to_string()));
    }

    if let Some(lock) = &lock {
        let file = args.lock.clone().unwrap_or_else(|| crate::lock::path_for(None, &crate::policy::repository_root()));
        let text = lock.to_text();
        let unchanged = std::fs::read_to_string(&file).is_ok_and(|old| old == text);
        if unchanged {
            eprintln!("{} is unchanged", file.display());
        } else {
            let old = std::fs::read_to_string(&file).ok().and_then(|t| Lock::parse(&t, "the lock").ok());
            for change in crate::lock::lowered(old.as_ref(), Some(lock)) {
                eprintln!("lowered: {} (a pull request lists this as a loosening)", change.detail);
            }
            crate::output::write_atomic(&file, text.as_bytes())?;
            eprintln!(
                "wrote {} ({} from {}): commit it",
                file.display(),
                crate::report::plural(lock.clusters.len(), "cluster"),
                crate::report::plural(partials.len(), "share")
            );
        }
    }

    let Some(report) = report else { return Ok(0) };
    let timeout = args.timeout.map(std::time::Duration::from_secs_f64).unwrap_or(crate::defaults::TIMEOUT);
    let actions = crate::github::ActionsEnv::from_process();
    let ctx = RenderContext {
        color: args.output.color(),
        policy_path: report.policy.as_ref().and_then(|p| p.path.clone()),
        run_url: actions.run_url(),
        timestamp: time::OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .ok()
            .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok()),
    };
    let format = args.output.format;
    crate::output::emit_report(&crate::report::render(&report, format, &ctx), format, args.output.output.as_deref())?;
    if let Some(path) = &args.sarif {
        let sarif = crate::report::render(&report, Format::Sarif, &RenderContext { color: false, ..ctx.clone() });
        crate::output::write_atomic(path, sarif.as_bytes())?;
    }
    // One deadline for all of the publishing, as in `check`.
    let github = crate::github::comment::RetryPolicy::for_timeout(timeout);
    for note in crate::github::publish(&report, &ctx, format, args.sarif.as_deref(), false, &github).await {
        eprintln!("warning: {}", crate::redact::text(&note.message));
    }
    if args.issue {
        for note in crate::github::issue::publish(&report, ctx.run_url.as_deref(), &github).await {
            eprintln!("{}: {}", note.severity, crate::redact::text(&note.message));
        }
    }
    Ok(report.verdict.exit_code())
}
