use crate::cli::CheckArgs;

use crate::diagnose::Thresholds;
use crate::error::AppError;
use crate::model::{PolicyReport, RunReport};
use crate::plan::CheckPlan;
use crate::policy;
use crate::report::{Format, RenderContext};

pub async fn run(args: CheckArgs) -> Result<i32, AppError> {
    if args.issue && args.shard.is_some_and(|s| !s.is_all()) {
        return Err(AppError::Usage(
            "--issue needs every cluster's result: run it on `mongo-preflight merge` of the shards' reports, not on one share"
                .to_string(),
        ));
    }
    let plan = CheckPlan::build(args).await?;
    let mut notes = plan.notes.clone();
    // The listed clusters and the organization's discovered ones, this job's share of them.
    let org = super::organization::clusters(&plan.probe.targets, plan.organization.as_ref(), plan.shard).await;
    notes.extend(org.notes.iter().cloned());
    let targets = org.targets.clone();
    // The repository is scanned once: in the first share.
    let first_share = plan.shard.index == 1;

    let progress = crate::output::Spinner::start(format!(
        "scanning the repository and probing {}…",
        crate::report::plural(targets.len(), "cluster")
    ));
    let scan_options = plan.scan.clone();
    let scan_task = tokio::task::spawn_blocking(move || {
        if first_share { crate::scan::run(&scan_options) } else { Ok(crate::scan::ScanOutcome::default()) }
    });
    // Temporary Atlas access comes before the probe; its removal after everything that could
    // fail, so that no way out of this function leaves the entry behind.
    let atlas = match &plan.atlas {
        Some(atlas) => Some(crate::cmd::atlas::Session::start(atlas).await),
        None => None,
    };
    let (probed, scanned) = tokio::join!(crate::probe::probe_all(targets.clone()), scan_task);
    progress.finish();
    let mut clusters: Vec<_> = match &probed {
        Ok(observed) => observed
            .iter()
            .zip(&targets)
            .map(|(observed, target)| crate::diagnose::cluster(observed, &Thresholds::of(&target.settings)))
            .collect(),
        Err(_) => Vec::new(),
    };
    if let (Some(lock), Ok(observed)) = (&plan.lock, &probed) {
        for (cluster, observed) in clusters.iter_mut().zip(observed) {
            let compared = crate::diagnose::regression::compare(observed, &lock.lock, &lock.path);
            cluster.diagnoses.extend(compared.diagnoses);
            notes.extend(compared.notes);
        }
        notes.extend(org.gone(lock.lock.clusters.keys(), &lock.path, plan.shard));
    }
    if let Some(mut atlas) = atlas {
        if probed.is_ok() {
            atlas.confirm(&mut clusters, &targets).await;
        }
        notes.extend(atlas.finish().await);
    }
    probed?;
    clusters.extend(org.reports);
    let scan = scanned.map_err(|e| AppError::Other(format!("the scanner stopped unexpectedly: {e}")))??;

    let mut findings = scan.findings;
    notes.extend(scan.notes);
    if first_share {
        let (ca_files, ca_notes) = super::ca_files::judge(&plan.scan.root, plan.output.timeout).await;
        clusters.extend(ca_files);
        notes.extend(ca_notes);
    }
    let judged = policy::apply(&plan.judging.policy, &mut clusters, &mut findings, plan.today);
    notes.extend(judged.notes);
    let report = RunReport::new(clusters, findings, notes).with_policy(PolicyReport {
        path: plan.judging.path.clone(),
        source: plan.judging.source,
        changes: plan.judging.changes.clone(),
        waivers: judged.waivers,
    });

    let out = &plan.output;
    let ctx = &out.render;
    let format = out.format;
    crate::output::emit_report(&crate::report::render(&report, format, ctx), format, out.output.as_deref())?;
    if let Some(path) = &out.sarif {
        let sarif = crate::report::render(&report, Format::Sarif, &RenderContext { color: false, ..ctx.clone() });
        crate::output::write_atomic(path, sarif.as_bytes())?;
    }
    // One deadline, about twice `--timeout`, for everything sent to GitHub: comment and issues.
    let github = crate::github::comment::RetryPolicy::for_timeout(out.timeout);
    for note in crate::github::publish(&report, ctx, format, out.sarif.as_deref(), out.comment, &github).await {
        eprintln!("warning: {}", crate::redact::text(&note.message));
    }
    if out.issue {
        for note in crate::github::issue::publish(&report, ctx.run_url.as_deref(), &github).await {
            eprintln!("{}: {}", note.severity, crate::redact::text(&note.message));
        }
    }
    Ok(report.verdict.exit_code())
}
