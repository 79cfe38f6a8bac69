//! `check` with `atlas:` against the stand-in Admin API and an access-list-aware TLS front: the
//! access-list cause confirmed or refuted, a paused cluster, a list open to the world, every way
//! the API can fail, and temporary access that lets the same run pass and leaves nothing behind.

mod lab;
mod support;

use std::net::IpAddr;
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use lab::atlas::{self as stand_in, Entry, Failure, StandIn};
use serde_json::Value;

/// The longest a run may take before the watchdog kills it and fails the test.
const WATCHDOG: Duration = Duration::from_secs(120);
/// The runner's egress IP as the tests declare it (`--egress-ip`).
const RUNNER: &str = "198.51.100.7";
/// The MongoDB password in the connection string: it must never be printed either.
const CANARY_PASSWORD: &str = "CanaryMongoPw-b41d";

/// Credentials the run gets.
#[derive(Clone, Copy)]
enum Creds {
    ApiKey,
    ServiceAccount,
    WrongKey,
    WrongSecret,
    None,
}

struct Run {
    code: i32,
    json: Value,
    stdout: String,
    stderr: String,
}

impl Run {
    fn host_diagnoses(&self) -> Vec<&Value> {
        self.json["clusters"][0]["hosts"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|h| h["diagnoses"].as_array().into_iter().flatten())
            .collect()
    }
    fn cluster_diagnoses(&self) -> Vec<&Value> {
        self.json["clusters"][0]["diagnoses"].as_array().into_iter().flatten().collect()
    }
    fn codes(&self) -> Vec<String> {
        let mut codes: Vec<String> = self
            .host_diagnoses()
            .into_iter()
            .chain(self.cluster_diagnoses())
            .map(|d| d["code"].as_str().unwrap_or_default().to_string())
            .collect();
        codes.sort();
        codes.dedup();
        codes
    }
    fn diagnosis(&self, code: &str) -> &Value {
        self.host_diagnoses()
            .into_iter()
            .chain(self.cluster_diagnoses())
            .find(|d| d["code"] == code)
            .unwrap_or_else(|| panic!("no {code} in {}", self.stdout))
    }
    fn notes(&self) -> String {
        self.json["notes"].to_string()
    }
}

/// A policy probing `uri` (through `$ORDERS_URI`) with the stand-in's project.
fn workdir(extra_policy: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = format!(
        "version: 1\nclusters:\n  - name: orders\n    uri_env: ORDERS_URI\natlas:\n  project_id: {}\n{extra_policy}",
        stand_in::PROJECT_ID
    );
    std::fs::write(dir.path().join("mongo-preflight.yml"), policy).expect("policy");
    dir
}

fn command(dir: &Path, api: &StandIn, uri: &str, creds: Creds) -> Command {
    let mut cmd = support::mongo_preflight();
    cmd.current_dir(dir);
    // Every log line is written too, and checked for secrets with the report.
    cmd.env("MONGO_PREFLIGHT_LOG", "trace");
    // A password to keep out of every output; not on the lab's named endpoints, whose auth stage
    // would go through the driver's system resolver, which does not know the lab's names.
    let uri = if uri.contains("127.0.0.1") {
        uri.replacen("mongodb://", &format!("mongodb://orders:{CANARY_PASSWORD}@"), 1)
    } else {
        uri.to_string()
    };
    cmd.env("ORDERS_URI", uri).env("MONGODB_ATLAS_BASE_URL", &api.url);
    match creds {
        Creds::ApiKey => {
            cmd.env("MONGODB_ATLAS_PUBLIC_KEY", stand_in::PUBLIC_KEY)
                .env("MONGODB_ATLAS_PRIVATE_KEY", stand_in::PRIVATE_KEY);
        }
        Creds::WrongKey => {
            cmd.env("MONGODB_ATLAS_PUBLIC_KEY", stand_in::PUBLIC_KEY)
                .env("MONGODB_ATLAS_PRIVATE_KEY", format!("{}-revoked", stand_in::PRIVATE_KEY));
        }
        Creds::ServiceAccount => {
            cmd.env("MONGODB_ATLAS_CLIENT_ID", stand_in::CLIENT_ID)
                .env("MONGODB_ATLAS_CLIENT_SECRET", stand_in::CLIENT_SECRET);
        }
        Creds::WrongSecret => {
            cmd.env("MONGODB_ATLAS_CLIENT_ID", stand_in::CLIENT_ID)
                .env("MONGODB_ATLAS_CLIENT_SECRET", format!("{}-old", stand_in::CLIENT_SECRET));
        }
        Creds::None => {}
    }
    cmd
}

