//! Every renderer on fixed result data (insta snapshots in tests/snapshots/), SARIF against the
//! official 2.1.0 schema, and escaping of hostile text.

use std::collections::BTreeMap;

use mongo_preflight::model::{
    ClusterReport, Diagnosis, Finding, HostReport, Note, RunReport, Severity, StageResult, ToolInfo, Verdict, stage,
};
use mongo_preflight::report::{Format, RenderContext, escape, render};

/// A certificate subject written by an attacker who controls a server being probed.
const HOSTILE_SUBJECT: &str = "CN=@octocat <img src=x onerror=alert(1)> `$(rm -rf /)` a|b";

fn stage_result(ok: bool, ms: u64, detail: Option<(&str, &str)>) -> StageResult {
    let mut details = serde_json::Map::new();
    if let Some((k, v)) = detail {
        details.insert(k.to_string(), serde_json::Value::String(v.to_string()));
    }
    StageResult { ok, elapsed_ms: ms, details }
}

fn diagnosis(code: &str, severity: Severity, summary: &str, evidence: &str, remedy: &str) -> Diagnosis {
    Diagnosis {
        code: mongo_preflight::diagnose::codes::DiagnosisCode::from_id(code).expect("a known code"),
        severity,
        summary: summary.to_string(),
        evidence: evidence.to_string(),
        remedy: remedy.to_string(),
        waived: false,
    }
}

fn finding(rule: &str, path: &str, line: u32, new: bool, waived: bool, snippet: &str) -> Finding {
    Finding {
        rule: mongo_preflight::catalog::rules::Rule::from_id(rule).expect("a rule id"),
        severity: if new { Severity::Error } else { Severity::Warning },
        path: path.to_string(),
        line,
        column: 5,
        snippet: snippet.to_string(),
        new,
        waived,
        fingerprint: String::new(),
        message: format!("{rule} set to a true literal"),
    }
}

fn fixture() -> RunReport {
    let mut atlas_stages = BTreeMap::new();
    atlas_stages.insert(stage::TCP.to_string(), stage_result(true, 12, None));
    atlas_stages.insert(
        stage::TLS_STRICT.to_string(),
        stage_result(false, 31, Some(("error", "received fatal alert: InternalError"))),
    );
    atlas_stages.insert(
        stage::TLS_RELAXED.to_string(),
        stage_result(false, 29, Some(("error", "received fatal alert: InternalError"))),
    );
    let mut private_stages = BTreeMap::new();
    private_stages.insert(stage::TCP.to_string(), stage_result(true, 2, None));
    private_stages.insert(
        stage::TLS_STRICT.to_string(),
        stage_result(false, 9, Some(("error", "invalid peer certificate: UnknownIssuer"))),
    );
    private_stages.insert(stage::TLS_RELAXED.to_string(), stage_result(true, 8, Some(("version", "TLSv1.3"))));
    private_stages.insert(stage::HELLO.to_string(), stage_result(true, 4, None));

    let mut expiring = diagnosis(
        "cert-expiring-soon",
        Severity::Warning,
        "The certificate expires in 20 days",
        "notAfter 2026-12-13T00:00:00Z",
        "Renew the certificate.",
    );
    expiring.waived = true;

    let orders = ClusterReport {
        name: "orders-prod".to_string(),
        uri: "mongodb+srv://****@cluster0.example.mongodb.net/".to_string(),
        diagnoses: Vec::new(),
        hosts: vec![
            HostReport {
                host: "cluster0-shard-00-00.example.mongodb.net".to_string(),
                port: 27017,
                address: "192.0.2.10:27017".to_string(),
                stages: atlas_stages,
                diagnoses: vec![diagnosis(
                    "ip-access-list-rejected",
                    Severity::Error,
                    "The server refused the TLS handshake: likely this runner's IP is not on the Atlas IP access list",
                    "strict and relaxed TLS both got a fatal internal_error alert after 31 ms",
                    "Add the runner's egress IP in Atlas > Network Access. No certificate or TLS setting can fix this.",
                )],
            },
            HostReport {
                host: "db.internal.example".to_string(),
                port: 27017,
                address: "10.0.0.7:27017".to_string(),
                stages: private_stages,
                diagnoses: vec![
                    diagnosis(
                        "cert-untrusted-issuer",
                        Severity::Error,
                        "The chain ends at an issuer the trust does not hold",
                        &format!("subject: {HOSTILE_SUBJECT}\nissuer: CN=Corp Root | Ops"),
                        "Pass the private CA with `ca_file` (or tlsCAFile).",
                    ),
                    expiring,
                ],
            },
        ],
        required: true,
        policy_line: Some(4),
        shared: Vec::new(),
    };
    let reporting = ClusterReport {
        name: "reporting".to_string(),
        uri: "mongodb+srv://reporting.example.net/".to_string(),
        diagnoses: vec![diagnosis(
            "dns-srv-not-found",
            Severity::Warning,
            "No SRV record for _mongodb._tcp.reporting.example.net",
            "NXDOMAIN from 127.0.0.1:5353",
            "Check the cluster still exists.",
        )],
        hosts: Vec::new(),
        required: false,
        policy_line: Some(11),
        shared: Vec::new(),
    };
    let findings = vec![
        finding(
            "allow-invalid-hostnames",
            "src/legacy.py",
            40,
            false,
            false,
            "MongoClient(uri, tlsAllowInvalidHostnames=True)",
        ),
        finding(
            "allow-invalid-certificates",
            "src/db.py",
            12,
            true,
            false,
            "client = MongoClient(\"mongodb://****@db/?tlsAllowInvalidCertificates=true\")",
        ),
        finding(
            "allow-invalid-certificates",
            "scripts/dev/seed.sh",
            3,
            true,
            true,
            "mongosh --tlsAllowInvalidCertificates",
        ),
    ];
    let notes = vec![
        Note {
            severity: Severity::Error,
            message: "mongo-preflight.yml:21: the waiver for rule `tls-insecure` expired on 2026-01-31 (reason given: migration); renew `expires` with a reason that still holds, or fix what it covered".to_string(),
        },
        Note {
            severity: Severity::Warning,
            message: "mongo-preflight.yml:26: the waiver for code `auth-failed` matched nothing; remove it".to_string(),
        },
    ];
    let mut report = RunReport::new(vec![orders, reporting], findings, notes);
    report.tool = ToolInfo { name: "mongo-preflight".to_string(), version: "0.0.0-test".to_string() };
    report
}

