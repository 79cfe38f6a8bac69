use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;

use crate::cli::OutputArgs;
use crate::error::AppError;
use crate::model::RunReport;
use crate::report::{RenderContext, render};
use crate::scan::{ScanOptions, run as scan_tree};

/// Scan files for insecure TLS fallbacks in MongoDB client settings.
#[derive(Debug, Args)]
#[command(after_help = "Exit codes: 0 no new finding, 1 a new finding (or any finding without --base), 2 bad \
arguments or an unknown --base ref.\nExamples:\n  mongo-preflight scan\n  mongo-preflight scan --base origin/main \
--format github\n  mongo-preflight scan src config/.env")]
pub struct ScanArgs {
    #[command(flatten)]
    pub output: OutputArgs,
    /// Only findings that REF lacks fail; those already present at REF are kept as warnings.
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
    /// Glob of paths to leave out, relative to the current directory (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// The contract's common network options, accepted so that one set of flags works for
    /// every command; the scan itself makes no network calls.
    #[command(flatten)]
    pub network: IgnoredNetworkArgs,
    /// Files or directories to scan (default: the current directory).
    pub paths: Vec<PathBuf>,
}

/// `--timeout`, `--ca-file`, `--dns-server` and `--system-roots` on a command that does not use them.
#[derive(Debug, Args)]
pub struct IgnoredNetworkArgs {
    #[arg(long, value_name = "SECONDS", hide = true)]
    pub timeout: Option<f64>,
    #[arg(long, value_name = "PEM", hide = true)]
    pub ca_file: Option<PathBuf>,
    #[arg(long, value_name = "IP:PORT", hide = true)]
    pub dns_server: Option<String>,
    #[arg(long, hide = true)]
    pub system_roots: bool,
}

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
