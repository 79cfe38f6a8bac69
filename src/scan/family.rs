//! What the scanner's core and each language family share: the option [`Spec`]s a family
//! contributes, the [`FileCtx`] its rules read, the [`Hit`]s they return, and [`Family`], the one
//! value each language file exports (`families.rs` lists them all).

use crate::catalog::rules::Rule;

use super::lang::Lang;
use super::strip::Syntax;

/// Which literal makes an option insecure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insecure {
    WhenTrue,
    WhenFalse,
    /// PyMongo 3's `ssl_cert_reqs`: `CERT_NONE` in any spelling, or `0`.
    WhenCertNone,
}

/// How specific a name is to MongoDB, and so what else must hold before it counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reach {
    /// Only MongoDB uses this name: it counts anywhere.
    Anywhere,
    /// A generic name: it counts in a file that mentions MongoDB, or when its identifier does
    /// (`MONGODB_TLS_INSECURE`).
    MongoFile,
    /// A name many TLS clients share: it counts only when the setting is handed to a MongoDB
    /// client (inside a MongoDB connection string, a MongoDB client call, or an options object
    /// passed to one).
    HandedToMongo,
    /// A .NET configuration key (`AllowInsecureTls`) that other .NET clients share once it leaves
    /// C#: in YAML an enclosing key must name MongoDB (`mongodb:` → `AllowInsecureTls: true`); in
    /// flat formats (dotenv, shell, HCL) only the name's own prefix can (`MongoDB__AllowInsecureTls`);
    /// in code, JSON and XML it counts in a file that mentions MongoDB.
    MongoSection,
    /// This spelling is not this spec's: another spec with the same words owns it
    /// (`sslVerifyCertificate` is .NET's, `ssl_verify_certificate` Ruby's).
    Never,
}

/// One option name and what makes it insecure.
#[derive(Debug)]
pub struct Spec {
    /// The name's words; matched with an optional `_` or `-` between them.
    pub words: &'static [&'static str],
    pub rule: Rule,
    pub insecure: Insecure,
    /// Reach when spelled without separators, as the drivers spell their options.
    pub reach: Reach,
    /// Reach when spelled with `_`/`-` (snake_case, kebab-case, environment variables).
    pub separated_reach: Reach,
    /// Languages where the name has this meaning; empty means all.
    pub langs: &'static [Lang],
}

/// One insecure setting at a byte offset of the scanned text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub rule: Rule,
    pub offset: usize,
    pub message: String,
}

/// What the rules know about one file.
pub struct FileCtx<'a> {
    pub lang: Lang,
    /// The text with comments blanked (and entities or escapes undone).
    pub text: &'a str,
    /// The path or the content mentions MongoDB.
    pub mongo: bool,
    pub uris: Vec<UriSpan>,
}

impl FileCtx<'_> {
    pub fn in_mongo_uri(&self, offset: usize) -> bool {
        self.uris.iter().any(|u| u.start <= offset && offset < u.end)
    }

    pub fn bytes(&self) -> &[u8] {
        self.text.as_bytes()
    }
}

/// Where a MongoDB connection string sits in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriSpan {
    pub start: usize,
    pub end: usize,
    /// 0-based line of `start`.
    pub line: usize,
    /// The first host that is not local, when every host is a literal.
    pub remote_host: Option<String>,
    /// Code between the literals of a concatenated string (`" + quote(p) + "`): not its text.
    pub gaps: Vec<(usize, usize)>,
}

/// One language family or file format: how to recognise its files, strip their comments, which
/// option names it adds, its own rules beyond the shared option matcher, and the safe
/// alternative it suggests for each rule. Adding a language is one such value and one line in
/// `families.rs`.
pub struct Family {
    /// The family's name next to its safe alternatives in `explain` and the docs; `None` when
    /// another family already shows the same alternatives (the configuration formats share
    /// theirs).
    pub title: Option<&'static str>,
    pub lang: Lang,
    /// Lowercase file-name extensions, without the dot.
    pub extensions: &'static [&'static str],
    pub syntax: &'static Syntax,
    /// Option names this family adds to the shared matcher.
    pub specs: &'static [Spec],
    /// Rules of its own that the option matcher cannot express.
    pub scan: Option<fn(&FileCtx<'_>, &mut Vec<Hit>)>,
    pub safe_alternative: fn(Rule) -> Option<&'static str>,
}
