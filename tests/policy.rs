//! The policy file: exact error messages and locations, waivers and overrides, the default.

use std::path::Path;

use mongo_preflight::diagnose::codes::DiagnosisCode;
use mongo_preflight::error::AppError;
use mongo_preflight::model::{ClusterReport, Diagnosis, Finding, HostReport, Severity};
use mongo_preflight::policy::{self, ClientCert, ParseContext, Policy};
use mongo_preflight::probe::TlsVersion;
use time::macros::date;

const CANARY: &str = "canary-secret-7f3a";

fn env(name: &str) -> Option<String> {
    match name {
        "ORDERS_URI" => Some(format!("mongodb+srv://app:{CANARY}@cluster0.example.mongodb.net/")),
        "BAD_URI" => Some(format!("mongodb://app:{CANARY}@db.example.com:99999/")),
        "CLIENT_PEM" => Some("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".to_string()),
        "NOT_PEM" => Some("just words".to_string()),
        "EMPTY" => Some("  ".to_string()),
        _ => None,
    }
}

/// The day these tests run on, whatever the clock says: waiver expiry is judged against it.
const TODAY: time::Date = date!(2026 - 11 - 23);

fn context(secrets_withheld: bool) -> ParseContext<'static> {
    ParseContext { base_dir: Path::new("."), env: &env, today: TODAY, secrets_withheld }
}

fn parse(text: &str) -> Result<Policy, String> {
    Policy::parse_with(text, "mongo-preflight.yml", &context(false)).map_err(|e| {
        assert!(matches!(e, AppError::Policy(_)), "policy errors are AppError::Policy: {e:?}");
        assert_eq!(e.exit_code(), 2);
        e.to_string()
    })
}

fn error_of(text: &str) -> String {
    match parse(text) {
        Ok(p) => panic!("expected an error, got {p:?}"),
        Err(e) => e,
    }
}

/// The first line of an error: `FILE:LINE:COL: message`.
fn headline(text: &str) -> String {
    error_of(text).lines().next().unwrap_or_default().to_string()
}

#[test]
fn unknown_key_is_located_with_did_you_mean() {
    let err = error_of("version: 1\nclusters:\n  - nmae: orders\n");
    assert_eq!(
        err,
        "mongo-preflight.yml:3:5: unknown key `nmae`; did you mean `name`? (expected one of `name`, `uri`, \
         `uri_env`, `ca_file`, `client_cert`, `client_cert_env`, `min_tls_version`, `warn_days`, `fail_days`, \
         `required`)\n  |\n3 |   - nmae: orders\n  |     ^"
    );
}

#[test]
fn unknown_top_level_key() {
    assert_eq!(
        headline("version: 1\nclusers: []\n"),
        "mongo-preflight.yml:2:1: unknown key `clusers`; did you mean `clusters`? (expected one of `version`, \
         `timeout`, `clusters`, `scan`, `allow`, `severity`, `max_waiver_days`, `atlas`)"
    );
}

#[test]
fn unknown_key_far_from_any_gets_no_suggestion() {
    let line = headline("version: 1\nscan:\n  zzz: 1\n");
    assert!(line.starts_with("mongo-preflight.yml:3:3: unknown key `zzz` (expected one of `paths`"), "{line}");
}

#[test]
fn missing_uri_env_variable_is_named() {
    assert_eq!(
        headline("version: 1\nclusters:\n  - name: orders\n    uri_env: ORDERS_URI_TYPO\n"),
        "mongo-preflight.yml:4:14: cluster `orders`: the environment variable `ORDERS_URI_TYPO` (its `uri_env`) \
         is not set or is empty"
    );
    assert!(headline("version: 1\nclusters:\n  - name: o\n    uri_env: EMPTY\n").contains("`EMPTY`"));
}

