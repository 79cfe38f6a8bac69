//! Server-side TLS rules (`server-tls-optional`, `server-old-tls-enabled`) and the Terraform data
//! flow, against small repositories written the way teams write them
//! (`tests/fixtures/scan/server_tls`), and `--base` in a temporary git repository.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mongo_preflight::catalog::Documented;
use mongo_preflight::scan::{self, ScanOptions};

mod support;

type Expected = BTreeSet<(String, u32, String)>;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scan/server_tls")
}

/// JSON has no comments to carry an `expect:` marker.
const UNMARKED: &[(&str, u32, &str)] = &[
    ("scripts/access-list.json", 3, "access-list-open-to-world"),
    ("scripts/process-args.json", 3, "server-old-tls-enabled"),
];

/// Every `expect: rule` marker under the fixtures, and the unmarked JSON lines.
fn expected() -> Expected {
    let mut want: Expected = UNMARKED.iter().map(|(p, l, r)| (p.to_string(), *l, r.to_string())).collect();
    let mut stack = vec![fixtures()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path.strip_prefix(fixtures()).unwrap().to_string_lossy().replace('\\', "/");
            if rel.ends_with(".md") {
                continue;
            }
            for (i, line) in std::fs::read_to_string(&path).unwrap().lines().enumerate() {
                if let Some((_, rule)) = line.split_once("expect: ") {
                    want.insert((rel.clone(), i as u32 + 1, rule.trim().to_string()));
                }
            }
        }
    }
    want
}

fn found(root: &Path) -> Expected {
    let outcome = scan::run(&ScanOptions { root: root.to_path_buf(), ..Default::default() }).unwrap();
    outcome.findings.iter().map(|f| (f.path.clone(), f.line, f.rule.id().to_string())).collect()
}

/// Files that neither name MongoDB nor hold a keyword of the prefilter: the server-TLS literals
/// are no keywords, for the scan's speed (BENCHMARKS, "Scan"). Counted in recall, allowed either
/// way in the exact comparison.
const PREFILTER_SKIPS: &[(&str, u32, &str)] = &[("scripts/process-args.json", 3, "server-old-tls-enabled")];

#[test]
fn recall_and_precision_on_realistic_repositories() {
    let want = expected();
    let got = found(&fixtures());
    let hits = want.intersection(&got).count() as f64;
    let recall = hits / want.len() as f64;
    let precision = hits / got.len().max(1) as f64;
    assert!(want.len() >= 35, "the fixtures hold {} expectations", want.len());
    assert!(recall >= 0.95, "recall {recall:.3}: missed {:?}", want.difference(&got).collect::<Vec<_>>());
    assert!(precision >= 0.95, "precision {precision:.3}: extra {:?}", got.difference(&want).collect::<Vec<_>>());

    // And exactly, per fixture: each repository's findings are its marked lines.
    let top = |path: &str| path.split('/').next().unwrap_or("").to_string();
    let repositories: BTreeSet<String> = want.iter().chain(&got).map(|(p, _, _)| top(p)).collect();
    for repository in repositories {
        let of =
            |set: &Expected| -> Expected { set.iter().filter(|(p, _, _)| top(p) == repository).cloned().collect() };
        let (mut want_here, mut got_here) = (of(&want), of(&got));
        for p in PREFILTER_SKIPS {
            let p = (p.0.to_string(), p.1, p.2.to_string());
            want_here.remove(&p);
            got_here.remove(&p);
        }
        assert_eq!(got_here, want_here, "findings in {repository}/");
    }
}

#[test]
fn look_alikes_stay_silent() {
    let got = found(&fixtures());
    let loud: Vec<_> = got.iter().filter(|(p, _, _)| p.starts_with("mongo-platform/")).collect();
    assert!(loud.is_empty(), "look-alikes reported: {loud:?}");
    // They are really scanned (their paths name MongoDB): a weak line added to one is found.
    let dir = tempfile::tempdir().unwrap();
    let conf = std::fs::read_to_string(fixtures().join("mongo-platform/lookalikes/mongod/mongod.conf")).unwrap();
    write(dir.path(), "mongo-platform/mongod.conf", &conf.replace("mode: requireTLS", "mode: preferTLS"));
    assert_eq!(
        found(dir.path()).into_iter().collect::<Vec<_>>(),
        vec![("mongo-platform/mongod.conf".to_string(), 7, "server-tls-optional".to_string())]
    );
}

