//! What the tests that run the built binary share: a command with nothing from the caller's
//! environment steering it, and a watchdog. `mod support;` in a test file brings it in.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeSet;
use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_mongo-preflight");

/// The binary, with every variable removed that a developer's shell or a pull-request runner
/// sets and that would steer it: the GitHub event and context (`GITHUB_*`, `CI`), git's
/// overrides (`GIT_*`), our own settings (`MONGO_PREFLIGHT_*`), a log level, a real cluster, and
/// colour. A test sets back what it means to test.
pub fn mongo_preflight() -> Command {
    let mut cmd = Command::new(BIN);
    remove_caller_env(&mut cmd);
    cmd.env("NO_COLOR", "1");
    cmd
}

/// Removes those variables from any command (git too: `GIT_DIR` would point it elsewhere).
pub fn remove_caller_env(cmd: &mut Command) {
    for (key, _) in std::env::vars() {
        if key.starts_with("GITHUB_")
            || key.starts_with("GIT_")
            || key.starts_with("MONGO_PREFLIGHT_")
            || matches!(key.as_str(), "CI" | "RUST_LOG" | "MONGODB_URI" | "CLICOLOR" | "CLICOLOR_FORCE")
        {
            cmd.env_remove(key);
        }
    }
}

/// Like `Command::output`, but kills the child and fails the test if it has not exited within
/// `limit`: a regression that hangs must fail, not stall the suite.
pub fn output_within(mut cmd: Command, limit: Duration) -> Output {
    let mut child =
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn the binary");
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the binary") {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the binary ran longer than {limit:?} and was killed: {cmd:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output { status, stdout: stdout.join().expect("stdout reader"), stderr: stderr.join().expect("stderr reader") }
}

/// Every diagnosis of a JSON report: the clusters' own, then their hosts'.
pub fn all_diagnoses(json: &serde_json::Value) -> Vec<&serde_json::Value> {
    let mut out = Vec::new();
    for cluster in json["clusters"].as_array().into_iter().flatten() {
        out.extend(cluster["diagnoses"].as_array().into_iter().flatten());
        for host in cluster["hosts"].as_array().into_iter().flatten() {
            out.extend(host["diagnoses"].as_array().into_iter().flatten());
        }
    }
    out
}

/// The codes of a JSON report's diagnoses.
pub fn codes(json: &serde_json::Value) -> BTreeSet<String> {
    all_diagnoses(json).iter().map(|d| d["code"].as_str().unwrap_or_default().to_string()).collect()
}

/// The first diagnosis with `code`; panics showing the report otherwise.
pub fn diagnosis<'a>(json: &'a serde_json::Value, code: &str) -> &'a serde_json::Value {
    all_diagnoses(json).into_iter().find(|d| d["code"] == code).unwrap_or_else(|| panic!("no {code} in {json:#}"))
}

/// Runs git in `dir` with nothing of the caller's configuration or environment (`GIT_DIR` from a
/// hook that runs the tests, a global `user.name`, commit signing), `home` as its home; panics
/// with git's words when it fails.
pub fn git(dir: &std::path::Path, home: &std::path::Path, args: &[&str]) -> String {
    let mut cmd = Command::new("git");
    remove_caller_env(&mut cmd);
    let out = cmd
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"])
        .args(["-c", "core.symlinks=true", "-c", "init.defaultBranch=main"])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("HOME", home)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A `pull_request` event payload (number 7) whose base is `base_sha` on `main` of `octo/app`,
/// from a head in `head_repo` (another name is a fork).
pub fn pull_request_event(base_sha: &str, head_repo: &str) -> serde_json::Value {
    serde_json::json!({
        "action": "synchronize",
        "number": 7,
        "pull_request": {
            "number": 7,
            "user": {"login": "mona", "type": "User"},
            "base": {"sha": base_sha, "ref": "main", "repo": {"full_name": "octo/app"}},
            "head": {"sha": "0", "ref": "pr", "repo": {"full_name": head_repo}}
        }
    })
}
