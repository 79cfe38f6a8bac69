//! The git commands a pull-request run needs: is a commit here, fetch it, find the merge base,
//! read files at a commit.
//!
//! Every command runs with a deadline and is killed when it passes it: a fetch from a slow or
//! silent remote must never hang a CI run. Nothing here decides what a failure means; callers
//! get the reason as text and choose the fallback.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// A repository on disk, and how long one git command may take.
#[derive(Debug, Clone)]
pub struct Repo {
    root: PathBuf,
    deadline: Duration,
}

/// How deep to fetch, step by step, while no merge base is found in a shallow clone: the
/// approach `semgrep ci` takes. After the last depth comes `--unshallow`.
const FETCH_DEPTHS: &[u32] = &[50, 250, 1000];

impl Repo {
    pub fn new(root: &Path, deadline: Duration) -> Repo {
        Repo { root: root.to_path_buf(), deadline }
    }

    fn command(&self) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new("git");
        cmd.arg("-C")
            .arg(&self.root)
            // Never wait for a password prompt, and never let the caller's environment point
            // git at another repository.
            .env("GIT_TERMINAL_PROMPT", "0")
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_INDEX_FILE")
            .env_remove("GIT_OBJECT_DIRECTORY")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd
    }

    /// Runs git; `Err` carries a one-line reason (git's own last line of stderr, or the deadline).
    async fn run(&self, args: &[&str]) -> Result<Vec<u8>, String> {
        let child = self.command().args(args).output();
        let output = match tokio::time::timeout(self.deadline, child).await {
            Ok(Ok(output)) => output,
            Ok(Err(e)) => return Err(format!("git could not run: {e}")),
            Err(_) => {
                return Err(format!("`git {}` took longer than {}s", args.join(" "), self.deadline.as_secs()));
            }
        };
        if output.status.success() {
            return Ok(output.stdout);
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(format!(
            "`git {}` failed: {}",
            args.first().copied().unwrap_or_default(),
            crate::redact::text(reason(&stderr))
        ))
    }

    /// Whether the commit's objects are here.
    pub async fn has_commit(&self, sha: &str) -> bool {
        valid_sha(sha) && self.run(&["cat-file", "-e", &format!("{sha}^{{commit}}")]).await.is_ok()
    }

    /// `HEAD`'s commit.
    pub async fn head(&self) -> Result<String, String> {
        let out = self.run(&["rev-parse", "--verify", "HEAD^{commit}"]).await?;
        Ok(String::from_utf8_lossy(&out).trim().to_string())
    }

    async fn is_shallow(&self) -> bool {
        self.run(&["rev-parse", "--is-shallow-repository"])
            .await
            .is_ok_and(|out| String::from_utf8_lossy(&out).trim() == "true")
    }

    async fn fetch(&self, depth: Option<u32>, shas: &[&str]) -> Result<(), String> {
        let depth_arg = depth.map(|d| format!("--depth={d}"));
        let mut args = vec!["fetch", "--quiet", "--no-tags", "--no-recurse-submodules"];
        match &depth_arg {
            Some(d) => args.push(d),
            None => args.push("--unshallow"),
        }
        args.push("origin");
        args.extend_from_slice(shas);
        self.run(&args).await.map(|_| ())
    }

    /// Makes sure the commit is here, fetching it from `origin` when it is not.
    pub async fn ensure_commit(&self, sha: &str) -> Result<(), String> {
        if !valid_sha(sha) {
            return Err(format!("`{}` is not a commit SHA", crate::redact::text(sha)));
        }
        if self.has_commit(sha).await {
            return Ok(());
        }
        self.fetch(Some(1), &[sha]).await.map_err(|e| format!("commit {} is not here and {e}", short(sha)))?;
        if self.has_commit(sha).await {
            Ok(())
        } else {
            Err(format!("commit {} is still missing after fetching it", short(sha)))
        }
    }

    /// The merge base of `HEAD` and `base`, deepening a shallow clone step by step until it is
    /// found. `Err` says why it could not be had.
    pub async fn merge_base_with(&self, base: &str) -> Result<String, String> {
        self.ensure_commit(base).await?;
        let head = self.head().await?;
        let mut last_problem = String::new();
        for depth in FETCH_DEPTHS.iter().copied().map(Some).chain([None]) {
            if let Ok(out) = self.run(&["merge-base", &head, base]).await {
                return Ok(String::from_utf8_lossy(&out).trim().to_string());
            }
            if !self.is_shallow().await {
                return Err(if last_problem.is_empty() {
                    format!("HEAD and {} share no history", short(base))
                } else {
                    last_problem
                });
            }
            if let Err(e) = self.fetch(depth, &[&head, base]).await {
                last_problem = e;
            }
        }
        match self.run(&["merge-base", &head, base]).await {
            Ok(out) => Ok(String::from_utf8_lossy(&out).trim().to_string()),
            Err(_) if last_problem.is_empty() => Err(format!("HEAD and {} share no history", short(base))),
            Err(_) => Err(last_problem),
        }
    }

    /// A file's bytes at a commit; `Ok(None)` when the commit has no such file.
    pub async fn read_at(&self, commit: &str, path: &str) -> Result<Option<Vec<u8>>, String> {
        let object = format!("{commit}:{path}");
        let kind = match self.run(&["cat-file", "-t", &object]).await {
            Ok(kind) => kind,
            Err(_) if self.has_commit(commit).await => return Ok(None),
            Err(e) => return Err(e),
        };
        if String::from_utf8_lossy(&kind).trim() != "blob" {
            return Ok(None);
        }
        self.run(&["cat-file", "blob", &object]).await.map(Some)
    }

    /// Paths in the working tree whose file name is `name`: tracked, or new and not ignored.
    pub async fn listed_paths_named(&self, name: &str) -> Result<Vec<String>, String> {
        let out = self.run(&["ls-files", "-z", "--cached", "--others", "--exclude-standard", "--full-name"]).await?;
        Ok(named(&out, name))
    }

    /// `git grep -n -z -I -i -E PATTERN` over the tracked files of the working tree: `file NUL
    /// line NUL text` records. No match is an empty answer, not an error.
    pub async fn grep(&self, pattern: &str) -> Result<Vec<u8>, String> {
        let child = self.command().args(["grep", "-n", "-z", "-I", "-i", "-E", "-e", pattern]).output();
        match tokio::time::timeout(self.deadline, child).await {
            Ok(Ok(output)) if output.status.success() => Ok(output.stdout),
            Ok(Ok(output)) if output.status.code() == Some(1) => Ok(Vec::new()),
            Ok(Ok(output)) => Err(format!("`git grep` failed: {}", String::from_utf8_lossy(&output.stderr).trim())),
            Ok(Err(e)) => Err(format!("git could not run: {e}")),
            Err(_) => Err(format!("`git grep` took longer than {}s", self.deadline.as_secs())),
        }
    }

    /// Paths at a commit whose file name is `name`, anywhere in the tree.
    pub async fn paths_named_at(&self, commit: &str, name: &str) -> Result<Vec<String>, String> {
        let out = self.run(&["ls-tree", "-r", "-z", "--name-only", "--full-tree", commit]).await?;
        Ok(named(&out, name))
    }
}

