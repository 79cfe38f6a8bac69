//! The built binary: `check` exit codes in every format, `init`, `schema`, `explain`.

use std::path::Path;
use std::process::{Command, Output};

mod support;

use support::Watched;

const CANARY: &str = "canary-pw-51c9";
const FORMATS: [&str; 5] = ["text", "json", "markdown", "sarif", "github"];

/// A policy whose only problem is an expired waiver: an error on its own, whatever the scanner
/// and the probe find, so the verdict is fail.
const FAILING_POLICY: &str = "version: 1
allow:
  - rule: allow-invalid-certificates
    path: \"scripts/**\"
    reason: local docker mongo
    expires: 2001-01-31
";

const PASSING_POLICY: &str = "version: 1\nscan:\n  exclude: [\"vendor/**\"]\n";

/// The binary in `dir`, with nothing from the caller's environment that could steer it: the
/// gate must behave the same on a developer's machine, in this test and on a pull-request
/// runner (which sets `GITHUB_*`, `CI` and maybe `RUST_LOG`).
fn command(dir: &Path) -> Command {
    let mut cmd = support::mongo_preflight();
    cmd.current_dir(dir);
    cmd
}

fn mongo_preflight(dir: &Path, args: &[&str]) -> Output {
    command(dir).args(args).watched()
}

fn with_policy(policy: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("mongo-preflight.yml"), policy).expect("write policy");
    dir
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_fail_verdict_exits_1_in_every_format() {
    let dir = with_policy(FAILING_POLICY);
    for format in FORMATS {
        let out = mongo_preflight(dir.path(), &["check", "--format", format]);
        assert_eq!(out.status.code(), Some(1), "{format}: {}{}", stdout(&out), stderr(&out));
        assert!(stdout(&out).contains("mongo-preflight.yml:3"), "{format} names the expired waiver: {}", stdout(&out));
    }
}

#[test]
fn a_pass_verdict_exits_0_in_every_format() {
    let dir = with_policy(PASSING_POLICY);
    for format in FORMATS {
        let out = mongo_preflight(dir.path(), &["check", "--format", format]);
        assert_eq!(out.status.code(), Some(0), "{format}: {}{}", stdout(&out), stderr(&out));
    }
}

#[test]
fn output_and_sarif_files_are_written_and_the_verdict_still_fails() {
    let dir = with_policy(FAILING_POLICY);
    let out =
        mongo_preflight(dir.path(), &["check", "--format", "json", "--output", "report.json", "--sarif", "r.sarif"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).is_empty(), "the report went to --output");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).expect("report")).expect("json");
    assert_eq!(json["verdict"], "fail");
    assert_eq!(json["schema_version"], 1);
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.sarif")).expect("sarif")).expect("json");
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas/sarif-schema-2.1.0.json"))
            .expect("SARIF schema"),
    )
    .expect("schema json");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    assert!(validator.is_valid(&sarif), "valid SARIF 2.1.0");
    let invocation = &sarif["runs"][0]["invocations"][0];
    assert_eq!(invocation["properties"]["verdict"], "fail");
    let notes = invocation["toolExecutionNotifications"].to_string();
    assert!(notes.contains("mongo-preflight.yml:3: the waiver for rule `allow-invalid-certificates`"), "{notes}");
}

#[test]
fn an_invalid_policy_exits_2_with_its_location_and_writes_nothing() {
    let dir = with_policy("version: 1\nclusters:\n  - name: orders\n    uri_env: ORDERS_URI\n    ca_fil: ca.pem\n");
    let out =
        mongo_preflight(dir.path(), &["check", "--format", "sarif", "--output", "out.sarif", "--sarif", "x.sarif"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.starts_with("error: mongo-preflight.yml:5:5: unknown key `ca_fil`; did you mean `ca_file`?"), "{err}");
    assert!(!dir.path().join("out.sarif").exists() && !dir.path().join("x.sarif").exists(), "nothing half-written");
}

#[test]
fn a_missing_uri_env_variable_exits_2_and_is_named() {
    let dir = with_policy("version: 1\nclusters:\n  - name: orders\n    uri_env: ORDERS_URI_NOT_SET_ANYWHERE\n");
    let out = mongo_preflight(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("`ORDERS_URI_NOT_SET_ANYWHERE`"), "{}", stderr(&out));
}

#[test]
fn an_invalid_uri_exits_2_redacted() {
    let dir = with_policy("version: 1\nclusters:\n  - name: orders\n    uri_env: ORDERS_URI\n");
    let out = command(dir.path())
        .args(["check"])
        .env("ORDERS_URI", format!("mongodb://app:{CANARY}@db.example.com:0/"))
        .watched();
    assert_eq!(out.status.code(), Some(2));
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!all.contains(CANARY), "{all}");
    assert!(all.contains("mongodb://****@db.example.com:0/"), "{all}");
}