#[test]
fn findings_sit_on_the_weak_literal_with_the_tools_safe_spelling() {
    let outcome = scan::run(&ScanOptions { root: fixtures(), ..Default::default() }).unwrap();
    let at = |path: &str, line: u32| outcome.findings.iter().find(|f| f.path == path && f.line == line).unwrap();
    let tfvars = at("atlas-infra/terraform/envs/prod.tfvars", 2);
    assert_eq!(tfvars.snippet, "orders_minimum_tls = \"TLS1_1\" # expect: server-old-tls-enabled");
    assert_eq!(tfvars.column, 23);
    assert!(tfvars.message.contains("mongodbatlas_advanced_cluster.this"), "{}", tfvars.message);
    assert!(tfvars.message.contains("minimum_enabled_tls_protocol = \"TLS1_2\""), "{}", tfvars.message);
    let args = at("k8s/statefulset.yaml", 18);
    assert!(args.message.contains("--tlsMode requireTLS"), "{}", args.message);
    let community = at("k8s/community/mongodb.yaml", 14);
    assert!(community.message.contains("optional"), "{}", community.message);
    let cli = at("scripts/lower-tls.sh", 7);
    assert!(cli.message.contains("--tlsProtocol TLS1_2"), "{}", cli.message);
    for finding in &outcome.findings {
        assert_eq!(finding.severity, mongo_preflight::model::Severity::Error, "{finding:?}");
    }
}

