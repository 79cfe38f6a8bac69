//! `mongo-preflight why`: real clients' error texts (tests/fixtures/why, captured from the lab
//! by tests/fixtures/why/capture/capture.sh), the seed reports' texts, logs with noise around
//! the failure, look-alikes, redaction, and `--probe` against the lab.

mod lab;
mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(60);

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/why")
}

fn why(args: &[&str]) -> std::process::Output {
    let mut cmd = support::mongo_preflight();
    cmd.arg("why").args(args);
    support::output_within(cmd, LIMIT)
}

fn why_json(args: &[&str]) -> Value {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let out = why(&all);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("why --format json prints JSON")
}

fn codes(json: &Value) -> Vec<String> {
    json["causes"].as_array().into_iter().flatten().filter_map(|c| c["code"].as_str().map(String::from)).collect()
}

fn likely(json: &Value) -> Vec<String> {
    json["causes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["likelihood"] == "likely")
        .filter_map(|c| c["code"].as_str().map(String::from))
        .collect()
}

fn manifest() -> Vec<Value> {
    let text = std::fs::read_to_string(fixtures().join("manifest.json")).expect("manifest.json");
    serde_json::from_str::<Vec<Value>>(&text).expect("manifest is a list")
}

#[test]
fn real_client_texts_give_their_cause() {
    let entries = manifest();
    assert!(entries.len() >= 150, "the captured texts are all there");
    let (mut decidable, mut first, mut listed) = (0usize, 0usize, 0usize);
    let mut failures = Vec::new();
    for entry in &entries {
        let file = fixtures().join(entry["file"].as_str().expect("file"));
        let json = why_json(&["--file", file.to_str().expect("utf-8 path")]);
        let code = entry["code"].as_str().expect("code");
        let got = codes(&json);
        if entry["decidable"] == true {
            decidable += 1;
            first += usize::from(got.first().map(String::as_str) == Some(code));
            listed += usize::from(got.iter().any(|c| c == code));
            if got.first().map(String::as_str) != Some(code) {
                failures.push(format!("{}: expected {code} first, got {got:?}", entry["file"]));
            }
        } else {
            let likely = likely(&json);
            assert!(likely.is_empty(), "{}: cannot decide, yet {likely:?} is likely", entry["file"]);
        }
        if !got.is_empty() {
            let hosts: Vec<&str> = json["hosts"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            for host in entry["hosts"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                assert!(hosts.contains(&host), "{}: host {host} not extracted: {hosts:?}", entry["file"]);
            }
            if let Some(srv) = entry["srv"].as_str() {
                let command = json["probe_command"].as_str().unwrap_or_default();
                assert!(command.contains(&format!("mongodb+srv://{srv}/")), "{}: {command}", entry["file"]);
            }
        }
    }
    assert!(decidable >= 100, "enough decidable texts: {decidable}");
    assert!(first * 100 >= decidable * 90, "right cause first for {first}/{decidable}: {failures:#?}");
    assert!(listed * 100 >= decidable * 95, "true cause listed for {listed}/{decidable}");
}

#[test]
fn the_seed_reports_texts() {
    for text in [
        "[SSL: TLSV1_ALERT_INTERNAL_ERROR] tlsv1 alert internal error (_ssl.c:1006)",
        "pymongo.errors.ServerSelectionTimeoutError: SSL handshake failed: ac-dj55aef-shard-00-00.hctrhus.mongodb.net:27017: [SSL: TLSV1_ALERT_INTERNAL_ERROR] tlsv1 alert internal error (_ssl.c:1006)",
        "MongoServerSelectionError: 40A8D2E5C27F0000:error:0A000438:SSL routines:ssl3_read_bytes:tlsv1 alert internal error:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1605:SSL alert number 80",
        "[0605/104052.171:ERROR:ssl_client_socket_impl.cc(978)] handshake failed; returned -1, SSL error code 1, net_error -107 TLSV1_ALERT_INTERNAL_ERROR tls_record.cc",
        "Error Domain=NSOSStatusErrorDomain Code=-9838 \"internal error (-9838)\"",
        "com.mongodb.MongoSocketWriteException: Exception sending message caused by {javax.net.ssl.SSLHandshakeException: Received fatal alert: internal_error}",
        "server selection error: context deadline exceeded, current topology: { Type: ReplicaSetNoPrimary, Servers: [{ Addr: ac-x-shard-00-01.abcde.mongodb.net:27017, Type: Unknown, Last error: remote error: tls: internal error }, ] }",
    ] {
        let json = why_json(&[text]);
        assert_eq!(codes(&json).first().map(String::as_str), Some("ip-access-list-rejected"), "{text}");
        assert_eq!(json["causes"][0]["likelihood"], "likely", "{text}");
        let ruled: Vec<&str> = json["rules_out"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|r| r["codes"].as_array().into_iter().flatten().filter_map(Value::as_str))
            .collect();
        assert!(ruled.contains(&"cert-expired") && ruled.contains(&"cert-untrusted-issuer"), "{text}: {ruled:?}");
    }
    let json = why_json(&["ssl.SSLError: [SSL: CERTIFICATE_VERIFY_FAILED]"]);
    assert!(likely(&json).is_empty(), "CERTIFICATE_VERIFY_FAILED alone names no one certificate problem");
    assert!(codes(&json).contains(&"cert-untrusted-issuer".to_string()));
    let json = why_json(&[
        "SSL handshake failed: ac-dj55aef-shard-00-00.hctrhus.mongodb.net.:27017: [SSL: TLSV1_ALERT_INTERNAL_ERROR]",
    ]);
    assert_eq!(json["hosts"][0], "ac-dj55aef-shard-00-00.hctrhus.mongodb.net:27017");
    assert_eq!(
        json["probe_command"],
        "mongo-preflight probe 'mongodb://ac-dj55aef-shard-00-00.hctrhus.mongodb.net:27017/?tls=true'"
    );
}

#[test]
fn a_bare_timeout_decides_nothing() {
    let json = why_json(&["Server selection timed out after 30000 ms"]);
    assert!(likely(&json).is_empty(), "{json}");
    assert!(!codes(&json).is_empty(), "it still lists what it may be");
    let out = why(&["Server selection timed out after 30000 ms"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("cannot decide"));
}

#[test]
fn a_ci_log_with_noise_and_wrapped_lines() {
    let log = "\
2024-05-01T10:00:00.1234567Z ##[group]Run pytest\n\
2024-05-01T10:00:01.1234567Z ============================= test session starts ==============================\n\
2024-05-01T10:00:02.1234567Z tests/test_db.py F                                                        [100%]\n\
2024-05-01T10:00:03.1234567Z E   pymongo.errors.ServerSelectionTimeoutError: SSL handshake failed: cluster0-shard-00-02.ab\n\
2024-05-01T10:00:03.1234567Z cde.mongodb.net:27017: [SSL: TLSV1_ALERT_INTER\n\
2024-05-01T10:00:03.1234567Z NAL_ERROR] tlsv1 alert internal error (_ssl.c:1006)\n\
2024-05-01T10:00:04.1234567Z redis.exceptions.ConnectionError: Error 111 connecting to localhost:6379. Connection refused.\n\
2024-05-01T10:00:05.1234567Z ##[error]Process completed with exit code 1.\n";
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("test.log");
    std::fs::write(&file, log).expect("write log");
    let json = why_json(&["--file", file.to_str().expect("utf-8")]);
    assert_eq!(likely(&json), ["ip-access-list-rejected"], "{json}");
    // A JSON log line with `\n` escapes.
    let json_line = r#"{"level":"error","msg":"MongoServerSelectionError: connect ECONNREFUSED 10.0.0.5:27017\n    at Timeout._onTimeout (/app/node_modules/mongodb/lib/sdam/topology.js:278:38)"}"#;
    let json = why_json(&[json_line]);
    assert_eq!(likely(&json), ["tcp-connection-refused"]);
    assert_eq!(json["hosts"], serde_json::json!(["10.0.0.5:27017"]));
    assert_eq!(json["errors"][0]["driver"], "Node.js driver");
}

#[test]
fn look_alikes_give_no_cause() {
    for text in [
        "pymongo.errors.DuplicateKeyError: E11000 duplicate key error collection: app.users index: email_1 dup key: { email: \"a@b.c\" }",
        "MongoServerError: Document failed validation\n  errInfo: { failingDocumentId: 1, details: { operatorName: '$jsonSchema' } }",
        "ValidationError: User validation failed: name: Path `name` is required.",
        "app.errors.MongoBackupError: the nightly mongo backup of db1.example.com:27017 could not be uploaded",
        "2024-05-01 INFO connected to mongodb://db1.example.com:27017/?tls=true in 12 ms",
    ] {
        let json = why_json(&[text]);
        assert_eq!(json["causes"], serde_json::json!([]), "{text}");
        assert_eq!(json["probe_command"], Value::Null, "{text}");
    }
    // A refused Redis connection in a long log is not a MongoDB failure.
    let mut log = String::new();
    for i in 0..20 {
        log.push_str(&format!("step {i} ok\n"));
    }
    log.push_str(
        "redis.exceptions.ConnectionError: Error 111 connecting to cache.internal:6379. Connection refused.\n",
    );
    assert_eq!(why_json(&[&log])["causes"], serde_json::json!([]));
    // Empty stdin: read, nothing found.
    let json = why_json(&[]);
    assert_eq!(json["causes"], serde_json::json!([]));
}

#[test]
fn a_password_in_the_input_is_never_echoed() {
    let canary = lab::CANARY_PASSWORD;
    let mut planted = 0;
    for entry in manifest().iter().filter(|e| e["canary"] == true) {
        planted += 1;
        let file = fixtures().join(entry["file"].as_str().expect("file"));
        let text = std::fs::read_to_string(&file).expect("fixture");
        assert!(text.contains(canary), "the fixture holds the canary");
        for format in ["text", "json", "markdown"] {
            let out = why(&["--file", file.to_str().expect("utf-8"), "--format", format]);
            let shown = String::from_utf8_lossy(&out.stdout);
            assert!(!shown.contains(canary) && !String::from_utf8_lossy(&out.stderr).contains(canary), "{file:?}");
            assert!(shown.contains("mongo-preflight probe"), "{file:?} {format}: {shown}");
        }
    }
    assert!(planted >= 10, "canaries were planted");
    // The whole connection string, minus the credentials, is what the probe gets.
    let text = format!(
        "MONGODB_URI=mongodb://app:{canary}@db1.example.com:27017,db2.example.com:27017/prod?replicaSet=rs0&tls=true&authSource=admin\n\
         pymongo.errors.ServerSelectionTimeoutError: db1.example.com:27017: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired (_ssl.c:1006)"
    );
    let json = why_json(&[&text]);
    assert_eq!(
        json["probe_command"],
        "mongo-preflight probe 'mongodb://db1.example.com:27017,db2.example.com:27017/prod?replicaSet=rs0&tls=true&authSource=admin'"
    );
    assert!(!json.to_string().contains(canary));
    assert_eq!(likely(&json), ["cert-expired"]);
    // A connection string on the failing line itself: the excerpt shows it redacted.
    let text = format!(
        "MongoServerSelectionError: connect ECONNREFUSED 10.1.2.3:27017 while connecting to mongodb://app:{canary}@db1.example.com:27017/?tls=true"
    );
    for format in ["text", "json", "markdown"] {
        let out = why(&["--format", format, &text]);
        let shown = String::from_utf8_lossy(&out.stdout);
        assert!(shown.contains("ECONNREFUSED") && !shown.contains(canary), "{format}: {shown}");
    }
}

#[test]
fn srv_names_give_the_srv_form() {
    let json = why_json(&["MongoServerSelectionError: querySrv ENOTFOUND _mongodb._tcp.cluster0.abcde.mongodb.net"]);
    assert_eq!(likely(&json), ["dns-srv-not-found"]);
    assert_eq!(json["probe_command"], "mongo-preflight probe 'mongodb+srv://cluster0.abcde.mongodb.net/'");
    let json = why_json(&["Error: querySrv ECONNREFUSED _mongodb._tcp.cluster0.abcde.mongodb.net"]);
    assert_eq!(likely(&json), ["dns-lookup-failed"], "Node's resolver failing, not TCP");
}

#[test]
fn bad_arguments_exit_2() {
    let out = why(&["--file", "/nonexistent/test.log"]);
    assert_eq!(out.status.code(), Some(2));
    let out = why(&["--format", "yaml", "x"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn markdown_for_the_job_summary() {
    let out = why(&["--format", "markdown", "MongoServerSelectionError: certificate has expired (localhost:27017)"]);
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.starts_with("### mongo-preflight why"), "{md}");
    assert!(md.contains("`cert-expired`") && md.contains("```sh\nmongo-preflight probe"), "{md}");
}

/// A captured text, with the lab ports it was captured against replaced by the live lab's.
fn live_text(file: &str, endpoint: &lab::Endpoint) -> String {
    let entry = manifest().into_iter().find(|e| e["file"] == file).expect("manifest entry");
    let text = std::fs::read_to_string(fixtures().join(file)).expect("fixture");
    let old = entry["hosts"][0].as_str().expect("a host").rsplit_once(':').expect("host:port").1.to_string();
    text.replace(&format!(":{old}"), &format!(":{}", endpoint.port))
        .replace(&format!(", {old})"), &format!(", {})", endpoint.port))
}

#[test]
fn probe_decides_against_the_lab() {
    let lab = lab::shared();
    let ca = lab.ca_file.to_str().expect("utf-8").to_string();
    let dns = lab.dns_arg();
    for (file, endpoint, code) in [
        ("pymongo/access-list.txt", "rejected", "ip-access-list-rejected"),
        ("pymongo/expired.txt", "expired", "cert-expired"),
        ("pymongo/closed.txt", "closed", "tcp-connection-refused"),
        ("pymongo/silent.txt", "silent", "tls-handshake-timeout"),
    ] {
        let text = live_text(file, lab.endpoint(endpoint));
        let json = why_json(&["--probe", "--timeout", "3", "--ca-file", &ca, "--dns-server", &dns, &text]);
        assert_eq!(codes(&json).first().map(String::as_str), Some(code), "{file}: {json}");
        assert!(json["probe"]["hosts"].is_array(), "{file}: the probe's cluster report is there");
        assert!(json["probe_command"].as_str().unwrap_or_default().contains("--ca-file"));
    }
}

#[test]
fn longer_words_win() {
    // `self-signed certificate` is inside `self-signed certificate in certificate chain`: the
    // chain ends in an untrusted root, the leaf is not self-signed.
    let json = why_json(&[
        "MongoServerSelectionError: self-signed certificate in certificate chain\n  code: 'SELF_SIGNED_CERT_IN_CHAIN'",
    ]);
    assert_eq!(likely(&json), ["cert-untrusted-issuer"], "{json}");
    let json = why_json(&[
        "x509: certificate has expired or is not yet valid: current time 2026-01-02T00:00:00Z is before 2026-02-01T00:00:00Z",
    ]);
    assert_eq!(likely(&json), ["cert-not-yet-valid"], "{json}");
}
