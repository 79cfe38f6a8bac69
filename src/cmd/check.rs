use clap::Args;

use crate::error::AppError;

/// The CI gate: read the policy, run scan and probe, report, exit by the verdict.
#[derive(Debug, Args)]
pub struct CheckArgs {}

pub async fn run(_args: CheckArgs) -> Result<i32, AppError> {
    Err(AppError::Usage("`check` is not implemented yet".to_string()))
}