/// Runs `cmd` under the watchdog, off the runtime's threads (the stand-in answers on them).
async fn run(cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || support::output_within(cmd, WATCHDOG)).await.expect("the run")
}

/// Asserts that no secret of the run appears in its output.
fn assert_no_secrets(stdout: &str, stderr: &str) {
    for text in [stdout, stderr] {
        for secret in [stand_in::PRIVATE_KEY, stand_in::CLIENT_SECRET, stand_in::TOKEN_PREFIX, CANARY_PASSWORD] {
            assert!(!text.contains(secret), "a secret leaked: {secret}\n{text}");
        }
    }
}

async fn check(dir: &Path, api: &StandIn, uri: &str, creds: Creds, args: &[&str]) -> Run {
    let mut cmd = command(dir, api, uri, creds);
    cmd.args(["check", "--format", "json"]);
    if !args.contains(&"--timeout") {
        cmd.args(["--timeout", "3"]);
    }
    cmd.args(args);
    let out = run(cmd).await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_no_secrets(&stdout, &stderr);
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}\nstderr:\n{stderr}"));
    Run { code: out.status.code().unwrap_or(-1), json, stdout, stderr }
}

/// The stand-in API with one cluster (`Cluster0`) whose only host is the front, which rejects
/// the runner unless an ACTIVE entry covers `front_sees`; the front's upstream is `upstream`
/// (a port nothing answers on when the test never gets through).
async fn setup(front_sees: &str, upstream: std::net::SocketAddr, host: &str) -> (StandIn, String) {
    let api = StandIn::start().await;
    let port = stand_in::front(api.state.clone(), front_sees.parse().expect("ip"), upstream).await;
    api.add_cluster("Cluster0", &[format!("{host}:{port}")], None, false);
    (api, format!("mongodb://{host}:{port}/?tls=true"))
}

fn nowhere() -> std::net::SocketAddr {
    "127.0.0.1:9".parse().expect("addr")
}

