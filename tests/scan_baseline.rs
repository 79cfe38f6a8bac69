//! `scan --base REF` in a temporary git repository: only what REF lacks fails.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::Path;
use std::process::Output;

use mongo_preflight::catalog::Documented;
use mongo_preflight::model::Severity;
use mongo_preflight::scan::{self, ScanOptions};

mod support;

/// git in `dir`, which is also its home.
fn git(dir: &Path, args: &[&str]) -> String {
    support::git(dir, dir, args)
}

/// The binary in `dir` (through tests/support: nothing of the caller's environment, and a
/// watchdog), with git reading no configuration but the repository's.
fn run_in(dir: &Path, args: &[&str]) -> Output {
    let mut cmd = support::mongo_preflight();
    cmd.current_dir(dir).env("HOME", dir).env("GIT_CONFIG_NOSYSTEM", "1").env("GIT_CONFIG_GLOBAL", "/dev/null");
    cmd.args(args);
    support::run(cmd)
}

fn write(root: &Path, rel: &str, content: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

const BASE_PY: &str =
    "from pymongo import MongoClient\n\nlegacy = MongoClient(URI, tlsAllowInvalidCertificates=True)\n";

/// A repository whose first commit already has one finding; returns that commit.
fn repo_with_legacy_finding(dir: &Path) -> String {
    git(dir, &["init", "-q", "-b", "main"]);
    write(dir, "app/db.py", BASE_PY);
    write(dir, "app/.env", "MONGODB_TLS_INSECURE=true\n");
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "legacy"]);
    git(dir, &["rev-parse", "HEAD"])
}

/// The scan, then the policy pass that weighs what it found, as `scan` and `check` run them:
/// the scanner only marks what the base already had.
fn scan_at(dir: &Path, base: &str) -> scan::ScanOutcome {
    let mut outcome =
        scan::run(&ScanOptions { root: dir.to_path_buf(), base: Some(base.to_string()), ..Default::default() })
            .unwrap();
    let today = time::OffsetDateTime::now_utc().date();
    mongo_preflight::policy::apply(&mongo_preflight::policy::Policy::default(), &mut [], &mut outcome.findings, today);
    outcome
}

#[test]
fn old_findings_are_warnings_even_when_moved_and_new_ones_fail() {
    let dir = tempfile::tempdir().unwrap();
    let base = repo_with_legacy_finding(dir.path());
    // Lines added above the old finding move it; a second finding is added below.
    let edited = format!("\"\"\"Docs.\"\"\"\nimport os\n\n{BASE_PY}fresh = MongoClient(URI, tlsInsecure=True)\n");
    write(dir.path(), "app/db.py", &edited);
    git(dir.path(), &["commit", "-q", "-am", "feature"]);

    let outcome = scan_at(dir.path(), "HEAD~1");
    let got: Vec<(&str, u32, &str, bool, Severity)> =
        outcome.findings.iter().map(|f| (f.path.as_str(), f.line, f.rule.id(), f.new, f.severity)).collect();
    assert_eq!(
        got,
        vec![
            ("app/.env", 1, "tls-insecure", false, Severity::Warning),
            ("app/db.py", 6, "allow-invalid-certificates", false, Severity::Warning),
            ("app/db.py", 7, "tls-insecure", true, Severity::Error),
        ]
    );
    // The same by commit id, and the working tree was never touched.
    assert_eq!(scan_at(dir.path(), &base).findings, outcome.findings);
    assert_eq!(git(dir.path(), &["status", "--porcelain"]), "");
    assert_eq!(std::fs::read_to_string(dir.path().join("app/db.py")).unwrap(), edited);
}

#[test]
fn without_new_findings_the_command_passes_and_with_one_it_fails() {
    let dir = tempfile::tempdir().unwrap();
    repo_with_legacy_finding(dir.path());
    write(dir.path(), "app/db.py", &format!("import os\n{BASE_PY}"));
    let pass = run_in(dir.path(), &["scan", "--format", "json", "--base", "main"]);
    assert_eq!(pass.status.code(), Some(0), "{}", String::from_utf8_lossy(&pass.stderr));
    let report: serde_json::Value = serde_json::from_slice(&pass.stdout).unwrap();
    assert_eq!(report["verdict"], "pass");
    assert_eq!(report["findings"].as_array().map(Vec::len), Some(2));
    assert!(report["findings"].as_array().unwrap().iter().all(|f| f["new"] == false && f["severity"] == "warning"));

    // Uncommitted changes count: the working tree is what is scanned.
    write(dir.path(), "deploy/.env.production", "MONGODB_TLS_ALLOW_INVALID_HOSTNAMES=true\n");
    let fail = run_in(dir.path(), &["scan", "--format", "json", "--base", "main"]);
    assert_eq!(fail.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&fail.stdout).unwrap();
    let new: Vec<&serde_json::Value> =
        report["findings"].as_array().unwrap().iter().filter(|f| f["new"] == true).collect();
    assert_eq!(new.len(), 1);
    assert_eq!(new[0]["path"], "deploy/.env.production");
    assert_eq!(new[0]["severity"], "error");
}

#[test]
fn a_copy_of_an_old_line_is_still_new() {
    let dir = tempfile::tempdir().unwrap();
    repo_with_legacy_finding(dir.path());
    write(dir.path(), "app/.env", "MONGODB_TLS_INSECURE=true\nMONGODB_TLS_INSECURE=true\n");
    let outcome = scan_at(dir.path(), "main");
    let news: Vec<bool> = outcome.findings.iter().filter(|f| f.path == "app/.env").map(|f| f.new).collect();
    assert_eq!(news, vec![false, true]);
}

#[test]
fn a_renamed_file_or_changed_line_counts_as_new() {
    let dir = tempfile::tempdir().unwrap();
    repo_with_legacy_finding(dir.path());
    git(dir.path(), &["mv", "app/.env", "app/.env.prod"]);
    write(dir.path(), "app/db.py", &BASE_PY.replace("legacy =", "client ="));
    let outcome = scan_at(dir.path(), "main");
    assert!(outcome.findings.iter().all(|f| f.new && f.severity == Severity::Error), "{:#?}", outcome.findings);
    assert_eq!(outcome.findings.len(), 2);
}

#[test]
fn the_root_may_be_a_subdirectory_of_the_repository() {
    let dir = tempfile::tempdir().unwrap();
    repo_with_legacy_finding(dir.path());
    write(dir.path(), "app/new.env", "MONGODB_TLS_INSECURE=true\n");
    let outcome = scan_at(&dir.path().join("app"), "main");
    let got: Vec<(&str, bool)> = outcome.findings.iter().map(|f| (f.path.as_str(), f.new)).collect();
    assert_eq!(got, vec![(".env", false), ("db.py", false), ("new.env", true)]);
}

#[test]
fn an_unknown_ref_exits_2_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    repo_with_legacy_finding(dir.path());
    let err = scan::run(&ScanOptions {
        root: dir.path().to_path_buf(),
        base: Some("origin/no-such-branch".to_string()),
        ..Default::default()
    })
    .unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("origin/no-such-branch"), "{err}");

    let out = run_in(dir.path(), &["scan", "--base", "v9.9.9"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown git ref `v9.9.9`"));
    assert!(out.stdout.is_empty());
}

#[test]
fn base_outside_a_repository_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), ".env", "MONGODB_TLS_INSECURE=true\n");
    let err =
        scan::run(&ScanOptions { root: dir.path().to_path_buf(), base: Some("main".into()), ..Default::default() })
            .unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("not inside a git repository"), "{err}");
}
