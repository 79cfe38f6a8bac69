//! `check` end to end against reachable lab clusters, the way a pipeline runs it: connection
//! strings from the environment (`uri_env`), a client certificate from a secret
//! (`client_cert_env`, written to `RUNNER_TEMP` for the run), the policy's `ca_file`, and an
//! optional cluster (`required: false`) that this runner cannot reach.

mod lab;
mod support;

use std::path::Path;
use std::process::Output;

use serde_json::Value;

/// The binary in `dir` with nothing from the caller's environment steering it.
fn check(dir: &Path, env: &[(&str, String)]) -> Output {
    check_sampling(dir, env, |_| {})
}

/// `check`, calling `sample` every 20 ms while the binary runs.
fn check_sampling(dir: &Path, env: &[(&str, String)], sample: impl FnMut(u32)) -> Output {
    let lab = lab::shared();
    let mut cmd = support::mongo_preflight();
    cmd.current_dir(dir)
        .args(["check", "--format", "json", "--timeout", "20", "--dns-server", &lab.dns_arg()])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    support::spawn_within(cmd, std::time::Duration::from_secs(120)).finish_sampling(sample)
}

/// The files in `dir`, with their permission bits.
fn listing(dir: &Path) -> Vec<(String, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out: Vec<(String, u32)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| {
            let mode = e.metadata().map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
            (e.file_name().to_string_lossy().into_owned(), mode)
        })
        .collect();
    out.sort();
    out
}

/// A repository holding the policy and the lab's CA as `certs/lab-ca.pem`.
fn repository(policy: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("certs")).expect("certs dir");
    std::fs::copy(&lab::shared().ca_file, dir.path().join("certs/lab-ca.pem")).expect("copy the lab CA");
    std::fs::write(dir.path().join("mongo-preflight.yml"), policy).expect("policy");
    dir
}

fn policy() -> String {
    let lab = lab::shared();
    format!(
        "version: 1
clusters:
  - name: orders
    uri_env: ORDERS_URI
    ca_file: certs/lab-ca.pem
  - name: payments
    uri: \"{mtls}\"
    ca_file: certs/lab-ca.pem
    client_cert_env: PAYMENTS_CLIENT_PEM
  - name: legacy-reporting
    uri: \"{closed}\"
    required: false
",
        mtls = lab.endpoint("mtls").uri,
        closed = lab.endpoint("closed").uri,
    )
}

fn cluster<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["clusters"].as_array().into_iter().flatten().find(|c| c["name"] == name).unwrap_or_else(|| {
        panic!("no cluster {name} in {report}");
    })
}

/// Every diagnosis of a cluster, its own and its hosts', as (code, severity).
fn diagnoses(cluster: &Value) -> Vec<(String, String)> {
    let own = cluster["diagnoses"].as_array().into_iter().flatten();
    let hosts = cluster["hosts"].as_array().into_iter().flatten().flat_map(|h| h["diagnoses"].as_array()).flatten();
    own.chain(hosts)
        .map(|d| (d["code"].as_str().unwrap_or("").to_string(), d["severity"].as_str().unwrap_or("").to_string()))
        .collect()
}

fn client_pem() -> String {
    std::fs::read_to_string(&lab::shared().client_cert_key_file).expect("lab client certificate")
}

#[test]
fn reachable_clusters_pass_and_an_optional_unreachable_one_only_warns() {
    let lab = lab::shared();
    let repo = repository(&policy());
    let runner_temp = tempfile::tempdir().expect("runner temp");
    // The binary's system temporary directory: its own, so that what it leaves there is seen.
    let system_temp = tempfile::tempdir().expect("system temp");
    let (mut seen_in_runner_temp, mut seen_in_system_temp) = (Vec::new(), Vec::new());
    let out = check_sampling(
        repo.path(),
        &[
            ("ORDERS_URI", lab.auth_tls_uri(lab::CANARY_PASSWORD)),
            ("PAYMENTS_CLIENT_PEM", client_pem()),
            ("RUNNER_TEMP", runner_temp.path().display().to_string()),
            ("TMPDIR", system_temp.path().display().to_string()),
        ],
        |_| {
            seen_in_runner_temp.extend(listing(runner_temp.path()));
            seen_in_system_temp.extend(listing(system_temp.path()));
        },
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));

    assert_eq!(diagnoses(cluster(&report, "orders")), vec![], "{stdout}");
    let orders_host = &cluster(&report, "orders")["hosts"][0];
    assert_eq!(orders_host["stages"]["auth"]["ok"], true, "authenticated over strict TLS with the policy's CA");
    assert_eq!(diagnoses(cluster(&report, "payments")), vec![], "the client certificate came from the secret");
    assert_eq!(
        diagnoses(cluster(&report, "legacy-reporting")),
        vec![("tcp-connection-refused".to_string(), "warning".to_string())],
        "an optional cluster this runner cannot reach only warns"
    );
    assert_eq!(report["verdict"], "pass");
    assert_eq!(out.status.code(), Some(0), "{stderr}");

    assert!(!stdout.contains(lab::CANARY_PASSWORD) && !stderr.contains(lab::CANARY_PASSWORD));
    let pem_body = client_pem().lines().nth(1).unwrap_or_default().to_string();
    assert!(pem_body.len() > 20 && !stdout.contains(&pem_body) && !stderr.contains(&pem_body));
    // The certificate was written under RUNNER_TEMP for the run, readable by its owner only
    // (the file lives from the plan to the end of the run, far longer than the 20 ms sampling)...
    seen_in_runner_temp.dedup();
    assert_eq!(seen_in_runner_temp.len(), 1, "one certificate file under RUNNER_TEMP: {seen_in_runner_temp:?}");
    let (name, mode) = &seen_in_runner_temp[0];
    assert!(name.ends_with(".pem") && *mode == 0o600, "{name} {mode:o}");
    // ...never in the system temporary directory, and nothing is left in either.
    assert_eq!(seen_in_system_temp, vec![], "written to the system temporary directory");
    assert_eq!(listing(runner_temp.path()), vec![], "the client certificate file is removed after the run");
    assert_eq!(listing(system_temp.path()), vec![], "left in the system temporary directory");
}

#[test]
fn the_same_clusters_fail_without_the_client_certificate_or_with_a_wrong_password() {
    let lab = lab::shared();
    let repo = repository(&policy().replace("    client_cert_env: PAYMENTS_CLIENT_PEM\n", ""));
    let out = check(repo.path(), &[("ORDERS_URI", lab.auth_tls_uri("not-the-password"))]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));

    assert!(diagnoses(cluster(&report, "orders")).contains(&("auth-failed".to_string(), "error".to_string())));
    assert!(
        diagnoses(cluster(&report, "payments"))
            .contains(&("client-certificate-required".to_string(), "error".to_string())),
        "{stdout}"
    );
    assert_eq!(report["verdict"], "fail");
    assert_eq!(out.status.code(), Some(1));
}
