//! Walking the tree in parallel with the `ignore` crate, as ripgrep does.
//!
//! `.gitignore` is honoured even outside a git checkout (`require_git(false)`), dotfiles such
//! as `.env` are scanned, and binaries, oversized files and minified bundles are skipped and
//! counted so that the report can say what was not looked at.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use globset::{Glob, GlobSet, GlobSetBuilder};
use ignore::{WalkBuilder, WalkState};

/// A gitignore-syntax file for paths only mongo-preflight should skip (deliberately insecure
/// test fixtures, say), without hiding them from git or ripgrep.
pub const IGNORE_FILE_NAME: &str = ".mongo-preflight-ignore";

use super::lang::Lang;
use super::{Located, ScanOptions, prefilter, scan_sighted};
use crate::error::AppError;

/// Files over this size are skipped unless the options say otherwise.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 4 * 1024 * 1024;

/// Bytes inspected for a NUL to call a file binary (as git and ripgrep do).
const BINARY_PROBE: usize = 8 * 1024;

/// Why a file was not scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SkipReason {
    Binary,
    Oversized,
    Minified,
    Unreadable,
}

#[derive(Debug, Default)]
pub struct Walked {
    pub hits: Vec<(String, Located)>,
    pub skipped: Vec<(SkipReason, String)>,
    pub files_scanned: usize,
}

pub fn walk(options: &ScanOptions) -> Result<Walked, AppError> {
    let root = std::fs::canonicalize(&options.root)
        .map_err(|e| AppError::io(format!("cannot scan `{}`", options.root.display()), e))?;
    let mut starts: Vec<PathBuf> = Vec::new();
    if options.paths.is_empty() {
        starts.push(root.clone());
    }
    for path in &options.paths {
        let joined = if path.is_absolute() { path.clone() } else { options.root.join(path) };
        let resolved =
            std::fs::canonicalize(&joined).map_err(|e| AppError::io(format!("cannot scan `{}`", path.display()), e))?;
        starts.push(resolved);
    }
    let exclude = build_excludes(&options.exclude)?;
    let max_size = options.max_file_size.unwrap_or(DEFAULT_MAX_FILE_SIZE);

    let mut builder = WalkBuilder::new(&starts[0]);
    for start in &starts[1..] {
        builder.add(start);
    }
    let filter_root = root.clone();
    let filter_excludes = exclude.clone();
    builder
        .hidden(false)
        .parents(true)
        .ignore(true)
        .git_ignore(true)
        .git_global(true)
        .git_exclude(true)
        .require_git(false)
        .add_custom_ignore_filename(IGNORE_FILE_NAME);
    builder.follow_links(false).threads(options.threads.unwrap_or(0)).filter_entry(move |entry| {
        let name = entry.file_name();
        if entry.file_type().is_some_and(|t| t.is_dir()) {
            if name == ".git" || name == ".hg" || name == ".svn" {
                return false;
            }
            if let Some(set) = &filter_excludes {
                let rel = relative(&filter_root, entry.path());
                return !(set.is_match(&rel) || set.is_match(format!("{rel}/\u{1}")));
            }
        }
        true
    });

    let hits = Mutex::new(Vec::new());
    let skipped = Mutex::new(Vec::new());
    let scanned = AtomicUsize::new(0);
    builder.build_parallel().run(|| {
        let (root, exclude, hits, skipped, scanned) = (&root, &exclude, &hits, &skipped, &scanned);
        Box::new(move |entry| {
            let entry = match entry {
                Ok(e) => e,
                Err(err) => {
                    push(skipped, SkipReason::Unreadable, err.to_string());
                    return WalkState::Continue;
                }
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                return WalkState::Continue;
            }
            let rel = relative(root, entry.path());
            if exclude.as_ref().is_some_and(|set| set.is_match(&rel)) {
                return WalkState::Continue;
            }
            match scan_file(entry.path(), &rel, max_size) {
                FileOutcome::Scanned(found) => {
                    scanned.fetch_add(1, Ordering::Relaxed);
                    if !found.is_empty()
                        && let Ok(mut all) = hits.lock()
                    {
                        all.extend(found.into_iter().map(|h| (rel.clone(), h)));
                    }
                }
                FileOutcome::Skipped(reason) => push(skipped, reason, rel),
            }
            WalkState::Continue
        })
    });
    Ok(Walked {
        hits: hits.into_inner().unwrap_or_default(),
        skipped: skipped.into_inner().unwrap_or_default(),
        files_scanned: scanned.into_inner(),
    })
}

fn push(skipped: &Mutex<Vec<(SkipReason, String)>>, reason: SkipReason, what: String) {
    if let Ok(mut list) = skipped.lock() {
        list.push((reason, what));
    }
}

enum FileOutcome {
    Scanned(Vec<Located>),
    Skipped(SkipReason),
}

fn scan_file(path: &Path, rel: &str, max_size: u64) -> FileOutcome {
    use std::io::Read;
    let Ok(mut file) = std::fs::File::open(path) else { return FileOutcome::Skipped(SkipReason::Unreadable) };
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if size > max_size {
        return FileOutcome::Skipped(SkipReason::Oversized);
    }
    let mut bytes = Vec::with_capacity(size as usize + 1);
    if file.read_to_end(&mut bytes).is_err() {
        return FileOutcome::Skipped(SkipReason::Unreadable);
    }
    if bytes[..bytes.len().min(BINARY_PROBE)].contains(&0) {
        return FileOutcome::Skipped(SkipReason::Binary);
    }
    let sighting = prefilter::sight(&bytes);
    let path_mentions_mongo = rel.to_ascii_lowercase().contains("mongo");
    if !sighting.any() && !path_mentions_mongo {
        return FileOutcome::Scanned(Vec::new());
    }
    let lang = Lang::detect(rel);
    if lang.can_be_minified() && is_minified(rel, &bytes) {
        return FileOutcome::Skipped(SkipReason::Minified);
    }
    let text = String::from_utf8_lossy(&bytes);
    FileOutcome::Scanned(scan_sighted(rel, &text, sighting))
}

/// `*.min.js`, or a script whose lines average over 300 characters: a bundle nobody edits.
pub fn is_minified(rel: &str, bytes: &[u8]) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel).to_ascii_lowercase();
    if name.contains(".min.") || name.ends_with("-min.js") {
        return true;
    }
    let lines = bytes.iter().filter(|&&c| c == b'\n').count() + 1;
    bytes.len() > 2000 && bytes.len() / lines > 300
}

/// The path relative to the root, `/`-separated; the path itself when outside the root.
pub fn relative(root: &Path, path: &Path) -> String {
    let Ok(rel) = path.strip_prefix(root) else {
        return path.to_string_lossy().replace('\\', "/");
    };
    let parts: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    if parts.is_empty() {
        path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    } else {
        parts.join("/")
    }
}

fn build_excludes(patterns: &[String]) -> Result<Option<GlobSet>, AppError> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = Glob::new(pattern.trim_start_matches("./"))
            .map_err(|e| AppError::Usage(format!("invalid exclude pattern `{pattern}`: {e}")))?;
        builder.add(glob);
    }
    builder.build().map(Some).map_err(|e| AppError::Usage(format!("invalid exclude patterns: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minified_bundles() {
        assert!(is_minified("vendor/app.min.js", b"x"));
        let long = vec![b'a'; 5000];
        assert!(is_minified("dist/bundle.js", &long));
        assert!(!is_minified("src/app.js", b"const a = 1;\nconst b = 2;\n"));
    }
}