fn ctx() -> RenderContext {
    RenderContext {
        color: false,
        policy_path: Some("mongo-preflight.yml".to_string()),
        run_url: Some("https://github.com/acme/shop/actions/runs/42".to_string()),
        timestamp: Some("2026-11-23T16:00:00Z".to_string()),
    }
}

#[test]
fn the_fixture_fails() {
    assert_eq!(fixture().verdict, Verdict::Fail);
}

#[test]
fn text_snapshot() {
    insta::assert_snapshot!("text", render(&fixture(), Format::Text, &ctx()));
}

#[test]
fn text_in_colour_only_when_asked() {
    let plain = render(&fixture(), Format::Text, &ctx());
    assert!(!plain.contains('\u{1b}'));
    let coloured = render(&fixture(), Format::Text, &RenderContext { color: true, ..ctx() });
    assert!(coloured.contains("\u{1b}["));
}

#[test]
fn text_shows_each_stage_with_mark_and_time() {
    let out = render(&fixture(), Format::Text, &ctx());
    assert!(out.contains("✓ TCP                 12 ms"), "{out}");
    assert!(out.contains("✗ TLS strict          31 ms  received fatal alert: InternalError"), "{out}");
    // The verdict, then one line per cause: the change's own findings first.
    let verdict_and_causes = out.split_once("mongo-preflight FAIL: 4 errors, 3 warnings, 2 waived\n").map(|(_, c)| c);
    assert_eq!(
        verdict_and_causes.and_then(|c| c.lines().next()),
        Some("  src/db.py:12 adds `allow-invalid-certificates`"),
        "{out}"
    );
}

#[test]
fn json_snapshot_is_the_contract() {
    let out = render(&fixture(), Format::Json, &ctx());
    insta::assert_snapshot!("json", out);
    let value: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(value["schema_version"], 1);
    assert_eq!(value["verdict"], "fail");
    assert_eq!(value["clusters"][0]["hosts"][0]["stages"]["tcp"]["elapsed_ms"], 12);
    assert_eq!(value["findings"][2]["waived"], true);
}

#[test]
fn markdown_snapshot() {
    insta::assert_snapshot!("markdown", render(&fixture(), Format::Markdown, &ctx()));
}

#[test]
fn sarif_snapshot() {
    insta::assert_snapshot!("sarif", render(&fixture(), Format::Sarif, &ctx()));
}

#[test]
fn github_snapshot() {
    insta::assert_snapshot!("github", render(&fixture(), Format::Github, &ctx()));
}

