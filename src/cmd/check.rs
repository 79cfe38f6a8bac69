use std::path::PathBuf;

use clap::Args;

use crate::cli::{NetworkArgs, OutputArgs};
use crate::diagnose::Thresholds;
use crate::error::AppError;
use crate::model::{PolicyReport, RunReport};
use crate::plan::CheckPlan;
use crate::policy;
use crate::report::{Format, RenderContext};

/// The CI gate: read the policy, run scan and probe, report, exit by the verdict.
///
/// Without a policy file, scans the repository and probes `$MONGODB_URI` when it is set.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The policy file (default: mongo-preflight.yml at the repository root).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Also write a SARIF 2.1.0 report to FILE (for code scanning), whatever `--format` is.
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
    /// In a pull request, create or update one comment with the report.
    #[arg(long)]
    pub comment: bool,
    /// Outside pull requests: only findings that REF lacks fail (default: the policy's
    /// `scan.base`). In a pull request or merge queue the merge base with the event's base
    /// commit is used instead.
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
    #[command(flatten)]
    pub network: NetworkArgs,
}

pub async fn run(args: CheckArgs) -> Result<i32, AppError> {
    let plan = CheckPlan::build(args).await?;
    let mut notes = plan.notes.clone();

    let progress = crate::output::Spinner::start(format!(
        "scanning the repository and probing {}…",
        crate::report::plural(plan.probe.targets.len(), "cluster")
    ));
    let scan_options = plan.scan.clone();
    let scan_task = tokio::task::spawn_blocking(move || crate::scan::run(&scan_options));
    let (probed, scanned) = tokio::join!(crate::probe::probe_all(plan.probe.targets.clone()), scan_task);
    progress.finish();
    let mut clusters: Vec<_> = probed?
        .iter()
        .zip(&plan.probe.targets)
        .map(|(observed, target)| crate::diagnose::cluster(observed, &Thresholds::of(&target.settings)))
        .collect();
    let scan = scanned.map_err(|e| AppError::Other(format!("the scanner stopped unexpectedly: {e}")))??;

    let mut findings = scan.findings;
    notes.extend(scan.notes);
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
    for note in crate::github::publish(&report, ctx, format, out.sarif.as_deref(), out.comment, out.timeout).await {
        eprintln!("warning: {}", crate::redact::text(&note.message));
    }
    Ok(report.verdict.exit_code())
}
