//! The probe against the lab: real servers, the real binary, exact codes, verdicts and exit codes.

mod lab;
mod support;

use support::{codes, diagnosis};

use std::collections::BTreeSet;
use std::process::{Command, Output};

use serde_json::Value;

struct Run {
    code: i32,
    json: Value,
    stdout: String,
}

fn output_of(out: Output) -> (i32, String, String) {
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The stage deadline for lab endpoints that answer at once (or are built never to answer).
const FAST: &str = "2";
/// SCRAM through the driver on a debug build, while the other tests load both cores: a short
/// deadline would fail for no reason.
const AUTH: &str = "20";
/// No probe run in this file may take longer: a hang fails the test instead of the suite.
const WATCHDOG: std::time::Duration = std::time::Duration::from_secs(180);

/// `probe --format FORMAT` with the lab's trust and DNS and a short deadline, and nothing from
/// the caller's environment (a runner's `GITHUB_*`, a developer's `RUST_LOG`) steering it.
fn probe_command(format: &str) -> Command {
    probe_command_with(format, FAST)
}

fn probe_command_with(format: &str, timeout: &str) -> Command {
    let lab = lab::shared();
    let mut cmd = support::mongo_preflight();
    cmd.args([
        "probe",
        "--format",
        format,
        "--timeout",
        timeout,
        "--ca-file",
        &lab.ca_file_arg(),
        "--dns-server",
        &lab.dns_arg(),
    ]);
    cmd
}

/// Runs `probe --format json` with the lab's trust and DNS.
fn probe(uris: &[&str], extra: &[&str]) -> Run {
    probe_within(FAST, uris, extra)
}

fn probe_within(timeout: &str, uris: &[&str], extra: &[&str]) -> Run {
    let mut cmd = probe_command_with("json", timeout);
    cmd.args(extra).args(uris);
    let out = support::output_within(cmd, WATCHDOG);
    let (code, stdout, stderr) = output_of(out);
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}\nstderr:\n{stderr}"));
    Run { code, json, stdout }
}

fn expect_fail_verdict(provokes: &[&str], warn_only: bool) -> (i32, &'static str) {
    if provokes.is_empty() || warn_only { (0, "pass") } else { (1, "fail") }
}