#[test]
fn invalid_uri_from_env_is_redacted() {
    let err = error_of("version: 1\nclusters:\n  - name: orders\n    uri_env: BAD_URI\n");
    assert!(!err.contains(CANARY), "{err}");
    assert_eq!(
        err.lines().next().unwrap_or_default(),
        "mongo-preflight.yml:4:14: cluster `orders`: $BAD_URI: invalid connection string \
         mongodb://****@db.example.com:99999/: host 1 (`db.example.com:99999`): port `99999` is not a number \
         between 1 and 65535"
    );
}

#[test]
fn literal_uri_with_credentials_is_refused_and_redacted() {
    let text =
        format!("version: 1\nclusters:\n  - name: orders\n    uri: \"mongodb://app:{CANARY}@db.example.com/\"\n");
    let err = error_of(&text);
    assert!(!err.contains(CANARY), "{err}");
    assert!(err.starts_with("mongo-preflight.yml:4:10: cluster `orders`: the connection string holds credentials"));
    // The quoted source line is redacted too.
    assert!(err.contains("uri: \"mongodb://****@db.example.com/\""), "{err}");
}

#[test]
fn invalid_literal_uri() {
    assert_eq!(
        headline("version: 1\nclusters:\n  - name: a\n    uri: \"http://db.example.com/\"\n"),
        format!(
            "mongo-preflight.yml:4:10: cluster `a`: {}",
            mongo_preflight::uri::ConnectionString::parse("http://db.example.com/")
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        )
    );
}

#[test]
fn cluster_needs_exactly_one_uri_source() {
    assert_eq!(
        headline("version: 1\nclusters:\n  - name: a\n"),
        "mongo-preflight.yml:3:11: cluster `a` needs `uri_env` (an environment variable holding the connection \
         string) or `uri`"
    );
    assert_eq!(
        headline("version: 1\nclusters:\n  - name: a\n    uri: mongodb://h/\n    uri_env: ORDERS_URI\n"),
        "mongo-preflight.yml:5:14: cluster `a` has both `uri` and `uri_env`; keep one"
    );
}

#[test]
fn duplicate_cluster_names() {
    assert_eq!(
        headline("version: 1\nclusters:\n  - name: a\n    uri: mongodb://h/\n  - name: a\n    uri: mongodb://g/\n"),
        "mongo-preflight.yml:5:11: duplicate cluster name `a`"
    );
}

#[test]
fn thresholds_and_versions() {
    assert_eq!(
        headline("version: 1\nclusters:\n  - name: a\n    uri: mongodb://h/\n    warn_days: 5\n    fail_days: 9\n"),
        "mongo-preflight.yml:6:16: cluster `a`: `fail_days` (9) cannot be larger than `warn_days` (5)"
    );
    assert_eq!(
        headline("version: 1\nclusters:\n  - name: a\n    uri: mongodb://h/\n    min_tls_version: 1.5\n"),
        "mongo-preflight.yml:5:5: invalid value: string \"1.5\", expected a TLS version: 1.0, 1.1, 1.2 or 1.3"
    );
    assert_eq!(
        headline("version: 2\n"),
        "mongo-preflight.yml:1:10: unsupported policy version 2; only `version: 1` exists"
    );
    assert_eq!(
        headline("version: 1\ntimeout: 0\n"),
        "mongo-preflight.yml:2:10: `timeout` must be a number of seconds between 0 and 3600"
    );
}

#[test]
fn missing_files_are_located() {
    assert_eq!(
        headline("version: 1\nclusters:\n  - name: a\n    uri: mongodb://h/\n    ca_file: nowhere/ca.pem\n"),
        "mongo-preflight.yml:5:14: cluster `a`: `ca_file` file `nowhere/ca.pem` does not exist"
    );
    assert_eq!(
        headline("version: 1\nclusters:\n  - name: a\n    uri: mongodb://h/\n    client_cert_env: NOT_PEM\n"),
        "mongo-preflight.yml:5:22: cluster `a`: `NOT_PEM` holds neither PEM text (`-----BEGIN ...`) nor the path \
         of an existing file"
    );
}

