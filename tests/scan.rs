//! The scanner against its fixture corpus, and the `scan` command end to end.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use mongo_preflight::catalog::Documented;
use mongo_preflight::model::Severity;
use mongo_preflight::scan::{self, ScanOptions};

mod support;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scan/corpus")
}

/// Expectations of files whose format has no comment to carry an `expect:` marker (or, for
/// the one-line bundles, no room for one).
const UNMARKED: &[(&str, u32, &str)] = &[
    ("config/application.properties", 2, "tls-insecure"),
    ("config/application.properties", 3, "tls-insecure"),
    ("config/application.properties", 5, "tls-disabled-for-remote-host"),
    ("config/appsettings.json", 3, "allow-invalid-certificates"),
    ("config/appsettings.json", 4, "tls-insecure"),
    ("config/ecs-task.json", 5, "tls-insecure"),
    ("config/mongo-settings.json", 4, "tls-insecure"),
    ("config/restore-args.json", 2, "allow-invalid-certificates"),
    ("config/restore-args.json", 3, "allow-invalid-hostnames"),
    ("logs/captured.jsonl", 2, "allow-invalid-hostnames"),
    ("vendor/driver.min.js", 1, "allow-invalid-certificates"),
    ("vendor/mongo-bundle.js", 1, "allow-invalid-certificates"),
];

/// Every `expect: rule[, rule]` marker in the corpus's source files, as (path, line, rule).
fn expected() -> BTreeSet<(String, u32, String)> {
    let mut want: BTreeSet<(String, u32, String)> =
        UNMARKED.iter().map(|(p, l, r)| (p.to_string(), *l, r.to_string())).collect();
    let mut stack = vec![corpus()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(corpus()).unwrap().to_string_lossy().replace('\\', "/");
            if path.is_dir() {
                // Never scanned: listed in the corpus's .gitignore.
                if rel != "ignored" {
                    stack.push(path);
                }
                continue;
            }
            if rel.ends_with(".md") || rel.starts_with("docs/") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (i, line) in text.lines().enumerate() {
                if let Some((_, rules)) = line.split_once("expect: ") {
                    for rule in rules.split(',') {
                        let rule = rule.trim().trim_end_matches("-->").trim();
                        want.insert((rel.clone(), i as u32 + 1, rule.to_string()));
                    }
                }
            }
        }
    }
    want
}

fn scan_corpus() -> scan::ScanOutcome {
    scan::run(&ScanOptions { root: corpus(), ..Default::default() }).unwrap()
}

#[test]
fn corpus_findings_are_exactly_the_marked_lines() {
    let outcome = scan_corpus();
    let got: BTreeSet<(String, u32, String)> =
        outcome.findings.iter().map(|f| (f.path.clone(), f.line, f.rule.id().to_string())).collect();
    let want = expected();
    let missing: Vec<_> = want.difference(&got).collect();
    let unexpected: Vec<_> = got.difference(&want).collect();
    assert!(missing.is_empty() && unexpected.is_empty(), "missing: {missing:#?}\nunexpected: {unexpected:#?}");
    // Every language family and format is represented.
    for dir in [
        "python/",
        "javascript/",
        "go/",
        "jvm/",
        "dotnet/",
        "rust/",
        "ruby/",
        "php/",
        "c_cpp/",
        "shell/",
        "config/",
        "uri/",
        "infrastructure/",
    ] {
        assert!(got.iter().any(|(p, _, _)| p.starts_with(dir)), "no finding under {dir}");
    }
    // And every rule.
    for rule in mongo_preflight::catalog::rules::Rule::ALL {
        use mongo_preflight::catalog::Documented;
        assert!(got.iter().any(|(_, _, r)| r == rule.id()), "no finding for {}", rule.id());
    }
}

#[test]
fn negatives_and_docs_have_no_findings_and_bundles_do() {
    let outcome = scan_corpus();
    for f in &outcome.findings {
        let name = f.path.rsplit('/').next().unwrap_or("");
        assert!(!name.starts_with("negatives") && !name.starts_with("Negatives"), "look-alike reported: {f:?}");
        assert!(!f.path.starts_with("docs/") && !f.path.ends_with(".md"), "docs reported: {f:?}");
    }
    // A minified bundle is code a client runs: nothing about its line lengths hides it.
    for bundle in ["vendor/driver.min.js", "vendor/mongo-bundle.js"] {
        assert!(outcome.findings.iter().any(|f| f.path == bundle), "{bundle} not scanned");
    }
    assert!(outcome.notes.is_empty(), "{:?}", outcome.notes);
}

