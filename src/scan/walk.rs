//! Which files the scan reads, and reading them in parallel.
//!
//! In a git repository the file set is what git lists: tracked files whatever `.gitignore` or
//! `.ignore` say, plus untracked files that are not ignored. A change under review can add an
//! ignore entry, so ignore entries must never hide what the repository contains. Outside git
//! the tree is walked, honouring `.gitignore`. Either way nothing listed is skipped for its
//! size, its bytes or its line lengths: each of those was a way to hide a line from the gate.
//! Symlinks are followed while they stay inside the repository, and every real file is read
//! once.

use std::collections::{HashSet, VecDeque};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use ignore::{WalkBuilder, WalkState};

use super::decode::{StreamDecoder, decode, is_utf16};
use super::file::{Located, path_mentions_mongo, scan_bytes, scan_text};
pub use super::ignore_files::IGNORE_FILE_NAME;
use super::ignore_files::{IgnoreFile, IgnoreFiles, IgnoreMatcher};
use super::options::ScanOptions;
use super::prefilter;
use crate::error::AppError;

/// Streamed files are scanned in windows of this many bytes of text; files up to twice this
/// size are read whole.
pub const DEFAULT_STREAM_WINDOW: usize = 8 * 1024 * 1024;

/// Consecutive windows share up to this much text, so that a construct spread over a few lines
/// at a cut is whole in one of them.
const MAX_OVERLAP: usize = 256 * 1024;

/// Why a listed path was not scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SkipReason {
    Unreadable,
    /// A symlink whose target is missing or outside the repository.
    SymlinkNotFollowed,
}

#[derive(Debug, Default)]
pub struct Walked {
    pub hits: Vec<(String, Located)>,
    pub skipped: Vec<(SkipReason, String)>,
    pub files_scanned: usize,
}

/// A set of paths listed below one directory.
struct Source {
    /// Canonical directory the entries are relative to.
    base: PathBuf,
    /// Put before an entry to report it: empty for the scan root, the absolute directory for a
    /// path given outside it.
    shown_prefix: String,
    /// Put before an entry to match ignore files: the scan root's place in the repository.
    ignore_prefix: String,
    /// Symlink targets must stay under here to be followed.
    boundary: PathBuf,
    /// Relative, `/`-separated; files and symlinks, and from git also gitlinks and deleted
    /// files, which are dropped when looked at.
    entries: Vec<String>,
    /// For a walked tree, the entries that are symlinks: the walk saw every entry's type (files
    /// and symlinks only), so they need no second look. `None` for git's listing, which does not
    /// say.
    links: Option<HashSet<String>>,
    /// Entry prefixes to scan (`""` is all); the entries of a git listing cover the whole root
    /// so that every ignore file in it is seen.
    selected: Vec<String>,
    /// Whether the entries are exactly git's non-ignored files under `base`.
    from_git: bool,
    ignore_files: Option<Vec<IgnoreFile>>,
}

/// A file to read, under the path it is reported as.
struct Candidate {
    shown: String,
    path: PathBuf,
}

pub fn walk(options: &ScanOptions) -> Result<Walked, AppError> {
    let root = std::fs::canonicalize(&options.root)
        .map_err(|e| AppError::io(format!("cannot scan `{}`", options.root.display()), e))?;
    let mut in_root: Vec<String> = Vec::new();
    let mut outside: Vec<PathBuf> = Vec::new();
    if options.paths.is_empty() {
        in_root.push(String::new());
    }
    for path in &options.paths {
        match select(&root, &options.root, path)? {
            Selected::InRoot(rel) => in_root.push(rel),
            Selected::Outside(abs) => outside.push(abs),
        }
    }
    let excludes = Excludes::new(&options.exclude)?;
    let mut skipped = Vec::new();

    let mut sources = Vec::new();
    if !in_root.is_empty() {
        sources.push(root_source(&root, in_root, options, &excludes, &mut skipped)?);
    }
    for path in outside {
        sources.push(outside_source(&path, options, &excludes, &mut skipped)?);
    }

    let mut candidates = Vec::new();
    let mut seen: HashSet<PathBuf> = HashSet::new();
    for source in &sources {
        collect(source, &excludes, &mut seen, &mut candidates, &mut skipped)?;
    }
    let window = options.stream_window.unwrap_or(DEFAULT_STREAM_WINDOW).max(16);
    let mut walked = scan_all(&candidates, options.threads, window)?;
    walked.skipped.extend(skipped);
    Ok(walked)
}

