//! The posture lock against real TLS servers: `lock` a healthy cluster, then point the same
//! cluster name at endpoints that are each weaker in one way, and at a renewal that is not.

mod lab;
mod support;

/// git in `dir`, which is also its home.
fn git(dir: &Path, args: &[&str]) -> String {
    support::git(dir, dir, args)
}

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use lab::certs::{LeafSpec, Pki, Send, Signer};
use serde_json::Value;

/// Stage deadline: every endpoint here answers at once.
const TIMEOUT: &str = "5";
/// The longest any run here may take before the watchdog kills it and fails the test.
const WATCHDOG: Duration = Duration::from_secs(120);

const POLICY: &str = "version: 1
clusters:
  - name: orders-prod
    uri_env: ORDERS_URI
";

/// TLS endpoints in front of the lab's plain SecantusDB, each presenting its own certificate.
struct PostureLab {
    /// Both of this PKI's roots in one file: the run trusts either.
    both_roots: PathBuf,
    ports: BTreeMap<&'static str, u16>,
}

static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
static POSTURE: OnceLock<PostureLab> = OnceLock::new();

fn posture() -> &'static PostureLab {
    POSTURE.get_or_init(|| {
        let lab = lab::shared();
        let upstream = lab.endpoint("plain").socket_addr();
        // Inside the lab's directory, which the lab removes once this process is gone.
        let dir = lab.dir().join("posture");
        let thread = std::thread::spawn(move || {
            let runtime =
                tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
            let lab = runtime.block_on(PostureLab::start(upstream, dir));
            let _ = RUNTIME.set(runtime);
            lab
        });
        thread.join().expect("posture lab starts")
    })
}

fn p384_key() -> String {
    rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).expect("P-384 key").serialize_pem()
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// A server config offering only `versions`.
fn config(
    identity: &lab::certs::Identity,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> rustls::ServerConfig {
    rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_protocol_versions(versions)
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(identity.chain.clone(), identity.key())
        .expect("certificate")
}

impl PostureLab {
    async fn start(upstream: SocketAddr, dir: PathBuf) -> PostureLab {
        std::fs::create_dir_all(&dir).expect("posture dir");
        let pki = Pki::generate(&dir);
        let both_roots = dir.join("both-roots.pem");
        let roots = std::fs::read_to_string(&pki.ca_file).expect("root")
            + &std::fs::read_to_string(&pki.untrusted_ca_file).expect("other root");
        std::fs::write(&both_roots, roots).expect("write roots");

        let loopback = names(&["localhost", "127.0.0.1"]);
        let leaf =
            |stem: &'static str| LeafSpec { key_pem: Some(p384_key()), ..LeafSpec::server(stem, loopback.clone()) };
        let tls13 = &[&rustls::version::TLS13][..];
        let tls12 = &[&rustls::version::TLS12][..];
        let now = time::OffsetDateTime::now_utc();
        let specs: Vec<(&'static str, LeafSpec, &[&'static rustls::SupportedProtocolVersion])> = vec![
            ("healthy", leaf("healthy"), tls13),
            ("renewed", LeafSpec { not_after: now + time::Duration::days(500), ..leaf("renewed") }, tls13),
            ("tls12", leaf("tls12"), tls12),
            // Still negotiates TLS 1.3 with every modern client, but also accepts 1.2.
            ("tls12-and-13", leaf("tls12-and-13"), rustls::ALL_VERSIONS),
            (
                "other-root",
                LeafSpec { signer: Signer::UntrustedIntermediate, send: Send::WithIntermediate, ..leaf("other-root") },
                tls13,
            ),
            ("weaker-key", LeafSpec { key_pem: None, ..leaf("weaker-key") }, tls13),
            ("san-drop", LeafSpec { names: names(&["localhost"]), ..leaf("san-drop") }, tls13),
        ];
        let mut ports = BTreeMap::new();
        for (name, spec, versions) in specs {
            let identity = pki.issue(&spec);
            ports.insert(name, lab::tls::proxy_with(config(&identity, versions), upstream).await);
        }
        PostureLab { both_roots, ports }
    }

    /// The cluster as two members (one server behind two names), trusting both roots.
    fn uri(&self, endpoint: &str) -> String {
        let port = self.ports[endpoint];
        format!("mongodb://localhost:{port},127.0.0.1:{port}/?tls=true&tlsCAFile={}", self.both_roots.display())
    }
}

