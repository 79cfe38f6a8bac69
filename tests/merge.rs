//! `mongo-preflight merge`: the reports of `check --shard I/N` jobs (one of them failing) become
//! one report with one verdict, its totals and every format; the partial locks of
//! `lock --shard I/N` become the lock one run writes; the scheduled issues are opened and
//! closed from the merged report.

mod lab;
mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lab::atlas_org::{self as org, OrgLab, Shape};
use mongo_preflight::catalog::Documented;
use mongo_preflight::catalog::codes::DiagnosisCode;
use mongo_preflight::model::{ClusterReport, Diagnosis, RunReport};
use serde_json::{Value, json};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const LIMIT: Duration = Duration::from_secs(120);

fn policy(dir: &Path) {
    let text = format!("version: 1\natlas:\n  organization_id: {}\n", org::ORG_ID);
    std::fs::write(dir.join("mongo-preflight.yml"), text).expect("policy");
}

/// Runs the binary in `dir` with the stand-in's environment; (exit code, stdout, stderr).
fn run(dir: &Path, lab: &OrgLab, args: &[&str], env: &[(&str, String)]) -> (i32, String, String) {
    let mut cmd = support::mongo_preflight();
    cmd.current_dir(dir).args(args);
    for (k, v) in lab.env() {
        cmd.env(k, v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = support::output_within(cmd, LIMIT);
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned());
    for text in [&stdout, &stderr] {
        // In Actions the secret is masked first, by name: that line is the only one allowed to hold it.
        let text: String = text.lines().filter(|l| !l.starts_with("::add-mask::")).collect::<Vec<_>>().join("\n");
        assert!(!text.contains(org::CLIENT_SECRET) && !text.contains(org::TOKEN_PREFIX), "a secret leaked: {text}");
    }
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

fn with_probe_args<'a>(lab: &'a OrgLab, args: &[&'a str], extra: &'a [String]) -> Vec<&'a str> {
    let _ = lab;
    args.iter().copied().chain(extra.iter().map(String::as_str)).collect()
}

#[test]
fn the_reports_of_shards_with_a_failing_one_merge_into_one_failing_report_in_every_format() {
    let lab = OrgLab::start(&Shape::small(2, 4));
    lab.with(|s| s.cluster("p002", "c0006")["paused"] = Value::Bool(true));
    let dir = tempfile::tempdir().expect("tempdir");
    policy(dir.path());
    let probe = lab.probe_args();
    let mut codes = Vec::new();
    for i in 1..=2 {
        let shard = format!("{i}/2");
        let output = format!("report-{i}.json");
        let args =
            with_probe_args(&lab, &["check", "--format", "json", "--shard", &shard, "--output", &output], &probe);
        let (code, _, stderr) = run(dir.path(), &lab, &args, &[]);
        codes.push(code);
        assert!(code == 0 || code == 1, "{stderr}");
    }
    codes.sort();
    assert_eq!(codes, [0, 1], "exactly one share holds the paused cluster and fails");

    let summary = dir.path().join("summary.md");
    let outputs = dir.path().join("outputs.txt");
    let actions = [
        ("GITHUB_ACTIONS", "true".to_string()),
        ("GITHUB_STEP_SUMMARY", summary.display().to_string()),
        ("GITHUB_OUTPUT", outputs.display().to_string()),
    ];
    let (code, stdout, stderr) = run(
        dir.path(),
        &lab,
        &["merge", "--format", "json", "--sarif", "merged.sarif", "report-1.json", "report-2.json"],
        &actions,
    );
    assert_eq!(code, 1, "the merged verdict fails: {stdout}\n{stderr}");
    let merged: Value = serde_json::from_str(&stdout).expect("merged JSON on stdout");
    assert_eq!(merged["verdict"], "fail");
    let names: Vec<&str> =
        merged["clusters"].as_array().expect("clusters").iter().filter_map(|c| c["name"].as_str()).collect();
    let unique: BTreeSet<&str> = names.iter().copied().collect();
    assert_eq!(names.len(), 8, "{names:?}");
    assert_eq!(unique.len(), 8);
    // The discovery note every share wrote is there once.
    let notes = merged["notes"].to_string();
    assert_eq!(notes.matches("8 clusters discovered in 2 projects").count(), 1, "{notes}");
    let outputs = std::fs::read_to_string(&outputs).expect("step outputs");
    assert!(outputs.contains("verdict=fail") && outputs.contains("errors=1"), "{outputs}");
    let summary = std::fs::read_to_string(&summary).expect("job summary");
    assert!(summary.contains("p002/c0006") && summary.contains("atlas-cluster-paused"), "{summary}");
    let sarif: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("merged.sarif")).expect("sarif"))
        .expect("sarif json");
    assert!(sarif["runs"][0]["results"].to_string().contains("atlas-cluster-paused"));

    let (code, markdown, _) =
        run(dir.path(), &lab, &["merge", "--format", "markdown", "report-1.json", "report-2.json"], &[]);
    assert_eq!(code, 1);
    assert!(markdown.contains("p001/c0001") && markdown.contains("p002/c0006"), "{markdown}");

    // The same share twice is refused: a cluster would count twice.
    std::fs::copy(dir.path().join("report-1.json"), dir.path().join("again.json")).expect("copy");
    let (code, _, stderr) = run(dir.path(), &lab, &["merge", "report-1.json", "again.json", "report-2.json"], &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("were two jobs given the same --shard?"), "{stderr}");
}

