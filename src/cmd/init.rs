use clap::Args;

use crate::error::AppError;

/// Write a commented starter mongo-preflight.yml.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

pub fn run(_args: InitArgs) -> Result<i32, AppError> {
    Err(AppError::Usage("`init` is not implemented yet".to_string()))
}
