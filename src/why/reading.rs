//! What `why` read in a text: its failures, the causes they point at, what they rule out, and
//! the hosts and connection string the probe needs. Plain data; `render.rs` shows it.

use serde::Serialize;

use crate::catalog::Likelihood;
use crate::catalog::codes::DiagnosisCode;
use crate::uri::ConnectionString;

/// A candidate cause: a diagnosis code and the words of the text that point at it.
#[derive(Debug, Clone, Serialize)]
pub struct Cause {
    pub code: DiagnosisCode,
    pub likelihood: Likelihood,
    /// The words, quoted, each with who prints them.
    pub why: String,
}

/// One failure recognised in the text.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    /// The client whose format it is, when its words show it.
    pub driver: Option<&'static str>,
    /// The line that carries the failure, cut to size, connection strings redacted.
    pub excerpt: String,
    pub hosts: Vec<String>,
    pub causes: Vec<Cause>,
    /// The stage of the connection the failure's words place it at, when they agree.
    #[serde(skip)]
    pub stage: Option<crate::catalog::Stage>,
}

/// Codes the text rules out, and why.
#[derive(Debug, Clone, Serialize)]
pub struct RuledOut {
    pub codes: Vec<DiagnosisCode>,
    pub why: &'static str,
}

#[derive(Debug, Clone, Default)]
pub struct Reading {
    /// Most likely first.
    pub causes: Vec<Cause>,
    pub hosts: Vec<String>,
    /// The SRV name when the text names one (`_mongodb._tcp.NAME`).
    pub srv: Option<String>,
    /// A connection string of the text, without its credentials.
    pub uri: Option<ConnectionString>,
    /// Whether the text shows TLS in use (a TLS or certificate word, `ssl`/`tls`, an Atlas host).
    pub tls: bool,
    pub rules_out: Vec<RuledOut>,
    pub errors: Vec<Failure>,
}

impl Reading {
    /// Whether some cause is marked likely.
    pub fn decided(&self) -> bool {
        self.causes.iter().any(|c| c.likelihood == Likelihood::Likely)
    }
}