#[test]
fn severity_overrides_are_checked() {
    assert_eq!(
        headline("version: 1\nseverity:\n  cert-expird: warning\n"),
        "mongo-preflight.yml:3:16: `severity` names `cert-expird`, which is neither a diagnosis code nor a scan \
         rule; did you mean `cert-expired`?"
    );
    assert_eq!(
        headline("version: 1\nseverity:\n  cert-expired: warnin\n"),
        "mongo-preflight.yml:3:3: unknown value `warnin`; did you mean `warning`? (expected one of `info`, \
         `warning`, `error`)"
    );
}

#[test]
fn waiver_errors() {
    let w = |body: &str| {
        headline(&format!("version: 1\nclusters:\n  - name: orders\n    uri: mongodb://h/\nallow:\n{body}"))
    };
    assert_eq!(
        w("  - rule: allow-invalid-certificates\n    reason: local\n"),
        "mongo-preflight.yml:7:5: missing required key `expires`"
    );
    assert_eq!(
        w("  - rule: allow-invalid-certificates\n    reason: local\n    expires: 2027-13-01\n"),
        "mongo-preflight.yml:8:14: `expires` must be a date written YYYY-MM-DD, not `2027-13-01`"
    );
    assert_eq!(
        w("  - rule: allow-invalid-certificate\n    reason: r\n    expires: 2027-01-31\n"),
        "mongo-preflight.yml:6:11: unknown scan rule `allow-invalid-certificate`; did you mean \
         `allow-invalid-certificates`?"
    );
    assert_eq!(
        w("  - rule: cert-expired\n    reason: r\n    expires: 2027-01-31\n"),
        "mongo-preflight.yml:6:11: unknown scan rule `cert-expired`; it is a diagnosis code: write `code:`"
    );
    assert_eq!(
        w("  - code: cert-expired\n    cluster: order\n    reason: r\n    expires: 2027-01-31\n"),
        "mongo-preflight.yml:7:14: `cluster` `order` is not a cluster of this policy; did you mean `orders`?"
    );
    assert_eq!(
        w("  - code: cert-expired\n    path: src/**\n    reason: r\n    expires: 2027-01-31\n"),
        "mongo-preflight.yml:7:11: `path` narrows a scan-rule waiver; a diagnosis-code waiver is narrowed with \
         `cluster`"
    );
    assert_eq!(
        w("  - reason: r\n    expires: 2027-01-31\n"),
        "mongo-preflight.yml:6:5: a waiver needs `rule` (a scan rule) or `code` (a diagnosis code)"
    );
    assert_eq!(
        w("  - rule: tls-insecure\n    reason: \"  \"\n    expires: 2027-01-31\n"),
        "mongo-preflight.yml:7:13: a waiver's `reason` cannot be empty: say why this is acceptable"
    );
    assert_eq!(
        w("  - rule: tls-insecure\n    path: \"src/[\"\n    reason: r\n    expires: 2027-01-31\n"),
        "mongo-preflight.yml:7:11: `path` `src/[` is not a valid glob: unclosed character class; missing ']'"
    );
}

#[test]
fn wrong_shapes_say_what_was_expected() {
    assert_eq!(
        headline("version: 1\nclusters:\n  - orders\n"),
        "mongo-preflight.yml:3:5: expected a mapping of `key: value` lines here"
    );
    assert_eq!(
        headline("version: 1\nscan:\n  paths: src\n"),
        "mongo-preflight.yml:3:10: expected a list here: `- item` lines, or `[a, b]`"
    );
    assert_eq!(headline("{}\n"), "mongo-preflight.yml:1:1: missing required key `version`");
}

#[test]
fn syntax_errors_and_empty_files() {
    assert_eq!(headline("version: 1\nversion: 1\n"), "mongo-preflight.yml:2:1: duplicate key `version`");
    assert!(headline("version: 1\nclusters: [\n").starts_with("mongo-preflight.yml:2:11: "));
    assert_eq!(
        headline("# nothing yet\n\n"),
        "mongo-preflight.yml:1:1: the policy is empty; it needs at least `version: 1`"
    );
}