#[test]
fn markdown_escapes_hostile_certificate_subjects() {
    let out = render(&fixture(), Format::Markdown, &ctx());
    assert!(out.starts_with("## ❌ mongo-preflight: fail\n"), "{out}");
    assert!(!out.contains("@octocat"), "no mention may reach GitHub");
    assert!(out.contains("@&#8203;octocat"));
    assert!(!out.contains("<img"), "no HTML from a certificate");
    assert!(out.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(out.contains("<code>$&#40;rm -rf /&#41;</code>"), "a quoted command stays inert code");
    assert!(out.contains("a\\|b"), "pipes cannot break a table");
    assert!(out.contains("Corp Root \\| Ops"));
    // The newline between subject and issuer stays inside one paragraph.
    assert!(out.contains("a\\|b<br>issuer"), "{out}");
}

#[test]
fn markdown_escape_cases() {
    assert_eq!(escape::markdown("@octocat"), "@&#8203;octocat");
    assert_eq!(escape::markdown("<img onerror=x>"), "&lt;img onerror=x&gt;");
    assert_eq!(escape::markdown("a & b"), "a &amp; b");
    assert_eq!(escape::markdown("`code`"), "\\`code\\`");
    assert_eq!(escape::markdown("x|y"), "x\\|y");
    assert_eq!(escape::markdown("one\r\ntwo\nthree"), "one<br>two<br>three");
    assert_eq!(escape::markdown("*bold* [link](x)"), "\\*bold\\* \\[link\\](x)");
    assert_eq!(escape::html("@org/team <b>`|"), "@&#8203;org/team &lt;b&gt;&#96;&#124;");
}

#[test]
fn workflow_command_escape_cases() {
    assert_eq!(escape::workflow_message("50% of\r\nhosts"), "50%25 of%0D%0Ahosts");
    assert_eq!(escape::workflow_message("a:b,c"), "a:b,c");
    assert_eq!(escape::workflow_property("dir,x/file:1.py%"), "dir%2Cx/file%3A1.py%25");
}

#[test]
fn github_properties_and_messages_are_escaped() {
    let mut report = fixture();
    report.findings =
        vec![finding("tls-insecure", "conf/a,b:c.yml", 7, true, false, "tlsInsecure=true\n::error::forged")];
    let out = render(&report, Format::Github, &ctx());
    let line = out.lines().find(|l| l.contains("tls-insecure")).expect("annotation");
    assert!(
        line.starts_with("::error file=conf/a%2Cb%3Ac.yml,line=7,col=5,title=mongo-preflight%3A tls-insecure::"),
        "{line}"
    );
    assert!(!out.lines().any(|l| l.starts_with("::error::forged")), "a snippet cannot inject a command: {out}");
}

#[test]
fn github_caps_annotations_per_level_with_a_summary() {
    let mut report = fixture();
    report.findings = (1..=25).map(|i| finding("tls-insecure", "app.py", i, true, false, "tlsInsecure=true")).collect();
    report.notes.clear();
    let out = render(&report, Format::Github, &ctx());
    let errors: Vec<&str> = out.lines().filter(|l| l.starts_with("::error ")).collect();
    assert_eq!(errors.len(), 10, "{out}");
    // 25 findings + 2 unwaived error diagnoses = 27; 9 shown and one summary for the other 18.
    let last = errors[9];
    assert!(last.contains("title=mongo-preflight%3A 18 more errors::18 more errors are not shown"), "{last}");
    assert!(last.contains("https://github.com/acme/shop/actions/runs/42"), "{last}");
    // Warnings are counted separately and are few enough to show.
    assert_eq!(out.lines().filter(|l| l.starts_with("::warning ")).count(), 1);
}

#[test]
fn github_locates_cluster_diagnoses_at_the_policy_line() {
    let out = render(&fixture(), Format::Github, &ctx());
    assert!(
        out.contains("::error file=mongo-preflight.yml,line=4,title=mongo-preflight%3A ip-access-list-rejected::"),
        "{out}"
    );
    assert!(out.contains("::warning file=mongo-preflight.yml,line=11,title=mongo-preflight%3A dns-srv-not-found::"));
}

#[test]
fn the_comment_fits_its_budget_and_points_to_the_full_report() {
    let mut report = fixture();
    report.findings = (1..=400)
        .map(|i| {
            finding(
                "allow-invalid-certificates",
                &format!("src/module_{i}.py"),
                i,
                true,
                false,
                "tlsAllowInvalidCertificates=true",
            )
        })
        .collect();
    let full = render(&report, Format::Markdown, &ctx());
    assert!(full.chars().count() > 20_000);
    assert!(!full.contains(mongo_preflight::github::MARKER), "the marker belongs to the comment only");
    for max in [20_000, 5_000, 600] {
        let out = mongo_preflight::github::comment_body(&report, &ctx(), max);
        assert!(out.chars().count() <= max, "{} > {max}", out.chars().count());
        assert!(out.starts_with("<!-- mongo-preflight -->\n"));
        assert!(out.contains("job summary"), "points to the full report: {out}");
    }
}

#[test]
fn sarif_is_valid_against_the_official_schema() {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("schemas/sarif-schema-2.1.0.json")).expect("vendored schema");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    for report in [fixture(), RunReport::new(Vec::new(), Vec::new(), Vec::new())] {
        for ctx in [ctx(), RenderContext::default()] {
            let sarif: serde_json::Value = serde_json::from_str(&render(&report, Format::Sarif, &ctx)).expect("json");
            let errors: Vec<String> =
                validator.iter_errors(&sarif).map(|e| format!("{} at {}", e, e.instance_path)).collect();
            assert!(errors.is_empty(), "{errors:#?}");
        }
    }
    // The validator does reject what the schema forbids.
    let mut broken: serde_json::Value = serde_json::from_str(&render(&fixture(), Format::Sarif, &ctx())).expect("json");
    broken["runs"][0]["results"][0]["level"] = serde_json::json!("fatal");
    assert!(!validator.is_valid(&broken));
}