enum Selected {
    InRoot(String),
    Outside(PathBuf),
}

/// Where a path given on the command line (or in the policy) is. Its last component is kept as
/// written, so that a symlink named there is judged like any other symlink.
fn select(root: &Path, given_root: &Path, path: &Path) -> Result<Selected, AppError> {
    let joined = if path.is_absolute() { path.to_path_buf() } else { given_root.join(path) };
    let fail = |e: std::io::Error| AppError::io(format!("cannot scan `{}`", path.display()), e);
    std::fs::symlink_metadata(&joined).map_err(fail)?;
    let resolved = match (joined.components().next_back(), joined.parent()) {
        (Some(Component::Normal(name)), Some(parent)) => {
            let parent = if parent.as_os_str().is_empty() { Path::new(".") } else { parent };
            std::fs::canonicalize(parent).map_err(fail)?.join(name)
        }
        _ => std::fs::canonicalize(&joined).map_err(fail)?,
    };
    Ok(match resolved.strip_prefix(root) {
        Ok(rel) => Selected::InRoot(slashed(rel)),
        Err(_) => Selected::Outside(resolved),
    })
}

fn slashed(rel: &Path) -> String {
    let parts: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    parts.join("/")
}

/// The repository holding `dir`: its top and `dir`'s path inside it (`""` or `a/b/`).
fn repository(dir: &Path) -> Result<Option<(PathBuf, String)>, AppError> {
    let out = match super::git::git(dir).args(["rev-parse", "--show-toplevel", "--show-prefix"]).output() {
        Ok(out) => out,
        // Without git there is no repository to ask; the walk still scans everything it finds.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(AppError::Other(format!("scan: git could not run: {e}"))),
    };
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        if stderr.contains("not a git repository") || stderr.contains("must be run in a work tree") {
            return Ok(None);
        }
        // A repository git refuses to read (`safe.directory`, say) must not silently fall back
        // to a walk that `.gitignore` can steer.
        return Err(AppError::Other(format!(
            "scan: git cannot list the files of `{}`: {}",
            dir.display(),
            crate::redact::text(stderr.trim())
        )));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut lines = stdout.lines();
    let top = lines.next().unwrap_or_default();
    let prefix = lines.next().unwrap_or_default().to_string();
    let top = std::fs::canonicalize(top).unwrap_or_else(|_| PathBuf::from(top));
    Ok(Some((top, prefix)))
}

