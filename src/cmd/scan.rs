use crate::cli::ScanArgs;
use std::io::IsTerminal;

use crate::error::AppError;
use crate::model::RunReport;
use crate::report::{RenderContext, render};
use crate::scan::{ScanOptions, run as scan_tree};

pub async fn run(args: ScanArgs) -> Result<i32, AppError> {
    let root = std::env::current_dir().map_err(|e| AppError::io("cannot read the current directory", e))?;
    let options = ScanOptions { root, paths: args.paths, exclude: args.exclude, base: args.base, ..Default::default() };
    // The walk is CPU- and file-bound and runs its own threads; keep it off the async workers.
    let outcome = tokio::task::spawn_blocking(move || scan_tree(&options))
        .await
        .map_err(|e| AppError::Other(format!("the scan stopped unexpectedly: {e}")))??;
    let mut findings = outcome.findings;
    let mut notes = outcome.notes;
    // No policy here, but the same pass decides what an existing finding weighs.
    let no_policy = crate::policy::Policy::default();
    notes.extend(crate::policy::apply(&no_policy, &mut [], &mut findings, crate::policy::today_utc()).notes);
    let report = RunReport::new(Vec::new(), findings, notes);
    let color =
        args.output.output.is_none() && std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let rendered = render(&report, args.output.format, &RenderContext { color, ..Default::default() });
    crate::output::emit_report(&rendered, args.output.format, args.output.output.as_deref())?;
    Ok(report.verdict.exit_code())
}
