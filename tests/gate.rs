//! The gate in pull requests: the base commit's policy judges, against real git repositories.
//!
//! Each test builds an `origin` with a base commit and a pull-request branch, clones it the
//! way `actions/checkout` does (one commit deep), writes the event payload GitHub would, and
//! runs the real binary. Every bypass a pull request could try must fail with its finding
//! reported and the loosening listed; the legitimate paths must pass.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod support;

use support::git;

const INSECURE_PY: &str = "from pymongo import MongoClient\nclient = MongoClient(\"mongodb+srv://c.example.net/\", tlsAllowInvalidCertificates=True)\n";
const SAFE_PY: &str = "from pymongo import MongoClient\nclient = MongoClient(\"mongodb+srv://c.example.net/\")\n";

/// A day within the default 90-day waiver window, and one past it.
fn in_days(days: i64) -> String {
    (time::OffsetDateTime::now_utc().date() + time::Duration::days(days)).to_string()
}

struct Lab {
    dir: tempfile::TempDir,
    base_sha: String,
}

impl Lab {
    fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }
    fn event(&self) -> PathBuf {
        self.dir.path().join("event.json")
    }
}

/// Nothing from the developer's or CI's environment may steer a test: no GitHub event, no git
/// repository override, no log level, no real cluster.
fn clean_env(cmd: &mut Command, home: &Path) {
    support::remove_caller_env(cmd);
    cmd.env("HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env("NO_COLOR", "1");
}

fn write(root: &Path, files: &[(&str, &str)]) {
    for (path, content) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, content).expect("write");
    }
}

/// `origin` with `base` on main, and `head` applied on top of it on branch `pr`; a shallow
/// clone of `pr` in `work`, and a `pull_request` event naming the base commit.
fn pull_request(base: &[(&str, &str)], head: &[(&str, &str)], remove: &[&str]) -> Lab {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().to_path_buf();
    let origin = dir.path().join("origin");
    std::fs::create_dir_all(&origin).expect("mkdir");
    git(&origin, &home, &["init", "-q", "-b", "main"]);
    write(&origin, base);
    write(&origin, &[("README.md", "base\n")]);
    git(&origin, &home, &["add", "-A"]);
    git(&origin, &home, &["commit", "-qm", "base"]);
    git(&origin, &home, &["checkout", "-qb", "pr"]);
    write(&origin, head);
    for path in remove {
        git(&origin, &home, &["rm", "-q", path]);
    }
    write(&origin, &[("README.md", "changed by the pull request\n")]);
    git(&origin, &home, &["add", "-A"]);
    git(&origin, &home, &["commit", "-qm", "pull request"]);
    // The base branch moves on after the pull request was opened.
    git(&origin, &home, &["checkout", "-q", "main"]);
    write(&origin, &[("LATER.md", "later\n")]);
    git(&origin, &home, &["add", "-A"]);
    git(&origin, &home, &["commit", "-qm", "later on main"]);
    let base_sha_now = git(&origin, &home, &["rev-parse", "HEAD"]);
    let url = format!("file://{}", origin.display());
    git(dir.path(), &home, &["clone", "-q", "--depth", "1", "--branch", "pr", &url, "work"]);
    let lab = Lab { dir, base_sha: base_sha_now };
    write_event(&lab, "pull_request", &lab.base_sha, "octo/app");
    lab
}

fn write_event(lab: &Lab, event: &str, base_sha: &str, head_repo: &str) {
    let payload = if event == "merge_group" {
        serde_json::json!({"merge_group": {"base_sha": base_sha, "base_ref": "refs/heads/main", "head_sha": "0"}})
    } else {
        support::pull_request_event(base_sha, head_repo)
    };
    std::fs::write(lab.event(), payload.to_string()).expect("event");
}