fn command(dir: &Path, uri: &str) -> Command {
    let mut cmd = support::mongo_preflight();
    cmd.current_dir(dir).env("ORDERS_URI", uri);
    cmd
}

/// Runs `cmd` to its end, under the watchdog.
fn run(cmd: &mut Command) -> Output {
    let cmd = std::mem::replace(cmd, support::mongo_preflight());
    support::output_within(cmd, WATCHDOG)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn lock(dir: &Path, uri: &str) -> Output {
    run(command(dir, uri).args(["lock", "--timeout", TIMEOUT]))
}

fn check(dir: &Path, uri: &str) -> (i32, Value) {
    let out = run(command(dir, uri).args(["check", "--format", "json", "--timeout", TIMEOUT]));
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("check prints JSON ({e}): {}{}", text(&out.stdout), text(&out.stderr)));
    (out.status.code().unwrap_or(-1), json)
}

/// A git-less directory holding the policy: the scan finds nothing, only the probe counts.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("mongo-preflight.yml"), POLICY).expect("policy");
    dir
}

fn locked_project(endpoint: &str) -> tempfile::TempDir {
    let dir = project();
    let out = lock(dir.path(), &posture().uri(endpoint));
    assert_eq!(out.status.code(), Some(0), "lock: {}", text(&out.stderr));
    dir
}

/// Every diagnosis of the run, cluster-wide and per host, as (code, severity, evidence).
fn diagnoses(json: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for cluster in json["clusters"].as_array().into_iter().flatten() {
        let host_diagnoses = cluster["hosts"].as_array().into_iter().flatten().flat_map(|h| h["diagnoses"].as_array());
        for list in std::iter::once(cluster["diagnoses"].as_array()).flatten().chain(host_diagnoses) {
            for d in list {
                let field = |k: &str| d[k].as_str().unwrap_or_default().to_string();
                out.push((field("code"), field("severity"), field("evidence")));
            }
        }
    }
    out
}

fn regressions(json: &Value) -> Vec<String> {
    diagnoses(json).into_iter().filter(|(code, _, _)| code == "tls-regression").map(|(_, _, e)| e).collect()
}

fn lock_json(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("mongo-preflight.lock")).expect("the lock was written");
    serde_json::from_str(&text).expect("the lock is JSON")
}

#[test]
fn a_locked_healthy_cluster_passes_and_two_locks_are_byte_identical() {
    let dir = locked_project("healthy");
    let first = std::fs::read(dir.path().join("mongo-preflight.lock")).expect("lock");
    let floor = &lock_json(dir.path())["clusters"]["orders-prod"];
    assert_eq!(floor["min_tls_version"], "1.3", "{floor}");
    assert_eq!(floor["strict_verification"], true, "{floor}");
    assert_eq!(floor["weakest_leaf_key"], serde_json::json!({"type": "EC", "bits": 384}), "{floor}");
    assert_eq!(floor["hosts_covered"], serde_json::json!(["127.0.0.1", "localhost"]), "{floor}");
    let anchors = floor["trust_anchors"].as_array().expect("anchors");
    assert_eq!(anchors.len(), 1, "{floor}");
    assert!(anchors[0]["subject"].as_str().unwrap_or_default().contains("mongo-preflight Lab Root CA"), "{floor}");
    assert_eq!(anchors[0]["spki_sha256"].as_str().map(str::len), Some(64), "{floor}");
    let text = String::from_utf8_lossy(&first);
    assert!(!text.contains("not_after") && !text.contains("serial"), "no dates or serials: {text}");

    let out = lock(dir.path(), &posture().uri("healthy"));
    assert_eq!(out.status.code(), Some(0), "second lock: {}", text_of(&out));
    let second = std::fs::read(dir.path().join("mongo-preflight.lock")).expect("lock");
    assert_eq!(first, second, "two lock runs on an unchanged cluster write the same bytes");

    let (code, json) = check(dir.path(), &posture().uri("healthy"));
    assert_eq!(code, 0, "{json:#}");
    assert!(regressions(&json).is_empty(), "{json:#}");
    let versions = &json["clusters"][0]["hosts"][0]["stages"]["tls_versions"]["details"];
    assert_eq!(versions["accepted"], serde_json::json!(["1.3"]), "{json:#}");
    assert_eq!(versions["offers"]["1.2"]["accepted"], false, "{json:#}");
}

