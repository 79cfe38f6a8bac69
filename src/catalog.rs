//! What every diagnosis code and scan rule shares: an id and the text that explains it.
//!
//! `explain`, SARIF rule metadata and the generated docs all read from implementations of
//! [`Documented`], so an explanation lives in exactly one place, next to its definition.

use crate::model::Severity;

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

/// Which catalogue an id belongs to.
#[derive(Debug, Clone, Copy)]
pub enum Entry {
    Code(crate::diagnose::codes::DiagnosisCode),
    Rule(crate::scan::rules::Rule),
}

impl Entry {
    pub fn documented(&self) -> &dyn Documented {
        match self {
            Entry::Code(c) => c,
            Entry::Rule(r) => r,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Entry::Code(_) => "diagnosis code",
            Entry::Rule(_) => "scan rule",
        }
    }
}

/// Looks an id up among all diagnosis codes and scan rules.
pub fn lookup(id: &str) -> Option<Entry> {
    let id = id.trim().to_ascii_lowercase();
    crate::diagnose::codes::DiagnosisCode::ALL
        .iter()
        .find(|c| c.id() == id)
        .map(|c| Entry::Code(*c))
        .or_else(|| crate::scan::rules::Rule::ALL.iter().find(|r| r.id() == id).map(|r| Entry::Rule(*r)))
}

/// Every id, codes first, for "did you mean" lists and docs.
pub fn all_ids() -> Vec<&'static str> {
    crate::diagnose::codes::DiagnosisCode::ALL
        .iter()
        .map(|c| c.id())
        .chain(crate::scan::rules::Rule::ALL.iter().map(|r| r.id()))
        .collect()
}