#[test]
fn findings_carry_location_severity_fingerprint_and_redacted_snippet() {
    let outcome = scan_corpus();
    let env: Vec<_> = outcome.findings.iter().filter(|f| f.path == "config/.env").collect();
    assert_eq!(env.len(), 3, "{env:#?}");
    let uri = env[0];
    assert_eq!((uri.line, uri.column), (2, 89));
    assert_eq!(uri.rule.id(), "allow-invalid-certificates");
    assert_eq!(uri.severity, Severity::Error);
    assert!(uri.new && !uri.waived);
    assert_eq!(uri.fingerprint.len(), 16);
    assert!(uri.snippet.starts_with("MONGODB_URI=mongodb+srv://****@cluster0.example.mongodb.net/"), "{}", uri.snippet);
    assert!(uri.message.contains("tlsAllowInvalidCertificates"), "{}", uri.message);
    let toggle = env[1];
    assert_eq!((toggle.line, toggle.column), (3, 1));
    // A connection string joined from parts keeps its options and hides its user info.
    let joined = outcome.findings.iter().find(|f| f.path == "javascript/concat.js" && f.line == 3).unwrap();
    assert_eq!(joined.rule.id(), "cert-reqs-none");
    assert!(joined.snippet.starts_with("const legacy = 'mongodb://****@db1.example.com:27017/"), "{}", joined.snippet);
    // No credential of the corpus survives anywhere in the findings.
    for f in &outcome.findings {
        for secret in ["hunter2", "s3cr3t", "app:pw", "p%40ss", "app%3Ap"] {
            assert!(!f.snippet.contains(secret) && !f.message.contains(secret), "{secret} leaked in {f:?}");
        }
    }
}

#[test]
fn findings_are_sorted_and_unique() {
    let findings = scan_corpus().findings;
    let keys: Vec<_> = findings.iter().map(|f| (f.path.clone(), f.line, f.column, f.rule.id().to_string())).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(keys, sorted);
}

fn write(root: &Path, rel: &str, content: impl AsRef<[u8]>) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

#[test]
fn dotfiles_are_scanned_and_gitignore_is_honoured_without_git() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), ".gitignore", "build/\n*.local.env\n");
    write(dir.path(), ".env", "MONGODB_TLS_INSECURE=true\n");
    write(dir.path(), ".config/app.yaml", "tlsAllowInvalidHostnames: true\n");
    write(dir.path(), "build/out.env", "MONGODB_TLS_INSECURE=true\n");
    write(dir.path(), "dev.local.env", "MONGODB_TLS_INSECURE=true\n");
    let outcome = scan::run(&ScanOptions { root: dir.path().to_path_buf(), ..Default::default() }).unwrap();
    let paths: Vec<&str> = outcome.findings.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, vec![".config/app.yaml", ".env"]);
    assert_eq!(outcome.files_scanned, 3, "the .gitignore, .env and .config/app.yaml");
}

#[test]
fn the_mongo_preflight_ignore_file_hides_fixtures_from_the_scan_only() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), ".mongo-preflight-ignore", "# insecure on purpose: test data\nfixtures/\n");
    write(dir.path(), "fixtures/insecure.env", "MONGODB_TLS_INSECURE=true\n");
    write(dir.path(), "app/.env", "MONGODB_TLS_INSECURE=true\n");
    let outcome = scan::run(&ScanOptions { root: dir.path().to_path_buf(), ..Default::default() }).unwrap();
    let paths: Vec<&str> = outcome.findings.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, vec!["app/.env"]);
}