#[test]
fn a_full_policy_parses_with_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("ca.pem"), "pem").expect("write");
    let text = "version: 1
timeout: 4.5
clusters:
  - name: orders
    uri_env: ORDERS_URI
    ca_file: ca.pem
    min_tls_version: 1.2
    warn_days: 20
    fail_days: 5

  - name: reporting
    uri: \"mongodb://db.example.com:27018/?tls=true\"
    client_cert_env: CLIENT_PEM
    min_tls_version: \"TLS1.3\"
    required: false
scan:
  paths: [src, config]
  exclude: [\"vendor/**\"]
  base: origin/main
allow:
  - rule: allow-invalid-certificates
    path: \"scripts/**\"
    reason: local docker mongo
    expires: 2027-01-31
severity:
  ocsp-check-disabled: {level: warning, reason: OCSP responder unreachable from CI, expires: 2027-01-15}
";
    let p = Policy::parse_with(text, "mongo-preflight.yml", &ParseContext { base_dir: dir.path(), ..context(false) })
        .expect("valid");
    assert_eq!(p.timeout, Some(std::time::Duration::from_millis(4500)));
    assert_eq!(p.clusters.len(), 2);
    let orders = &p.clusters[0];
    assert_eq!((orders.name.as_str(), orders.line, orders.warn_days, orders.fail_days), ("orders", Some(4), 20, 5));
    assert_eq!(orders.min_tls_version, Some(TlsVersion::Tls12));
    assert_eq!(orders.ca_file.as_deref(), Some(dir.path().join("ca.pem").as_path()));
    assert_eq!(orders.uri.redacted(), "mongodb+srv://****@cluster0.example.mongodb.net/");
    let reporting = &p.clusters[1];
    assert_eq!(
        (reporting.line, reporting.required, reporting.min_tls_version),
        (Some(11), false, Some(TlsVersion::Tls13))
    );
    assert!(matches!(&reporting.client_cert, Some(ClientCert::Pem { var, .. }) if var == "CLIENT_PEM"));
    assert!(!format!("{:?}", reporting.client_cert).contains("BEGIN"), "the PEM never prints");
    assert_eq!(p.scan.exclude, vec!["vendor/**".to_string()]);
    assert_eq!(p.scan.base.as_deref(), Some("origin/main"));
    // The lowering override is a waiver too, with its own origin.
    assert_eq!(p.waivers.len(), 2);
    assert_eq!(p.waivers[0].origin, "mongo-preflight.yml:21");
    assert_eq!(p.waivers[1].origin, "mongo-preflight.yml:26");
    assert_eq!(p.waivers[1].effect, policy::WaiverEffect::Lower(Severity::Warning));
    assert!(p.overrides.is_empty(), "nothing raised or kept");
}

#[test]
fn the_starter_policy_is_valid() {
    let p = Policy::parse(policy::STARTER, "mongo-preflight.yml", Path::new("."), &env).expect("starter parses");
    assert!(p.clusters.is_empty());
    assert_eq!(p.scan.paths, vec![std::path::PathBuf::from(".")]);
}

#[test]
fn default_policy_probes_mongodb_uri_when_set() {
    let with = |name: &str| (name == "MONGODB_URI").then(|| format!("mongodb://u:{CANARY}@db.example.com/"));
    let p = Policy::default_for_env(&with).expect("valid");
    assert_eq!(p.clusters.len(), 1);
    assert_eq!(p.clusters[0].name, "MONGODB_URI");
    assert_eq!(p.clusters[0].uri.redacted(), "mongodb://****@db.example.com:27017/");
    assert!(p.notes.is_empty());
    assert!(p.file.is_none());
    assert_eq!(p.scan, policy::ScanPolicy::default(), "the default scans the whole repository");
}

