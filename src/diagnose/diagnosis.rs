//! Building a diagnosis from a code: the code's default severity and, unless the case has
//! better words, the remedy the catalogue gives it.

use crate::catalog::Documented;
use crate::catalog::codes::DiagnosisCode;
use crate::model::Diagnosis;

pub(crate) trait Diagnose: Sized {
    /// A diagnosis with the words of this case.
    fn diagnose(self, summary: impl Into<String>, evidence: impl Into<String>, remedy: impl Into<String>) -> Diagnosis;

    /// A diagnosis whose remedy is the catalogue's for this code.
    fn diagnosed(self, summary: impl Into<String>, evidence: impl Into<String>) -> Diagnosis {
        let remedy = self.remedy();
        self.diagnose(summary, evidence, remedy)
    }

    /// The catalogue's remedy for this code, for a case that adds to it.
    fn remedy(&self) -> String;
}

impl Diagnose for DiagnosisCode {
    fn diagnose(self, summary: impl Into<String>, evidence: impl Into<String>, remedy: impl Into<String>) -> Diagnosis {
        Diagnosis {
            code: self,
            severity: self.default_severity(),
            summary: summary.into(),
            evidence: evidence.into(),
            remedy: remedy.into(),
            waived: false,
        }
    }

    fn remedy(&self) -> String {
        self.explanation().remedy.to_string()
    }
}