fn root_source(
    root: &Path,
    selected: Vec<String>,
    options: &ScanOptions,
    excludes: &Excludes,
    skipped: &mut Vec<(SkipReason, String)>,
) -> Result<Source, AppError> {
    let given = match &options.ignore_files {
        IgnoreFiles::WorkingTree => None,
        IgnoreFiles::Given(files) => Some(files.clone()),
    };
    if let Some((top, prefix)) = repository(root)? {
        let out = super::git::git(root)
            .args(["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
            .output()
            .map_err(|e| AppError::Other(format!("scan: git could not run: {e}")))?;
        if !out.status.success() {
            return Err(AppError::Other(format!(
                "scan: `git ls-files` failed in `{}`: {}",
                root.display(),
                crate::redact::text(String::from_utf8_lossy(&out.stderr).trim())
            )));
        }
        let mut entries: Vec<String> = out
            .stdout
            .split(|&b| b == 0)
            .filter(|name| !name.is_empty())
            .map(|name| String::from_utf8_lossy(name).into_owned())
            .collect();
        // An unmerged path is listed once per stage.
        entries.sort_unstable();
        entries.dedup();
        return Ok(Source {
            base: root.to_path_buf(),
            shown_prefix: String::new(),
            ignore_prefix: prefix,
            boundary: top,
            entries,
            links: None,
            selected,
            from_git: true,
            ignore_files: given,
        });
    }
    let starts: Vec<PathBuf> = selected.iter().map(|rel| root.join(rel)).collect();
    let (entries, links) = walk_tree(root, &starts, "", options.threads, excludes, skipped);
    Ok(Source {
        base: root.to_path_buf(),
        shown_prefix: String::new(),
        ignore_prefix: String::new(),
        boundary: root.to_path_buf(),
        entries,
        links: Some(links),
        selected,
        from_git: false,
        ignore_files: given,
    })
}

/// A path given outside the scan root: walked on its own, reported by its absolute path.
fn outside_source(
    path: &Path,
    options: &ScanOptions,
    excludes: &Excludes,
    skipped: &mut Vec<(SkipReason, String)>,
) -> Result<Source, AppError> {
    let fail = |e: std::io::Error| AppError::io(format!("cannot scan `{}`", path.display()), e);
    let canonical = std::fs::canonicalize(path).map_err(fail)?;
    let (base, selected) = match (canonical.is_dir(), canonical.parent(), canonical.file_name()) {
        (false, Some(parent), Some(name)) => (parent.to_path_buf(), vec![name.to_string_lossy().into_owned()]),
        _ => (canonical.clone(), vec![String::new()]),
    };
    let shown_prefix = format!("{}/", base.to_string_lossy().trim_end_matches('/'));
    let (entries, links) = walk_tree(&base, &[canonical], &shown_prefix, options.threads, excludes, skipped);
    Ok(Source {
        boundary: base.clone(),
        base,
        shown_prefix,
        ignore_prefix: String::new(),
        entries,
        links: Some(links),
        selected,
        from_git: false,
        ignore_files: None,
    })
}

/// Files and symlinks under `starts`, relative to `base`, for a tree outside git: `.gitignore`
/// and `.git/info/exclude` are honoured (also without a checkout), version-control metadata is
/// not entered, and excluded directories are not descended into.
fn walk_tree(
    base: &Path,
    starts: &[PathBuf],
    shown_prefix: &str,
    threads: Option<usize>,
    excludes: &Excludes,
    skipped: &mut Vec<(SkipReason, String)>,
) -> (Vec<String>, HashSet<String>) {
    let Some((first, rest)) = starts.split_first() else { return (Vec::new(), HashSet::new()) };
    let mut builder = WalkBuilder::new(first);
    for start in rest {
        builder.add(start);
    }
    builder
        .hidden(false)
        .parents(true)
        .ignore(false)
        .git_ignore(true)
        .git_global(false)
        .git_exclude(true)
        .require_git(false)
        .follow_links(false)
        .threads(threads.unwrap_or(0));
    let filter_base = base.to_path_buf();
    let filter_excludes = excludes.clone();
    let filter_prefix = shown_prefix.to_string();
    builder.filter_entry(move |entry| {
        if !entry.file_type().is_some_and(|t| t.is_dir()) {
            return true;
        }
        let name = entry.file_name();
        if name == ".git" || name == ".hg" || name == ".svn" {
            return false;
        }
        let rel = relative(&filter_base, entry.path());
        rel.is_empty() || !filter_excludes.matches(&format!("{filter_prefix}{rel}"))
    });
    let found = Mutex::new(Vec::new());
    let errors = Mutex::new(Vec::new());
    builder.build_parallel().run(|| {
        let (found, errors) = (&found, &errors);
        Box::new(move |entry| {
            match entry {
                Ok(entry) if entry.file_type().is_some_and(|t| t.is_file() || t.is_symlink()) => {
                    let link = entry.path_is_symlink() || entry.file_type().is_some_and(|t| t.is_symlink());
                    if let Ok(mut list) = found.lock() {
                        list.push((relative(base, entry.path()), link));
                    }
                }
                Ok(_) => {}
                Err(err) => {
                    if let Ok(mut list) = errors.lock() {
                        list.push((SkipReason::Unreadable, err.to_string()));
                    }
                }
            }
            WalkState::Continue
        })
    });
    skipped.extend(errors.into_inner().unwrap_or_default());
    let mut found: Vec<(String, bool)> = found.into_inner().unwrap_or_default();
    found.sort_unstable();
    found.dedup();
    let links = found.iter().filter(|(_, link)| *link).map(|(rel, _)| rel.clone()).collect();
    (found.into_iter().map(|(rel, _)| rel).collect(), links)
}

/// Turns a source's entries into files to read: selected, not excluded, not ignored, symlinks
/// resolved, each real file once (`seen`, by canonical path), under a path that is not a
/// symlink when the set has one.
fn collect(
    source: &Source,
    excludes: &Excludes,
    seen: &mut HashSet<PathBuf>,
    candidates: &mut Vec<Candidate>,
    skipped: &mut Vec<(SkipReason, String)>,
) -> Result<(), AppError> {
    let ignores = IgnoreMatcher::new(&source.ignore_files.clone().unwrap_or_else(|| working_tree_ignores(source)))?;
    let is_selected = |rel: &str| {
        source.selected.iter().any(|sel| {
            sel.is_empty() || rel == sel || rel.strip_prefix(sel.as_str()).is_some_and(|r| r.starts_with('/'))
        })
    };
    let leaves_out = |rel: &str| {
        excludes.matches(&format!("{}{rel}", source.shown_prefix))
            || ignores.is_ignored(&format!("{}{rel}", source.ignore_prefix))
    };
    // Everything git lists under the root, followed or not: a file under the root that is not
    // here is ignored by git, and reaching it through a symlink does not make it part of the
    // repository.
    // The directories holding them are here too, so that a link to a directory that git
    // ignores whole (`target/`, `node_modules/`) is not walked for nothing.
    let mut listed: HashSet<PathBuf> = HashSet::new();
    if source.from_git {
        for rel in &source.entries {
            let mut path = source.base.join(rel);
            while path.starts_with(&source.base) && listed.insert(path.clone()) {
                if !path.pop() {
                    break;
                }
            }
        }
    }

    let mut links = Vec::new();
    for rel in &source.entries {
        if !is_selected(rel) || leaves_out(rel) {
            continue;
        }
        let path = source.base.join(rel);
        let kind = match &source.links {
            Some(walked_links) => Ok(if walked_links.contains(rel) { Kind::Link } else { Kind::File }),
            None => std::fs::symlink_metadata(&path).map(|meta| match meta.file_type() {
                t if t.is_symlink() => Kind::Link,
                t if t.is_file() => Kind::File,
                _ => Kind::Other,
            }),
        };
        match kind {
            Ok(Kind::Link) => links.push(rel.clone()),
            Ok(Kind::File) => {
                // Listed paths never pass through a symlinked directory (neither git nor the
                // walk descends into one), so below a canonical base they are canonical too.
                if seen.insert(path.clone()) {
                    candidates.push(Candidate { shown: format!("{}{rel}", source.shown_prefix), path });
                }
            }
            // A directory from git is a submodule (or a nested repository); a missing file was
            // deleted from the working tree: neither has content here.
            Ok(Kind::Other) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(_) => skipped.push((SkipReason::Unreadable, format!("{}{rel}", source.shown_prefix))),
        }
    }

    let mut follower = Follower {
        source,
        listed: &listed,
        leaves_out: &leaves_out,
        visited_dirs: HashSet::new(),
        queue: VecDeque::new(),
        seen,
        candidates,
        skipped,
    };
    for rel in links {
        follower.link(&rel);
    }
    // Breadth first: a file reachable through several links is reported under the shortest.
    while let Some((rel, real)) = follower.queue.pop_front() {
        follower.dir(&rel, real);
    }
    Ok(())
}

/// What a listed path is.
enum Kind {
    File,
    Link,
    Other,
}

/// Follows a source's symlinks: a file target is read under the link's path, a directory
/// target has its files read under it (each real directory entered once, which also ends
/// cycles), and a target that is missing or outside the boundary is noted.
struct Follower<'a> {
    source: &'a Source,
    listed: &'a HashSet<PathBuf>,
    leaves_out: &'a dyn Fn(&str) -> bool,
    visited_dirs: HashSet<PathBuf>,
    /// Directories to enter, with the path they are reported under.
    queue: VecDeque<(String, PathBuf)>,
    seen: &'a mut HashSet<PathBuf>,
    candidates: &'a mut Vec<Candidate>,
    skipped: &'a mut Vec<(SkipReason, String)>,
}

impl Follower<'_> {
    fn shown(&self, rel: &str) -> String {
        format!("{}{rel}", self.source.shown_prefix)
    }

    fn link(&mut self, rel: &str) {
        let target = match std::fs::canonicalize(self.source.base.join(rel)) {
            Ok(target) if target.starts_with(&self.source.boundary) => target,
            _ => {
                let shown = self.shown(rel);
                self.skipped.push((SkipReason::SymlinkNotFollowed, shown));
                return;
            }
        };
        if target.is_file() {
            self.file(rel, target);
        } else if target.is_dir() {
            self.queue.push_back((rel.to_string(), target));
        }
    }

    /// `real` is canonical.
    fn file(&mut self, rel: &str, real: PathBuf) {
        // Under the root, git lists every file that is part of the repository; one it does not
        // list is ignored, and reaching it through a symlink does not change that.
        let source = self.source;
        let in_repository = !source.from_git || !real.starts_with(&source.base) || self.listed.contains(&real);
        if in_repository && self.seen.insert(real.clone()) {
            let shown = self.shown(rel);
            self.candidates.push(Candidate { shown, path: real });
        }
    }

    /// `real` is canonical.
    fn dir(&mut self, rel: &str, real: PathBuf) {
        let source = self.source;
        let ignored_by_git = source.from_git && real.starts_with(&source.base) && !self.listed.contains(&real);
        if ignored_by_git || !self.visited_dirs.insert(real.clone()) {
            return;
        }
        let Ok(read) = std::fs::read_dir(&real) else {
            let shown = self.shown(rel);
            self.skipped.push((SkipReason::Unreadable, shown));
            return;
        };
        let mut names: Vec<String> =
            read.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        names.sort_unstable();
        for name in names {
            if name == ".git" || name == ".hg" || name == ".svn" {
                continue;
            }
            let child = format!("{rel}/{name}");
            if (self.leaves_out)(&child) {
                continue;
            }
            let path = real.join(&name);
            match std::fs::symlink_metadata(&path) {
                Ok(meta) if meta.file_type().is_symlink() => self.link(&child),
                Ok(meta) if meta.is_file() => self.file(&child, path),
                Ok(meta) if meta.is_dir() => self.queue.push_back((child, path)),
                _ => {}
            }
        }
    }
}