#[test]
fn default_policy_without_mongodb_uri_says_how_to_configure() {
    let p = Policy::default_for_env(&|_| None).expect("valid");
    assert!(p.clusters.is_empty());
    assert_eq!(p.notes.len(), 1);
    assert_eq!(p.notes[0].severity, Severity::Info);
    assert!(p.notes[0].message.contains("cluster probe skipped"), "{}", p.notes[0].message);
    assert!(p.notes[0].message.contains("Set MONGODB_URI"), "{}", p.notes[0].message);
}

#[test]
fn default_policy_with_an_invalid_mongodb_uri_is_unjudgeable_and_redacted() {
    let bad = |name: &str| (name == "MONGODB_URI").then(|| format!("mongodb://u:{CANARY}@h:0/"));
    let err = Policy::default_for_env(&bad).expect_err("invalid");
    assert_eq!(err.exit_code(), 2);
    assert!(!err.to_string().contains(CANARY), "{err}");
    assert!(err.to_string().starts_with("$MONGODB_URI (probed because there is no mongo-preflight.yml)"), "{err}");
}

// --- waivers and overrides -------------------------------------------------------------------

fn finding(rule: &str, path: &str, new: bool) -> Finding {
    Finding {
        rule: mongo_preflight::catalog::rules::Rule::from_id(rule).expect("a rule id"),
        severity: if new { Severity::Error } else { Severity::Warning },
        path: path.to_string(),
        line: 3,
        column: 1,
        snippet: "x".to_string(),
        new,
        waived: false,
        fingerprint: String::new(),
        message: String::new(),
    }
}

fn cluster(name: &str, code: &str) -> ClusterReport {
    ClusterReport {
        name: name.to_string(),
        uri: "mongodb://h/".to_string(),
        diagnoses: Vec::new(),
        hosts: vec![HostReport {
            host: "h".to_string(),
            port: 27017,
            address: "127.0.0.1:27017".to_string(),
            stages: Default::default(),
            diagnoses: vec![Diagnosis {
                code: DiagnosisCode::from_id(code).expect("a known code"),
                severity: Severity::Error,
                summary: "s".to_string(),
                evidence: "e".to_string(),
                remedy: "r".to_string(),
                waived: false,
            }],
        }],
        required: true,
        policy_line: Some(3),
        shared: Vec::new(),
    }
}

const WAIVERS: &str = "version: 1
clusters:
  - name: orders
    uri: mongodb://h/
  - name: billing
    uri: mongodb://g/
allow:
  - rule: allow-invalid-certificates
    path: \"scripts/**\"
    reason: local docker
    expires: 2027-01-31
  - code: cert-expiring-soon
    cluster: orders
    reason: renewal booked
    expires: 2026-12-01
  - rule: tls-insecure
    reason: nothing has it
    expires: 2027-06-30
max_waiver_days: 365
";

#[test]
fn live_waivers_waive_only_what_they_cover() {
    let p = parse(WAIVERS).expect("valid");
    let mut findings = vec![
        finding("allow-invalid-certificates", "scripts/dev/seed.py", true),
        finding("allow-invalid-certificates", "src/app.py", true),
        finding("allow-invalid-hostnames", "scripts/dev/seed.py", true),
    ];
    let mut clusters = vec![cluster("orders", "cert-expiring-soon"), cluster("billing", "cert-expiring-soon")];
    let notes = policy::apply(&p, &mut clusters, &mut findings, date!(2026 - 11 - 23)).notes;
    assert_eq!(findings.iter().map(|f| f.waived).collect::<Vec<_>>(), [true, false, false]);
    assert!(clusters[0].hosts[0].diagnoses[0].waived);
    assert!(!clusters[1].hosts[0].diagnoses[0].waived, "the waiver names another cluster");
    // The third waiver matched nothing: one warning naming it.
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0].severity, Severity::Warning);
    assert_eq!(
        notes[0].message,
        "mongo-preflight.yml:16: the waiver for rule `tls-insecure` matched nothing; remove it"
    );
}

