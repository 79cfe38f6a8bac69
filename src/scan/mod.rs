//! The scanner: finds insecure TLS fallbacks in code and config.
//!
//! Per file: one aho-corasick search ([`prefilter`]) rejects nearly everything; the rest is
//! stripped of comments ([`strip`]), decoded where the format escapes ([`config`]), and given
//! to the shared option matcher ([`engine`]), the connection-string rules ([`uri`]) and each
//! language family's own rules. `--base` then marks what REF already had ([`baseline`]).

pub mod baseline;
pub mod c_cpp;
pub mod ca_files;
pub mod config;
pub mod decode;
pub mod dotnet;
pub mod engine;
mod git;
pub mod go;
pub mod ignore_files;
pub mod javascript;
pub mod jvm;
pub mod lang;
pub mod php;
pub mod prefilter;
pub mod python;
pub mod ruby;
pub use crate::catalog::rules;
pub mod rust_lang;
pub mod shell;
pub mod strip;
pub mod uri;
pub mod walk;

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::catalog::Documented;
use crate::error::AppError;
use crate::model::{Finding, Note, Severity};
use engine::{FileCtx, Hit};
use lang::Lang;
use rules::Rule;

pub use decode::decode;
pub use ignore_files::{IgnoreFile, IgnoreFiles, ignore_entries};

/// What to scan.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// Repository root: finding paths are relative to it, and `base` is read from its git.
    pub root: PathBuf,
    /// Files or directories to scan, relative to `root` or absolute; empty means `root`.
    pub paths: Vec<PathBuf>,
    /// Glob patterns (relative to `root`) to leave out: `*` stays within one directory, `**`
    /// crosses directories, and a pattern matching a directory leaves out all below it.
    pub exclude: Vec<String>,
    /// Where `.mongo-preflight-ignore` files come from; in a pull request, pass the base
    /// commit's so that the change cannot hide its own lines.
    pub ignore_files: IgnoreFiles,
    /// A git ref: findings already present there are kept with `new: false` as warnings.
    pub base: Option<String>,
    /// Files over twice this many bytes are scanned as a stream of overlapping windows of this
    /// size instead of being read whole; default 8 MiB. Small values are for tests.
    pub stream_window: Option<usize>,
    /// Worker threads; default: one per core.
    pub threads: Option<usize>,
}

#[derive(Debug, Clone, Default)]
pub struct ScanOutcome {
    pub findings: Vec<Finding>,
    /// What could not be scanned (unreadable paths, symlinks not followed).
    pub notes: Vec<Note>,
    pub files_scanned: usize,
}

/// Scans the tree. An unknown `base` ref or unreadable path is an error (exit 2).
pub fn run(options: &ScanOptions) -> Result<ScanOutcome, AppError> {
    // Resolve the base first: a typo in REF should fail before a long walk.
    let base = options.base.as_deref().map(|rev| baseline::Baseline::open(&options.root, rev)).transpose()?;
    let walked = walk::walk(options)?;

    let mut findings: Vec<Finding> = walked
        .hits
        .into_iter()
        .map(|(path, hit)| Finding {
            rule: hit.rule.id().to_string(),
            severity: hit.rule.default_severity(),
            path,
            line: hit.line,
            column: hit.column,
            snippet: hit.snippet,
            new: true,
            waived: false,
            fingerprint: hit.fingerprint,
            message: hit.message,
        })
        .collect();
    findings.sort_by(|a, b| (&a.path, a.line, a.column, &a.rule).cmp(&(&b.path, b.line, b.column, &b.rule)));
    findings.dedup_by(|a, b| a.path == b.path && a.line == b.line && a.column == b.column && a.rule == b.rule);

    if let Some(base) = &base {
        let mut paths: Vec<String> = findings.iter().map(|f| f.path.clone()).collect();
        paths.dedup();
        let mut at_base = base.fingerprints(&paths)?;
        for finding in &mut findings {
            if let Some(count) = at_base.get_mut(&finding.fingerprint)
                && *count > 0
            {
                *count -= 1;
                // Only marked here: the policy pass decides what an existing finding weighs.
                finding.new = false;
            }
        }
    }

    Ok(ScanOutcome { findings, notes: skip_notes(&walked.skipped), files_scanned: walked.files_scanned })
}

