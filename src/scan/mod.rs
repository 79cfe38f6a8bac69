//! The scanner: finds insecure TLS fallbacks in code and config.
//!
//! The walk ([`walk`]) lists what git tracks and decodes it ([`decode`]). Per file ([`file`]):
//! one aho-corasick search ([`prefilter`]) rejects nearly everything; the rest is stripped of
//! comments ([`strip`]), decoded where the format escapes ([`config`]), and given to the shared
//! option matcher ([`matcher`]), the connection-string rules ([`uri`]) and the language
//! family's own rules ([`families`] lists every family). `--base` then marks what REF already
//! had ([`baseline`]).

pub mod baseline;
pub mod bytes;
pub mod c_cpp;
pub mod ca_files;
pub mod config;
pub mod decode;
pub mod dotnet;
pub mod families;
pub mod family;
pub mod file;
mod git;
pub mod go;
pub mod ignore_files;
pub mod infrastructure;
pub mod javascript;
pub mod jvm;
pub mod lang;
pub mod literal;
pub mod matcher;
pub mod options;
pub mod php;
pub mod prefilter;
pub mod python;
pub mod reach;
pub mod ruby;
pub mod rust_lang;
pub mod server_tls;
pub mod shell;
pub mod strip;
pub mod terraform;
pub mod uri;
pub mod walk;

use std::collections::BTreeMap;

use crate::catalog::Documented;
use crate::error::AppError;
use crate::model::{Finding, Note, Severity};

pub use decode::decode;
pub use families::safe_alternatives;
pub use file::{Located, scan_text};
pub use ignore_files::{IgnoreFile, IgnoreFiles, ignore_entries};
pub use options::{ScanOptions, ScanOutcome};

/// Scans the tree. An unknown `base` ref or unreadable path is an error (exit 2).
pub fn run(options: &ScanOptions) -> Result<ScanOutcome, AppError> {
    // Resolve the base first: a typo in REF should fail before a long walk.
    let base = options.base.as_deref().map(|rev| baseline::Baseline::open(&options.root, rev)).transpose()?;
    // Terraform values that reach a resource through variables, tfvars, locals and modules:
    // listed and resolved while the walk reads everything else.
    let (walked, flows) = std::thread::scope(|s| {
        let flows = s.spawn(|| terraform::scan_repository(options));
        let walked = walk::walk(options);
        let flows =
            flows.join().unwrap_or_else(|_| Err(AppError::Other("scan: the Terraform data flow failed".to_string())));
        (walked, flows)
    });
    let mut walked = walked?;
    walked.hits.extend(flows?);

    let mut findings: Vec<Finding> = walked
        .hits
        .into_iter()
        .map(|(path, hit)| Finding {
            rule: hit.rule,
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
        if paths.iter().any(|p| terraform::is_terraform(p)) {
            for (fingerprint, count) in terraform::fingerprints_at(base)? {
                *at_base.entry(fingerprint).or_insert(0) += count;
            }
        }
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