#[test]
fn the_expiry_day_itself_is_still_live() {
    let p = parse(WAIVERS).expect("valid");
    let mut clusters = vec![cluster("orders", "cert-expiring-soon")];
    let notes = policy::apply(&p, &mut clusters, &mut [], date!(2026 - 12 - 01)).notes;
    assert!(clusters[0].hosts[0].diagnoses[0].waived);
    assert!(notes.iter().all(|n| n.severity != Severity::Error), "{notes:?}");
}

#[test]
fn an_expired_waiver_is_an_error_that_names_it_and_waives_nothing() {
    let p = parse(WAIVERS).expect("valid");
    let mut clusters = vec![cluster("orders", "cert-expiring-soon")];
    let notes = policy::apply(&p, &mut clusters, &mut [], date!(2026 - 12 - 02)).notes;
    assert!(!clusters[0].hosts[0].diagnoses[0].waived);
    let expired: Vec<_> = notes.iter().filter(|n| n.severity == Severity::Error).collect();
    assert_eq!(expired.len(), 1, "{notes:?}");
    assert_eq!(
        expired[0].message,
        "mongo-preflight.yml:12: the waiver for code `cert-expiring-soon` on cluster `orders` expired on 2026-12-01 \
         (reason given: renewal booked); renew `expires` with a reason that still holds, or fix what it covered"
    );
    let report = mongo_preflight::model::RunReport::new(clusters, Vec::new(), notes);
    assert_eq!(report.verdict, mongo_preflight::model::Verdict::Fail);
}

#[test]
fn a_waived_error_does_not_fail_the_run() {
    let p = parse(WAIVERS).expect("valid");
    let mut findings = vec![finding("allow-invalid-certificates", "scripts/x.sh", true)];
    let notes = policy::apply(&p, &mut [], &mut findings, date!(2026 - 11 - 23)).notes;
    let notes: Vec<_> = notes.into_iter().filter(|n| n.severity == Severity::Error).collect();
    let report = mongo_preflight::model::RunReport::new(Vec::new(), findings, notes);
    assert_eq!(report.verdict, mongo_preflight::model::Verdict::Pass);
}

#[test]
fn path_globs_keep_star_within_a_directory() {
    let text =
        "version: 1\nallow:\n  - rule: tls-insecure\n    path: \"*.py\"\n    reason: r\n    expires: 2027-01-01\n";
    let p = parse(text).expect("valid");
    let mut findings = vec![finding("tls-insecure", "top.py", true), finding("tls-insecure", "deep/er.py", true)];
    policy::apply(&p, &mut [], &mut findings, date!(2026 - 11 - 23));
    assert_eq!(findings.iter().map(|f| f.waived).collect::<Vec<_>>(), [true, false]);
}

#[test]
fn severity_overrides_apply_before_the_verdict() {
    let text = "version: 1
severity:
  allow-invalid-hostnames: {level: warning, reason: test hosts, expires: 2027-01-31}
  tls-insecure: error
  cert-expired: {level: info, reason: staging only, expires: 2026-12-31}
";
    let p = parse(text).expect("valid");
    let mut findings = vec![
        finding("allow-invalid-hostnames", "a.py", true),
        finding("tls-insecure", "b.py", false),
        finding("tls-insecure", "c.py", true),
    ];
    let mut clusters = vec![cluster("orders", "cert-expired")];
    let notes = policy::apply(&p, &mut clusters, &mut findings, date!(2026 - 11 - 23)).notes;
    assert!(notes.is_empty());
    assert_eq!(
        findings.iter().map(|f| f.severity).collect::<Vec<_>>(),
        // A finding already on the base ref stays a warning even when its rule is raised.
        [Severity::Warning, Severity::Warning, Severity::Error]
    );
    assert_eq!(clusters[0].hosts[0].diagnoses[0].severity, Severity::Info);
    findings.pop();
    let report = mongo_preflight::model::RunReport::new(clusters, findings, Vec::new());
    assert_eq!(report.verdict, mongo_preflight::model::Verdict::Pass);
}