/// One note per kind of skip, with a few examples.
fn skip_notes(skipped: &[(walk::SkipReason, String)]) -> Vec<Note> {
    let mut by_reason: BTreeMap<walk::SkipReason, Vec<&str>> = BTreeMap::new();
    for (reason, path) in skipped {
        by_reason.entry(*reason).or_default().push(path);
    }
    by_reason
        .into_iter()
        .map(|(reason, mut paths)| {
            paths.sort_unstable();
            paths.dedup();
            let n = paths.len();
            let what = match (reason, n) {
                (walk::SkipReason::Unreadable, 1) => "scan skipped 1 unreadable path".to_string(),
                (walk::SkipReason::Unreadable, _) => format!("scan skipped {n} unreadable paths"),
                (walk::SkipReason::SymlinkNotFollowed, 1) => {
                    "scan did not follow 1 symlink (its target is missing or outside the repository)".to_string()
                }
                (walk::SkipReason::SymlinkNotFollowed, _) => {
                    format!("scan did not follow {n} symlinks (their targets are missing or outside the repository)")
                }
            };
            let examples: Vec<String> = paths.iter().take(3).map(|p| format!("`{}`", uri::redact(p))).collect();
            let more = if n > 3 { format!(", and {} more", n - 3) } else { String::new() };
            Note { severity: Severity::Info, message: format!("{what}: {}{more}", examples.join(", ")) }
        })
        .collect()
}

/// One finding in one file, before it gets its path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub rule: Rule,
    pub line: u32,
    pub column: u32,
    pub snippet: String,
    pub message: String,
    pub fingerprint: String,
}

/// Scans one file's text; `path` (relative, `/`-separated) decides its language.
pub fn scan_text(path: &str, text: &str) -> Vec<Located> {
    let sighting = prefilter::sight(text.as_bytes());
    if !sighting.any() && !path.to_ascii_lowercase().contains("mongo") {
        return Vec::new();
    }
    scan_sighted(path, text, sighting)
}

/// Rule and line of every hit in one file's text: what the per-language unit tests compare.
#[cfg(test)]
pub(crate) fn rule_lines(path: &str, text: &str) -> Vec<(Rule, u32)> {
    scan_text(path, text).into_iter().map(|h| (h.rule, h.line)).collect()
}

/// [`scan_text`] after the prefilter has looked at the file.
pub fn scan_sighted(path: &str, text: &str, sighting: prefilter::Sighting) -> Vec<Located> {
    let lang = Lang::detect(path);
    if lang == Lang::Docs {
        return Vec::new();
    }
    let mut stripped = strip::strip(text, lang.syntax());
    // Text that talks about options without setting them: schema descriptions and help texts,
    // and the server's own log lines.
    config::blank_prose(&mut stripped, lang);
    config::blank_server_log(&mut stripped);
    let decoded = match lang {
        Lang::Xml => Some(config::decode_xml(&stripped)),
        Lang::Properties => Some(config::decode_properties(&stripped)),
        _ => None,
    };
    let scanned: &str = decoded.as_ref().map(|d| d.text.as_str()).unwrap_or(&stripped);
    let ctx = FileCtx {
        lang,
        text: scanned,
        // Judged on the stripped text: a comment that mentions MongoDB does not make a
        // generic name in the code below it MongoDB's.
        mongo: path.to_ascii_lowercase().contains("mongo")
            || sighting.mongo && prefilter::sight(scanned.as_bytes()).mongo,
        uris: uri::find_uris(scanned),
    };
    let mut hits: Vec<Hit> = Vec::new();
    engine::scan_options(&ctx, &mut hits);
    uri::scan_tls_disabled(&ctx, &mut hits);
    match lang {
        Lang::Go => go::scan(&ctx, &mut hits),
        Lang::Jvm => jvm::scan(&ctx, &mut hits),
        Lang::DotNet => dotnet::scan(&ctx, &mut hits),
        Lang::JavaScript => javascript::scan(&ctx, &mut hits),
        _ => {}
    }
    if hits.is_empty() {
        return Vec::new();
    }
    let lines = LineIndex::new(text);
    let mut located: Vec<Located> = hits
        .into_iter()
        .map(|hit| {
            let offset = decoded.as_ref().and_then(|d| d.origin.get(hit.offset).copied()).unwrap_or(hit.offset);
            let (line, column, line_text) = lines.locate(text, offset);
            let normalized: String = uri::redact(line_text).chars().filter(|c| !c.is_whitespace()).collect();
            let message = match safe_alternative(lang, hit.rule) {
                Some(alt) => format!("{}; instead: {alt}", hit.message),
                None => hit.message,
            };
            Located {
                rule: hit.rule,
                line,
                column,
                snippet: snippet(line_text, column),
                message: uri::redact(&message),
                fingerprint: fingerprint(hit.rule, path, &normalized),
            }
        })
        .collect();
    located.sort_by_key(|a| (a.line, a.column, a.rule));
    located.dedup_by(|a, b| a.line == b.line && a.column == b.column && a.rule == b.rule);
    located
}

/// The safe alternative for a rule in the file's language, from that language family.
pub fn safe_alternative(lang: Lang, rule: Rule) -> Option<&'static str> {
    match lang {
        Lang::Python => python::safe_alternative(rule),
        Lang::JavaScript => javascript::safe_alternative(rule),
        Lang::Go => go::safe_alternative(rule),
        Lang::Jvm => jvm::safe_alternative(rule),
        Lang::DotNet => dotnet::safe_alternative(rule),
        Lang::Rust => rust_lang::safe_alternative(rule),
        Lang::Ruby => ruby::safe_alternative(rule),
        Lang::Php => php::safe_alternative(rule),
        Lang::CCpp => c_cpp::safe_alternative(rule),
        Lang::Shell => shell::safe_alternative(rule),
        _ => config::safe_alternative(rule),
    }
}

