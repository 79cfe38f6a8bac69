//! The second round of causes against the lab: `hello` facts (replica set name, wire version,
//! clock), TLS interception, CA bundles, and one diagnosis per cluster and cause. Each code has
//! a positive case and a look-alike that must not trigger it (the look-alikes that need only
//! the lab's default trust are also in `probe.rs`'s every-endpoint test).

mod lab;
mod support;

use support::{codes, diagnosis};

use std::collections::BTreeSet;
use std::process::{Command, Output};

use serde_json::Value;

/// `probe --format FORMAT` with the lab's DNS, a short deadline and a clean environment; the
/// trust is `ca_file` (the lab CA unless a case says otherwise).
fn probe_command(format: &str, ca_file: &str) -> Command {
    let lab = lab::shared();
    let mut cmd = support::mongo_preflight();
    cmd.args(["probe", "--format", format, "--timeout", "3", "--ca-file", ca_file, "--dns-server", &lab.dns_arg()]);
    cmd
}

struct Run {
    code: i32,
    json: Value,
    stdout: String,
}

fn probe_with(ca_file: &str, uris: &[&str]) -> Run {
    let mut cmd = probe_command("json", ca_file);
    cmd.args(uris);
    let out = support::run(cmd);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}\nstderr:\n{}", String::from_utf8_lossy(&out.stderr)));
    Run { code: out.status.code().unwrap_or(-1), json, stdout }
}

fn probe(uris: &[&str]) -> Run {
    probe_with(&lab::shared().ca_file_arg(), uris)
}

fn run_format(format: &str, ca_file: &str, uri: &str) -> Output {
    let mut cmd = probe_command(format, ca_file);
    cmd.arg(uri);
    support::run(cmd)
}

fn text(format: &str, ca_file: &str, uri: &str) -> String {
    String::from_utf8_lossy(&run_format(format, ca_file, uri).stdout).into_owned()
}

fn set(codes: &[&str]) -> BTreeSet<String> {
    codes.iter().map(|c| c.to_string()).collect()
}

fn file(name: &str) -> String {
    lab::shared().files[name].to_string_lossy().into_owned()
}

#[test]
fn replica_set_name_mismatch_names_both_names_and_a_standalone() {
    let lab = lab::shared();
    let run = probe(&[&lab.endpoint("rs-mismatch").uri]);
    assert_eq!(codes(&run.json), set(&["replica-set-name-mismatch"]), "{}", run.stdout);
    assert_eq!(run.code, 1);
    let d = diagnosis(&run.json, "replica-set-name-mismatch");
    let words = format!("{} {}", d["summary"], d["evidence"]);
    assert!(words.contains("rs-expected") && words.contains(lab::causes::SET_NAME), "{words}");
    let stages = &run.json["clusters"][0]["hosts"][0]["stages"];
    assert_eq!(stages["hello"]["details"]["set_name"], lab::causes::SET_NAME);

    let run = probe(&[&lab.endpoint("rs-standalone").uri]);
    let d = diagnosis(&run.json, "replica-set-name-mismatch");
    assert!(d["summary"].as_str().is_some_and(|s| s.contains("not a replica set member")), "{d}");

    // Look-alikes: the right name, and no name asked for.
    for name in ["rs-match", "rs-not-asked"] {
        let run = probe(&[&lab.endpoint(name).uri]);
        assert!(codes(&run.json).is_empty(), "{name}: {}", run.stdout);
        assert_eq!(run.code, 0);
    }
}

/// TXT options come from the lab's DNS: a `replicaSet` that only the TXT record names is the
/// one the member must report.
#[test]
fn a_replica_set_named_only_in_the_txt_record_is_checked() {
    let lab = lab::shared();
    let run = probe(&[&lab.srv("rs-from-txt").uri]);
    assert_eq!(codes(&run.json), set(&["replica-set-name-mismatch"]), "{}", run.stdout);
    let d = diagnosis(&run.json, "replica-set-name-mismatch");
    let words = format!("{} {}", d["summary"], d["evidence"]);
    assert!(words.contains("rs-expected") && words.contains(lab::causes::SET_NAME), "{words}");

    let run = probe(&[&lab.srv("rs-from-txt-match").uri]);
    assert!(codes(&run.json).is_empty(), "{}", run.stdout);
    assert_eq!(run.code, 0);
}