#[test]
fn the_schema_describes_every_key() {
    let schema = policy::json_schema();
    let text = schema.to_string();
    for key in
        ["uri_env", "client_cert_env", "min_tls_version", "fail_days", "exclude", "expires", "severity", "timeout"]
    {
        assert!(text.contains(&format!("\"{key}\"")), "schema lacks {key}");
    }
    assert_eq!(schema["additionalProperties"], serde_json::json!(false));
}

#[test]
fn an_unreachable_optional_cluster_only_warns() {
    let p = parse("version: 1\n").expect("valid");
    let mut optional = cluster("reporting", "tcp-connection-refused");
    optional.required = false;
    optional.hosts[0].diagnoses.push(Diagnosis {
        code: DiagnosisCode::CertExpired,
        severity: Severity::Error,
        summary: "s".to_string(),
        evidence: String::new(),
        remedy: String::new(),
        waived: false,
    });
    let mut clusters = vec![optional, cluster("orders", "tcp-connection-refused")];
    policy::apply(&p, &mut clusters, &mut [], date!(2026 - 11 - 23));
    let severities = |c: &ClusterReport| c.hosts[0].diagnoses.iter().map(|d| d.severity).collect::<Vec<_>>();
    // Unreachable: a warning; reachable but broken: still an error.
    assert_eq!(severities(&clusters[0]), [Severity::Warning, Severity::Error]);
    assert_eq!(severities(&clusters[1]), [Severity::Error], "a required cluster keeps its errors");
}

// --- loosening needs a reason and an end -------------------------------------------------------

#[test]
fn lowering_a_severity_without_reason_and_expiry_is_an_error_with_its_location() {
    assert_eq!(
        headline("version: 1\nseverity:\n  tls-insecure: info\n"),
        "mongo-preflight.yml:3:17: `severity: {tls-insecure: info}` lowers scan rule `tls-insecure` from error, \
         which waives it: write it as `tls-insecure: {level: info, reason: \"…\", expires: YYYY-MM-DD}` so that it \
         says why and until when"
    );
    assert_eq!(
        headline("version: 1\nseverity:\n  cert-expired: {level: warning, expires: 2027-01-01}\n"),
        "mongo-preflight.yml:3:17: lowering `cert-expired` to warning is a waiver: it needs a `reason`"
    );
    assert_eq!(
        headline("version: 1\nseverity:\n  cert-expired: {level: warning, reason: r}\n"),
        "mongo-preflight.yml:3:17: lowering `cert-expired` to warning is a waiver: it needs `expires` (YYYY-MM-DD)"
    );
    // Raising or keeping needs neither.
    assert!(parse("version: 1\nseverity:\n  cert-expiring-soon: error\n  tls-insecure: error\n").is_ok());
}

#[test]
fn a_waiver_ends_within_max_waiver_days() {
    let waiver = |expires: &str, extra: &str| {
        format!("version: 1\n{extra}allow:\n  - rule: tls-insecure\n    reason: r\n    expires: {expires}\n")
    };
    // 2026-11-23 + 90 days = 2027-02-21: that day is allowed, the next is not.
    assert!(parse(&waiver("2027-02-21", "")).is_ok());
    assert_eq!(
        headline(&waiver("2027-02-22", "")),
        "mongo-preflight.yml:5:14: `expires: 2027-02-22` is more than 90 days away; a waiver must end by 2027-02-21 \
         (`max_waiver_days` is 90), so that someone looks at it again"
    );
    assert_eq!(
        headline(&waiver("9999-12-31", "")),
        "mongo-preflight.yml:5:14: `expires: 9999-12-31` is more than 90 days away; a waiver must end by 2027-02-21 \
         (`max_waiver_days` is 90), so that someone looks at it again"
    );
    assert!(parse(&waiver("2027-05-01", "max_waiver_days: 180\n")).is_ok());
    assert_eq!(
        headline(&waiver("2027-01-01", "max_waiver_days: 0\n")),
        "mongo-preflight.yml:2:18: `max_waiver_days` must be a number of days between 1 and 3650"
    );
    // A lowering override is held to the same end.
    assert!(
        headline("version: 1\nseverity:\n  tls-insecure: {level: info, reason: r, expires: 2030-01-01}\n")
            .contains("a waiver must end by 2027-02-21")
    );
}