/// The NUL-separated paths in `listing` whose last component is `name`.
fn named(listing: &[u8], name: &str) -> Vec<String> {
    listing
        .split(|b| *b == 0)
        .filter_map(|p| std::str::from_utf8(p).ok())
        .filter(|p| p.rsplit('/').next() == Some(name))
        .map(str::to_string)
        .collect()
}

/// A full or abbreviated hexadecimal object name: nothing git could read as an option or a ref.
/// The line of git's stderr that says what failed: its `fatal:` line (or `error:`), else the
/// first non-empty line. Git often adds hints after it ("Please make sure you have the correct
/// access rights\nand the repository exists."), whose last line alone says nothing.
fn reason(stderr: &str) -> &str {
    let lines: Vec<&str> = stderr.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let said = |prefix: &str| lines.iter().find(|l| l.starts_with(prefix)).copied();
    said("fatal:").or_else(|| said("error:")).or_else(|| lines.first().copied()).unwrap_or("no message")
}

pub fn valid_sha(sha: &str) -> bool {
    (7..=64).contains(&sha.len()) && sha.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The first 12 characters of a SHA, for messages.
pub fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

/// How long one git command may take: a fetch is several network round trips, so it gets a
/// multiple of the per-stage `--timeout`, and never less than half a minute.
pub fn deadline_for(timeout: Option<Duration>) -> Duration {
    timeout.map_or(Duration::from_secs(60), |t| t.saturating_mul(6)).max(Duration::from_secs(30))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_reason_is_the_line_that_says_what_failed() {
        let stderr = "fatal: 'origin' does not appear to be a git repository\nfatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.\n";
        assert_eq!(super::reason(stderr), "fatal: 'origin' does not appear to be a git repository");
        assert_eq!(
            super::reason("warning: x\nerror: pathspec 'y' did not match\n"),
            "error: pathspec 'y' did not match"
        );
        assert_eq!(super::reason("  \nsomething odd\nmore\n"), "something odd");
        assert_eq!(super::reason(""), "no message");
    }
}