#[test]
fn old_servers_answer_the_legacy_is_master_and_below_wire_7_are_unsupported() {
    let lab = lab::shared();
    let run = probe(&[&lab.endpoint("wire-6").uri]);
    assert_eq!(codes(&run.json), set(&["server-version-unsupported"]), "{}", run.stdout);
    let d = diagnosis(&run.json, "server-version-unsupported");
    assert!(d["evidence"].as_str().is_some_and(|e| e.contains("maxWireVersion 6") && e.contains("isMaster")), "{d}");
    let hello = &run.json["clusters"][0]["hosts"][0]["stages"]["hello"]["details"];
    assert_eq!(hello["legacy_is_master"], true);
    assert_eq!(hello["max_wire_version"], 6);
    // The server was asked `hello` first (OP_MSG), then `isMaster` (OP_QUERY).
    let received = lab::fake_mongo::commands_received(lab.endpoint("wire-6").port);
    assert!(received.windows(2).any(|w| w == ["hello", "isMaster"]), "{received:?}");

    let run = probe(&[&lab.endpoint("wire-7").uri]);
    assert!(codes(&run.json).is_empty(), "MongoDB 4.0 is still supported: {}", run.stdout);
    assert_eq!(run.json["clusters"][0]["hosts"][0]["stages"]["hello"]["details"]["max_wire_version"], 7);
}

#[test]
fn a_wrong_runner_clock_is_clock_skew_not_a_certificate_date() {
    let lab = lab::shared();
    for name in ["clock-behind", "clock-ahead"] {
        let run = probe(&[&lab.endpoint(name).uri]);
        assert_eq!(codes(&run.json), set(&["clock-skew", "insecure-fallback-required"]), "{name}: {}", run.stdout);
        let d = diagnosis(&run.json, "clock-skew");
        assert!(d["evidence"].as_str().is_some_and(|e| e.contains("localTime")), "{d}");
        let stages = &run.json["clusters"][0]["hosts"][0]["stages"];
        assert_eq!(stages["tls_strict"]["ok"], false);
        assert_eq!(stages["relaxed_hello"]["ok"], true, "{name}: read over the relaxed connection");
        assert!(stages["relaxed_hello"]["details"]["local_time"].is_string());
    }
    let run = probe(&[&lab.endpoint("clock-behind").uri]);
    assert!(diagnosis(&run.json, "clock-skew")["summary"].as_str().is_some_and(|s| s.contains("behind")));
    let run = probe(&[&lab.endpoint("clock-ahead").uri]);
    assert!(diagnosis(&run.json, "clock-skew")["summary"].as_str().is_some_and(|s| s.contains("ahead of")));
    // Look-alikes: skew that explains nothing, and an expiry the server's clock confirms.
    let run = probe(&[&lab.endpoint("clock-skewed-valid").uri]);
    assert!(codes(&run.json).is_empty(), "{}", run.stdout);
    let run = probe(&[&lab.endpoint("clock-skew-still-expired").uri]);
    assert_eq!(codes(&run.json), set(&["cert-expired", "insecure-fallback-required"]), "{}", run.stdout);
    // A real SecantusDB behind a not-yet-valid certificate: its clock agrees with ours.
    let run = probe(&[&lab.endpoint("not-yet-valid").uri]);
    assert_eq!(codes(&run.json), set(&["cert-not-yet-valid", "insecure-fallback-required"]), "{}", run.stdout);
}

#[test]
fn no_credentials_go_over_an_unverified_connection() {
    let lab = lab::shared();
    // This endpoint is this test's alone: whatever it receives, this test sent.
    let endpoint = lab.endpoint("clock-behind-credentials");
    let uri = endpoint.uri_with_credentials(lab::CANARY_PASSWORD);
    for format in ["json", "text", "markdown"] {
        let mut cmd = probe_command(format, &lab.ca_file_arg());
        // Everything the binary prints, its logs at the most verbose level included.
        cmd.env("RUST_LOG", "trace").arg(&uri);
        let out = support::all_output(&support::run(cmd));
        assert!(out.contains("clock-skew"), "{out}");
        assert!(!out.contains(lab::CANARY_PASSWORD), "{format} leaks the password:\n{out}");
    }
    let run = probe(&[&uri]);
    assert!(run.json["clusters"][0]["hosts"][0]["stages"].get("auth").is_none(), "{}", run.stdout);
    let received = lab::fake_mongo::commands_received(endpoint.port);
    assert_eq!(received.len(), 4, "one hello over the relaxed connection per run: {received:?}");
    assert!(received.iter().all(|c| c == "hello"), "only hello goes over the relaxed connection: {received:?}");
}

