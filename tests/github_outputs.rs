//! Step outputs (`GITHUB_OUTPUT`), the job summary (`GITHUB_STEP_SUMMARY`) and annotations, as
//! files the runner reads after the step.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use mongo_preflight::github::comment::RetryPolicy;
use mongo_preflight::github::summary::SUMMARY_LIMIT_BYTES;
use mongo_preflight::github::{self, ActionsEnv, MARKER, PublishOptions, Stream, outputs, summary};
use mongo_preflight::model::{
    ClusterReport, Diagnosis, Finding, HostReport, Note, RunReport, Severity, StageResult, Verdict,
};
use mongo_preflight::report::{Format, RenderContext};

/// Reads a `GITHUB_OUTPUT` file the way the runner does: `name=value` lines and
/// `name<<DELIMITER` … `DELIMITER` blocks.
fn parse_outputs(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.split('\n');
    while let Some(line) = lines.next() {
        if line.is_empty() {
            continue;
        }
        if let Some((name, delimiter)) = line.split_once("<<") {
            let mut value = Vec::new();
            for l in lines.by_ref() {
                if l == delimiter {
                    break;
                }
                value.push(l);
            }
            out.insert(name.to_string(), value.join("\n"));
        } else if let Some((name, value)) = line.split_once('=') {
            out.insert(name.to_string(), value.to_string());
        } else {
            panic!("the runner would reject this line: {line:?}");
        }
    }
    out
}

fn finding(i: usize, severity: Severity, new: bool) -> Finding {
    Finding {
        rule: mongo_preflight::catalog::rules::Rule::AllowInvalidCertificates,
        severity,
        path: format!("app/settings_{i}.py"),
        line: 3,
        column: 9,
        snippet: "MongoClient(uri, tlsAllowInvalidCertificates=True)".into(),
        new,
        waived: false,
        fingerprint: String::new(),
        message: String::new(),
    }
}

fn env_in(dir: &Path, in_actions: bool) -> ActionsEnv {
    let vars: HashMap<&str, String> = HashMap::from([
        ("GITHUB_ACTIONS", in_actions.to_string()),
        ("GITHUB_REPOSITORY", "octo-org/payments".to_string()),
        ("GITHUB_SERVER_URL", "https://github.com".to_string()),
        ("GITHUB_RUN_ID", "42".to_string()),
        ("GITHUB_STEP_SUMMARY", dir.join("summary.md").display().to_string()),
        ("GITHUB_OUTPUT", dir.join("output").display().to_string()),
    ]);
    ActionsEnv::from_lookup(|k| vars.get(k).cloned())
}

fn options(sarif: Option<&Path>) -> PublishOptions<'_> {
    PublishOptions {
        stdout_format: Format::Text,
        sarif_file: sarif,
        comment: false,
        retry: RetryPolicy::default(),
        comment_author: None,
    }
}

#[tokio::test]
async fn outputs_hold_verdict_counts_and_sarif_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("output"), "earlier=kept\n").expect("seed");
    let report = RunReport::new(
        vec![],
        vec![
            finding(1, Severity::Error, true),
            finding(2, Severity::Warning, false),
            finding(3, Severity::Warning, false),
        ],
        vec![Note { severity: Severity::Warning, message: "waiver for `x` expires in 3 days".into() }],
    );
    let sarif = PathBuf::from("reports/mongo-preflight.sarif");
    let published =
        github::publish_in(&env_in(dir.path(), true), &report, &RenderContext::default(), &options(Some(&sarif))).await;
    assert!(published.notes.is_empty(), "{:?}", published.notes);

    let outputs = parse_outputs(&std::fs::read_to_string(dir.path().join("output")).expect("output"));
    let expected: BTreeMap<String, String> = [
        ("earlier", "kept"),
        ("verdict", "fail"),
        ("errors", "1"),
        ("warnings", "3"),
        ("sarif-file", "reports/mongo-preflight.sarif"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(outputs, expected);
}

#[tokio::test]
async fn a_passing_run_without_sarif_has_an_empty_sarif_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = RunReport::new(vec![], vec![], vec![]);
    assert_eq!(report.verdict, Verdict::Pass);
    github::publish_in(&env_in(dir.path(), true), &report, &RenderContext::default(), &options(None)).await;
    let outputs = parse_outputs(&std::fs::read_to_string(dir.path().join("output")).expect("output"));
    assert_eq!(outputs.get("verdict").map(String::as_str), Some("pass"));
    assert_eq!(outputs.get("errors").map(String::as_str), Some("0"));
    assert_eq!(outputs.get("sarif-file").map(String::as_str), Some(""));
}