fn text_of(out: &Output) -> String {
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

/// Each weakening fails `check` with `tls-regression` naming its property; the endpoints
/// weaker in one way only fail on the lock alone.
#[test]
fn every_weakening_fails_with_the_property_named() {
    let dir = locked_project("healthy");
    let cases = [
        ("tls12", "min_tls_version", "lock 1.3 → observed 1.2", true),
        ("tls12-and-13", "min_tls_version", "lock 1.3 → observed 1.2", true),
        ("other-root", "trust_anchors", "Untrusted Elsewhere Root CA", true),
        ("weaker-key", "weakest_leaf_key", "lock EC 384 → observed EC 256", true),
        ("san-drop", "hosts_covered", "no longer covered: 127.0.0.1:", false),
    ];
    for (endpoint, property, words, only_the_lock_fails) in cases {
        let (code, json) = check(dir.path(), &posture().uri(endpoint));
        assert_eq!(code, 1, "{endpoint}: {json:#}");
        let found = regressions(&json);
        assert!(
            found.iter().any(|e| e.starts_with(&format!("{property}: ")) && e.contains(words)),
            "{endpoint}: a tls-regression names `{property}` with `{words}`: {found:#?}"
        );
        if only_the_lock_fails {
            let errors: Vec<_> = diagnoses(&json).into_iter().filter(|(_, s, _)| s == "error").collect();
            assert!(errors.iter().all(|(code, _, _)| code == "tls-regression"), "{endpoint}: {errors:#?}");
        }
    }
}

#[test]
fn a_renewed_leaf_from_the_same_root_passes() {
    let dir = locked_project("healthy");
    let (code, json) = check(dir.path(), &posture().uri("renewed"));
    assert_eq!(code, 0, "{json:#}");
    assert!(regressions(&json).is_empty(), "{json:#}");
}

#[test]
fn a_stronger_cluster_passes_and_the_summary_suggests_lock() {
    let dir = locked_project("tls12");
    assert_eq!(lock_json(dir.path())["clusters"]["orders-prod"]["min_tls_version"], "1.2");
    let (code, json) = check(dir.path(), &posture().uri("healthy"));
    assert_eq!(code, 0, "{json:#}");
    let notes = json["notes"].to_string();
    assert!(
        notes.contains("mongo-preflight lock") && notes.contains("min_tls_version: lock 1.2 → observed 1.3"),
        "{notes}"
    );
}

#[test]
fn a_cluster_missing_from_the_lock_is_an_info() {
    let dir = project();
    std::fs::write(dir.path().join("mongo-preflight.lock"), "{\"version\": 1, \"clusters\": {}}\n").expect("lock");
    let (code, json) = check(dir.path(), &posture().uri("healthy"));
    assert_eq!(code, 0, "{json:#}");
    let missing: Vec<_> = diagnoses(&json).into_iter().filter(|(c, _, _)| c == "tls-baseline-missing").collect();
    assert_eq!(missing.len(), 1, "{json:#}");
    assert_eq!(missing[0].1, "info");
}

#[test]
fn an_invalid_lock_cannot_be_judged() {
    let dir = project();
    std::fs::write(dir.path().join("mongo-preflight.lock"), "{\"version\": 1,\n \"clusterz\": {}}\n").expect("lock");
    let out = run(command(dir.path(), &posture().uri("healthy")).args(["check"]));
    assert_eq!(out.status.code(), Some(2), "{}", text_of(&out));
    assert!(text(&out.stderr).contains("mongo-preflight.lock:2:"), "{}", text_of(&out));
}

#[test]
fn an_unreachable_cluster_is_not_locked() {
    let dir = project();
    let closed = lab::shared().endpoint("closed").port;
    let out = lock(dir.path(), &format!("mongodb://127.0.0.1:{closed}/?tls=true"));
    assert_eq!(out.status.code(), Some(2), "{}", text_of(&out));
    assert!(text(&out.stderr).contains("tcp-connection-refused"), "{}", text_of(&out));
    assert!(!dir.path().join("mongo-preflight.lock").exists());
}

/// The legacy ClientHellos find a TLS 1.0 server's floor, which rustls alone cannot see.
#[test]
fn a_tls10_server_locks_at_tls_1_0() {
    let lab = lab::shared();
    let dir = project();
    let uri = format!("{}&tlsCAFile={}", lab.endpoint("tls10").uri_via("localhost"), lab.ca_file_arg());
    let out = lock(dir.path(), &uri);
    assert_eq!(out.status.code(), Some(0), "{}", text_of(&out));
    let floor = &lock_json(dir.path())["clusters"]["orders-prod"];
    assert_eq!(floor["min_tls_version"], "1.0", "{floor}");
    assert_eq!(floor["strict_verification"], false, "{floor}");
}

/// The lock is policy: in a pull request the base's lock judges, and a pull request that
/// lowers a floor (here to let the cluster move to a TLS 1.2-only server) fails on the base's
/// lock and sees the lowering listed as a loosening, in words, in the comment's markdown too.
#[test]
fn in_a_pull_request_the_base_lock_judges_and_a_lowered_floor_is_a_loosening() {
    let dir = locked_project("healthy");
    let repo = dir.path();
    git(repo, &["init", "-q", "-b", "main"]);
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-qm", "base: policy and lock"]);
    let base_sha = git(repo, &["rev-parse", "HEAD"]);
    git(repo, &["checkout", "-qb", "pr"]);
    let out = lock(repo, &posture().uri("tls12"));
    assert_eq!(out.status.code(), Some(0), "{}", text_of(&out));
    assert!(text(&out.stderr).contains("lowered: orders-prod: TLS floor 1.3 → 1.2"), "{}", text_of(&out));
    git(repo, &["commit", "-qam", "lower the floor"]);
    let event = repo.join("event.json");
    let payload = support::pull_request_event(&base_sha, "octo/app");
    std::fs::write(&event, payload.to_string()).expect("event");
    let in_pull_request = |format: &str| {
        run(command(repo, &posture().uri("tls12"))
            .args(["check", "--format", format, "--timeout", TIMEOUT])
            .env("GITHUB_EVENT_NAME", "pull_request")
            .env("GITHUB_EVENT_PATH", &event)
            .env("HOME", repo))
    };
    let out = in_pull_request("json");
    assert_eq!(out.status.code(), Some(1), "the base's lock judges: {}", text_of(&out));
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(regressions(&json).iter().any(|e| e.starts_with("min_tls_version: lock 1.3 → observed 1.2")), "{json:#}");
    assert_eq!(
        json["policy"]["changes"],
        serde_json::json!([{"kind": "lock-lowered", "detail": "orders-prod: TLS floor 1.3 → 1.2"}]),
        "{json:#}"
    );
    let markdown = text(&in_pull_request("markdown").stdout);
    assert!(markdown.contains("<code>lock-lowered</code> | orders-prod: TLS floor 1.3 → 1.2"), "{markdown}");

    // Once merged, the lowered lock judges: the same cluster passes.
    let (code, json) = check(repo, &posture().uri("tls12"));
    assert_eq!(code, 0, "{json:#}");
}

/// A scheduled run (`on: schedule`, `check --issue` on the default branch) against a cluster
/// that regressed since the lock: it fails, and opens one issue titled after the cluster in a
/// fake GitHub; a second run edits that issue instead of opening another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_run_fails_on_a_regression_and_opens_one_issue_for_the_cluster() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let dir = tokio::task::spawn_blocking(|| locked_project("healthy")).await.expect("lock");
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/user"))
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_json(serde_json::json!({"message": "Resource not accessible by integration"})),
        )
        .mount(&server)
        .await;
    let bot = serde_json::json!({"login": "github-actions[bot]", "id": 41898282, "type": "Bot"});
    let existing = Arc::new(std::sync::Mutex::new(Vec::<Value>::new()));
    let listed = existing.clone();
    Mock::given(method("GET"))
        .and(path("/repos/octo/app/issues"))
        .respond_with(move |_: &wiremock::Request| {
            ResponseTemplate::new(200).set_body_json(Value::Array(listed.lock().expect("issues").clone()))
        })
        .mount(&server)
        .await;
    let created = existing.clone();
    let bot_for_post = bot.clone();
    Mock::given(method("POST"))
        .and(path("/repos/octo/app/issues"))
        .respond_with(move |request: &wiremock::Request| {
            let body: Value = serde_json::from_slice(&request.body).expect("json");
            let issue = serde_json::json!({"number": 31, "title": body["title"], "body": body["body"], "user": bot_for_post, "state": "open"});
            created.lock().expect("issues").push(issue.clone());
            ResponseTemplate::new(201).set_body_json(issue)
        })
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/repos/octo/app/issues/31"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"number": 31})))
        .mount(&server)
        .await;

    let api = server.uri();
    let scheduled_check = move |dir: PathBuf| {
        run(command(&dir, &posture().uri("tls12"))
            .args(["check", "--issue", "--timeout", TIMEOUT])
            .env("GITHUB_EVENT_NAME", "schedule")
            .env("GITHUB_REPOSITORY", "octo/app")
            .env("GITHUB_TOKEN", "ghs_scheduled0123456789")
            .env("GITHUB_API_URL", &api))
    };
    for run in ["opens", "updates"] {
        let (run_dir, check) = (dir.path().to_path_buf(), scheduled_check.clone());
        let out = tokio::task::spawn_blocking(move || check(run_dir)).await.expect("check");
        assert_eq!(out.status.code(), Some(1), "{run}: {}", text_of(&out));
        assert!(text(&out.stderr).contains("issue #31"), "{run}: {}", text_of(&out));
    }
    let requests = server.received_requests().await.unwrap_or_default();
    let posts: Vec<_> = requests.iter().filter(|r| r.method.as_str() == "POST").collect();
    let patches = requests.iter().filter(|r| r.method.as_str() == "PATCH").count();
    assert_eq!((posts.len(), patches), (1, 1), "one issue opened, then updated");
    let body: Value = serde_json::from_slice(&posts[0].body).expect("json");
    assert!(body["title"].as_str().unwrap_or_default().contains("orders-prod"), "{body}");
    assert!(body["body"].as_str().unwrap_or_default().contains("lock 1.3 → observed 1.2"), "{body}");
    // The second run updates the same issue: same title, the regression still in its body, and
    // still open (a run that closed, emptied or renamed it would lose the regression).
    let patch = requests.iter().find(|r| r.method.as_str() == "PATCH").expect("the update");
    let update: Value = serde_json::from_slice(&patch.body).expect("json");
    assert_eq!(update["title"], body["title"], "{update}");
    let text = update["body"].as_str().unwrap_or_default();
    assert!(text.starts_with("<!-- mongo-preflight regression: orders-prod -->"), "{update}");
    assert!(text.contains("1.3 → observed 1.2"), "{update}");
    assert!(update.get("state").is_none_or(|state| state == "open"), "{update}");
}

