//! Every diagnosis code and scan rule, and what they share: an id, a default severity and the
//! text that explains it. A leaf: it depends on no other module of the crate, so the model,
//! the probe, the scanner and the reports can all name codes and rules.
//!
//! `explain`, SARIF rule metadata and the generated docs all read from implementations of
//! [`Documented`], so an explanation lives in exactly one place, next to its definition.

pub mod codes;
mod documented;
pub mod rules;

pub use documented::{Documented, Explanation, Likelihood, Seen, Severity, Stage};

/// Which catalogue an id belongs to.
#[derive(Debug, Clone, Copy)]
pub enum Entry {
    Code(codes::DiagnosisCode),
    Rule(rules::Rule),
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
    codes::DiagnosisCode::ALL
        .iter()
        .find(|c| c.id() == id)
        .map(|c| Entry::Code(*c))
        .or_else(|| rules::Rule::ALL.iter().find(|r| r.id() == id).map(|r| Entry::Rule(*r)))
}

/// Every id, codes first, for "did you mean" lists and docs.
pub fn all_ids() -> Vec<&'static str> {
    codes::DiagnosisCode::ALL.iter().map(|c| c.id()).chain(rules::Rule::ALL.iter().map(|r| r.id())).collect()
}
