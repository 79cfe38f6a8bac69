//! `--base REF`: which findings were already there.
//!
//! REF's files are read straight from git's object store (`git cat-file --batch` with
//! `REF:path` names), never checked out, and scanned with the same rules. A finding whose
//! fingerprint (rule + path + normalised line content) REF also has is not new. Fingerprints
//! are counted, so a second copy of an old line is still new.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::git::git;

use crate::error::AppError;

/// A resolved base commit in the repository that holds the scan root.
#[derive(Debug, Clone)]
pub struct Baseline {
    root: PathBuf,
    commit: String,
    /// The scan root's path inside the repository, `/`-terminated, or empty at the top.
    prefix: String,
    shown: String,
}

fn output(cmd: &mut Command, what: &str) -> Result<std::process::Output, AppError> {
    cmd.output().map_err(|e| AppError::Other(format!("--base needs git, which could not run ({what}): {e}")))
}

impl Baseline {
    /// Resolves `rev`; an unknown ref, or a root outside git, is an error that names it.
    pub fn open(root: &Path, rev: &str) -> Result<Baseline, AppError> {
        let shown = crate::redact::text(rev).into_owned();
        if rev.is_empty() || rev.starts_with('-') || rev.contains(['\n', '\0']) {
            return Err(AppError::Usage(format!("--base: `{shown}` is not a git ref")));
        }
        let prefix = output(git(root).args(["rev-parse", "--show-prefix"]), "rev-parse")?;
        if !prefix.status.success() {
            return Err(AppError::Usage(format!(
                "--base {shown}: `{}` is not inside a git repository",
                root.display()
            )));
        }
        let resolved = output(
            git(root).args(["rev-parse", "--verify", "--quiet", "--end-of-options"]).arg(format!("{rev}^{{commit}}")),
            "rev-parse",
        )?;
        if !resolved.status.success() {
            return Err(AppError::Usage(format!(
                "--base: unknown git ref `{shown}` (git cannot resolve it to a commit; in a shallow CI checkout, fetch it first: `git fetch --depth=1 origin {shown}`)"
            )));
        }
        Ok(Baseline {
            root: root.to_path_buf(),
            commit: String::from_utf8_lossy(&resolved.stdout).trim().to_string(),
            prefix: String::from_utf8_lossy(&prefix.stdout).trim().to_string(),
            shown,
        })
    }

    pub fn commit(&self) -> &str {
        &self.commit
    }

    /// Fingerprint → how many findings carry it at the base, over the given paths (relative to
    /// the scan root). Paths that REF lacks contribute nothing.
    pub fn fingerprints(&self, paths: &[String]) -> Result<HashMap<String, usize>, AppError> {
        let mut counts = HashMap::new();
        if paths.is_empty() {
            return Ok(counts);
        }
        let contents = self.read_blobs(paths)?;
        for (path, content) in paths.iter().zip(contents) {
            let Some(content) = content else { continue };
            // Decoded as the working tree's files are, or a UTF-16 file's findings would all
            // look new.
            let text = super::decode::decode(&content);
            for hit in super::file::scan_text(path, &text) {
                *counts.entry(hit.fingerprint).or_insert(0) += 1;
            }
        }
        Ok(counts)
    }

    /// The base commit's files under the scan root whose path satisfies `wanted`, decoded, as
    /// (path relative to the scan root, text): what the cross-file Terraform pass reads.
    pub fn files_matching(&self, wanted: fn(&str) -> bool) -> Result<Vec<(String, String)>, AppError> {
        let listed = output(
            git(&self.root).args(["ls-tree", "-r", "-z", "--full-tree", "--name-only", &self.commit]),
            "ls-tree",
        )?;
        if !listed.status.success() {
            return Err(AppError::Other(format!("--base {}: git could not list its files", self.shown)));
        }
        let paths: Vec<String> = listed
            .stdout
            .split(|&c| c == 0)
            .filter_map(|n| String::from_utf8_lossy(n).strip_prefix(self.prefix.as_str()).map(str::to_string))
            .filter(|p| !p.is_empty() && wanted(p))
            .collect();
        let contents = self.read_blobs(&paths)?;
        Ok(paths
            .into_iter()
            .zip(contents)
            .filter_map(|(path, content)| Some((path, super::decode::decode(&content?).into_owned())))
            .collect())
    }

    /// Each path's content at the base commit, `None` where the path is absent or not a file.
    fn read_blobs(&self, paths: &[String]) -> Result<Vec<Option<Vec<u8>>>, AppError> {
        let fail = |e: std::io::Error| {
            AppError::Other(format!("--base {}: reading files through git failed: {e}", self.shown))
        };
        let mut child = git(&self.root)
            .args(["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(fail)?;
        let requests: String = paths
            .iter()
            .map(|p| {
                // A name with a newline cannot be asked for on one line; ask for nothing instead.
                if p.contains('\n') {
                    format!("{}:\n", self.commit)
                } else {
                    format!("{}:{}{}\n", self.commit, self.prefix, p)
                }
            })
            .collect();
        let mut stdin = child.stdin.take().ok_or_else(|| fail(std::io::Error::other("no stdin")))?;
        // Written from another thread: git answers while we are still asking, and a full pipe
        // on both sides would deadlock.
        let writer = std::thread::spawn(move || stdin.write_all(requests.as_bytes()));
        let stdout = child.stdout.take().ok_or_else(|| fail(std::io::Error::other("no stdout")))?;
        let mut reader = BufReader::new(stdout);
        let mut contents = Vec::with_capacity(paths.len());
        for _ in paths {
            let mut header = String::new();
            if reader.read_line(&mut header).map_err(fail)? == 0 {
                break;
            }
            let fields: Vec<&str> = header.split_whitespace().collect();
            match fields.as_slice() {
                [_, kind, size] => {
                    let size: usize = size.parse().map_err(|_| fail(std::io::Error::other("bad cat-file header")))?;
                    let mut body = vec![0u8; size + 1];
                    reader.read_exact(&mut body).map_err(fail)?;
                    body.pop();
                    contents.push((*kind == "blob").then_some(body));
                }
                _ => contents.push(None),
            }
        }
        let _ = writer.join();
        let _ = child.wait();
        contents.resize(paths.len(), None);
        Ok(contents)
    }
}
