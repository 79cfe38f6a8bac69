use std::path::PathBuf;

use clap::Args;

use crate::error::AppError;
use crate::policy;

/// Write a commented starter mongo-preflight.yml.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
    /// Where to write it (default: mongo-preflight.yml at the repository root, where `check`
    /// looks for it).
    #[arg(long, value_name = "FILE")]
    pub path: Option<PathBuf>,
}

pub fn run(args: InitArgs) -> Result<i32, AppError> {
    let path = args.path.unwrap_or_else(|| policy::repository_root().join(policy::DEFAULT_FILE_NAME));
    if path.exists() && !args.force {
        return Err(AppError::Usage(format!(
            "{} already exists; not overwriting it (use --force to replace it)",
            path.display()
        )));
    }
    crate::output::write_atomic(&path, policy::STARTER.as_bytes())?;
    eprintln!("wrote {}: list your clusters under `clusters:`, then run `mongo-preflight check`", path.display());
    Ok(0)
}
