//! The JSON format (docs/formats.md, schema_version 1): the result model as it is, its strings
//! redacted before serialization (`escape::json_document`).

use crate::model::RunReport;

pub fn render(report: &RunReport) -> String {
    match serde_json::to_value(report) {
        Ok(value) => super::escape::json_document(value),
        Err(e) => super::escape::json_document(serde_json::json!({ "error": e.to_string() })),
    }
}
