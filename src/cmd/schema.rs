use clap::Args;

use crate::error::AppError;

/// Print the policy's JSON Schema.
#[derive(Debug, Args)]
pub struct SchemaArgs {}

pub fn run(_args: SchemaArgs) -> Result<i32, AppError> {
    Err(AppError::Usage("`schema` is not implemented yet".to_string()))
}