#[test]
fn sarif_declares_every_code_and_rule_and_locates_results() {
    let sarif: serde_json::Value = serde_json::from_str(&render(&fixture(), Format::Sarif, &ctx())).expect("json");
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    let ids: Vec<&str> = rules.iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(ids, mongo_preflight::catalog::all_ids());
    for r in rules {
        for key in ["shortDescription", "fullDescription", "help"] {
            assert!(r[key]["text"].as_str().is_some_and(|t| !t.is_empty()), "{} lacks {key}", r["id"]);
        }
    }
    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), 3 + 4);
    for r in results {
        assert!(r["partialFingerprints"]["mongoPreflight/v1"].as_str().is_some_and(|f| f.len() == 16), "{r}");
        let rule_index = r["ruleIndex"].as_u64().expect("index") as usize;
        assert_eq!(rules[rule_index]["id"], r["ruleId"]);
    }
    let finding = results.iter().find(|r| r["ruleId"] == "allow-invalid-certificates").expect("finding");
    assert_eq!(finding["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "src/db.py");
    assert_eq!(finding["locations"][0]["physicalLocation"]["region"]["startLine"], 12);
    let diag = results.iter().find(|r| r["ruleId"] == "ip-access-list-rejected").expect("diagnosis");
    assert_eq!(diag["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "mongo-preflight.yml");
    assert_eq!(diag["locations"][0]["physicalLocation"]["region"]["startLine"], 4);
    let waived = results.iter().filter(|r| r["suppressions"].is_array()).count();
    assert_eq!(waived, 2, "the waived finding and the waived diagnosis");
}

#[test]
fn sarif_without_a_policy_file_keeps_diagnoses_as_notifications() {
    let sarif: serde_json::Value =
        serde_json::from_str(&render(&fixture(), Format::Sarif, &RenderContext::default())).expect("json");
    let run = &sarif["runs"][0];
    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), 3, "only the findings, which have files");
    assert!(results.iter().all(|r| r["locations"].is_array()));
    let notifications = run["invocations"][0]["toolExecutionNotifications"].as_array().expect("notifications");
    let rules: Vec<&str> = notifications.iter().filter_map(|n| n["associatedRule"]["id"].as_str()).collect();
    assert_eq!(rules, ["ip-access-list-rejected", "cert-untrusted-issuer", "cert-expiring-soon", "dns-srv-not-found"]);
}

#[test]
fn fingerprints_are_stable_and_distinct() {
    let a = render(&fixture(), Format::Sarif, &ctx());
    let b = render(&fixture(), Format::Sarif, &ctx());
    assert_eq!(a, b);
    let sarif: serde_json::Value = serde_json::from_str(&a).expect("json");
    let prints: std::collections::HashSet<&str> = sarif["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["partialFingerprints"]["mongoPreflight/v1"].as_str())
        .collect();
    assert_eq!(prints.len(), 7);
}

#[test]
fn every_format_redacts_credentials_left_in_data() {
    let mut report = fixture();
    report.clusters[0].uri = "mongodb+srv://app:canary-pass@cluster0.example.mongodb.net/".to_string();
    report.findings[0].snippet = "uri = 'mongodb://app:canary-pass@db/'".to_string();
    for format in [Format::Text, Format::Json, Format::Markdown, Format::Sarif, Format::Github] {
        let out = render(&report, format, &ctx());
        assert!(!out.contains("canary-pass"), "{format:?} leaked the password");
    }
}
