//! Renderers: one file per format. They only render a [`RunReport`]; nothing here decides.

use crate::model::RunReport;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
    Sarif,
    Github,
}

/// What a renderer may need besides the report itself.
#[derive(Debug, Clone, Default)]
pub struct RenderContext {
    /// Colour for the text format (a TTY without `NO_COLOR`).
    pub color: bool,
    /// The policy file, relative to the repository root, for locating cluster diagnoses.
    pub policy_path: Option<String>,
    /// A link to the CI run, for the markdown footer.
    pub run_url: Option<String>,
    /// Markdown only: keep the body under this many characters by truncating detail
    /// (PR comments are limited to 65,536).
    pub max_chars: Option<usize>,
}

pub fn render(report: &RunReport, _format: Format, _ctx: &RenderContext) -> String {
    // Placeholder until the renderers land: every format gets the JSON contract.
    serde_json::to_string_pretty(report).unwrap_or_default()
}