/// The source's own `.mongo-preflight-ignore` files as they are on disk, including those in
/// the directories between the root and a selected path (a walk from that path would not
/// list them).
fn working_tree_ignores(source: &Source) -> Vec<IgnoreFile> {
    let mut dirs: Vec<String> = source
        .entries
        .iter()
        .filter(|rel| rel.rsplit('/').next() == Some(IGNORE_FILE_NAME))
        .map(|rel| rel.rsplit_once('/').map(|(dir, _)| dir.to_string()).unwrap_or_default())
        .collect();
    for sel in &source.selected {
        let mut dir = String::new();
        dirs.push(String::new());
        for part in sel.split('/').filter(|p| !p.is_empty()) {
            dir = if dir.is_empty() { part.to_string() } else { format!("{dir}/{part}") };
            dirs.push(dir.clone());
        }
    }
    dirs.sort_unstable();
    dirs.dedup();
    dirs.into_iter()
        .filter_map(|dir| {
            let path = source.base.join(&dir).join(IGNORE_FILE_NAME);
            // Only a regular file: a symlink could point anywhere, and a directory is no list.
            let meta = std::fs::symlink_metadata(&path).ok()?;
            if !meta.is_file() {
                return None;
            }
            let bytes = std::fs::read(&path).ok()?;
            let dir = format!("{}{dir}", source.ignore_prefix).trim_end_matches('/').to_string();
            Some(IgnoreFile { dir, content: decode(&bytes).into_owned() })
        })
        .collect()
}

