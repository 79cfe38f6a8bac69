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
    let out = match format {
        Format::Text => text::render(report, ctx),
        Format::Json => json::render(report),
        Format::Markdown => markdown::render(report, ctx),
        Format::Sarif => sarif::render(report, ctx),
        Format::Github => github::render(report, ctx),
    };
    // Producers already redact; this is the last line of defence before anything is shown.
    crate::redact::text(&out).into_owned()
}

/// Whether text written to stdout should be coloured: a terminal, and neither `NO_COLOR` nor
/// `CLICOLOR=0` set (`CLICOLOR_FORCE` forces it), as anstream decides.
pub fn stdout_color() -> bool {
    matches!(
        anstream::AutoStream::choice(&std::io::stdout()),
        anstream::ColorChoice::Always | anstream::ColorChoice::AlwaysAnsi
    )
}