#[test]
fn partial_locks_merge_into_the_lock_one_run_writes() {
    let lab = OrgLab::start(&Shape::small(3, 3));
    let dir = tempfile::tempdir().expect("tempdir");
    policy(dir.path());
    let probe = lab.probe_args();
    let lock_file = dir.path().join("mongo-preflight.lock");
    let (code, _, stderr) = run(dir.path(), &lab, &with_probe_args(&lab, &["lock"], &probe), &[]);
    assert_eq!(code, 0, "{stderr}");
    let whole = std::fs::read_to_string(&lock_file).expect("lock");
    std::fs::remove_file(&lock_file).expect("remove");

    let mut partials = Vec::new();
    for i in 1..=3 {
        let shard = format!("{i}/3");
        let (code, _, stderr) =
            run(dir.path(), &lab, &with_probe_args(&lab, &["lock", "--shard", &shard], &probe), &[]);
        assert_eq!(code, 0, "{stderr}");
        partials.push(format!("mongo-preflight.lock.{i}-of-3"));
    }
    assert!(!lock_file.exists(), "a share writes only its partial lock");

    // A missing share writes nothing.
    let (code, _, stderr) = run(dir.path(), &lab, &["merge", &partials[0], &partials[2]], &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("share 2/3 is missing"), "{stderr}");
    assert!(!lock_file.exists());

    let args: Vec<&str> = std::iter::once("merge").chain(partials.iter().map(String::as_str)).collect();
    let (code, _, stderr) = run(dir.path(), &lab, &args, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(std::fs::read_to_string(&lock_file).expect("merged lock"), whole, "the merged lock is the whole lock");
}

// The scheduled issues, from a merged report, against an in-memory GitHub issues API.

const TOKEN: &str = "ghs_MergeIssueTokenThatMustNeverLeak0123";
const OWNER: &str = "octo-org";
const REPO: &str = "platform";
const BOT: &str = "github-actions[bot]";

#[derive(Clone, Default)]
struct FakeGitHub {
    issues: Arc<Mutex<Vec<Value>>>,
}

fn issue_json(number: u64, title: &str, body: &str) -> Value {
    json!({
        "url": format!("https://api.github.com/repos/{OWNER}/{REPO}/issues/{number}"),
        "html_url": format!("https://github.com/{OWNER}/{REPO}/issues/{number}"),
        "id": 3_000_000 + number, "node_id": format!("I_kwDOMERGE{number}"), "number": number,
        "title": title, "user": {"login": BOT, "id": 41898282, "type": "Bot"}, "labels": [], "state": "open",
        "locked": false, "comments": 0, "created_at": "2026-11-20T09:30:00Z", "updated_at": "2026-11-20T09:30:00Z",
        "closed_at": null, "author_association": "NONE", "body": body
    })
}

impl Respond for FakeGitHub {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut issues = self.issues.lock().expect("issues");
        let auth = request.headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
        if auth != format!("Bearer {TOKEN}") {
            return ResponseTemplate::new(401).set_body_json(json!({"message": "Bad credentials"}));
        }
        let path = request.url.path().to_string();
        let list = format!("/repos/{OWNER}/{REPO}/issues");
        let body = || serde_json::from_slice::<Value>(&request.body).expect("json body");
        match (request.method.as_str(), path.as_str()) {
            ("GET", p) if p == list => {
                let open: Vec<Value> = issues.iter().filter(|i| i["state"] == "open").cloned().collect();
                ResponseTemplate::new(200).set_body_json(Value::Array(open))
            }
            ("POST", p) if p == list => {
                let b = body();
                let created = issue_json(
                    100 + issues.len() as u64,
                    b["title"].as_str().unwrap_or_default(),
                    b["body"].as_str().unwrap_or_default(),
                );
                issues.push(created.clone());
                ResponseTemplate::new(201).set_body_json(created)
            }
            ("PATCH", p) if p.starts_with(&format!("{list}/")) => {
                let number: u64 = p[list.len() + 1..].parse().unwrap_or(0);
                let b = body();
                match issues.iter_mut().find(|i| i["number"] == json!(number)) {
                    Some(i) => {
                        for key in ["title", "body", "state"] {
                            if let Some(v) = b.get(key) {
                                i[key] = v.clone();
                            }
                        }
                        ResponseTemplate::new(200).set_body_json(i.clone())
                    }
                    None => ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})),
                }
            }
            _ => ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})),
        }
    }
}