fn check(lab: &Lab, event: Option<&str>, extra_env: &[(&str, &str)]) -> (Output, serde_json::Value) {
    let mut cmd = support::mongo_preflight();
    cmd.args(["check", "--format", "json"]).current_dir(lab.work());
    clean_env(&mut cmd, lab.dir.path());
    if let Some(event) = event {
        cmd.env("GITHUB_EVENT_NAME", event).env("GITHUB_EVENT_PATH", lab.event());
    }
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let out = support::run(cmd);
    // In Actions the report sits inside the workflow-command fence: read what is between.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    let report = match lines.iter().position(|l| l.starts_with("::stop-commands::")) {
        Some(open) => {
            let token = lines[open].trim_start_matches("::stop-commands::");
            let close = lines.iter().position(|l| *l == format!("::{token}::")).unwrap_or(lines.len());
            lines[open + 1..close].join("\n")
        }
        None => stdout.to_string(),
    };
    let json = serde_json::from_str(&report).unwrap_or(serde_json::Value::Null);
    (out, json)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `(path, line, rule, new)` of every unwaived error finding.
fn failing(json: &serde_json::Value) -> Vec<(String, u64, String, bool)> {
    json["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["severity"] == "error" && f["waived"] == false)
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or_default(),
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["new"].as_bool().unwrap_or_default(),
            )
        })
        .collect()
}

