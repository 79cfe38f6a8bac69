//! What every diagnosis code and scan rule has: a default [`Severity`] and an [`Explanation`],
//! reached through [`Documented`].

use serde::{Deserialize, Serialize};

/// How much a diagnosis, finding or note weighs. Only `error` fails a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The long-form documentation of one diagnosis code or scan rule.
#[derive(Debug, Clone, Copy)]
pub struct Explanation {
    /// One line: what it means.
    pub title: &'static str,
    /// Why it happens.
    pub cause: &'static str,
    /// How mongo-preflight detects it.
    pub detection: &'static str,
    /// What to do.
    pub remedy: &'static str,
    /// The tempting "fix" that must not be shipped, and why.
    pub avoid: &'static str,
}

/// Implemented by diagnosis codes and scan rules.
pub trait Documented {
    fn id(&self) -> &'static str;
    fn default_severity(&self) -> Severity;
    fn explanation(&self) -> &'static Explanation;
}