/// A rule's safe alternative in each language family, for `explain` and the docs.
pub fn safe_alternatives(rule: Rule) -> Vec<(&'static str, &'static str)> {
    use lang::Lang;
    const FAMILIES: &[(&str, Lang)] = &[
        ("Python", Lang::Python),
        ("JavaScript/TypeScript", Lang::JavaScript),
        ("Go", Lang::Go),
        ("Java/Kotlin", Lang::Jvm),
        ("C#", Lang::DotNet),
        ("Rust", Lang::Rust),
        ("Ruby", Lang::Ruby),
        ("PHP", Lang::Php),
        ("C/C++", Lang::CCpp),
        ("shell", Lang::Shell),
        ("configuration", Lang::Yaml),
    ];
    FAMILIES.iter().filter_map(|(name, lang)| safe_alternative(*lang, rule).map(|alt| (*name, alt))).collect()
}

/// Stable across line moves and credential changes: rule, path, and the line's redacted text
/// without whitespace. FNV-1a, written out so that it never changes with a dependency.
pub fn fingerprint(rule: Rule, path: &str, normalized_line: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [rule.id(), path, normalized_line] {
        for byte in part.bytes().chain(std::iter::once(0)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

/// The trimmed line, redacted; a very long line is cut around the column.
fn snippet(line: &str, column: u32) -> String {
    const MAX: usize = 200;
    let trimmed = line.trim();
    let redacted = uri::redact(trimmed);
    let chars: Vec<char> = redacted.chars().collect();
    if chars.len() <= MAX {
        return redacted;
    }
    let lead = line.chars().count() - line.trim_start().chars().count();
    let at = (column as usize).saturating_sub(1 + lead).min(chars.len());
    let start = at.saturating_sub(MAX / 4);
    let end = (start + MAX).min(chars.len());
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.extend(&chars[start..end]);
    if end < chars.len() {
        out.push('…');
    }
    out
}

/// Byte offsets of line starts, for 1-based line and character-column numbers.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(text.bytes().enumerate().filter(|(_, c)| *c == b'\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    fn locate<'t>(&self, text: &'t str, offset: usize) -> (u32, u32, &'t str) {
        let offset = offset.min(text.len());
        let idx = self.starts.partition_point(|&s| s <= offset).saturating_sub(1);
        let start = self.starts[idx];
        let end = self.starts.get(idx + 1).map(|e| e - 1).unwrap_or(text.len());
        let line_text = text.get(start..end).unwrap_or("").trim_end_matches('\r');
        let column = text.get(start..offset).map(|s| s.chars().count()).unwrap_or(0) + 1;
        (idx as u32 + 1, column as u32, line_text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_ignores_line_moves_whitespace_and_credentials() {
        let a = scan_text("a.env", "MONGODB_URI=mongodb://u:one@h.example.net/?tlsInsecure=true\n");
        let b = scan_text("a.env", "\n\n  MONGODB_URI=mongodb://u:two@h.example.net/?tlsInsecure=true  \n");
        assert_eq!(a.len(), 1);
        assert_eq!(b.len(), 1);
        assert_eq!(a[0].fingerprint, b[0].fingerprint);
        assert_eq!(b[0].line, 3);
        assert!(!a[0].snippet.contains("one"));
        let c = scan_text("b.env", "MONGODB_URI=mongodb://u:one@h.example.net/?tlsInsecure=true\n");
        assert_ne!(a[0].fingerprint, c[0].fingerprint);
    }

    #[test]
    fn columns_count_characters() {
        let hits = scan_text("a.yaml", "é: x\nnäme: {tlsInsecure: true}\n");
        assert_eq!((hits[0].line, hits[0].column), (2, 8));
    }

    #[test]
    fn every_rule_catches_its_examples_and_nothing_else() {
        for rule in Rule::ALL {
            let examples = rule.examples();
            assert!(examples.iter().any(|e| e.flagged), "{rule} has no positive example");
            for example in examples {
                let found: Vec<(Rule, u32)> =
                    scan_text(example.path, example.text).into_iter().map(|h| (h.rule, h.line)).collect();
                let want = if example.flagged { vec![(*rule, 1)] } else { vec![] };
                assert_eq!(found, want, "{rule}: {} in {}", example.text, example.path);
            }
        }
    }

    #[test]
    fn every_rule_has_safe_alternatives() {
        for rule in Rule::ALL {
            assert!(!safe_alternatives(*rule).is_empty(), "{rule}");
        }
        assert!(
            safe_alternatives(Rule::CertReqsNone)
                .iter()
                .any(|(lang, alt)| *lang == "Python" && alt.contains("tlsCAFile"))
        );
    }
}
