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
    /// Where to write it.
    #[arg(long, value_name = "FILE", default_value = policy::DEFAULT_FILE_NAME)]
    pub path: PathBuf,
}

pub fn run(args: InitArgs) -> Result<i32, AppError> {
    if args.path.exists() && !args.force {
        return Err(AppError::Usage(format!(
            "{} already exists; not overwriting it (use --force to replace it)",
            args.path.display()
        )));
    }
    crate::output::write_atomic(&args.path, policy::STARTER.as_bytes())?;
    eprintln!("wrote {}: list your clusters under `clusters:`, then run `mongo-preflight check`", args.path.display());
    Ok(0)
}