fn write(root: &Path, rel: &str, content: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

fn git(dir: &Path, args: &[&str]) -> String {
    support::git(dir, dir, args)
}

const MODULE: &str = "variable \"minimum_tls\" {\n  default = \"TLS1_2\"\n}\nresource \"mongodbatlas_advanced_cluster\" \"this\" {\n  advanced_configuration = {\n    minimum_enabled_tls_protocol = var.minimum_tls\n  }\n}\n";
const ROOT: &str = "module \"orders\" {\n  source      = \"./modules/cluster\"\n  minimum_tls = var.orders_tls\n}\nvariable \"orders_tls\" {}\nresource \"mongodbatlas_project_ip_access_list\" \"ci\" {\n  for_each   = toset(var.cidrs)\n  cidr_block = each.value\n}\nvariable \"cidrs\" {}\n";

#[test]
fn base_marks_what_the_base_already_had_for_the_new_rules_and_the_data_flow() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git(root, &["init", "-q", "-b", "main"]);
    write(root, "infra/modules/cluster/main.tf", MODULE);
    write(root, "infra/main.tf", ROOT);
    write(root, "infra/prod.tfvars", "orders_tls = \"TLS1_2\"\ncidrs = [\"0.0.0.0/0\"]\n");
    write(root, "deploy/mongod.conf", "net:\n  tls:\n    mode: preferTLS\n");
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "base"]);
    // The change: a lower TLS version through the tfvars, TLS 1.0 back on in mongod.conf.
    write(root, "infra/prod.tfvars", "orders_tls = \"TLS1_0\"\ncidrs = [\"0.0.0.0/0\"]\n");
    write(root, "deploy/mongod.conf", "net:\n  tls:\n    mode: preferTLS\n    disabledProtocols: none\n");

    let outcome =
        scan::run(&ScanOptions { root: root.to_path_buf(), base: Some("HEAD".into()), ..Default::default() }).unwrap();
    let mut seen: Vec<(String, u32, &str, bool)> =
        outcome.findings.iter().map(|f| (f.path.clone(), f.line, f.rule.id(), f.new)).collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            ("deploy/mongod.conf".into(), 3, "server-tls-optional", false),
            ("deploy/mongod.conf".into(), 4, "server-old-tls-enabled", true),
            ("infra/prod.tfvars".into(), 1, "server-old-tls-enabled", true),
            ("infra/prod.tfvars".into(), 2, "access-list-open-to-world", false),
        ]
    );

    // The binary: only the new findings fail the run; the old ones are warnings.
    let mut cmd = support::mongo_preflight();
    cmd.current_dir(root).args(["scan", "--format", "json", "--base", "HEAD"]);
    let out = support::output_within(cmd, Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let severities: BTreeSet<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["rule"].as_str().unwrap().to_string(), f["severity"].as_str().unwrap().to_string()))
        .collect();
    assert!(severities.contains(&("server-tls-optional".into(), "warning".into())), "{severities:?}");
    assert!(severities.contains(&("access-list-open-to-world".into(), "warning".into())), "{severities:?}");
    assert!(severities.contains(&("server-old-tls-enabled".into(), "error".into())), "{severities:?}");

    // Back at the base, nothing is new and the run passes.
    git(root, &["checkout", "-q", "--", "."]);
    let mut cmd = support::mongo_preflight();
    cmd.current_dir(root).args(["scan", "--format", "json", "--base", "HEAD"]);
    let out = support::output_within(cmd, Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn the_data_flow_honours_excludes_ignore_files_and_selected_paths() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git(root, &["init", "-q", "-b", "main"]);
    write(root, "infra/modules/cluster/main.tf", MODULE);
    write(root, "infra/main.tf", ROOT);
    write(root, "infra/envs/prod.tfvars", "orders_tls = \"TLS1_1\"\ncidrs = []\n");
    write(root, "infra/envs/test.tfvars", "orders_tls = \"TLS1_0\"\ncidrs = []\n");
    let paths = |options: ScanOptions| -> Vec<String> {
        scan::run(&ScanOptions { root: root.to_path_buf(), ..options })
            .unwrap()
            .findings
            .into_iter()
            .map(|f| f.path)
            .collect()
    };
    assert_eq!(paths(ScanOptions::default()), vec!["infra/envs/prod.tfvars", "infra/envs/test.tfvars"]);
    assert_eq!(
        paths(ScanOptions { exclude: vec!["infra/envs/test.tfvars".into()], ..Default::default() }),
        vec!["infra/envs/prod.tfvars"]
    );
    assert_eq!(
        paths(ScanOptions { paths: vec!["infra/envs/test.tfvars".into()], ..Default::default() }),
        vec!["infra/envs/test.tfvars"]
    );
    write(root, "infra/.mongo-preflight-ignore", "envs/test.tfvars\n");
    assert_eq!(paths(ScanOptions::default()), vec!["infra/envs/prod.tfvars"]);
}

#[test]
fn explain_gives_each_tools_safe_spelling() {
    let mut cmd = support::mongo_preflight();
    cmd.args(["explain", "server-tls-optional"]);
    let out = support::output_within(cmd, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for spelling in ["net.tls.mode: requireTLS", "--tlsMode requireTLS", "spec.sslMode: requireSSL", "tls.optional"] {
        assert!(text.contains(spelling), "explain server-tls-optional lacks {spelling}: {text}");
    }
    let mut cmd = support::mongo_preflight();
    cmd.args(["explain", "server-old-tls-enabled"]);
    let out = support::output_within(cmd, Duration::from_secs(30));
    let text = String::from_utf8_lossy(&out.stdout);
    for spelling in [
        "minimum_enabled_tls_protocol = \"TLS1_2\"",
        "--tlsProtocol TLS1_2",
        "MinimumEnabledTLSProtocol: TLS1_2",
        "spec.processArgs.minimumEnabledTlsProtocol: TLS1_2",
        "admin.PtrString(\"TLS1_2\")",
        "disabledProtocols: TLS1_0,TLS1_1",
    ] {
        assert!(text.contains(spelling), "explain server-old-tls-enabled lacks {spelling}: {text}");
    }
}
