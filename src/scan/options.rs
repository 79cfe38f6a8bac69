//! What to scan and what a scan found: the scanner's input and output, shared by the walk and
//! the entry point.

use std::path::PathBuf;

use crate::model::{Finding, Note};

use super::ignore_files::IgnoreFiles;

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