#[test]
fn binaries_large_files_and_long_lines_are_scanned_and_excludes_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let mut binary = b"\x7fELF\0\0\nMONGODB_URI=mongodb://h.example.net/?tlsAllowInvalidCertificates=true\n".to_vec();
    binary.extend([0u8; 64]);
    write(dir.path(), "bin/tool", &binary);
    // Streamed in windows of 1 KiB: the finding at the end keeps its line number.
    let mut big = "MONGODB_TLS_INSECURE=true\n".to_string();
    big.push_str(&"x = 1\n".repeat(400));
    big.push_str("MONGODB_TLS_ALLOW_INVALID_HOSTNAMES=true\n");
    write(dir.path(), "big.env", &big);
    let minified = format!("{}var c=new MongoClient(u,{{tlsInsecure:true}});\n", "var x=1;".repeat(500));
    write(dir.path(), "web/app.min.js", &minified);
    write(dir.path(), "vendor/lib/a.env", "MONGODB_TLS_INSECURE=true\n");
    write(dir.path(), "ok.env", "MONGODB_TLS_INSECURE=true\n");
    let outcome = scan::run(&ScanOptions {
        root: dir.path().to_path_buf(),
        exclude: vec!["vendor/**".to_string()],
        stream_window: Some(1024),
        ..Default::default()
    })
    .unwrap();
    let got: Vec<(&str, u32, u32, &str)> =
        outcome.findings.iter().map(|f| (f.path.as_str(), f.line, f.column, f.rule.id())).collect();
    assert_eq!(
        got,
        vec![
            ("big.env", 1, 1, "tls-insecure"),
            ("big.env", 402, 1, "allow-invalid-hostnames"),
            ("bin/tool", 2, 38, "allow-invalid-certificates"),
            ("ok.env", 1, 1, "tls-insecure"),
            ("web/app.min.js", 1, 4026, "tls-insecure"),
        ]
    );
    assert!(outcome.notes.is_empty(), "{:?}", outcome.notes);
    assert_eq!(outcome.files_scanned, 4);
}

#[test]
fn explicit_paths_are_relative_to_the_root() {
    let outcome = scan::run(&ScanOptions {
        root: corpus(),
        paths: vec!["config/k8s".into(), "go/client.go".into()],
        ..Default::default()
    })
    .unwrap();
    let got: Vec<(&str, u32)> = outcome.findings.iter().map(|f| (f.path.as_str(), f.line)).collect();
    assert_eq!(
        got,
        vec![("config/k8s/deployment.yaml", 11), ("go/client.go", 12), ("go/client.go", 18), ("go/client.go", 20)]
    );
}

#[test]
fn a_missing_path_is_an_error() {
    let err = scan::run(&ScanOptions { root: corpus(), paths: vec!["no/such/dir".into()], ..Default::default() })
        .unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("no/such/dir"), "{err}");
}

/// The binary in `dir`, through tests/support (nothing from the caller's environment, and a
/// watchdog).
fn scan_in(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = support::mongo_preflight();
    cmd.current_dir(dir).args(args);
    support::run(cmd)
}

#[test]
fn the_command_exits_by_verdict_and_never_prints_credentials() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "clean.py", "from pymongo import MongoClient\nc = MongoClient(uri, tlsCAFile=certifi.where())\n");
    let clean = scan_in(dir.path(), &["scan", "--format", "json"]);
    assert_eq!(clean.status.code(), Some(0), "{}", String::from_utf8_lossy(&clean.stderr));
    let report: serde_json::Value = serde_json::from_slice(&clean.stdout).unwrap();
    assert_eq!(report["verdict"], "pass");
    assert_eq!(report["findings"].as_array().map(Vec::len), Some(0));

    write(dir.path(), "app/.env", "MONGODB_URI=mongodb+srv://app:canary-pass@c.example.net/?tlsInsecure=true\n");
    let out_file = dir.path().join("report.json");
    let dirty = scan_in(dir.path(), &["scan", "--format", "json", "--output", &out_file.to_string_lossy()]);
    assert_eq!(dirty.status.code(), Some(1));
    let written = std::fs::read_to_string(&out_file).unwrap();
    assert!(!written.contains("canary-pass"));
    let report: serde_json::Value = serde_json::from_str(&written).unwrap();
    assert_eq!(report["verdict"], "fail");
    let finding = &report["findings"][0];
    assert_eq!(finding["rule"], "tls-insecure");
    assert_eq!(finding["path"], "app/.env");
    assert_eq!(finding["line"], 1);
    assert_eq!(finding["new"], true);
    assert_eq!(finding["waived"], false);
    assert_eq!(finding["snippet"], "MONGODB_URI=mongodb+srv://****@c.example.net/?tlsInsecure=true");

    // SARIF (whatever renders it) fails the same way.
    let sarif = scan_in(dir.path(), &["scan", "--format", "sarif", "app"]);
    assert_eq!(sarif.status.code(), Some(1));
    assert!(!String::from_utf8_lossy(&sarif.stdout).contains("canary-pass"));
}