/// The scheduled workflow that docs/github-action.md shows: `on: schedule` only (the default
/// branch), `issues: write`, and the action's `check` with `--issue` and no comment.
#[test]
fn the_documented_scheduled_workflow_runs_check_with_issue_on_a_schedule() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/github-action.md")).expect("docs/github-action.md");
    let section = doc.split("## Scheduled runs").nth(1).expect("a scheduled-runs section");
    let yaml = section.split("```yaml\n").nth(1).and_then(|s| s.split("```").next()).expect("a workflow");
    let workflow: serde_yaml_ng::Value = serde_yaml_ng::from_str(yaml).expect("the workflow is YAML");
    let on = &workflow["on"];
    assert!(on["schedule"][0]["cron"].as_str().is_some_and(|c| c.split_whitespace().count() == 5), "{on:?}");
    assert!(on.get("pull_request").is_none() && on.get("push").is_none(), "{on:?}");
    let jobs = workflow["jobs"].as_mapping().expect("jobs");
    let (_, job) = jobs.iter().next().expect("one job");
    assert_eq!(job["permissions"]["issues"].as_str(), Some("write"));
    let steps = job["steps"].as_sequence().expect("steps");
    let action = steps
        .iter()
        .find(|s| s["uses"].as_str().is_some_and(|u| u.starts_with("mongo-preflight/mongo-preflight@")))
        .expect("the action step");
    assert_eq!(action["with"]["issue"].as_bool(), Some(true));
    assert_eq!(action["with"]["comment"].as_bool(), Some(false));
    // The inputs it uses exist, and `issue` reaches `check` (tests/action.rs runs the step).
    let action_yml: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(root.join("action.yml")).expect("action.yml")).expect("yaml");
    for input in ["issue", "comment"] {
        assert!(action_yml["inputs"].get(input).is_some(), "action.yml has input `{input}`");
    }
    let out = run(support::mongo_preflight().args(["check", "--help"]));
    assert!(text(&out.stdout).contains("--issue"), "{}", text_of(&out));
}