/// Reads and scans every candidate, one worker per core pulling the next index.
fn scan_all(candidates: &[Candidate], threads: Option<usize>, window: usize) -> Result<Walked, AppError> {
    let workers = threads
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
        .min(candidates.len())
        .max(1);
    let next = AtomicUsize::new(0);
    let results = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut walked = Walked::default();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(candidate) = candidates.get(i) else { break };
                        match scan_file(&candidate.path, &candidate.shown, window) {
                            Ok(found) => {
                                walked.files_scanned += 1;
                                walked.hits.extend(found.into_iter().map(|h| (candidate.shown.clone(), h)));
                            }
                            Err(_) => walked.skipped.push((SkipReason::Unreadable, candidate.shown.clone())),
                        }
                    }
                    walked
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join()).collect::<Vec<_>>()
    });
    let mut all = Walked::default();
    for result in results {
        // A worker that panicked took some files' verdicts with it: no verdict is better than a
        // pass on a partial scan.
        let walked = result.map_err(|_| AppError::Other("the scan stopped unexpectedly".to_string()))?;
        all.hits.extend(walked.hits);
        all.skipped.extend(walked.skipped);
        all.files_scanned += walked.files_scanned;
    }
    Ok(all)
}

fn scan_file(path: &Path, shown: &str, window: usize) -> std::io::Result<Vec<Located>> {
    let mut file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    if size > 2 * window as u64 {
        // Most large files (archives, libraries, data) hold no keyword: one read without
        // decoding settles them, and only the others are decoded and scanned in windows. UTF-16
        // shows its text only decoded.
        let mut head = Vec::new();
        (&mut file).take(2).read_to_end(&mut head)?;
        file.seek(SeekFrom::Start(0))?;
        if !is_utf16(&head) && !path_mentions_mongo(shown) && !prefilter::any_in_stream(&mut file)? {
            return Ok(Vec::new());
        }
        file.seek(SeekFrom::Start(0))?;
        return scan_stream(file, shown, window);
    }
    let mut bytes = Vec::with_capacity(size as usize + 1);
    // Through `take`: `File::read_to_end` would ask the file's size and position again (two
    // more system calls per file); the capacity already holds it, and one more byte to see the
    // end. A file that grew since is still read to its end.
    (&mut file).take(u64::MAX).read_to_end(&mut bytes)?;
    Ok(scan_bytes(shown, &bytes))
}