fn cluster(name: &str, regressed: bool) -> ClusterReport {
    let diagnoses = regressed
        .then(|| Diagnosis {
            code: DiagnosisCode::TlsRegression,
            severity: DiagnosisCode::TlsRegression.default_severity(),
            summary: format!("`{name}` is weaker than its lock: TLS floor 1.2 → 1.0"),
            evidence: "min_tls_version: lock 1.2 → observed 1.0".to_string(),
            remedy: "Raise the minimum TLS version back.".to_string(),
            waived: false,
        })
        .into_iter()
        .collect();
    ClusterReport {
        name: name.to_string(),
        uri: "mongodb+srv://c.example.mongodb.net/".to_string(),
        diagnoses,
        hosts: Vec::new(),
        required: true,
        policy_line: None,
        shared: Vec::new(),
    }
}

#[tokio::test]
async fn the_scheduled_issues_are_opened_and_closed_from_the_merged_report() {
    let server = MockServer::start().await;
    let recovered = mongo_preflight::github::issue::marker("payments/Cluster1");
    let fake = FakeGitHub {
        issues: Arc::new(Mutex::new(vec![issue_json(
            7,
            &mongo_preflight::github::issue::title("payments/Cluster1"),
            &format!("{recovered}\nregressed"),
        )])),
    };
    Mock::given(any()).respond_with(fake.clone()).mount(&server).await;
    let dir = tempfile::tempdir().expect("tempdir");
    // Share 1 holds the regressed cluster, share 2 the one back at its floor.
    let shares = [
        RunReport::new(vec![cluster("shop/Cluster0", true), cluster("shop/Cluster2", false)], Vec::new(), Vec::new()),
        RunReport::new(vec![cluster("payments/Cluster1", false)], Vec::new(), Vec::new()),
    ];
    for (i, report) in shares.iter().enumerate() {
        std::fs::write(dir.path().join(format!("r{i}.json")), serde_json::to_string(report).expect("json"))
            .expect("write");
    }
    let mut cmd = support::mongo_preflight();
    cmd.current_dir(dir.path())
        .args(["merge", "--issue", "--format", "text", "r0.json", "r1.json"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_API_URL", server.uri())
        .env("GITHUB_REPOSITORY", format!("{OWNER}/{REPO}"))
        .env("GITHUB_TOKEN", TOKEN)
        .env("GITHUB_EVENT_NAME", "schedule")
        .env("MONGO_PREFLIGHT_COMMENT_AUTHOR", BOT);
    let out = tokio::task::spawn_blocking(move || support::output_within(cmd, LIMIT)).await.expect("merge");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN), "the token leaked");
    assert_eq!(out.status.code(), Some(1), "a regression fails the merged run: {stdout}\n{stderr}");
    let issues = fake.issues.lock().expect("issues").clone();
    let opened: Vec<&Value> = issues.iter().filter(|i| i["state"] == "open").collect();
    assert_eq!(opened.len(), 1, "{issues:#?}");
    assert!(opened[0]["title"].as_str().is_some_and(|t| t.contains("shop/Cluster0")), "{issues:#?}");
    let closed = issues.iter().find(|i| i["number"] == 7).expect("issue 7");
    assert_eq!(closed["state"], "closed", "the cluster back at its floor, in the other share, closes its issue");
    assert!(stderr.contains("opened issue #101") && stderr.contains("closed issue #7"), "{stderr}");
}
