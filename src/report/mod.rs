//! Renderers: one file per format. They only render a [`RunReport`]; nothing here decides.

pub mod escape;
pub mod github;
pub mod json;
pub mod markdown;
pub mod sarif;
pub mod text;
mod view;

use crate::model::RunReport;

pub use view::{RenderContext, plural, verdict_causes};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
    Sarif,
    Github,
}

pub fn render(report: &RunReport, format: Format, ctx: &RenderContext) -> String {
    match format {
        // Documents: every string redacted before serialization, never the text after it.
        Format::Json => json::render(report),
        Format::Sarif => sarif::render(report, ctx),
        Format::Text => line_safety_net(text::render(report, ctx)),
        Format::Markdown => line_safety_net(markdown::render(report, ctx)),
        Format::Github => line_safety_net(github::render(report, ctx)),
    }
}

/// The text formats redact each string they print; this is the last line of defence should a
/// producer have missed one. It works line by line and can only hide more of a line, which a
/// person reads the same and no program parses.
fn line_safety_net(out: String) -> String {
    match crate::redact::text(&out) {
        std::borrow::Cow::Borrowed(_) => out,
        std::borrow::Cow::Owned(hidden) => {
            tracing::debug!("a secret reached a rendered report unredacted; hidden by the last pass");
            hidden
        }
    }
}

/// Whether text written to stdout should be coloured: a terminal, and neither `NO_COLOR` nor
/// `CLICOLOR=0` set (`CLICOLOR_FORCE` forces it), as anstream decides.
pub fn stdout_color() -> bool {
    matches!(
        anstream::AutoStream::choice(&std::io::stdout()),
        anstream::ColorChoice::Always | anstream::ColorChoice::AlwaysAnsi
    )
}