#[test]
fn a_missing_policy_file_given_explicitly_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = mongo_preflight(dir.path(), &["check", "--policy", "nope.yml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("nope.yml does not exist"), "{}", stderr(&out));
}

/// The README's first command is the gate on this repository. Its deliberate insecure test data
/// is listed in `.mongo-preflight-ignore`; a new file of such data that is not listed there
/// would fail that command only where no base hides it, so scan everything as new here.
#[test]
fn this_repository_passes_its_own_scan_with_every_finding_counted_as_new() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = mongo_preflight(repo, &["scan", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(report["findings"], serde_json::json!([]), "{}", stdout(&out));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn without_a_policy_the_default_says_the_probe_was_skipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = mongo_preflight(dir.path(), &["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(json["clusters"], serde_json::json!([]));
    let note = json["notes"][0]["message"].as_str().unwrap_or_default();
    assert!(note.contains("cluster probe skipped") && note.contains("MONGODB_URI"), "{note}");
}

#[test]
fn without_a_policy_the_default_probes_mongodb_uri() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = command(dir.path())
        .args(["check", "--format", "json", "--timeout", "2"])
        // Port 1 on loopback: refused at once, never a real server.
        .env("MONGODB_URI", format!("mongodb://app:{CANARY}@127.0.0.1:1/"))
        .watched();
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert!(!all.contains(CANARY), "{all}");
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(json["clusters"][0]["name"], "MONGODB_URI");
    assert_eq!(json["clusters"][0]["uri"], "mongodb://****@127.0.0.1:1/");
    assert_eq!(json["clusters"][0]["hosts"][0]["diagnoses"][0]["code"], "tcp-connection-refused");
    // A required cluster that refuses the connection fails the gate.
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn init_writes_a_valid_policy_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = mongo_preflight(dir.path(), &["init"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let path = dir.path().join("mongo-preflight.yml");
    let written = std::fs::read_to_string(&path).expect("written");
    assert!(written.starts_with("# yaml-language-server: $schema="));

    std::fs::write(&path, "version: 1\n# edited\n").expect("edit");
    let second = mongo_preflight(dir.path(), &["init"]);
    assert_eq!(second.status.code(), Some(2));
    assert!(stderr(&second).contains("already exists"), "{}", stderr(&second));
    assert_eq!(std::fs::read_to_string(&path).expect("kept"), "version: 1\n# edited\n");

    let forced = mongo_preflight(dir.path(), &["init", "--force"]);
    assert_eq!(forced.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&path).expect("replaced"), written);

    let check = mongo_preflight(dir.path(), &["check"]);
    assert_eq!(check.status.code(), Some(0), "the starter policy gates as is: {}{}", stdout(&check), stderr(&check));
}

#[test]
fn schema_prints_the_committed_schema() {
    let out = mongo_preflight(Path::new("."), &["schema"]);
    assert_eq!(out.status.code(), Some(0));
    let schema: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(schema["title"], "mongo-preflight policy");
    let committed =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/mongo-preflight.schema.json"))
            .expect("docs/mongo-preflight.schema.json");
    assert_eq!(stdout(&out), committed, "regenerate with: mongo-preflight schema > docs/mongo-preflight.schema.json");
}

#[test]
fn the_starter_policy_validates_against_the_schema() {
    let out = mongo_preflight(Path::new("."), &["schema"]);
    let schema: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let good = serde_json::json!({
        "version": 1,
        "clusters": [{"name": "a", "uri_env": "A", "min_tls_version": 1.2, "warn_days": 30}],
        "allow": [{"rule": "tls-insecure", "path": "x/**", "reason": "r", "expires": "2027-01-31"}],
        "severity": {"cert-expired": "warning"}
    });
    assert!(validator.is_valid(&good));
    let typo = serde_json::json!({"version": 1, "clusters": [{"nmae": "a"}]});
    assert!(!validator.is_valid(&typo), "unknown keys are rejected by editors too");
    let no_expiry = serde_json::json!({"version": 1, "allow": [{"rule": "tls-insecure", "reason": "r"}]});
    assert!(!validator.is_valid(&no_expiry));
    let unknown_rule =
        serde_json::json!({"version": 1, "allow": [{"rule": "tls-insecur", "reason": "r", "expires": "2027-01-31"}]});
    assert!(!validator.is_valid(&unknown_rule), "editors flag unknown rule ids");
    let unknown_override = serde_json::json!({"version": 1, "severity": {"cert-expird": "info"}});
    assert!(!validator.is_valid(&unknown_override), "editors flag unknown override keys");
}

#[test]
fn explain_known_and_unknown_codes() {
    let out = mongo_preflight(Path::new("."), &["explain", "ip-access-list-rejected"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).starts_with("ip-access-list-rejected (diagnosis code, default severity error)"));

    let out = mongo_preflight(Path::new("."), &["explain", "cert-expird"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("unknown code or rule `cert-expird`. Did you mean `cert-expired`?"), "{err}");
    for id in mongo_preflight::catalog::all_ids() {
        assert!(err.contains(&format!("\n  {id}")), "lists {id}");
    }
}

#[test]
fn docs_codes_md_is_generated_from_the_catalogue() {
    let out = mongo_preflight(Path::new("."), &["explain", "--all", "--format", "markdown"]);
    assert_eq!(out.status.code(), Some(0));
    let committed =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/codes.md")).expect("docs/codes.md");
    assert_eq!(
        stdout(&out),
        committed,
        "regenerate with: mongo-preflight explain --all --format markdown > docs/codes.md"
    );
}

#[test]
fn colour_follows_the_terminal_conventions_and_no_color_wins() {
    let dir = with_policy(PASSING_POLICY);
    let run = |vars: &[(&str, &str)]| {
        let mut cmd = command(dir.path());
        cmd.arg("check").env_remove("NO_COLOR");
        for (k, v) in vars {
            cmd.env(k, v);
        }
        stdout(&cmd.watched())
    };
    assert!(!run(&[]).contains('\u{1b}'), "no colour into a pipe");
    assert!(run(&[("CLICOLOR_FORCE", "1")]).contains("\u{1b}["), "forced colour");
    assert!(!run(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]).contains('\u{1b}'), "NO_COLOR wins");
}
