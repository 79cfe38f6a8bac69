//! The one way the scanner runs git: never prompting, never reading stdin, and never steered
//! to another repository by the environment of whoever runs the scan.

use std::path::Path;
use std::process::{Command, Stdio};

/// Variables that would make git answer for a repository other than the one at `dir`: a CI
/// step or a git hook that sets them must not change what the scan sees.
const REDIRECTING_ENV: &[&str] =
    &["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY", "GIT_NAMESPACE"];

/// `git -C dir`, with stdin closed (a caller that writes to git sets its own) and no prompt.
pub(crate) fn git(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(dir).env("GIT_TERMINAL_PROMPT", "0").stdin(Stdio::null());
    for var in REDIRECTING_ENV {
        cmd.env_remove(var);
    }
    cmd
}
