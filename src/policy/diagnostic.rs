//! Policy errors that point into the file: `FILE:LINE:COLUMN: message`, the offending line, a
//! caret under the column, and a "did you mean" for near misses.

use serde_saphyr::Location;

use crate::error::AppError;

/// The policy text and the name it is shown under.
#[derive(Debug, Clone)]
pub struct Source<'a> {
    pub name: &'a str,
    pub text: &'a str,
}

impl Source<'_> {
    /// An error at `location` (1-based line and column; unknown locations point at the file).
    pub fn error_at(&self, location: Location, message: impl std::fmt::Display) -> AppError {
        self.error_at_line_col(location.line(), location.column(), message)
    }

    pub fn error_at_line_col(&self, line: u64, column: u64, message: impl std::fmt::Display) -> AppError {
        if line == 0 {
            return AppError::Policy(crate::redact::text(&format!("{}: {message}", self.name)).into_owned());
        }
        let column = column.max(1);
        let mut out = format!("{}:{line}:{column}: {message}", self.name);
        if let Some(text) = usize::try_from(line - 1).ok().and_then(|i| self.text.lines().nth(i)) {
            let gutter = line.to_string().len();
            let caret_pad: String = text
                .chars()
                .take(usize::try_from(column - 1).unwrap_or(0))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            out.push_str(&format!("\n{:gutter$} |\n{line} | {text}\n{:gutter$} | {caret_pad}^", "", ""));
        }
        // A literal URI in the file may carry credentials: they never reach the terminal.
        AppError::Policy(crate::redact::text(&out).into_owned())
    }
}

/// ` (did you mean `x`?)` for the closest candidate, or nothing when none is close.
pub fn did_you_mean<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(input, candidates).map(|c| format!("; did you mean `{c}`?")).unwrap_or_default()
}

pub fn closest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let input = input.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&input, &c.to_ascii_lowercase()), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// Turns a YAML or schema error into a located policy error.
pub fn from_yaml(source: &Source<'_>, err: &serde_saphyr::Error) -> AppError {
    use serde_saphyr::{Error, MessageFormatter};
    let mut inner = err.without_snippet();
    // Errors met through an alias carry the original inside.
    while let Error::AliasError { error, .. } | Error::WithSnippet { error, .. } = inner {
        inner = error;
    }
    let location = err.location().unwrap_or(serde_saphyr::Location::UNKNOWN);
    let message = match inner {
        Error::SerdeUnknownField { field, expected, .. } => format!(
            "unknown key `{field}`{} (expected one of {})",
            did_you_mean(field, expected.iter().copied()),
            quote_all(expected)
        ),
        Error::SerdeUnknownVariant { variant, expected, .. } => format!(
            "unknown value `{variant}`{} (expected one of {})",
            did_you_mean(variant, expected.iter().copied()),
            quote_all(expected)
        ),
        Error::SerdeMissingField { field, .. } => format!("missing required key `{field}`"),
        Error::Unexpected { expected: "mapping start", .. } => {
            "expected a mapping of `key: value` lines here".to_string()
        }
        Error::Unexpected { expected: "sequence start", .. } => {
            "expected a list here: `- item` lines, or `[a, b]`".to_string()
        }
        Error::DuplicateMappingKey { key: Some(key), .. } => format!("duplicate key `{key}`"),
        Error::DuplicateMappingKey { key: None, .. } => "duplicate key".to_string(),
        other => serde_saphyr::DefaultMessageFormatter.format_message(other).into_owned(),
    };
    source.error_at(location, message)
}

pub fn quote_all(items: &[&str]) -> String {
    items.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ")
}