#[test]
fn without_secrets_a_cluster_with_an_empty_uri_env_is_skipped_with_a_warning() {
    let text = "version: 1\nclusters:\n  - name: orders\n    uri_env: ORDERS_URI\n  - name: billing\n    uri_env: BILLING_URI\nallow:\n  - code: cert-expired\n    cluster: billing\n    reason: r\n    expires: 2027-01-01\n";
    // With secrets expected, the missing one stops the run.
    assert!(headline(text).contains("`BILLING_URI` (its `uri_env`) is not set or is empty"));
    let p = Policy::parse_with(text, "mongo-preflight.yml", &context(true)).expect("valid without secrets");
    assert_eq!(p.clusters.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["orders"]);
    assert_eq!(p.skipped_clusters, ["billing"]);
    assert_eq!(p.notes.len(), 1);
    assert_eq!(p.notes[0].severity, Severity::Warning);
    assert!(
        p.notes[0].message.starts_with("cluster `billing` was not probed: `BILLING_URI`"),
        "{}",
        p.notes[0].message
    );

    // A literal URI with its client certificate in a secret is skipped the same way.
    let mtls = "version: 1\nclusters:\n  - name: mtls\n    uri: mongodb://db.example.com/?tls=true\n    client_cert_env: MTLS_PEM\n";
    assert!(headline(mtls).contains("`MTLS_PEM` (its `client_cert_env`) is not set or is empty"));
    let p = Policy::parse_with(mtls, "mongo-preflight.yml", &context(true)).expect("valid without secrets");
    assert!(p.clusters.is_empty());
    assert_eq!(p.skipped_clusters, ["mtls"]);
    assert!(
        p.notes[0].message.contains("`MTLS_PEM` (its `client_cert_env`) is empty in a pull request"),
        "{:?}",
        p.notes
    );
}

#[test]
fn the_pass_lists_every_waiver_with_what_it_covered() {
    let text = "version: 1
allow:
  - rule: allow-invalid-certificates
    path: \"scripts/**\"
    reason: local docker
    expires: 2027-01-31
severity:
  tls-insecure: {level: warning, reason: migration, expires: 2027-01-15}
";
    let p = parse(text).expect("valid");
    let mut findings = vec![
        finding("allow-invalid-certificates", "scripts/a.py", true),
        finding("tls-insecure", "b.py", true),
        finding("tls-insecure", "c.py", true),
    ];
    let judged = policy::apply(&p, &mut [], &mut findings, TODAY);
    assert!(judged.notes.is_empty(), "{:?}", judged.notes);
    assert_eq!(
        findings.iter().map(|f| (f.severity, f.waived)).collect::<Vec<_>>(),
        [(Severity::Error, true), (Severity::Warning, false), (Severity::Warning, false)]
    );
    let listed: Vec<_> = judged
        .waivers
        .iter()
        .map(|w| (w.kind.as_str(), w.target.as_str(), w.scope.as_deref(), w.expires.as_str(), w.covered))
        .collect();
    assert_eq!(
        listed,
        [
            ("severity", "tls-insecure", None, "2027-01-15", 2),
            ("waiver", "allow-invalid-certificates", Some("scripts/**"), "2027-01-31", 1)
        ]
    );
    // Past its end, the lowering no longer applies and fails the run.
    let mut findings = vec![finding("tls-insecure", "b.py", true)];
    let judged = policy::apply(&p, &mut [], &mut findings, date!(2027 - 01 - 16));
    assert_eq!(findings[0].severity, Severity::Error);
    assert!(judged.notes.iter().any(|n| n.severity == Severity::Error
        && n.message.contains("the waiver for rule `tls-insecure` lowered to warning expired on 2027-01-15")));
}