#[test]
fn a_proxy_named_like_an_inspection_product_is_interception() {
    let lab = lab::shared();
    let run = probe(&[&lab.endpoint("zscaler").uri]);
    assert_eq!(codes(&run.json), set(&["tls-interception-suspected", "insecure-fallback-required"]), "{}", run.stdout);
    let d = diagnosis(&run.json, "tls-interception-suspected");
    let words = format!("{} {} {}", d["summary"], d["evidence"], d["remedy"]);
    assert!(words.contains("Zscaler"), "{words}");
    assert!(words.contains("tlsCAFile") && words.contains("TLS inspection"), "both ways out: {words}");
    assert!(!d["remedy"].as_str().unwrap_or_default().contains("tlsAllowInvalidCertificates=true"), "{words}");

    // On an Atlas name, the exemption to ask for is *.mongodb.net:27017.
    let run = probe(&[&lab.endpoint("zscaler-atlas").uri]);
    let d = diagnosis(&run.json, "tls-interception-suspected");
    assert!(d["remedy"].as_str().is_some_and(|r| r.contains("*.mongodb.net:27017")), "{d}");
    assert!(!codes(&run.json).contains("cert-untrusted-issuer"), "it replaces cert-untrusted-issuer");

    // Trusting the proxy's root explicitly is a way out: then nothing is wrong.
    let run = probe_with(&file("zscaler_root"), &[&lab.endpoint("zscaler").uri]);
    assert!(codes(&run.json).is_empty(), "{}", run.stdout);
    assert_eq!(run.code, 0);
}

#[test]
fn atlas_chains_from_neither_atlas_ca_are_interception_and_look_alikes_are_not() {
    let lab = lab::shared();
    let run = probe(&[&lab.endpoint("atlas-untrusted-root").uri]);
    let d = diagnosis(&run.json, "tls-interception-suspected");
    assert!(d["evidence"].as_str().is_some_and(|e| e.contains("Let's Encrypt")), "{d}");
    // A chain named like Let's Encrypt's that the trust lacks: an untrusted issuer, and the
    // remedy names Google Trust Services too.
    let run = probe(&[&lab.endpoint("atlas-le-untrusted").uri]);
    assert!(!codes(&run.json).contains("tls-interception-suspected"), "{}", run.stdout);
    let d = diagnosis(&run.json, "cert-untrusted-issuer");
    assert!(d["remedy"].as_str().is_some_and(|r| r.contains("Google Trust Services")), "{d}");
    // Not Atlas, not a product's name: an untrusted issuer.
    let run = probe(&[&lab.endpoint("untrusted-root").uri]);
    assert_eq!(codes(&run.json), set(&["cert-untrusted-issuer", "insecure-fallback-required"]), "{}", run.stdout);
}