/// Every lab endpoint gets exactly the codes it was built to provoke.
#[test]
fn every_endpoint_gets_exactly_its_codes() {
    let lab = lab::shared();
    let mut failures = Vec::new();
    assert!(lab.endpoints().count() >= 30, "the lab lost endpoints");
    for endpoint in lab.endpoints() {
        // The auth instances need credentials; they are covered by their own tests.
        if endpoint.name.starts_with("auth") {
            continue;
        }
        let run = probe(&[&endpoint.uri], &[]);
        let got = codes(&run.json);
        let want: BTreeSet<String> = endpoint.provokes.iter().map(|s| s.to_string()).collect();
        let warn_only = endpoint.name == "expiring-20d";
        let (want_exit, want_verdict) = expect_fail_verdict(&endpoint.provokes, warn_only);
        if got != want || run.code != want_exit || run.json["verdict"] != want_verdict {
            failures.push(format!(
                "{} ({}): got {got:?} exit {} verdict {}, want {want:?} exit {want_exit} verdict {want_verdict}\n{}",
                endpoint.name, endpoint.uri, run.code, run.json["verdict"], run.stdout
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_srv_name_gets_exactly_its_codes() {
    let lab = lab::shared();
    let mut failures = Vec::new();
    assert!(lab.srv_names().count() >= 8, "the lab lost SRV names");
    for srv in lab.srv_names() {
        let run = probe(&[&srv.uri], &[]);
        let got = codes(&run.json);
        let want: BTreeSet<String> = srv.provokes.iter().map(|s| s.to_string()).collect();
        let (want_exit, _) = expect_fail_verdict(&srv.provokes, false);
        if got != want || run.code != want_exit {
            failures.push(format!(
                "{}: got {got:?} exit {}, want {want:?} exit {want_exit}\n{}",
                srv.name, run.code, run.stdout
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn srv_cluster_of_rejecting_hosts_probes_all_three_hosts() {
    let lab = lab::shared();
    let run = probe(&[&lab.srv("rejected").uri], &[]);
    let hosts = run.json["clusters"][0]["hosts"].as_array().expect("hosts");
    assert_eq!(hosts.len(), 3, "{}", run.stdout);
    for host in hosts {
        assert_eq!(host["diagnoses"][0]["code"], "ip-access-list-rejected");
        assert!(host["host"].as_str().is_some_and(|h| h.ends_with(".lab.test")));
    }
    let healthy = probe(&[&lab.srv("healthy").uri], &[]);
    let hosts = healthy.json["clusters"][0]["hosts"].as_array().expect("hosts");
    assert_eq!(hosts.len(), 3);
    for host in hosts {
        let stages = &host["stages"];
        for stage in ["dns", "tcp", "tls_strict", "hello"] {
            assert_eq!(stages[stage]["ok"], true, "{stage}: {}", healthy.stdout);
        }
        assert!(stages.get("tls_relaxed").is_none(), "relaxed TLS runs only after a strict failure");
        assert_eq!(stages["hello"]["details"]["server_type"], "standalone");
    }
}

#[test]
fn atlas_access_list_rejection_names_the_network_access_page_and_says_tls_cannot_fix_it() {
    let lab = lab::shared();
    let run = probe(&[&lab.srv("atlas-rejected").uri], &[]);
    assert_eq!(run.code, 1);
    let d = diagnosis(&run.json, "ip-access-list-rejected");
    let text = format!("{} {} {}", d["summary"], d["evidence"], d["remedy"]);
    assert!(text.contains("Network Access"), "{text}");
    assert!(text.contains("likely"), "{text}");
    assert!(text.contains("egress IP"), "{text}");
    assert!(text.contains("No certificate") && text.contains("can fix this"), "{text}");
    assert!(text.contains("15 03 03 00 02 02 50"), "{text}");
    assert!(!codes(&run.json).contains("insecure-fallback-required"));
    // Relaxed TLS ran and failed the same way: the report says disabling verification would not help.
    let host = &run.json["clusters"][0]["hosts"][0];
    assert_eq!(host["stages"]["tls_relaxed"]["ok"], false);
    assert!(text.contains("same alert"), "{text}");
}

#[test]
fn insecure_fallback_is_reported_only_when_relaxed_tls_succeeds() {
    let lab = lab::shared();
    let run = probe(&[&lab.endpoint("self-signed").uri], &[]);
    let host = &run.json["clusters"][0]["hosts"][0];
    assert_eq!(host["stages"]["tls_strict"]["ok"], false);
    assert_eq!(host["stages"]["tls_relaxed"]["ok"], true);
    let d = diagnosis(&run.json, "insecure-fallback-required");
    assert!(d["evidence"].as_str().is_some_and(|e| e.contains("verification disabled succeeded")), "{d}");

    let run = probe(&[&lab.endpoint("rejected").uri], &[]);
    let host = &run.json["clusters"][0]["hosts"][0];
    assert_eq!(host["stages"]["tls_relaxed"]["ok"], false);
    assert!(!codes(&run.json).contains("insecure-fallback-required"));
}

#[test]
fn untrusted_issuer_on_atlas_mentions_google_trust_services() {
    let lab = lab::shared();
    // A chain named like Let's Encrypt's (a chain from neither of Atlas's CAs would be
    // `tls-interception-suspected` instead).
    let run = probe(&[&lab.endpoint("atlas-le-untrusted").uri], &[]);
    let d = diagnosis(&run.json, "cert-untrusted-issuer");
    assert!(d["remedy"].as_str().is_some_and(|r| r.contains("Google Trust Services")), "{d}");
    let plain = probe(&[&lab.endpoint("untrusted-root").uri], &[]);
    let d = diagnosis(&plain.json, "cert-untrusted-issuer");
    assert!(!d["remedy"].as_str().unwrap_or_default().contains("Google"), "{d}");
}

#[test]
fn leaf_without_issuer_location_names_both_possibilities() {
    let lab = lab::shared();
    let run = probe(&[&lab.endpoint("no-aia-missing-intermediate").uri], &[]);
    let evidence = diagnosis(&run.json, "cert-untrusted-issuer")["evidence"].as_str().unwrap_or_default().to_string();
    assert!(evidence.contains("private CA") && evidence.contains("intermediate"), "{evidence}");
    let run = probe(&[&lab.endpoint("aia-missing-intermediate").uri], &[]);
    let evidence = diagnosis(&run.json, "cert-chain-incomplete")["evidence"].as_str().unwrap_or_default().to_string();
    assert!(evidence.contains(lab::certs::AIA_CA_ISSUERS_URL), "names the caIssuers URL: {evidence}");
}

#[test]
fn tls10_server_is_a_protocol_mismatch_with_the_version_it_wants() {
    let lab = lab::shared();
    let run = probe(&[&lab.endpoint("tls10").uri], &[]);
    let d = diagnosis(&run.json, "tls-protocol-mismatch");
    assert!(d["evidence"].as_str().is_some_and(|e| e.contains("TLS 1.0")), "{d}");
    assert!(d["remedy"].as_str().is_some_and(|e| e.contains("July 2025")), "{d}");
    assert_eq!(run.json["clusters"][0]["hosts"][0]["stages"]["tls_legacy"]["details"]["version"], "TLS 1.0");
}

#[test]
fn non_tls_peers_show_what_answered() {
    let lab = lab::shared();
    let run = probe(&[&lab.endpoint("http").uri], &[]);
    assert!(diagnosis(&run.json, "server-not-tls")["evidence"].as_str().is_some_and(|e| e.contains("HTTP/1.1 400")));
    let run = probe(&[&lab.endpoint("ssh").uri], &[]);
    assert!(diagnosis(&run.json, "server-not-tls")["evidence"].as_str().is_some_and(|e| e.contains("SSH-2.0")));
    let run = probe(&[&format!("{}?tls=true", lab.endpoint("plain").uri)], &[]);
    let evidence = diagnosis(&run.json, "server-not-tls")["evidence"].as_str().unwrap_or_default().to_string();
    assert!(evidence.contains("plaintext MongoDB `hello`"), "{evidence}");
}

#[test]
fn mutual_tls_needs_the_client_certificate() {
    let lab = lab::shared();
    for name in ["mtls", "mtls-tls12", "secantus-mtls"] {
        let uri = &lab.endpoint(name).uri;
        let without = probe(&[uri], &[]);
        assert_eq!(
            codes(&without.json),
            BTreeSet::from(["client-certificate-required".to_string()]),
            "{name}: {}",
            without.stdout
        );
        assert_eq!(without.code, 1);
        let with = probe(&[&lab.with_client_cert(uri)], &[]);
        assert_eq!(codes(&with.json), BTreeSet::new(), "{name} with a client certificate: {}", with.stdout);
        assert_eq!(with.code, 0);
    }
}

#[test]
fn minimum_tls_version_is_enforced() {
    let lab = lab::shared();
    let run = probe(&[&lab.endpoint("tls12").uri], &["--min-tls-version", "1.3"]);
    assert_eq!(codes(&run.json), BTreeSet::from(["tls-version-below-minimum".to_string()]));
    assert_eq!(run.code, 1);
    let run = probe(&[&lab.endpoint("valid").uri], &["--min-tls-version", "1.3"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[test]
fn expiry_thresholds_decide_warning_or_error() {
    let lab = lab::shared();
    let run = probe(&[&lab.endpoint("expiring-20d").uri], &[]);
    assert_eq!(diagnosis(&run.json, "cert-expiring-soon")["severity"], "warning");
    assert_eq!(run.code, 0);
    let run = probe(&[&lab.endpoint("expiring-3d").uri], &[]);
    assert_eq!(diagnosis(&run.json, "cert-expiring-soon")["severity"], "error");
    assert_eq!(run.code, 1);
    let run = probe(&[&lab.endpoint("expiring-20d").uri], &["--warn-days", "10", "--fail-days", "5"]);
    assert!(codes(&run.json).is_empty(), "{}", run.stdout);
}

#[test]
fn authentication_through_the_driver() {
    let lab = lab::shared();
    for (ok_uri, bad_uri) in [
        (lab.auth_uri(lab::CANARY_PASSWORD), lab.auth_uri("wrong-password")),
        (lab.auth_tls_uri(lab::CANARY_PASSWORD), lab.auth_tls_uri("wrong-password")),
    ] {
        let good = probe_within(AUTH, &[&ok_uri], &[]);
        assert_eq!(good.code, 0, "{}", good.stdout);
        assert_eq!(good.json["clusters"][0]["hosts"][0]["stages"]["auth"]["ok"], true);
        let bad = probe_within(AUTH, &[&bad_uri], &[]);
        assert_eq!(codes(&bad.json), BTreeSet::from(["auth-failed".to_string()]), "{}", bad.stdout);
        assert_eq!(bad.code, 1);
    }
}

#[test]
fn many_clusters_in_one_run_are_probed_together() {
    let lab = lab::shared();
    let uris: Vec<String> =
        ["valid", "expired", "rejected", "closed", "http"].iter().map(|n| lab.endpoint(n).uri.clone()).collect();
    let refs: Vec<&str> = uris.iter().map(String::as_str).collect();
    let run = probe(&refs, &[]);
    assert_eq!(run.json["clusters"].as_array().map(Vec::len), Some(5));
    assert_eq!(run.code, 1);
    assert_eq!(run.json["schema_version"], 1);
    assert_eq!(run.json["tool"]["name"], "mongo-preflight");
}

#[test]
fn the_canary_password_never_appears_in_any_output() {
    let lab = lab::shared();
    let uris = [
        lab.auth_uri(lab::CANARY_PASSWORD),
        lab.auth_tls_uri(lab::CANARY_PASSWORD),
        format!("mongodb://labuser:{}@{}/?tls=true", lab::CANARY_PASSWORD, lab.endpoint("self-signed").address()),
        format!("mongodb+srv://labuser:{}@{}/", lab::CANARY_PASSWORD, lab.srv("rejected").name),
        format!("mongodb://labuser:{}@{}/?tls=true", lab::CANARY_PASSWORD, lab.endpoint("closed").address()),
    ];
    let mut traced = 0;
    for format in ["json", "text", "markdown", "sarif", "github"] {
        for uri in &uris {
            let mut cmd = probe_command_with(format, AUTH);
            cmd.env("RUST_LOG", "trace").arg(uri);
            let out = support::output_within(cmd, WATCHDOG);
            let (_, stdout, stderr) = output_of(out);
            assert!(!stdout.contains(lab::CANARY_PASSWORD), "{format} stdout leaks the password:\n{stdout}");
            assert!(!stderr.contains(lab::CANARY_PASSWORD), "{format} stderr leaks the password:\n{stderr}");
            traced += stderr.lines().filter(|l| l.contains("TRACE")).count();
        }
    }
    // The leak check means something only if trace logging really ran, the driver's included.
    assert!(traced > 100, "only {traced} trace lines were written");
    // A malformed URI exits 2 and keeps the password out of the error.
    let mut cmd = probe_command("json");
    cmd.arg(format!("mongodb://labuser:{}@host:99999/", lab::CANARY_PASSWORD));
    let out = support::output_within(cmd, WATCHDOG);
    let (code, stdout, stderr) = output_of(out);
    assert_eq!(code, 2);
    assert!(stderr.contains("port") && stderr.contains("****"), "{stderr}");
    assert!(!stderr.contains(lab::CANARY_PASSWORD) && !stdout.contains(lab::CANARY_PASSWORD));
}