/// Office ranges and app servers: none covers the runner; five entries over three pages.
fn unrelated_entries(api: &StandIn) {
    api.with(|s| {
        s.max_page_size = 2;
        s.entries = vec![
            Entry::active("203.0.113.0/24", "Office"),
            Entry::active("192.0.2.44/32", "app server"),
            Entry::active("192.0.2.45/32", "app server 2"),
            Entry::active("10.8.0.0/16", "VPN"),
            Entry::active("198.51.100.8/32", "the runner's neighbour"),
        ];
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runner_not_on_the_list_gets_a_confirmed_diagnosis_naming_its_ip() {
    let (api, uri) = setup(RUNNER, nowhere(), "127.0.0.1").await;
    unrelated_entries(&api);
    let dir = workdir("");
    let run = check(dir.path(), &api, &uri, Creds::ApiKey, &["--egress-ip", RUNNER]).await;
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.codes(), ["ip-access-list-rejected"], "{}", run.stdout);
    let d = run.diagnosis("ip-access-list-rejected");
    let summary = d["summary"].as_str().unwrap_or_default();
    assert!(summary.starts_with("Atlas confirms it") && summary.contains(RUNNER), "{summary}");
    let evidence = d["evidence"].as_str().unwrap_or_default();
    assert!(
        evidence.contains("lists 5 entries")
            && evidence.contains(&format!("none of them covers the runner's egress IP {RUNNER}")),
        "{evidence}"
    );
    assert!(d["remedy"].as_str().unwrap_or_default().contains("--atlas-temporary-access"), "{d}");
    // Every page was read, with digest authentication and the versioned media type.
    let requests = api.with(|s| s.requests.clone());
    for page in 1..=3 {
        assert!(
            requests.iter().any(|r| r.contains("/accessList?") && r.ends_with(&format!("pageNum={page}"))),
            "page {page}: {requests:?}"
        );
    }
    let auths = api.with(|s| s.authorizations.clone());
    assert!(
        !auths.is_empty() && auths.iter().all(|a| a.starts_with("Digest ") && a.contains("username=\"qwertyui\"")),
        "{auths:?}"
    );
    assert!(auths.iter().all(|a| !a.contains(stand_in::PRIVATE_KEY)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_egress_ip_comes_from_the_environment_or_the_echo_service() {
    let (api, uri) = setup(RUNNER, nowhere(), "127.0.0.1").await;
    unrelated_entries(&api);
    let dir = workdir("");
    let mut cmd = command(dir.path(), &api, &uri, Creds::ServiceAccount);
    cmd.env("MONGO_PREFLIGHT_IP_ECHO_URL", format!("{}/ip", api.url)).args([
        "check",
        "--format",
        "json",
        "--timeout",
        "3",
    ]);
    let out = run(cmd).await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_no_secrets(&stdout, &String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(&format!("runner's egress IP {RUNNER} (from {}/ip)", api.url)), "{stdout}");
    assert!(api.with(|s| s.requests.iter().any(|r| r == "GET /ip")));

    let mut cmd = command(dir.path(), &api, &uri, Creds::ServiceAccount);
    cmd.env("MONGO_PREFLIGHT_EGRESS_IP", "192.0.2.44").args(["check", "--format", "json", "--timeout", "3"]);
    let out = run(cmd).await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    // 192.0.2.44 is on the list: the front (which sees 198.51.100.7) rejects anyway: refuted.
    assert!(
        stdout.contains("(from $MONGO_PREFLIGHT_EGRESS_IP)") && stdout.contains("tls-handshake-failed"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_active_entry_covering_the_runner_refutes_the_access_list_cause() {
    // The front sees another address than the one the runner declared (a NAT gateway).
    let (api, uri) = setup("203.0.113.200", nowhere(), "127.0.0.1").await;
    api.with(|s| s.entries = vec![Entry::active("198.51.100.0/24", "CI runners")]);
    let dir = workdir("");
    let run = check(dir.path(), &api, &uri, Creds::ServiceAccount, &["--egress-ip", RUNNER]).await;
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.codes(), ["tls-handshake-failed"], "{}", run.stdout);
    let evidence = run.diagnosis("tls-handshake-failed")["evidence"].as_str().unwrap_or_default().to_string();
    assert!(
        evidence.contains("ACTIVE entry 198.51.100.0/24") && evidence.contains("the access list is not the cause"),
        "{evidence}"
    );
    let auths = api.with(|s| s.authorizations.clone());
    assert!(auths.iter().any(|a| a.starts_with("Bearer ")), "{auths:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_that_is_not_active_yet_is_named() {
    let (api, uri) = setup(RUNNER, nowhere(), "127.0.0.1").await;
    api.with(|s| {
        s.entries = vec![Entry::pending(&format!("{RUNNER}/32"), "added a moment ago", u32::MAX)];
    });
    let dir = workdir("");
    let run = check(dir.path(), &api, &uri, Creds::ApiKey, &["--egress-ip", RUNNER]).await;
    assert_eq!(run.codes(), ["ip-access-list-rejected"], "{}", run.stdout);
    let d = run.diagnosis("ip-access-list-rejected");
    assert!(d["summary"].as_str().unwrap_or_default().contains("is PENDING, not ACTIVE"), "{d}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_cluster_is_reported() {
    let api = StandIn::start().await;
    let port = stand_in::front(api.state.clone(), RUNNER.parse().expect("ip"), nowhere()).await;
    api.add_cluster("Paused0", &[format!("127.0.0.1:{port}")], Some("paused0.abcde.mongodb.net"), true);
    unrelated_entries(&api);
    let dir = workdir("");
    let run = check(
        dir.path(),
        &api,
        &format!("mongodb://127.0.0.1:{port}/?tls=true"),
        Creds::ApiKey,
        &["--egress-ip", RUNNER],
    )
    .await;
    assert_eq!(run.code, 1);
    assert_eq!(run.codes(), ["atlas-cluster-paused", "ip-access-list-rejected"], "{}", run.stdout);
    let d = run.diagnosis("atlas-cluster-paused");
    assert!(
        d["evidence"].as_str().unwrap_or_default().contains("cluster `Paused0`") && d["severity"] == "error",
        "{d}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_open_to_the_world_is_reported() {
    // The runner is IPv6-only here, so `0.0.0.0/0` does not let it in.
    let ipv6 = "2001:db8::7";
    let (api, uri) = setup(ipv6, nowhere(), "127.0.0.1").await;
    api.with(|s| {
        s.entries =
            vec![Entry::active("0.0.0.0/0", "allow all - TEMP DEBUG ONLY"), Entry::active("203.0.113.0/24", "Office")]
    });
    let dir = workdir("");
    let run = check(dir.path(), &api, &uri, Creds::ApiKey, &["--egress-ip", ipv6]).await;
    assert_eq!(run.codes(), ["atlas-access-list-open-to-world", "ip-access-list-rejected"], "{}", run.stdout);
    let d = run.diagnosis("atlas-access-list-open-to-world");
    assert!(
        d["evidence"].as_str().unwrap_or_default().contains("0.0.0.0/0 (comment \"allow all - TEMP DEBUG ONLY\")"),
        "{d}"
    );
    assert_eq!(d["severity"], "error");
}

/// Each way the API can fail: `atlas-api-unavailable` (a warning) names why, and the probe's
/// own verdict stands, unconfirmed.
async fn unavailable(creds: Creds, failure: Option<Failure>, timeout: Option<&str>) -> String {
    unavailable_at(creds, failure, timeout).await.0
}

/// [`unavailable`], with the stand-in that answered.
async fn unavailable_at(creds: Creds, failure: Option<Failure>, timeout: Option<&str>) -> (String, StandIn) {
    let (api, uri) = setup(RUNNER, nowhere(), "127.0.0.1").await;
    unrelated_entries(&api);
    api.with(|s| s.fail = failure);
    let dir = workdir("");
    let mut args = vec!["--egress-ip", RUNNER];
    if let Some(t) = timeout {
        args.extend(["--timeout", t]);
    }
    let run = check(dir.path(), &api, &uri, creds, &args).await;
    assert_eq!(run.code, 1, "the probe's verdict stands: {}", run.stdout);
    assert_eq!(run.codes(), ["atlas-api-unavailable", "ip-access-list-rejected"], "{}", run.stdout);
    let d = run.diagnosis("atlas-api-unavailable");
    assert_eq!(d["severity"], "warning");
    let rejected = run.diagnosis("ip-access-list-rejected");
    assert!(rejected["summary"].as_str().unwrap_or_default().contains("likely"), "unconfirmed: {rejected}");
    let _ = run.stderr;
    (d["evidence"].as_str().unwrap_or_default().to_string(), api)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_api_key_is_named() {
    let evidence = unavailable(Creds::WrongKey, None, None).await;
    assert!(evidence.contains("the API refused the credentials (HTTP 401 USER_UNAUTHORIZED"), "{evidence}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_service_account_is_named() {
    let evidence = unavailable(Creds::WrongSecret, None, None).await;
    assert!(evidence.contains("the API refused the credentials (HTTP 401 from the token endpoint)"), "{evidence}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_credentials_are_named() {
    let evidence = unavailable(Creds::None, None, None).await;
    assert!(evidence.contains("no Atlas credentials: set $MONGODB_ATLAS_CLIENT_ID"), "{evidence}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_keys_own_access_list_is_told_apart_from_the_projects() {
    let failure = Failure::Status(
        403,
        "IP_ADDRESS_NOT_ON_ACCESS_LIST",
        format!("IP address {RUNNER} is not allowed to access this resource."),
        vec![],
    );
    let evidence = unavailable(Creds::ApiKey, Some(failure), None).await;
    assert!(
        evidence.contains("IP_ADDRESS_NOT_ON_ACCESS_LIST: IP address 198.51.100.7 is not allowed")
            && evidence.contains("not the project's"),
        "{evidence}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_longer_than_the_deadline_is_reported_at_once_with_when_to_try_again() {
    let failure = Failure::RateLimited { times: u32::MAX, wait_secs: 55, header: true };
    let (evidence, api) = unavailable_at(Creds::ServiceAccount, Some(failure), None).await;
    let lists = api.with(|s| s.requests.iter().filter(|r| r.contains("/accessList?")).count());
    assert_eq!(lists, 1, "not asked again at once, nor after a wait past the deadline");
    assert!(
        evidence
            .contains("rate limited (HTTP 429 RATE_LIMITED_TOKEN_BUCKET: Rate limit exceeded for api/atlas/v2/groups/")
            && evidence.contains("the next try would have to wait 55 s (Retry-After)")
            && evidence.contains("try again after 20"),
        "{evidence}"
    );
}

/// The wait Atlas names in the 429's body (no `Retry-After`), doubled after each failed retry:
/// 1 s, then 2 s, both within the run's 5 s deadline, and the run gets its answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limit_is_waited_out_as_the_body_asks_and_longer_each_time() {
    let (api, uri) = setup(RUNNER, nowhere(), "127.0.0.1").await;
    unrelated_entries(&api);
    api.with(|s| {
        s.fail = Some(Failure::RateLimited { times: 2, wait_secs: 1, header: false });
        s.fail_only = Some("/accessList");
    });
    let dir = workdir("");
    let run = check(dir.path(), &api, &uri, Creds::ApiKey, &["--egress-ip", RUNNER, "--timeout", "5"]).await;
    assert_eq!(run.codes(), ["ip-access-list-rejected"], "confirmed, not unavailable: {}", run.stdout);
    let (requests, times) = api.with(|s| (s.requests.clone(), s.request_times.clone()));
    let first_page: Vec<std::time::Instant> = requests
        .iter()
        .zip(&times)
        .filter(|(r, _)| r.starts_with("GET") && r.contains("/accessList?") && r.ends_with("pageNum=1"))
        .map(|(_, t)| *t)
        .collect();
    // Digest's challenge comes first; then the limited tries and the one that passed.
    assert!(first_page.len() >= 3, "{requests:?}");
    let tries = &first_page[first_page.len() - 3..];
    assert!(tries[1] - tries[0] >= Duration::from_secs(1), "waited 1 s as asked: {:?}", tries[1] - tries[0]);
    assert!(tries[2] - tries[1] >= Duration::from_secs(2), "then twice that: {:?}", tries[2] - tries[1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_error_is_named() {
    let failure =
        Failure::Status(503, "SERVICE_UNAVAILABLE", "<script>alert(1)</script>\u{1b}[31m".to_string(), vec![]);
    let evidence = unavailable(Creds::ApiKey, Some(failure), None).await;
    assert!(evidence.contains("the API failed (HTTP 503 SERVICE_UNAVAILABLE"), "{evidence}");
    assert!(!evidence.contains('\u{1b}'), "API text is made printable: {evidence:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_that_does_not_answer_in_time_is_named() {
    let evidence = unavailable(Creds::ApiKey, Some(Failure::Hang), Some("2")).await;
    assert!(evidence.contains("no answer from the API within 2 s"), "{evidence}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_egress_ip_that_cannot_be_found_is_named() {
    let (api, uri) = setup(RUNNER, nowhere(), "127.0.0.1").await;
    unrelated_entries(&api);
    let dir = workdir("");
    let mut cmd = command(dir.path(), &api, &uri, Creds::ApiKey);
    cmd.env("MONGO_PREFLIGHT_IP_ECHO_URL", "http://127.0.0.1:9/").args(["check", "--format", "json", "--timeout", "3"]);
    let out = run(cmd).await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_no_secrets(&stdout, &String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let json: Value = serde_json::from_str(&stdout).expect("json");
    let diagnoses = json["clusters"][0]["diagnoses"].to_string();
    assert!(
        diagnoses.contains("atlas-api-unavailable")
            && diagnoses.contains("finding the runner's egress IP: http://127.0.0.1:9/"),
        "{diagnoses}"
    );
    // The probe's diagnosis stands, unconfirmed.
    assert!(json["clusters"][0]["hosts"][0]["diagnoses"].to_string().contains("likely"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_project_is_named() {
    let (api, uri) = setup(RUNNER, nowhere(), "127.0.0.1").await;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("mongo-preflight.yml"),
        "version: 1\nclusters:\n  - name: orders\n    uri_env: ORDERS_URI\natlas:\n  project_id: 0123456789abcdef01234567\n",
    )
    .expect("policy");
    let run = check(dir.path(), &api, &uri, Creds::ApiKey, &["--egress-ip", RUNNER]).await;
    assert_eq!(run.codes(), ["atlas-api-unavailable", "ip-access-list-rejected"], "{}", run.stdout);
    assert!(
        run.stdout.contains("not found (HTTP 404 GROUP_NOT_FOUND: No group with ID 0123456789abcdef01234567 exists.)"),
        "{}",
        run.stdout
    );
}

/// The lab's valid TLS endpoint (SecantusDB behind a TLS proxy) behind the front.
async fn healthy_setup() -> (StandIn, String, Vec<String>) {
    let lab = lab::shared();
    let valid = lab.endpoint("valid");
    let (api, uri) = setup(RUNNER, valid.socket_addr(), &valid.host).await;
    unrelated_entries(&api);
    (api, uri, lab.probe_args())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temporary_access_lets_the_same_cluster_pass_and_leaves_no_entry() {
    let (api, uri, lab_args) = healthy_setup().await;
    let dir = workdir("");
    let mut args: Vec<&str> = lab_args.iter().map(String::as_str).collect();
    args.extend(["--egress-ip", RUNNER]);

    // As in CI: the runner is not on the list, so the cluster fails, confirmed.
    let before = check(dir.path(), &api, &uri, Creds::ServiceAccount, &args).await;
    assert_eq!(before.code, 1, "{}", before.stdout);
    assert_eq!(before.codes(), ["ip-access-list-rejected"], "{}", before.stdout);

    // With temporary access the same run passes.
    args.extend(["--atlas-temporary-access", "10m"]);
    let entries_before = api.with(|s| s.entries.len());
    let after = check(dir.path(), &api, &uri, Creds::ServiceAccount, &args).await;
    assert_eq!(after.code, 0, "{}\n{}", after.stdout, after.stderr);
    assert!(after.codes().is_empty(), "{}", after.stdout);
    let notes = after.notes();
    assert!(
        notes.contains(&format!("added {RUNNER}/32 to project {}", stand_in::PROJECT_ID))
            && notes.contains("ACTIVE after"),
        "{notes}"
    );
    assert!(notes.contains(&format!("{RUNNER}/32 removed again")), "{notes}");
    // Nothing left behind, and the entry went through PENDING to ACTIVE.
    assert_eq!(api.with(|s| s.entries.len()), entries_before);
    let requests = api.with(|s| s.requests.clone());
    let status_reads = requests.iter().filter(|r| r.ends_with(&format!("/accessList/{RUNNER}/status"))).count();
    assert!(status_reads >= 2, "polled until ACTIVE: {requests:?}");
    assert!(
        requests
            .iter()
            .any(|r| r == &format!("DELETE /api/atlas/v2/groups/{}/accessList/{RUNNER}", stand_in::PROJECT_ID))
    );
    // The service account's token does not outlive the run.
    assert!(requests.iter().any(|r| r == "POST /api/oauth/revoke"), "{requests:?}");
    assert!(api.with(|s| s.tokens.is_empty()), "every token was revoked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temporary_access_from_the_policy_treats_a_404_on_delete_as_done() {
    let (api, uri, lab_args) = healthy_setup().await;
    api.with(|s| s.delete_answers_404 = true);
    let dir = workdir("  temporary_access: 15m\n");
    let mut args: Vec<&str> = lab_args.iter().map(String::as_str).collect();
    args.extend(["--egress-ip", RUNNER]);
    let run = check(dir.path(), &api, &uri, Creds::ApiKey, &args).await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.notes().contains("was already gone"), "{}", run.notes());
    assert!(!run.notes().contains("could not be removed"), "{}", run.notes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_active_entry_means_nothing_is_added_or_deleted() {
    let (api, uri, lab_args) = healthy_setup().await;
    api.with(|s| s.entries.push(Entry::active("198.51.100.0/24", "CI runners")));
    let dir = workdir("");
    let mut args: Vec<&str> = lab_args.iter().map(String::as_str).collect();
    args.extend(["--egress-ip", RUNNER, "--atlas-temporary-access", "10m"]);
    let run = check(dir.path(), &api, &uri, Creds::ApiKey, &args).await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.notes().contains("nothing added, ACTIVE entry 198.51.100.0/24"), "{}", run.notes());
    let requests = api.with(|s| s.requests.clone());
    assert!(!requests.iter().any(|r| r.starts_with("POST") || r.starts_with("DELETE")), "{requests:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_jobs_entry_for_the_same_ip_is_never_deleted() {
    let (api, uri, lab_args) = healthy_setup().await;
    // PENDING for this run's first three status reads (one while reading the list, two while
    // waiting), then ACTIVE: the run must wait for it, and the front lets it in only then.
    api.with(|s| s.entries.push(Entry::pending(&format!("{RUNNER}/32"), "another job sharing this NAT address", 3)));
    let dir = workdir("");
    let mut args: Vec<&str> = lab_args.iter().map(String::as_str).collect();
    args.extend(["--egress-ip", RUNNER, "--atlas-temporary-access", "10m"]);
    let run = check(dir.path(), &api, &uri, Creds::ApiKey, &args).await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.notes().contains("used another job's entry") && run.notes().contains("ACTIVE after"),
        "{}",
        run.notes()
    );
    let requests = api.with(|s| s.requests.clone());
    assert!(!requests.iter().any(|r| r.starts_with("POST") || r.starts_with("DELETE")), "{requests:?}");
    let status_reads = requests.iter().filter(|r| r.ends_with(&format!("/accessList/{RUNNER}/status"))).count();
    assert!(status_reads >= 4, "waited through PENDING to ACTIVE: {requests:?}");
    assert!(
        api.with(|s| s.entries.iter().any(|e| e.comment.as_deref() == Some("another job sharing this NAT address")))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_another_job_added_first_is_not_this_runs_to_delete() {
    let (api, uri, lab_args) = healthy_setup().await;
    // Between this run's read of the list and its POST, another job adds the same address: the
    // POST then changes nothing, and the entry carries the other job's comment.
    api.with(|s| {
        s.race = Some(Entry::pending(&format!("{RUNNER}/32"), "mongo-preflight 000000 octo/other run 9/1", 2))
    });
    let dir = workdir("");
    let mut args: Vec<&str> = lab_args.iter().map(String::as_str).collect();
    args.extend(["--egress-ip", RUNNER, "--atlas-temporary-access", "10m"]);
    let run = check(dir.path(), &api, &uri, Creds::ApiKey, &args).await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.notes().contains("used another job's entry"), "{}", run.notes());
    let requests = api.with(|s| s.requests.clone());
    assert!(requests.iter().any(|r| r.starts_with("POST")), "{requests:?}");
    assert!(!requests.iter().any(|r| r.starts_with("DELETE")), "{requests:?}");
    assert_eq!(api.with(|s| s.entries.iter().filter(|e| e.cidr == format!("{RUNNER}/32")).count()), 1);
}

/// The process of the binary running in `dir` (found through /proc: the watchdog owns the child).
fn pid_running_in(dir: &Path) -> Option<u32> {
    let dir = std::fs::canonicalize(dir).ok()?;
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|proc| {
        let pid: u32 = proc.file_name().to_str()?.parse().ok()?;
        let exe = std::fs::read_link(proc.path().join("exe")).ok()?;
        let cwd = std::fs::read_link(proc.path().join("cwd")).ok()?;
        (exe.file_name()? == "mongo-preflight" && cwd == dir).then_some(pid)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_temporary_access_still_deletes_the_entry() {
    let (api, uri) = setup(RUNNER, nowhere(), "127.0.0.1").await;
    // The entry never turns ACTIVE within the run: it is killed while waiting.
    api.with(|s| s.pending_reads = u32::MAX);
    let dir = workdir("");
    let mut cmd = command(dir.path(), &api, &uri, Creds::ApiKey);
    cmd.args(["check", "--format", "json", "--timeout", "60", "--egress-ip", RUNNER, "--atlas-temporary-access", "1h"]);
    let running = tokio::spawn(run(cmd));
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while api.with(|s| s.entries.is_empty()) {
        assert!(std::time::Instant::now() < deadline, "the entry was never added");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let comment = api.with(|s| s.entries[0].comment.clone()).unwrap_or_default();
    assert!(comment.starts_with("mongo-preflight "), "{comment}");
    let delete_after = api.with(|s| s.entries[0].delete_after.clone()).unwrap_or_default();
    assert!(delete_after.ends_with('Z') && delete_after.len() == 20, "{delete_after}");
    let pid = pid_running_in(dir.path()).expect("the run's process");
    let killed = Command::new("kill").args(["-TERM", &pid.to_string()]).status().expect("kill");
    assert!(killed.success());
    let out = running.await.expect("the run");
    assert_eq!(out.status.code(), Some(143));
    assert_no_secrets(&String::from_utf8_lossy(&out.stdout), &String::from_utf8_lossy(&out.stderr));
    assert!(api.with(|s| s.entries.is_empty()), "the entry was removed on SIGTERM");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn atlas_secrets_are_masked_in_github_actions() {
    let (api, uri) = setup(RUNNER, nowhere(), "127.0.0.1").await;
    let dir = workdir("");
    for creds in [Creds::ApiKey, Creds::ServiceAccount] {
        let mut cmd = command(dir.path(), &api, &uri, creds);
        cmd.env("GITHUB_ACTIONS", "true").args([
            "check",
            "--format",
            "github",
            "--timeout",
            "3",
            "--egress-ip",
            RUNNER,
        ]);
        let out = run(cmd).await;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let secret = match creds {
            Creds::ApiKey => stand_in::PRIVATE_KEY,
            _ => stand_in::CLIENT_SECRET,
        };
        let masked =
            stdout.lines().take_while(|l| l.starts_with("::add-mask::")).any(|l| l == format!("::add-mask::{secret}"));
        assert!(masked, "{stdout}");
        let rest: String = stdout.lines().filter(|l| !l.starts_with("::add-mask::")).collect::<Vec<_>>().join("\n");
        assert_no_secrets(&rest, &String::from_utf8_lossy(&out.stderr));
        if let Creds::ServiceAccount = creds {
            assert_bearer_token_masked_outside_the_fence(&stdout, &api);
        }
    }
}

/// The service account's bearer token, which no variable held, is masked as soon as it exists:
/// the fence is closed, the mask written, and a fresh fence opened (the runner ignores
/// `::add-mask::` inside a fence).
fn assert_bearer_token_masked_outside_the_fence(stdout: &str, api: &StandIn) {
    let bearer =
        api.with(|s| s.authorizations.iter().rev().find_map(|a| a.strip_prefix("Bearer ").map(str::to_string)));
    let token = bearer.expect("the run used a bearer token");
    let lines: Vec<&str> = stdout.lines().collect();
    let at = lines.iter().position(|l| *l == format!("::add-mask::{token}")).unwrap_or_else(|| panic!("{stdout}"));
    let open: Vec<&str> = lines[..at].iter().filter_map(|l| l.strip_prefix("::stop-commands::")).collect();
    let fence = open.last().unwrap_or_else(|| panic!("a fence before the mask: {stdout}"));
    assert_eq!(lines[at - 1], format!("::{fence}::"), "the fence is closed right before the mask: {stdout}");
    let fresh = lines[at + 1].strip_prefix("::stop-commands::").unwrap_or_else(|| panic!("reopened: {stdout}"));
    assert_ne!(fresh, *fence, "a new fence token");
    assert!(
        lines[at + 2..].iter().any(|l| *l == format!("::{fresh}::")),
        "the new fence is closed at the end: {stdout}"
    );
}

/// The binary in `dir` with `args`, under the watchdog.
fn run_in(dir: &Path, args: &[&str]) -> Output {
    let mut cmd = support::mongo_preflight();
    cmd.current_dir(dir).args(args);
    support::output_within(cmd, WATCHDOG)
}

#[test]
fn temporary_access_without_an_atlas_project_cannot_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("mongo-preflight.yml"), "version: 1\n").expect("policy");
    let out = run_in(dir.path(), &["check", "--atlas-temporary-access", "30m"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("needs the Atlas project"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // With a valid project, only the 7-day cap can refuse 8 days.
    std::fs::write(
        dir.path().join("mongo-preflight.yml"),
        format!("version: 1\natlas:\n  project_id: {}\n", stand_in::PROJECT_ID),
    )
    .expect("policy");
    let out = run_in(dir.path(), &["check", "--atlas-temporary-access", "8d"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("8d") && err.contains("7 days"), "the error names the 7-day limit: {err}");
}

#[test]
fn an_invalid_atlas_key_points_into_the_policy() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("mongo-preflight.yml"), "version: 1\natlas:\n  project_id: nope\n").expect("policy");
    let out = run_in(dir.path(), &["check"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("mongo-preflight.yml:3:") && err.contains("24 hexadecimal digits"), "{err}");
    std::fs::write(
        dir.path().join("mongo-preflight.yml"),
        "version: 1\natlas:\n  project_id: 65a1b2c3d4e5f6a7b8c9d0e1\n  temporary_access: 2w\n",
    )
    .expect("policy");
    let out = run_in(dir.path(), &["check"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.code() == Some(2) && err.contains("mongo-preflight.yml:4:") && err.contains("temporary_access"),
        "{err}"
    );
}

#[allow(dead_code)]
fn _ip(ip: &str) -> IpAddr {
    ip.parse().expect("ip")
}

#[test]
fn an_open_access_list_in_any_tool_fails_the_scan() {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = [
        ("atlas.tf", "resource \"mongodbatlas_project_ip_access_list\" \"ci\" {\n  cidr_block = \"0.0.0.0/0\"\n}\n"),
        ("open.sh", "atlas accessLists create 0.0.0.0/0 --type cidrBlock\n"),
        ("project.yaml", "kind: AtlasProject\nspec:\n  projectIpAccessList:\n    - cidrBlock: 0.0.0.0/0\n"),
        (
            "stack.yaml",
            "Resources:\n  A:\n    Type: MongoDB::Atlas::ProjectIpAccessList\n    Properties:\n      AccessList:\n        - CIDRBlock: ::/0\n",
        ),
        ("index.ts", "new mongodbatlas.ProjectIpAccessList(\"o\", { cidrBlock: \"0.0.0.0/0\" });\n"),
        ("api.sh", "curl -X POST \"$BASE/api/atlas/v2/groups/$G/accessList\" -d '[{\"cidrBlock\":\"0.0.0.0/0\"}]'\n"),
        ("sg.tf", "resource \"aws_security_group\" \"s\" {\n  ingress { cidr_blocks = [\"0.0.0.0/0\"] }\n}\n"),
    ];
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    let out = run_in(dir.path(), &["scan", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    let mut flagged: Vec<String> = json["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["rule"] == "access-list-open-to-world" && f["severity"] == "error")
        .map(|f| f["path"].as_str().unwrap_or_default().to_string())
        .collect();
    flagged.sort();
    assert_eq!(flagged, ["api.sh", "atlas.tf", "index.ts", "open.sh", "project.yaml", "stack.yaml"], "{json}");
    let explain = run_in(dir.path(), &["explain", "access-list-open-to-world"]);
    let text = String::from_utf8_lossy(&explain.stdout);
    for tool in ["Terraform", "Atlas CLI", "Admin API", "Kubernetes Operator", "CloudFormation", "Pulumi"] {
        assert!(text.contains(&format!("{tool}: ")), "explain names the safe alternative for {tool}: {text}");
    }
}
