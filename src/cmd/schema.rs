use clap::Args;

use crate::error::AppError;

/// Print the policy's JSON Schema (for editors: see docs/policy.md).
#[derive(Debug, Args)]
pub struct SchemaArgs {}

pub fn run(_args: SchemaArgs) -> Result<i32, AppError> {
    crate::output::emit(&render(), None)?;
    Ok(0)
}

/// The schema as printed; docs/mongo-preflight.schema.json is this text.
pub fn render() -> String {
    let mut out = serde_json::to_string_pretty(&crate::policy::json_schema()).unwrap_or_default();
    out.push('\n');
    out
}
