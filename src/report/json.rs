//! The JSON format (docs/formats.md, schema_version 1): the result model as it is.

use crate::model::RunReport;

pub fn render(report: &RunReport) -> String {
    let mut out = serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    out.push('\n');
    out
}