/// Scans a large file in windows of about `window` bytes of text, cut after a newline where
/// there is one, each starting at a line start inside the previous one. Lines and columns are
/// the whole file's; a hit seen in two windows is reported once.
fn scan_stream(mut reader: impl Read, shown: &str, window: usize) -> std::io::Result<Vec<Located>> {
    let overlap = (window / 4).min(MAX_OVERLAP);
    let mut piece = vec![0u8; (window / 4).clamp(1, 1024 * 1024)];
    let mut decoder = StreamDecoder::default();
    let mut text = String::new();
    // Lines before `text`, and characters of its first line that came before it.
    let (mut lines_before, mut columns_before) = (0u32, 0u32);
    let mut eof = false;
    let mut found: Vec<Located> = Vec::new();
    loop {
        while !eof && text.len() < window {
            let n = reader.read(&mut piece)?;
            if n == 0 {
                eof = true;
                text.push_str(&decoder.finish());
            } else {
                text.push_str(&decoder.feed(&piece[..n]));
            }
        }
        let last = eof && text.len() <= window;
        let end = if last {
            text.len()
        } else {
            let limit = floor_char_boundary(&text, window);
            match text[..limit].rfind('\n') {
                Some(i) if i + 1 > overlap => i + 1,
                // One line longer than the window: cut inside it.
                _ => limit,
            }
        };
        for mut hit in scan_text(shown, &text[..end]) {
            if hit.line == 1 {
                hit.column += columns_before;
            }
            hit.line += lines_before;
            found.push(hit);
        }
        if last {
            break;
        }
        let from = floor_char_boundary(&text, end - overlap);
        let next = match text[from..end].find('\n') {
            Some(i) => from + i + 1,
            None if from > 0 => from,
            None => end,
        };
        let dropped = &text[..next];
        let newlines = dropped.bytes().filter(|&b| b == b'\n').count() as u32;
        match dropped.rfind('\n') {
            Some(i) => columns_before = dropped[i + 1..].chars().count() as u32,
            None => columns_before += dropped.chars().count() as u32,
        }
        lines_before += newlines;
        text.drain(..next);
    }
    found.sort_by_key(|h| (h.line, h.column, h.rule));
    found.dedup_by(|a, b| a.line == b.line && a.column == b.column && a.rule == b.rule);
    Ok(found)
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The path relative to the root, `/`-separated; the path itself when outside the root.
pub fn relative(root: &Path, path: &Path) -> String {
    match path.strip_prefix(root) {
        Ok(rel) => slashed(rel),
        Err(_) => path.to_string_lossy().replace('\\', "/"),
    }
}

/// `scan.exclude` / `--exclude`: `*` stays within one directory, `**` crosses directories, and
/// a pattern that matches a directory leaves out everything below it.
#[derive(Debug, Clone, Default)]
struct Excludes(Option<GlobSet>);

impl Excludes {
    fn new(patterns: &[String]) -> Result<Excludes, AppError> {
        if patterns.is_empty() {
            return Ok(Excludes(None));
        }
        let mut builder = GlobSetBuilder::new();
        for pattern in patterns {
            let glob = GlobBuilder::new(pattern.trim_start_matches("./"))
                .literal_separator(true)
                .build()
                .map_err(|e| AppError::Usage(format!("invalid exclude pattern `{pattern}`: {e}")))?;
            builder.add(glob);
        }
        builder
            .build()
            .map(|set| Excludes(Some(set)))
            .map_err(|e| AppError::Usage(format!("invalid exclude patterns: {e}")))
    }

    fn matches(&self, shown: &str) -> bool {
        let Some(set) = &self.0 else { return false };
        set.is_match(shown) || shown.match_indices('/').any(|(i, _)| i > 0 && set.is_match(&shown[..i]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excludes(patterns: &[&str]) -> Excludes {
        let built = Excludes::new(&patterns.iter().map(|p| p.to_string()).collect::<Vec<_>>());
        let Ok(set) = built else { panic!("{patterns:?}") };
        set
    }

    #[test]
    fn a_star_stays_within_one_directory() {
        let set = excludes(&["*.py", "./vendor/**", "build"]);
        assert!(set.matches("db.py"));
        assert!(!set.matches("app/db.py"));
        assert!(set.matches("vendor/a/b.js"));
        assert!(set.matches("build/out/x.env"));
        assert!(!set.matches("src/build.env"));
        let deep = excludes(&["**/*.py"]);
        assert!(deep.matches("app/db.py") && deep.matches("db.py"));
    }

    #[test]
    fn streamed_windows_report_what_a_whole_read_does() {
        let mut text = String::new();
        for i in 0..200 {
            match i % 37 {
                5 => text.push_str("MONGODB_URI=mongodb://h.example.net/?tlsAllowInvalidCertificates=true\n"),
                11 => text.push_str("  é  MONGODB_TLS_INSECURE=true\n"),
                _ => text.push_str(&format!("filler line {i} with some text\n")),
            }
        }
        // Every line fits in the smallest window; windows cut between lines.
        let whole = scan_text("a.env", &text);
        assert!(whole.len() >= 10, "{whole:?}");
        for window in [80, 128, 257, 1000] {
            let Ok(streamed) = scan_stream(text.as_bytes(), "a.env", window) else { panic!("read") };
            assert_eq!(streamed, whole, "window {window}");
        }
    }

    #[test]
    fn a_large_file_is_read_once_and_scanned_when_it_holds_a_keyword() {
        let dir = std::env::temp_dir().join(format!("mongo-preflight-walk-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let filler = "\0\u{1}binary\u{7f} filler line\n".repeat(40);
        let setting = "MONGODB_TLS_INSECURE=true\n";
        let cases = [
            ("plain.env", format!("{filler}{setting}").into_bytes(), 1),
            ("nothing.env", filler.clone().into_bytes(), 0),
            // A path that names MongoDB is scanned whatever its bytes.
            ("mongo.env", format!("{filler}MONGODB_URI=mongodb://h.example.net/?tls=false\n").into_bytes(), 1),
            (
                "utf16.env",
                {
                    let mut b = vec![0xFF, 0xFE];
                    b.extend(format!("{filler}{setting}").encode_utf16().flat_map(u16::to_le_bytes));
                    b
                },
                1,
            ),
        ];
        for (name, bytes, want) in cases {
            let path = dir.join(name);
            assert!(std::fs::write(&path, &bytes).is_ok());
            let Ok(found) = scan_file(&path, name, 64) else { panic!("{name}: read") };
            assert_eq!(found.len(), want, "{name}: {found:?}");
            let whole = scan_text(name, &decode(&bytes));
            assert_eq!(found, whole, "{name}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Outside git the walk tells files from symlinks: a link out of the tree is not read, and a
    /// link to a file inside it does not read the file twice.
    #[cfg(unix)]
    #[test]
    fn a_walked_tree_follows_only_symlinks_that_stay_inside() {
        let top = std::env::temp_dir().join(format!("mongo-preflight-links-{}", std::process::id()));
        let (root, outside) = (top.join("root"), top.join("outside"));
        let setting = "MONGODB_TLS_INSECURE=true\n";
        let made = std::fs::create_dir_all(root.join("app")).is_ok()
            && std::fs::create_dir_all(&outside).is_ok()
            && std::fs::write(outside.join("secret.env"), setting).is_ok()
            && std::fs::write(root.join("inside.env"), setting).is_ok()
            && std::os::unix::fs::symlink("../../outside/secret.env", root.join("app/link.env")).is_ok()
            && std::os::unix::fs::symlink("inside.env", root.join("alias.env")).is_ok();
        assert!(made);
        let options = ScanOptions { root: root.clone(), ..ScanOptions::default() };
        let Ok(walked) = walk(&options) else { panic!("walk") };
        let paths: Vec<&str> = walked.hits.iter().map(|(path, _)| path.as_str()).collect();
        assert_eq!(paths, ["inside.env"]);
        assert!(walked.skipped.contains(&(SkipReason::SymlinkNotFollowed, "app/link.env".to_string())), "{walked:?}");
        let _ = std::fs::remove_dir_all(&top);
    }

    #[test]
    fn a_line_longer_than_the_window_keeps_its_columns() {
        let text = format!("{}MONGODB_TLS_INSECURE=true\nx\n", "é".repeat(300));
        let Ok(streamed) = scan_stream(text.as_bytes(), "a.env", 64) else { panic!("read") };
        let got: Vec<(u32, u32)> = streamed.iter().map(|h| (h.line, h.column)).collect();
        assert_eq!(got, vec![(1, 301)]);
    }
}