#[test]
fn atlas_ca_bundles_need_isrg_and_all_four_gts_roots() {
    let lab = lab::shared();
    let uri = lab.endpoint("atlas-valid").uri.clone();
    let run = probe_with(&file("bundle_complete"), &[&uri]);
    assert!(codes(&run.json).is_empty(), "the real roots, found by name and key: {}", run.stdout);
    assert_eq!(run.code, 0);

    let run = probe_with(&file("bundle_without_gts"), &[&uri]);
    assert_eq!(codes(&run.json), set(&["ca-bundle-incomplete"]), "{}", run.stdout);
    assert_eq!(run.code, 1, "an error for an Atlas host");
    let d = &run.json["clusters"][0]["diagnoses"][0];
    assert_eq!(d["severity"], "error");
    let summary = d["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("GTS Root R1") && summary.contains("GTS Root R4"), "{summary}");
    assert!(!summary.contains("ISRG"), "ISRG Root X1 is there: {summary}");
    assert!(d["remedy"].as_str().is_some_and(|r| r.contains("https://pki.goog/repository/")), "{d}");

    // A root named "ISRG Root X1" with another key is not ISRG Root X1.
    let run = probe_with(&file("bundle_fake_isrg"), &[&uri]);
    let summary = diagnosis(&run.json, "ca-bundle-incomplete")["summary"].as_str().unwrap_or_default().to_string();
    assert!(summary.contains("ISRG Root X1") && !summary.contains("GTS"), "{summary}");

    // The lab CA alone lacks all five; a non-Atlas host with the same file needs none of them.
    let run = probe(&[&uri]);
    let summary = diagnosis(&run.json, "ca-bundle-incomplete")["summary"].as_str().unwrap_or_default().to_string();
    assert!(summary.contains("ISRG Root X1") && summary.contains("GTS Root R3"), "{summary}");
    let run = probe(&[&lab.endpoint("valid").uri]);
    assert!(codes(&run.json).is_empty(), "{}", run.stdout);
}

#[test]
fn a_bundle_holding_only_an_intermediate_pins_it() {
    let lab = lab::shared();
    let uri = lab.endpoint("valid").uri.clone();
    let run = probe_with(&file("bundle_intermediate_only"), &[&uri]);
    assert_eq!(codes(&run.json), set(&["ca-pins-intermediate"]), "{}", run.stdout);
    assert_eq!(run.code, 0, "a warning");
    let d = diagnosis(&run.json, "ca-pins-intermediate");
    assert_eq!(d["severity"], "warning");
    let words = format!("{} {}", d["evidence"], d["remedy"]);
    assert!(words.contains("Lab Intermediate CA") && words.contains("Lab Root CA"), "names both: {words}");
    // Look-alike: the intermediate with its root.
    let run = probe_with(&file("bundle_intermediate_and_root"), &[&uri]);
    assert!(codes(&run.json).is_empty(), "{}", run.stdout);
}

#[test]
fn a_three_host_cluster_with_one_cause_shows_it_once() {
    let lab = lab::shared();
    let srv = lab.srv("atlas-rejected");
    let run = probe(&[&srv.uri]);
    let cluster = &run.json["clusters"][0];
    // The JSON keeps every host's stages and diagnoses, and says which hosts share the cause.
    let hosts = cluster["hosts"].as_array().expect("hosts");
    assert_eq!(hosts.len(), 3);
    for host in hosts {
        assert_eq!(host["diagnoses"][0]["code"], "ip-access-list-rejected");
        assert_eq!(host["stages"]["tls_strict"]["ok"], false);
    }
    let shared = cluster["shared"].as_array().expect("shared");
    assert_eq!(shared.len(), 1, "{cluster:#}");
    assert_eq!(shared[0]["code"], "ip-access-list-rejected");
    assert_eq!(shared[0]["hosts"].as_array().map(Vec::len), Some(3));
    assert!(shared[0]["summary"].as_str().is_some_and(|s| s.contains("each of 3 hosts")), "{shared:?}");

    let ca = lab.ca_file_arg();
    let out = text("text", &ca, &srv.uri);
    assert_eq!(out.matches("ip-access-list-rejected").count(), 1, "{out}");
    // Two errors: the shared cause once (not once per host), and the lab CA file that lacks the
    // Atlas roots (ca-bundle-incomplete, about the cluster).
    assert_eq!(out.matches("ca-bundle-incomplete").count(), 1, "{out}");
    assert!(out.contains("2 errors, 0 warnings"), "the shared cause counted once: {out}");
    for i in 0..3 {
        assert!(out.contains(&format!("cluster0-shard-00-0{i}")), "names every host: {out}");
    }
    let out = text("markdown", &ca, &srv.uri);
    assert_eq!(out.matches("<details><summary>❌ <code>ip-access-list-rejected</code>").count(), 1, "{out}");
    let out = text("github", &ca, &srv.uri);
    assert_eq!(out.matches("title=mongo-preflight%3A ip-access-list-rejected").count(), 1, "{out}");

    // Look-alike: hosts with different causes are each shown.
    let uri =
        format!("mongodb://{},{}/?tls=true", lab.endpoint("expired").address(), lab.endpoint("self-signed").address());
    let run = probe(&[&uri]);
    assert!(run.json["clusters"][0].get("shared").is_none(), "{}", run.stdout);
    let out = text("text", &ca, &uri);
    assert_eq!(out.matches("insecure-fallback-required").count(), 2, "{out}");
}
