use std::path::PathBuf;

use clap::Args;

use crate::cli::OutputArgs;
use crate::error::AppError;

/// Scan files for insecure TLS fallbacks in MongoDB client settings.
#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub output: OutputArgs,
    /// Only findings that REF lacks fail; those already present at REF are kept as warnings.
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
    /// Files or directories to scan (default: the current directory).
    pub paths: Vec<PathBuf>,
}

pub async fn run(_args: ScanArgs) -> Result<i32, AppError> {
    Err(AppError::Usage("`scan` is not implemented yet".to_string()))
}