#[test]
fn multi_line_values_cannot_inject_another_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("output");
    let hostile = "first line\nverdict=pass\nEOF\nghadelimiter_\nlast";
    outputs::append(&path, &[("sarif-file", hostile.to_string()), ("verdict", "fail".to_string())]).expect("append");
    let text = std::fs::read_to_string(&path).expect("read");
    let header = text.lines().next().expect("first line");
    let delimiter = header.strip_prefix("sarif-file<<").expect("heredoc form");
    assert!(delimiter.starts_with("ghadelimiter_") && delimiter.len() == "ghadelimiter_".len() + 32, "{delimiter}");

    let parsed = parse_outputs(&text);
    assert_eq!(parsed.get("sarif-file").map(String::as_str), Some(hostile));
    assert_eq!(parsed.get("verdict").map(String::as_str), Some("fail"));

    // Another write picks another delimiter.
    outputs::append(&path, &[("x", "a\nb".to_string())]).expect("append");
    let again = std::fs::read_to_string(&path).expect("read");
    let second = again.lines().find(|l| l.starts_with("x<<")).expect("second heredoc");
    assert_ne!(second.trim_start_matches("x<<"), delimiter);
}

#[tokio::test]
async fn the_summary_is_appended_after_earlier_content() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("summary.md"), "## Build\nok\n").expect("seed");
    let report = RunReport::new(vec![], vec![finding(7, Severity::Error, true)], vec![]);
    github::publish_in(&env_in(dir.path(), true), &report, &RenderContext::default(), &options(None)).await;
    let text = std::fs::read_to_string(dir.path().join("summary.md")).expect("summary");
    assert!(text.starts_with("## Build\nok\n"), "{text}");
    assert!(text.contains(r"app/settings\_7.py"), "{text}");
    assert!(!text.contains(MARKER), "the hidden marker belongs to the comment only");
}

#[test]
fn the_summary_file_never_passes_one_mebibyte() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("summary.md");
    std::fs::write(&path, "x".repeat(1000) + "\n").expect("seed");
    let huge = "| a | b |\n".repeat(200_000);
    let cut = summary::append(&path, &huge).expect("append");
    assert!(cut);
    let text = std::fs::read_to_string(&path).expect("summary");
    assert!(text.len() <= SUMMARY_LIMIT_BYTES, "{} bytes", text.len());
    assert!(text.len() > SUMMARY_LIMIT_BYTES - 1000, "the room is used, {} bytes", text.len());
    assert!(text.trim_end().ends_with("for the full report."), "says it was cut");

    // Full already: another step's text is cut too, and the file stays within the limit.
    assert!(summary::append(&path, &"more text\n".repeat(100)).expect("append"));
    assert!(std::fs::metadata(&path).expect("meta").len() as usize <= SUMMARY_LIMIT_BYTES);
}

#[tokio::test]
async fn nothing_is_written_outside_actions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let report = RunReport::new(vec![], vec![finding(1, Severity::Error, true)], vec![]);
    let published =
        github::publish_in(&env_in(dir.path(), false), &report, &RenderContext::default(), &options(None)).await;
    assert!(published.notes.is_empty() && published.annotations.is_none());
    assert!(!dir.path().join("summary.md").exists());
    assert!(!dir.path().join("output").exists());
}