fn changes(json: &serde_json::Value) -> Vec<(String, String)> {
    json["policy"]["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| (c["kind"].as_str().unwrap_or_default().to_string(), c["detail"].as_str().unwrap_or_default().into()))
        .collect()
}

const BASE_POLICY: &str = "version: 1\n";

/// A bypass must fail: exit 1, the insecure line reported as new, the loosening listed.
fn assert_bypass_fails(head_policy_and_files: &[(&str, &str)], kind: &str, detail_part: &str) {
    let mut head = vec![("app/db.py", INSECURE_PY)];
    head.extend_from_slice(head_policy_and_files);
    let lab = pull_request(&[("mongo-preflight.yml", BASE_POLICY), ("app/db.py", SAFE_PY)], &head, &[]);
    let (out, json) = check(&lab, Some("pull_request"), &[]);
    assert_eq!(out.status.code(), Some(1), "{}\n{json:#}", stderr(&out));
    assert_eq!(failing(&json), [("app/db.py".to_string(), 2, "allow-invalid-certificates".to_string(), true)]);
    assert_eq!(json["policy"]["source"], "base");
    let listed = changes(&json);
    assert!(listed.iter().any(|(k, d)| k == kind && d.contains(detail_part)), "{kind} `{detail_part}` in {listed:?}");
}

#[test]
fn bypass_scan_base_head_still_fails_and_is_listed() {
    assert_bypass_fails(
        &[("mongo-preflight.yml", "version: 1\nscan: {base: HEAD}\n")],
        "scan-narrowed",
        "`scan.base` set to `HEAD`",
    );
}

#[test]
fn bypass_scan_exclude_still_fails_and_is_listed() {
    assert_bypass_fails(
        &[("mongo-preflight.yml", "version: 1\nscan:\n  exclude: [\"*.py\", \"app/**\"]\n")],
        "scan-narrowed",
        "`scan.exclude` adds `app/**`",
    );
}

#[test]
fn bypass_scan_paths_still_fails_and_is_listed() {
    assert_bypass_fails(
        &[("mongo-preflight.yml", "version: 1\nscan:\n  paths: [docs]\n"), ("docs/x.md", "x\n")],
        "scan-narrowed",
        "limits the scan to `docs`",
    );
}

#[test]
fn bypass_lowered_severity_still_fails_and_is_listed() {
    let policy = format!(
        "version: 1\nseverity:\n  allow-invalid-certificates: {{level: info, reason: fine, expires: {}}}\n",
        in_days(30)
    );
    assert_bypass_fails(
        &[("mongo-preflight.yml", &policy)],
        "severity-lowered",
        "`allow-invalid-certificates` lowered from error to info",
    );
}

#[test]
fn bypass_new_waiver_still_fails_and_is_listed() {
    let policy = format!(
        "version: 1\nallow:\n  - rule: allow-invalid-certificates\n    reason: trust me\n    expires: {}\n",
        in_days(30)
    );
    assert_bypass_fails(
        &[("mongo-preflight.yml", &policy)],
        "waiver-added",
        "waives rule `allow-invalid-certificates`",
    );
}

#[test]
fn bypass_mongo_preflight_ignore_entry_still_fails_and_is_listed() {
    assert_bypass_fails(
        &[(".mongo-preflight-ignore", "app/\n")],
        "ignore-added",
        "`.mongo-preflight-ignore` adds `app/`",
    );
    assert_bypass_fails(
        &[("app/.mongo-preflight-ignore", "db.py\n")],
        "ignore-added",
        "`app/.mongo-preflight-ignore` adds `db.py`",
    );
}

#[test]
fn bypass_removing_the_policy_still_fails_and_lists_the_cluster() {
    let base = "version: 1\nclusters:\n  - name: orders\n    uri: \"mongodb://127.0.0.1:1/\"\n    required: false\n";
    let lab = pull_request(
        &[("mongo-preflight.yml", base), ("app/db.py", SAFE_PY)],
        &[("app/db.py", INSECURE_PY)],
        &["mongo-preflight.yml"],
    );
    let (out, json) = check(&lab, Some("pull_request"), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(failing(&json).len(), 1);
    assert!(
        changes(&json).iter().any(|(k, d)| k == "cluster-removed" && d.contains("`orders`")),
        "{:?}",
        changes(&json)
    );
}

#[test]
fn an_invalid_policy_in_the_pull_request_exits_2_with_its_location() {
    // A plain lowering and a waiver that never ends are policy errors, wherever they are.
    for (policy, at) in [
        ("version: 1\nseverity:\n  allow-invalid-certificates: info\n".to_string(), "mongo-preflight.yml:3:31:"),
        (
            "version: 1\nallow:\n  - rule: allow-invalid-certificates\n    reason: r\n    expires: 9999-12-31\n"
                .to_string(),
            "mongo-preflight.yml:5:14:",
        ),
    ] {
        let lab = pull_request(
            &[("mongo-preflight.yml", BASE_POLICY), ("app/db.py", SAFE_PY)],
            &[("app/db.py", INSECURE_PY), ("mongo-preflight.yml", &policy)],
            &[],
        );
        let (out, _) = check(&lab, Some("pull_request"), &[]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains(at), "{at} in {}", stderr(&out));
        assert!(out.stdout.is_empty(), "nothing half-written");
    }
}

#[test]
fn an_existing_finding_does_not_fail_a_pull_request_that_does_not_touch_it() {
    let lab = pull_request(
        &[("mongo-preflight.yml", BASE_POLICY), ("legacy/old.py", INSECURE_PY)],
        &[("app/new.py", SAFE_PY)],
        &[],
    );
    let (out, json) = check(&lab, Some("pull_request"), &[]);
    assert_eq!(out.status.code(), Some(0), "{}\n{json:#}", stderr(&out));
    let finding = &json["findings"][0];
    assert_eq!(
        (finding["path"].as_str(), finding["new"].as_bool(), finding["severity"].as_str()),
        (Some("legacy/old.py"), Some(false), Some("warning"))
    );
    // The shallow clone was deepened to find the merge base: no fallback notice.
    let notes = json["notes"].to_string();
    assert!(!notes.contains("counts as new"), "{notes}");
}

#[test]
fn an_in_cap_waiver_passes_outside_a_pull_request() {
    let policy = format!(
        "version: 1\nallow:\n  - rule: allow-invalid-certificates\n    path: \"app/**\"\n    reason: local docker\n    expires: {}\n",
        in_days(60)
    );
    let lab = pull_request(
        &[("mongo-preflight.yml", BASE_POLICY)],
        &[("mongo-preflight.yml", &policy), ("app/db.py", INSECURE_PY)],
        &[],
    );
    let (out, json) = check(&lab, None, &[]);
    assert_eq!(out.status.code(), Some(0), "{}\n{json:#}", stderr(&out));
    assert_eq!(json["policy"]["source"], "working-tree");
    assert_eq!(json["policy"]["waivers"][0]["covered"], 1);
    assert_eq!(json["policy"]["waivers"][0]["reason"], "local docker");
}

#[test]
fn an_over_cap_waiver_outside_a_pull_request_exits_2_with_its_location() {
    let policy = format!(
        "version: 1\nallow:\n  - rule: allow-invalid-certificates\n    reason: r\n    expires: {}\n",
        in_days(91)
    );
    let lab = pull_request(&[("mongo-preflight.yml", BASE_POLICY)], &[("mongo-preflight.yml", &policy)], &[]);
    let (out, _) = check(&lab, None, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("mongo-preflight.yml:5:14: `expires:"), "{}", stderr(&out));
    assert!(stderr(&out).contains("(`max_waiver_days` is 90)"), "{}", stderr(&out));
}

#[test]
fn an_unavailable_base_falls_back_to_the_working_tree_and_never_exits_2() {
    let lab = pull_request(&[("mongo-preflight.yml", BASE_POLICY), ("legacy/old.py", INSECURE_PY)], &[], &[]);
    // A base commit that exists nowhere: not here, not at origin, and no API to ask.
    write_event(&lab, "pull_request", "1234567890abcdef1234567890abcdef12345678", "octo/app");
    let (out, json) = check(&lab, Some("pull_request"), &[]);
    assert_eq!(out.status.code(), Some(1), "judged by the verdict: {}", stderr(&out));
    assert_eq!(json["policy"]["source"], "working-tree");
    let notes = json["notes"].to_string();
    assert!(notes.contains("the base commit's policy could not be read"), "{notes}");
    assert!(notes.contains("every finding counts as new"), "{notes}");
    assert_eq!(failing(&json), [("legacy/old.py".to_string(), 2, "allow-invalid-certificates".to_string(), true)]);
}

#[test]
fn a_fork_pull_request_without_secrets_still_scans_and_writes_the_summary() {
    let policy = "version: 1\nclusters:\n  - name: orders\n    uri_env: ORDERS_URI\n";
    let lab =
        pull_request(&[("mongo-preflight.yml", policy), ("app/db.py", SAFE_PY)], &[("app/db.py", INSECURE_PY)], &[]);
    write_event(&lab, "pull_request", &lab.base_sha.clone(), "someone/app");
    let summary = lab.dir.path().join("summary.md");
    let summary_env = summary.display().to_string();
    let (out, json) =
        check(&lab, Some("pull_request"), &[("GITHUB_ACTIONS", "true"), ("GITHUB_STEP_SUMMARY", &summary_env)]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(failing(&json).len(), 1, "the scan ran");
    assert_eq!(json["clusters"], serde_json::json!([]));
    assert!(json["notes"].to_string().contains("cluster `orders` was not probed: `ORDERS_URI`"), "{}", json["notes"]);
    let markdown = std::fs::read_to_string(&summary).expect("summary written");
    assert!(markdown.contains("app/db.py:2 adds"), "{markdown}");
}

#[test]
fn a_fork_pull_request_without_secrets_does_not_ask_atlas() {
    let policy = "version: 1\nclusters:\n  - name: orders\n    uri_env: ORDERS_URI\natlas:\n  project_id: 65a1b2c3d4e5f6a7b8c9d0e1\n";
    let lab = pull_request(&[("mongo-preflight.yml", policy), ("app/db.py", SAFE_PY)], &[("app/db.py", SAFE_PY)], &[]);
    write_event(&lab, "pull_request", &lab.base_sha.clone(), "someone/app");
    // Atlas and the egress-IP lookup (which defaults to a public URL) both point at a stand-in
    // that records every request: a run that asked either fails here.
    let atlas = support::Recorder::start();
    let ip_echo = support::Recorder::start();
    let (out, json) = check(
        &lab,
        Some("pull_request"),
        &[("MONGODB_ATLAS_BASE_URL", &atlas.url), ("MONGO_PREFLIGHT_IP_ECHO_URL", &format!("{}/ip", ip_echo.url))],
    );
    assert_eq!(atlas.requests(), Vec::<String>::new(), "Atlas was asked");
    assert_eq!(ip_echo.requests(), Vec::<String>::new(), "the egress IP was looked up");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        json["notes"].to_string().contains("the Atlas project was not asked: this run gets no secrets"),
        "{}",
        json["notes"]
    );
}

#[test]
fn a_merge_queue_entry_is_judged_by_its_base() {
    let policy = format!(
        "version: 1\nallow:\n  - rule: allow-invalid-certificates\n    reason: r\n    expires: {}\n",
        in_days(10)
    );
    let lab = pull_request(
        &[("mongo-preflight.yml", BASE_POLICY), ("app/db.py", SAFE_PY)],
        &[("app/db.py", INSECURE_PY), ("mongo-preflight.yml", &policy)],
        &[],
    );
    write_event(&lab, "merge_group", &lab.base_sha.clone(), "octo/app");
    let (out, json) = check(&lab, Some("merge_group"), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(json["policy"]["source"], "base");
    assert!(changes(&json).iter().any(|(k, _)| k == "waiver-added"));
}

#[test]
fn the_comment_leads_with_the_change() {
    let lab = pull_request(
        &[("mongo-preflight.yml", BASE_POLICY), ("app/db.py", SAFE_PY), ("legacy/old.py", INSECURE_PY)],
        &[("app/db.py", INSECURE_PY), ("mongo-preflight.yml", "version: 1\nscan: {exclude: [\"app/**\"]}\n")],
        &[],
    );
    let mut cmd = support::mongo_preflight();
    cmd.args(["check", "--format", "markdown"]).current_dir(lab.work());
    clean_env(&mut cmd, lab.dir.path());
    cmd.env("GITHUB_EVENT_NAME", "pull_request").env("GITHUB_EVENT_PATH", lab.event());
    let out = support::run(cmd);
    let markdown = String::from_utf8_lossy(&out.stdout);
    let at = |needle: &str| markdown.find(needle).unwrap_or_else(|| panic!("`{needle}` in {markdown}"));
    let order = [
        at("app/db.py:2 adds <code>tlsAllowInvalidCertificates</code>"),
        at("### New findings (1)"),
        at("### ⚠️ This pull request loosens the gate (1)"),
        at("### Existing and waived findings (1)"),
    ];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?} in {markdown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_git_access_to_the_base_the_contents_api_supplies_its_policy() {
    use wiremock::matchers::{header, method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let lab = pull_request(
        &[("mongo-preflight.yml", BASE_POLICY), ("app/db.py", SAFE_PY)],
        &[("app/db.py", INSECURE_PY), ("mongo-preflight.yml", "version: 1\nscan: {exclude: [\"app/**\"]}\n")],
        &[],
    );
    // No remote to fetch the base commit from: only the API is left.
    git(&lab.work(), lab.dir.path(), &["remote", "remove", "origin"]);
    let sha = lab.base_sha.clone();
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/repos/octo/app/git/trees/{sha}")))
        .and(query_param("recursive", "1"))
        .and(header("authorization", "Bearer ghs_test_token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "sha": sha, "url": "https://api.github.com/x", "truncated": false,
            "tree": [
                {"path": "README.md", "mode": "100644", "type": "blob", "sha": "a", "size": 5},
                {"path": "app", "mode": "040000", "type": "tree", "sha": "b"},
                {"path": "app/db.py", "mode": "100644", "type": "blob", "sha": "c", "size": 80},
                {"path": "mongo-preflight.yml", "mode": "100644", "type": "blob", "sha": "d", "size": 11}
            ]
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/octo/app/contents/mongo-preflight.yml"))
        .and(query_param("ref", sha.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_string(BASE_POLICY))
        .expect(1)
        .mount(&server)
        .await;
    let uri = server.uri();
    let env = [("GITHUB_API_URL", uri.as_str()), ("GITHUB_REPOSITORY", "octo/app"), ("GITHUB_TOKEN", "ghs_test_token")];
    // The binary runs while the stand-in keeps answering on the other worker.
    let (out, json) = tokio::task::block_in_place(|| check(&lab, Some("pull_request"), &env));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(json["policy"]["source"], "base");
    assert_eq!(failing(&json).len(), 1, "the PR's exclude does not hide its own finding");
    assert!(changes(&json).iter().any(|(k, d)| k == "scan-narrowed" && d.contains("app/**")));
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(!all.contains("ghs_test_token"), "the token never shows");
}

/// A bypass through the files themselves: exit 1 and the insecure line reported at `path:line`.
fn assert_file_bypass_fails(
    base: &[(&str, &str)],
    head: &[(&str, &str)],
    path: &str,
    line: u64,
    prepare: impl Fn(&Path),
) {
    let mut base = base.to_vec();
    base.push(("mongo-preflight.yml", BASE_POLICY));
    let lab = pull_request(&base, head, &[]);
    prepare(&lab.work());
    let (out, json) = check(&lab, Some("pull_request"), &[]);
    assert_eq!(out.status.code(), Some(1), "{}\n{json:#}", stderr(&out));
    assert_eq!(failing(&json), [(path.to_string(), line, "allow-invalid-certificates".to_string(), true)]);
}

#[test]
fn bypass_gitignore_or_ignore_entry_for_a_tracked_file_still_fails() {
    // `git add -f` tracks a file that .gitignore names; .ignore is ripgrep's ignore file.
    for ignore in [".gitignore", ".ignore"] {
        let lab = pull_request(&[("mongo-preflight.yml", BASE_POLICY)], &[(ignore, "app/\n")], &[]);
        write(&lab.work(), &[("app/db.py", INSECURE_PY)]);
        git(&lab.work(), lab.dir.path(), &["add", "-f", "app/db.py"]);
        let (out, json) = check(&lab, Some("pull_request"), &[]);
        assert_eq!(out.status.code(), Some(1), "{ignore}: {}", stderr(&out));
        assert_eq!(failing(&json), [("app/db.py".to_string(), 2, "allow-invalid-certificates".to_string(), true)]);
    }
}

#[test]
fn bypass_padding_past_4_mib_still_fails() {
    let padded = format!("{}{INSECURE_PY}", "# padding\n".repeat(450_000));
    assert_file_bypass_fails(&[], &[("app/db.py", &padded)], "app/db.py", 450_002, |_| {});
}

#[test]
fn bypass_nul_byte_still_fails() {
    let with_nul = format!("\0\n{INSECURE_PY}");
    assert_file_bypass_fails(&[], &[("app/db.py", &with_nul)], "app/db.py", 3, |_| {});
}

#[cfg(unix)]
#[test]
fn bypass_symlink_into_an_excluded_directory_still_fails() {
    // The base excludes vendor/; the pull request reaches a vendored file through a link.
    let lab = pull_request(
        &[("mongo-preflight.yml", "version: 1\nscan:\n  exclude: [\"vendor/**\"]\n"), ("vendor/x.py", INSECURE_PY)],
        &[],
        &[],
    );
    let work = lab.work();
    std::fs::create_dir_all(work.join("app")).expect("mkdir");
    std::os::unix::fs::symlink("../vendor/x.py", work.join("app/db.py")).expect("symlink");
    git(&work, lab.dir.path(), &["add", "app/db.py"]);
    let (out, json) = check(&lab, Some("pull_request"), &[]);
    assert_eq!(out.status.code(), Some(1), "{}\n{json:#}", stderr(&out));
    assert_eq!(failing(&json), [("app/db.py".to_string(), 2, "allow-invalid-certificates".to_string(), true)]);
}
