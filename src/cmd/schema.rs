use crate::cli::SchemaArgs;

use crate::error::AppError;

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