#[tokio::test]
async fn an_unwritable_output_file_is_a_warning_not_a_failure() {
    let dir = tempfile::tempdir().expect("tempdir");
    let vars: HashMap<&str, String> = HashMap::from([
        ("GITHUB_ACTIONS", "true".to_string()),
        ("GITHUB_OUTPUT", dir.path().join("missing-dir/output").display().to_string()),
    ]);
    let env = ActionsEnv::from_lookup(|k| vars.get(k).cloned());
    let report = RunReport::new(vec![], vec![], vec![]);
    let published = github::publish_in(&env, &report, &RenderContext::default(), &options(None)).await;
    assert_eq!(published.notes.len(), 1, "{:?}", published.notes);
    assert_eq!(published.notes[0].severity, Severity::Warning);
    assert!(published.notes[0].message.contains("step outputs"));
}

#[test]
fn annotations_are_printed_unless_stdout_has_them_and_keep_json_stdout_clean() {
    let report = RunReport::new(vec![], vec![finding(1, Severity::Error, true)], vec![]);
    let ctx = RenderContext::default();
    assert_eq!(github::annotations(&report, &ctx, Format::Github), None);
    assert!(matches!(github::annotations(&report, &ctx, Format::Text), Some((Stream::Stdout, _))));
    assert!(matches!(github::annotations(&report, &ctx, Format::Markdown), Some((Stream::Stdout, _))));
    assert!(matches!(github::annotations(&report, &ctx, Format::Json), Some((Stream::Stderr, _))));
    assert!(matches!(github::annotations(&report, &ctx, Format::Sarif), Some((Stream::Stderr, _))));
}

/// A report whose certificate subject tries to ping people, inject HTML and break tables.
fn hostile_report() -> RunReport {
    let subject = "CN=@octocat <img src=x onerror=alert(1)> `rm -rf` | evil, O=Corp";
    let diagnosis = Diagnosis {
        code: mongo_preflight::diagnose::codes::DiagnosisCode::CertSelfSigned,
        severity: Severity::Error,
        summary: format!("the server's certificate ({subject}) is self-signed"),
        evidence: format!("subject: {subject}; issuer: {subject}"),
        remedy: "Use a certificate from a CA the clients trust.".into(),
        waived: false,
    };
    let host = HostReport {
        host: "db.example.com".into(),
        port: 27017,
        address: "127.0.0.1:27017".into(),
        stages: [("tcp".to_string(), StageResult { ok: true, elapsed_ms: 3, details: Default::default() })].into(),
        diagnoses: vec![diagnosis],
    };
    let cluster = ClusterReport {
        name: "orders-prod".into(),
        uri: "mongodb://****@db.example.com/".into(),
        diagnoses: vec![],
        hosts: vec![host],
        required: true,
        policy_line: Some(3),
        shared: Vec::new(),
    };
    RunReport::new(vec![cluster], vec![], vec![])
}

/// Outside tables and code, the markdown the summary and comment carry must not hold a live
/// mention or raw HTML from the certificate.
#[test]
fn certificate_subjects_cannot_ping_or_inject_html_in_comment_or_summary() {
    let report = hostile_report();
    let ctx = RenderContext { run_url: Some("https://github.com/o/r/actions/runs/1".into()), ..Default::default() };
    let body = github::comment_body(&report, &ctx, 60_000);
    let summary = mongo_preflight::report::render(&report, Format::Markdown, &ctx);
    for text in [&body, &summary] {
        assert!(text.contains("octocat"), "the subject is shown: {text}");
        assert!(!text.contains("@octocat"), "a live @mention: {text}");
        assert!(!text.contains("<img"), "raw HTML: {text}");
        assert!(!text.contains("`rm -rf`"), "unescaped backticks: {text}");
    }
}
