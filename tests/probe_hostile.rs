//! Hostile peers against the real binary: each probe must end within its deadlines, give the
//! exact codes, and stay in bounded memory.
//!
//! Memory is checked two ways, because each catches what the other cannot:
//! - `ulimit -v` (address space) makes a reader that trusts a 2 GiB length fail its
//!   allocation and abort, even though untouched pages would never show in resident memory;
//! - the child's peak resident memory (`VmHWM`, sampled while it runs) catches a reader that
//!   keeps what a flood sends, which grows resident memory by hundreds of MB per second here.

mod lab;
mod support;

use support::codes;

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;

/// After this the probe is killed and the test fails: a bound against hanging, far above the
/// few deadlines of 2 s a probe may spend, not a timing assertion.
const WATCHDOG: Duration = Duration::from_secs(60);

/// The binary's address-space limit in KiB. The debug binary needs a few hundred MB of
/// address space (thread stacks, allocator arenas); 2 GiB of one allocation does not fit.
const ADDRESS_SPACE_KIB: u64 = 2_000_000;

/// Peak resident memory allowed. A probe needs a few tens of MB; a kept flood passes this
/// within a second on loopback (each flood connection sends up to 1 GiB).
const PEAK_RSS_KIB: u64 = 256 * 1024;

struct Run {
    code: Option<i32>,
    json: Value,
    stdout: String,
    stderr: String,
    peak_rss_kib: u64,
}

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// `probe --format json --timeout 2` with the lab's trust and DNS, under `ulimit -v`, with
/// its peak resident memory sampled until it exits.
fn probe(uri: &str) -> Run {
    let lab = lab::shared();
    let mut cmd = support::mongo_preflight_with_address_space(ADDRESS_SPACE_KIB);
    cmd.args(["probe", "--format", "json", "--timeout", "2"]).args(lab.probe_args()).arg(uri);
    let mut peak_rss_kib = 0;
    // `exec` keeps the pid, so after the first instants this samples the probe itself.
    let out = support::spawn_within(cmd, WATCHDOG).finish_sampling(|pid| {
        if let Some(kib) = vm_hwm_kib(pid) {
            peak_rss_kib = peak_rss_kib.max(kib);
        }
    });
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}), status {}:\n{stdout}\nstderr:\n{stderr}", out.status));
    Run { code: out.status.code(), json, stdout, stderr, peak_rss_kib }
}

/// The exact codes, the exit code, and bounded memory.
fn assert_outcome(run: &Run, want: &[&str], exit: i32) {
    let want: BTreeSet<String> = want.iter().map(|s| s.to_string()).collect();
    assert_eq!(codes(&run.json), want, "{}", run.stdout);
    assert_eq!(run.code, Some(exit), "{}\nstderr:\n{}", run.stdout, run.stderr);
    assert!(run.peak_rss_kib > 0, "the probe's peak memory was never read");
    assert!(
        run.peak_rss_kib < PEAK_RSS_KIB,
        "peak resident memory {} KiB, allowed {PEAK_RSS_KIB} KiB",
        run.peak_rss_kib
    );
}

/// Probes the endpoint and checks that it got exactly what the lab says it provokes.
fn probe_endpoint(name: &str) -> Run {
    let endpoint = lab::shared().endpoint(name);
    let run = probe(&endpoint.uri);
    assert_outcome(&run, &endpoint.provokes, 1);
    run
}

fn host(run: &Run) -> &Value {
    &run.json["clusters"][0]["hosts"][0]
}

fn evidence(run: &Run, code: &str) -> String {
    host(run)["diagnoses"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(run.json["clusters"][0]["diagnoses"].as_array().into_iter().flatten())
        .find(|d| d["code"] == code)
        .map(|d| d["evidence"].as_str().unwrap_or_default().to_string())
        .unwrap_or_else(|| panic!("no {code} in {}", run.stdout))
}

#[test]
fn chain_of_100_certificates() {
    let run = probe_endpoint("hostile-long-chain");
    let chain = host(&run)["stages"]["tls_strict"]["details"]["chain"].as_array().map(Vec::len);
    assert_eq!(chain, Some(lab::LONG_CHAIN_LENGTH), "{}", run.stdout);
}

#[test]
fn certificate_of_1_mib() {
    let run = probe_endpoint("hostile-huge-cert");
    let evidence = evidence(&run, "tls-handshake-failed");
    assert!(evidence.contains("64 KiB"), "{evidence}");
}

#[test]
fn one_byte_per_second_ends_at_the_deadline() {
    let run = probe_endpoint("hostile-trickle");
    let strict = &host(&run)["stages"]["tls_strict"]["details"];
    assert_eq!(strict["error"], "no TLS answer before the deadline", "{}", run.stdout);
    // What trickled in is kept as evidence: TLS bytes, just too slow.
    assert!(strict["first_bytes"].as_str().is_some_and(|b| b.starts_with("bytes 16 03")), "{}", run.stdout);
    let evidence = evidence(&run, "tls-handshake-timeout");
    assert!(evidence.contains("the server sent only bytes 16 03"), "not called silent: {evidence}");
}

#[test]
fn tls_records_flooding_the_handshake() {
    let run = probe_endpoint("hostile-tls-flood");
    let evidence = evidence(&run, "tls-handshake-failed");
    assert!(evidence.contains("64 KiB"), "{evidence}");
}

#[test]
fn garbage_flooding_the_hello_reply() {
    let run = probe_endpoint("hostile-hello-flood");
    let evidence = evidence(&run, "mongo-handshake-failed");
    assert!(evidence.contains("refused unread"), "{evidence}");
}

#[test]
fn hello_length_of_16_mib_is_refused_up_front() {
    let run = probe_endpoint("hostile-hello-16mib");
    let evidence = evidence(&run, "mongo-handshake-failed");
    assert!(evidence.contains("announces 16777216 bytes") && evidence.contains("refused unread"), "{evidence}");
}

#[test]
fn hello_length_of_i32_max_is_refused_up_front() {
    let run = probe_endpoint("hostile-hello-2gib");
    let evidence = evidence(&run, "mongo-handshake-failed");
    assert!(evidence.contains("announces 2147483647 bytes") && evidence.contains("refused unread"), "{evidence}");
}

#[test]
fn srv_answer_with_1000_targets_is_capped() {
    let lab = lab::shared();
    let srv = lab.srv("many");
    let run = probe(&srv.uri);
    assert_outcome(&run, &srv.provokes, 1);
    let cluster = &run.json["clusters"][0];
    assert_eq!(cluster["hosts"].as_array().map(Vec::len), Some(50), "{}", run.stdout);
    let capped = cluster["diagnoses"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|d| d["code"] == "srv-invalid-target")
        .unwrap_or_else(|| panic!("no srv-invalid-target in {}", run.stdout));
    assert_eq!(capped["severity"], "warning", "{capped:#}");
    let text = capped["evidence"].as_str().unwrap_or_default();
    assert!(text.contains("held 1000 targets") && text.contains("and 945 more"), "{text}");
    for host in cluster["hosts"].as_array().into_iter().flatten() {
        assert_eq!(host["diagnoses"][0]["code"], "tcp-connection-refused", "{host:#}");
    }
}
