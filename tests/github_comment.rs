//! The sticky PR comment against a fake GitHub (wiremock) that speaks the real REST shapes:
//! complete issue-comment objects, `Link` pagination, GitHub's error bodies, the rate-limit
//! headers of every answer and the answers of a spent limit, each as GitHub documents it.

mod support;

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mongo_preflight::github::comment::{
    CommentError, Deadline, Outcome, RetryPolicy, SECONDARY_LIMIT_WAIT, SHORT_COMMENT_BUDGET, Target, Waits,
};
use mongo_preflight::github::context::{Repository, Token};
use mongo_preflight::github::{self, ActionsEnv, MARKER, PublishOptions};
use mongo_preflight::model::{Finding, RunReport, Severity, Verdict};
use mongo_preflight::report::{Format, RenderContext};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const TOKEN: &str = "ghs_TestTokenThatMustNeverLeak0123456789";
const OWNER: &str = "octo-org";
const REPO: &str = "payments";
const PR: u64 = 7;
const BOT: (&str, u64, &str) = ("github-actions[bot]", 41898282, "Bot");
const HUMAN: (&str, u64, &str) = ("octocat", 583231, "User");
/// The wall clock the tests' publishing reads (2026-11-30T00:53:20Z); it moves only by the waits
/// recorded, so reset times and "try again after" times are exact.
const NOW: u64 = 1_796_000_000;

/// A full GitHub user object, with every field octocrab's `Author` requires.
fn user((login, id, kind): (&str, u64, &str)) -> Value {
    let api = format!("https://api.github.com/users/{}", login.replace('[', "%5B").replace(']', "%5D"));
    json!({
        "login": login,
        "id": id,
        "node_id": format!("MDQ6VXNlcj{id}"),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"),
        "gravatar_id": "",
        "url": api,
        "html_url": format!("https://github.com/{login}"),
        "followers_url": format!("{api}/followers"),
        "following_url": format!("{api}/following{{/other_user}}"),
        "gists_url": format!("{api}/gists{{/gist_id}}"),
        "starred_url": format!("{api}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{api}/subscriptions"),
        "organizations_url": format!("{api}/orgs"),
        "repos_url": format!("{api}/repos"),
        "events_url": format!("{api}/events{{/privacy}}"),
        "received_events_url": format!("{api}/received_events"),
        "type": kind,
        "user_view_type": "public",
        "site_admin": false
    })
}

/// A full issue comment as `GET /repos/{o}/{r}/issues/{n}/comments` returns it.
fn comment_json(id: u64, author: (&str, u64, &str), body: &str) -> Value {
    let repo_api = format!("https://api.github.com/repos/{OWNER}/{REPO}");
    json!({
        "url": format!("{repo_api}/issues/comments/{id}"),
        "html_url": format!("https://github.com/{OWNER}/{REPO}/pull/{PR}#issuecomment-{id}"),
        "issue_url": format!("{repo_api}/issues/{PR}"),
        "id": id,
        "node_id": format!("IC_kwDOABCDEF{id}"),
        "user": user(author),
        "created_at": "2026-11-20T09:30:00Z",
        "updated_at": "2026-11-20T09:30:00Z",
        "author_association": if author.2 == "Bot" { "NONE" } else { "CONTRIBUTOR" },
        "body": body,
        "reactions": {
            "url": format!("{repo_api}/issues/comments/{id}/reactions"),
            "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "hooray": 0,
            "confused": 0, "heart": 0, "rocket": 0, "eyes": 0
        },
        "performed_via_github_app": null
    })
}

/// A canned answer for the next request of one method, instead of the normal behaviour.
#[derive(Clone)]
struct Scripted {
    method: &'static str,
    status: u16,
    headers: Vec<(&'static str, &'static str)>,
    body: Value,
    /// The write still happens (a 502 from a proxy after GitHub stored the comment).
    lands: bool,
}

#[derive(Default)]
struct State {
    comments: Vec<Value>,
    next_id: u64,
    script: VecDeque<Scripted>,
    /// Bodies longer than this are refused with GitHub's 422.
    max_body_chars: Option<usize>,
    /// Who the token is: `None` is the Actions token, for which `GET /user` answers 403.
    user: Option<(&'static str, u64, &'static str)>,
    /// The primary rate limit of the token.
    rate: Rate,
    /// The client's clock (the policy's deadline), against which the limit resets.
    clock: Option<Deadline>,
    /// Answers that said the primary limit was spent.
    limited_answers: usize,
}

/// The primary rate limit as "Rate limits for the REST API" describes it
/// (https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api): every answer
/// carries `x-ratelimit-limit`, `-remaining`, `-used`, `-reset` (UTC epoch seconds) and
/// `-resource`; the Actions token gets 1,000 requests per hour per repository; once none remain,
/// every request gets 403 "API rate limit exceeded" with `x-ratelimit-remaining: 0` until the
/// reset.
struct Rate {
    limit: u64,
    remaining: u64,
    reset: u64,
}

impl Default for Rate {
    fn default() -> Self {
        Rate { limit: 1000, remaining: 1000, reset: NOW + 3600 }
    }
}

/// An in-memory GitHub issue-comments API.
#[derive(Clone)]
struct FakeGitHub {
    state: Arc<Mutex<State>>,
    base_path: String,
}

impl FakeGitHub {
    fn new(base_path: &str, comments: Vec<Value>) -> Self {
        let state = State { comments, next_id: 9_000_000, ..Default::default() };
        FakeGitHub { state: Arc::new(Mutex::new(state)), base_path: base_path.to_string() }
    }
    fn script(&self, scripted: Scripted) {
        self.state.lock().expect("state").script.push_back(scripted);
    }
    fn comments(&self) -> Vec<Value> {
        self.state.lock().expect("state").comments.clone()
    }
}

fn github_error(message: &str, doc: &str) -> Value {
    json!({ "message": message, "documentation_url": doc, "status": "" })
}

impl Respond for FakeGitHub {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut state = self.state.lock().expect("state");
        let now = state.clock.as_ref().map_or(NOW, |c| epoch(c.now_utc()));
        if state.rate.remaining == 0 && now >= state.rate.reset {
            state.rate.remaining = state.rate.limit;
            state.rate.reset = now + 3600;
        }
        if state.rate.remaining == 0 {
            // "Rate limits for the REST API": exceeding the primary limit gives a 403 or 429 with
            // `x-ratelimit-remaining: 0`; don't retry before `x-ratelimit-reset`.
            state.limited_answers += 1;
            let limited = ResponseTemplate::new(403).set_body_json(github_error(
                "API rate limit exceeded for installation ID 48151623.",
                "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
            ));
            return rate_headers(limited, &state.rate);
        }
        state.rate.remaining -= 1;
        let answer = self.answer(&mut state, request);
        rate_headers(answer, &state.rate)
    }
}

fn epoch(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The rate-limit headers every REST answer carries, unless a scripted answer set its own.
fn rate_headers(template: ResponseTemplate, rate: &Rate) -> ResponseTemplate {
    template
        .append_header("x-ratelimit-limit", rate.limit.to_string().as_str())
        .append_header("x-ratelimit-remaining", rate.remaining.to_string().as_str())
        .append_header("x-ratelimit-used", (rate.limit - rate.remaining).to_string().as_str())
        .append_header("x-ratelimit-reset", rate.reset.to_string().as_str())
        .append_header("x-ratelimit-resource", "core")
}

impl FakeGitHub {
    fn answer(&self, state: &mut State, request: &Request) -> ResponseTemplate {
        let method = request.method.as_str().to_string();
        let path = request.url.path().to_string();
        let list_path = format!("{}/repos/{OWNER}/{REPO}/issues/{PR}/comments", self.base_path);
        let edit_prefix = format!("{}/repos/{OWNER}/{REPO}/issues/comments/", self.base_path);

        let auth = request.headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
        if auth != format!("Bearer {TOKEN}") {
            return ResponseTemplate::new(401)
                .set_body_json(github_error("Bad credentials", "https://docs.github.com/rest"));
        }

        // Who the token is: answered before any script, which is about the comment routes.
        if path == format!("{}/user", self.base_path) {
            return match state.user {
                Some(who) => ResponseTemplate::new(200).set_body_json(user(who)),
                // "Get the authenticated user" (https://docs.github.com/rest/users/users#get-the-authenticated-user)
                // needs a user; the Actions token is an app installation's, and GitHub answers it
                // 403 "Resource not accessible by integration" ("Troubleshooting the REST API",
                // https://docs.github.com/rest/using-the-rest-api/troubleshooting-the-rest-api).
                None => ResponseTemplate::new(403).set_body_json(github_error(
                    "Resource not accessible by integration",
                    "https://docs.github.com/rest/users/users#get-the-authenticated-user",
                )),
            };
        }

        let scripted = match state.script.front() {
            Some(s) if s.method == method => state.script.pop_front(),
            _ => None,
        };
        if let Some(s) = &scripted
            && !s.lands
        {
            return s.template();
        }

        let new_body = || -> String {
            let v: Value = serde_json::from_slice(&request.body).expect("json body");
            v["body"].as_str().expect("body field").to_string()
        };
        let too_long = |body: &str, limit: Option<usize>| limit.is_some_and(|l| body.chars().count() > l);
        let validation_failed = || {
            ResponseTemplate::new(422).set_body_json(json!({
                "message": "Validation Failed",
                "errors": [{ "resource": "IssueComment", "code": "custom", "field": "body",
                             "message": "body is too long (maximum is 65536 characters)" }],
                "documentation_url": "https://docs.github.com/rest/issues/comments#create-an-issue-comment",
                "status": "422"
            }))
        };

        let answer = match (method.as_str(), path.as_str()) {
            // "Using pagination in the REST API"
            // (https://docs.github.com/rest/using-the-rest-api/using-pagination-in-the-rest-api):
            // `per_page` (default 30, at most 100) and `page`, and a `Link` header with `rel="next"`
            // while more pages follow.
            ("GET", p) if p == list_path => {
                let query: HashMap<String, String> = request.url.query_pairs().into_owned().collect();
                let per_page: usize = query.get("per_page").and_then(|v| v.parse().ok()).unwrap_or(30).clamp(1, 100);
                let page: usize = query.get("page").and_then(|v| v.parse().ok()).unwrap_or(1);
                let start = (page - 1) * per_page;
                let items: Vec<Value> = state.comments.iter().skip(start).take(per_page).cloned().collect();
                let mut template = ResponseTemplate::new(200).set_body_json(Value::Array(items));
                if start + per_page < state.comments.len() {
                    let next = format!(
                        "<https://api.github.com/repositories/1/issues/{PR}/comments?per_page={per_page}&page={}>; rel=\"next\"",
                        page + 1
                    );
                    template = template.insert_header("link", next.as_str());
                }
                template
            }
            ("POST", p) if p == list_path => {
                let body = new_body();
                if too_long(&body, state.max_body_chars) {
                    validation_failed()
                } else {
                    state.next_id += 1;
                    let created = comment_json(state.next_id, state.user.unwrap_or(BOT), &body);
                    state.comments.push(created.clone());
                    ResponseTemplate::new(201).set_body_json(created)
                }
            }
            ("PATCH", p) if p.starts_with(&edit_prefix) => {
                let id: u64 = p[edit_prefix.len()..].parse().unwrap_or(0);
                let body = new_body();
                if too_long(&body, state.max_body_chars) {
                    validation_failed()
                } else {
                    match state.comments.iter_mut().find(|c| c["id"] == json!(id)) {
                        Some(c) => {
                            c["body"] = json!(body);
                            c["updated_at"] = json!("2026-11-21T10:00:00Z");
                            ResponseTemplate::new(200).set_body_json(c.clone())
                        }
                        None => ResponseTemplate::new(404)
                            .set_body_json(github_error("Not Found", "https://docs.github.com/rest")),
                    }
                }
            }
            _ => ResponseTemplate::new(404).set_body_json(github_error("Not Found", "https://docs.github.com/rest")),
        };
        // A write that "lands" still reports the scripted failure.
        match scripted {
            Some(s) => s.template(),
            None => answer,
        }
    }
}

impl Scripted {
    fn template(&self) -> ResponseTemplate {
        let mut template = ResponseTemplate::new(self.status).set_body_json(self.body.clone());
        for (k, v) in &self.headers {
            template = template.insert_header(*k, *v);
        }
        template
    }
}

struct Lab {
    server: MockServer,
    fake: FakeGitHub,
    dir: tempfile::TempDir,
    api_url: String,
    policy: RetryPolicy,
}

async fn lab(base_path: &str, comments: Vec<Value>) -> Lab {
    lab_with(base_path, comments, fast_retries()).await
}

async fn lab_with(base_path: &str, comments: Vec<Value>, policy: RetryPolicy) -> Lab {
    let server = MockServer::start().await;
    let fake = FakeGitHub::new(base_path, comments);
    fake.state.lock().expect("state").clock = Some(policy.deadline.clone());
    Mock::given(any()).respond_with(fake.clone()).mount(&server).await;
    let api_url = format!("{}{base_path}", server.uri());
    Lab { server, fake, dir: tempfile::tempdir().expect("tempdir"), api_url, policy }
}

/// The environment of a `pull_request` run against `api_url`, with its files in `dir`.
fn actions_env(dir: &Path, api_url: &str, token: &str) -> ActionsEnv {
    let event = dir.join("event.json");
    let payload =
        json!({"action": "synchronize", "number": PR, "pull_request": {"number": PR, "head": {"sha": "0a1b2c"}}});
    std::fs::write(&event, payload.to_string()).expect("event");
    let vars: HashMap<&str, String> = HashMap::from([
        ("GITHUB_ACTIONS", "true".to_string()),
        ("GITHUB_API_URL", api_url.to_string()),
        ("GITHUB_SERVER_URL", "https://github.com".to_string()),
        ("GITHUB_REPOSITORY", format!("{OWNER}/{REPO}")),
        ("GITHUB_RUN_ID", "987654321".to_string()),
        ("GITHUB_TOKEN", token.to_string()),
        ("GITHUB_EVENT_NAME", "pull_request".to_string()),
        ("GITHUB_EVENT_PATH", event.display().to_string()),
        ("GITHUB_STEP_SUMMARY", dir.join("summary.md").display().to_string()),
        ("GITHUB_OUTPUT", dir.join("output.txt").display().to_string()),
    ]);
    ActionsEnv::from_lookup(|k| vars.get(k).cloned())
}

impl Lab {
    fn env(&self) -> ActionsEnv {
        actions_env(self.dir.path(), &self.api_url, TOKEN)
    }

    fn target(&self) -> Target {
        Target {
            api_url: self.api_url.clone(),
            repository: Repository { owner: OWNER.into(), name: REPO.into() },
            pr_number: PR,
            token: Token::new(TOKEN),
            author: None,
        }
    }

    async fn requests(&self) -> Vec<(String, String)> {
        let received = self.server.received_requests().await.unwrap_or_default();
        received.iter().map(|r| (r.method.to_string(), r.url.path().to_string())).collect()
    }

    /// The requests made, named by what they do: `user`, `list`, `create`, `edit`.
    async fn calls(&self) -> Vec<String> {
        self.requests().await.iter().map(|(m, p)| call(m, p)).collect()
    }

    async fn count(&self, method: &str) -> usize {
        self.requests().await.iter().filter(|(m, _)| m == method).count()
    }

    /// The pauses between tries, as asked for (`retry-after`) or chosen (backoff).
    fn waits(&self) -> Vec<Duration> {
        waits(&self.policy)
    }
}

/// What a request does, from its method and path (with or without a GHES prefix or a query).
fn call(method: &str, path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    let list = format!("/repos/{OWNER}/{REPO}/issues/{PR}/comments");
    let edit = format!("/repos/{OWNER}/{REPO}/issues/comments/");
    match method {
        "GET" if path.ends_with("/user") => "user".into(),
        "GET" if path.ends_with(&list) => "list".into(),
        "POST" if path.ends_with(&list) => "create".into(),
        "PATCH" if path.contains(&edit) => "edit".into(),
        _ => format!("{method} {path}"),
    }
}

/// Fast, and with the waits recorded instead of slept (and the wall clock fixed at [`NOW`],
/// moved only by them): wiremock answers from its own thread, so a paused tokio clock would fire
/// the request timeout before the answer arrives. GitHub's own minute after a secondary limit
/// stays a minute.
fn fast_retries() -> RetryPolicy {
    retries_within(Duration::from_secs(30))
}

fn retries_within(deadline: Duration) -> RetryPolicy {
    RetryPolicy {
        attempts: 4,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        rate_limit_delay: SECONDARY_LIMIT_WAIT,
        request_timeout: Duration::from_secs(10),
        deadline: Deadline::with_wall_clock(deadline, UNIX_EPOCH + Duration::from_secs(NOW)),
        waits: Waits::Record(Arc::default()),
    }
}

fn waits(policy: &RetryPolicy) -> Vec<Duration> {
    match &policy.waits {
        Waits::Record(log) => log.lock().expect("waits").clone(),
        Waits::Sleep => vec![],
    }
}

fn ms(values: &[u64]) -> Vec<Duration> {
    values.iter().map(|v| Duration::from_millis(*v)).collect()
}

/// The warning for a comment that failed with `why`, when no more specific advice applies.
fn plain_warning(why: &str) -> String {
    format!("cannot comment on pull request #{PR}: {why}. The job summary has the report; the verdict is unaffected.")
}

fn warnings(published: &github::Published) -> Vec<String> {
    published.notes.iter().filter(|n| n.severity == Severity::Warning).map(|n| n.message.clone()).collect()
}

/// The comment's failure changed nothing else: the job summary and step outputs are exactly
/// those of a run without a comment. (The exit status is a real run's: see
/// [`assert_check_exits_with_its_verdict`].)
async fn assert_unaffected(env_dir: &Path, api_url: &str, report: &RunReport) {
    let quiet = tempfile::tempdir().expect("tempdir");
    let options = PublishOptions {
        stdout_format: Format::Text,
        sarif_file: None,
        comment: false,
        retry: fast_retries(),
        comment_author: None,
    };
    let baseline =
        github::publish_in(&actions_env(quiet.path(), api_url, TOKEN), report, &RenderContext::default(), &options)
            .await;
    assert!(baseline.notes.is_empty(), "{:?}", baseline.notes);
    for file in ["summary.md", "output.txt"] {
        let got = std::fs::read_to_string(env_dir.join(file)).expect("written despite the comment");
        let want = std::fs::read_to_string(quiet.path().join(file)).expect("baseline");
        assert_eq!(got, want, "{file}");
    }
    let outputs = std::fs::read_to_string(env_dir.join("output.txt")).expect("outputs");
    assert!(outputs.contains(&format!("verdict={}\n", report.verdict.as_str())), "{outputs}");
}

/// A pull request's checkout: the base commit is clean, the head adds a connection string that
/// turns certificate checks off, which fails the run (exit status 1). Returns the checkout, the
/// event payload's path and a home for git.
fn failing_pull_request() -> (tempfile::TempDir, tempfile::TempDir) {
    let repo = tempfile::tempdir().expect("tempdir");
    let home = tempfile::tempdir().expect("tempdir");
    let dir = repo.path();
    support::git(dir, home.path(), &["init", "-q"]);
    std::fs::write(dir.join("README.md"), "# payments\n").expect("write");
    support::git(dir, home.path(), &["add", "."]);
    support::git(dir, home.path(), &["commit", "-q", "-m", "base"]);
    let base = support::git(dir, home.path(), &["rev-parse", "HEAD"]);
    std::fs::write(
        dir.join("app.yml"),
        "uri: \"mongodb://db.internal:27017/?tls=true&tlsAllowInvalidCertificates=true\"\n",
    )
    .expect("write");
    support::git(dir, home.path(), &["add", "."]);
    support::git(dir, home.path(), &["commit", "-q", "-m", "head"]);
    let event = support::pull_request_event(&base, &format!("{OWNER}/{REPO}"));
    std::fs::write(home.path().join("event.json"), event.to_string()).expect("event");
    (repo, home)
}

/// A real `check --comment --timeout TIMEOUT` in a failing pull request, as an Actions job runs
/// it, against the GitHub at `api_url`. Whatever GitHub does, the exit status is the verdict's
/// (1, as a run without GitHub gives), the step outputs say `fail`, and the run ends within
/// about twice `--timeout` (plus the scan's own moment). Returns stderr and the time taken.
async fn assert_check_exits_with_its_verdict(api_url: &str, timeout: u64) -> (String, Duration) {
    let (repo, home) = failing_pull_request();
    let mut cmd = support::mongo_preflight();
    cmd.current_dir(repo.path())
        .args(["check", "--format", "json", "--comment", "--timeout", &timeout.to_string()])
        .env("HOME", home.path())
        .env("GITHUB_ACTIONS", "true")
        .env("CI", "true")
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_EVENT_PATH", home.path().join("event.json"))
        .env("GITHUB_BASE_REF", "main")
        .env("GITHUB_HEAD_REF", "pr")
        .env("GITHUB_REPOSITORY", format!("{OWNER}/{REPO}"))
        .env("GITHUB_API_URL", api_url)
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_RUN_ID", "987654321")
        .env("GITHUB_TOKEN", TOKEN)
        .env("GITHUB_OUTPUT", home.path().join("output.txt"))
        .env("GITHUB_STEP_SUMMARY", home.path().join("summary.md"));
    let started = Instant::now();
    let out = tokio::task::spawn_blocking(move || support::output_within(cmd, Duration::from_secs(60)))
        .await
        .expect("the run");
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "the verdict's exit status, whatever GitHub does:\n{stderr}");
    let outputs = std::fs::read_to_string(home.path().join("output.txt")).expect("outputs");
    assert!(outputs.contains("verdict=fail\n"), "{outputs}");
    assert!(!stderr.contains(TOKEN) && !String::from_utf8_lossy(&out.stdout).contains(TOKEN));
    // Twice the timeout for publishing, and a few seconds for starting, scanning and git.
    let bound = Duration::from_secs(2 * timeout + 4);
    assert!(took < bound, "the run took {took:?}, more than {bound:?}:\n{stderr}");
    (stderr, took)
}

fn report(findings: usize) -> RunReport {
    let findings = (0..findings)
        .map(|i| Finding {
            rule: mongo_preflight::catalog::rules::Rule::AllowInvalidCertificates,
            severity: Severity::Error,
            path: format!("services/api/config/database_{i:04}.yml"),
            line: 12,
            column: 5,
            snippet: "uri: mongodb://****@db.internal:27017/?tls=true&tlsAllowInvalidCertificates=true".into(),
            new: true,
            waived: false,
            fingerprint: String::new(),
            message: "tlsAllowInvalidCertificates=true in a connection string".into(),
        })
        .collect();
    RunReport::new(vec![], findings, vec![])
}

async fn publish(lab: &Lab, report: &RunReport) -> github::Published {
    publish_as(lab, report, None).await
}

async fn publish_as(lab: &Lab, report: &RunReport, comment_author: Option<&str>) -> github::Published {
    let options = PublishOptions {
        stdout_format: Format::Text,
        sarif_file: None,
        comment: true,
        retry: lab.policy.clone(),
        comment_author: comment_author.map(str::to_string),
    };
    github::publish_in(&lab.env(), report, &RenderContext::default(), &options).await
}

/// Publishes a failing report through a comment that fails as `fault` makes GitHub fail, and
/// checks that nothing else did; then a real `check` against a GitHub failing the same way exits
/// with its verdict.
async fn publish_failing(lab: &Lab, fault: impl Fn(&FakeGitHub)) -> github::Published {
    fault(&lab.fake);
    let report = report(1);
    assert_eq!(report.verdict, Verdict::Fail);
    let published = publish(lab, &report).await;
    assert_eq!(published.comment, None, "{published:?}");
    assert_unaffected(lab.dir.path(), &lab.api_url, &report).await;
    let twin = self::lab("", vec![]).await;
    fault(&twin.fake);
    assert_check_exits_with_its_verdict(&twin.api_url, 1).await;
    published
}

fn bodies(comments: &[Value]) -> Vec<String> {
    comments.iter().map(|c| c["body"].as_str().unwrap_or_default().to_string()).collect()
}

#[tokio::test]
async fn first_run_creates_the_comment_and_the_second_edits_it_with_patch() {
    // A GHES-style API prefix must be kept on every request.
    let lab = lab("/api/v3", vec![]).await;
    let first = publish(&lab, &report(1)).await;
    let Some(Outcome::Created { id }) = first.comment else { panic!("expected a new comment: {first:?}") };
    assert!(first.notes.iter().all(|n| n.severity != Severity::Warning), "{:?}", first.notes);

    let second = publish(&lab, &report(2)).await;
    assert_eq!(second.comment, Some(Outcome::Updated { id }));

    let comments = lab.fake.comments();
    assert_eq!(comments.len(), 1, "exactly one sticky comment");
    let body = &bodies(&comments)[0];
    assert!(body.starts_with(MARKER), "{body}");
    assert!(body.contains(r"database\_0001"), "the body is the second run's report");

    let requests = lab.requests().await;
    let writes: Vec<_> = requests.iter().filter(|(m, _)| m != "GET").collect();
    assert_eq!(
        writes,
        vec![
            &("POST".to_string(), format!("/api/v3/repos/{OWNER}/{REPO}/issues/{PR}/comments")),
            &("PATCH".to_string(), format!("/api/v3/repos/{OWNER}/{REPO}/issues/comments/{id}")),
        ]
    );
    assert!(requests.iter().all(|(_, p)| p.starts_with("/api/v3/")), "{requests:?}");
}

#[tokio::test]
async fn pagination_is_followed_past_100_and_only_the_bot_comment_is_edited() {
    let mut comments: Vec<Value> =
        (0..140).map(|i| comment_json(1000 + i, HUMAN, &format!("review note {i}"))).collect();
    // Someone quoting our marker, on page 1: must never be edited.
    comments[20] = comment_json(1020, HUMAN, &format!("copied from the bot:\n{MARKER}\nlooks wrong"));
    // Another bot without the marker.
    comments[60] = comment_json(1060, ("dependabot[bot]", 49699333, "Bot"), "Bumps tokio");
    // Ours, on page 2.
    comments[130] = comment_json(1130, BOT, &format!("{MARKER}\nold report"));
    let lab = lab("", comments).await;

    let published = publish(&lab, &report(1)).await;
    assert_eq!(published.comment, Some(Outcome::Updated { id: 1130 }));

    let after = bodies(&lab.fake.comments());
    assert_eq!(after.len(), 140, "nothing created");
    assert!(after[20].contains("looks wrong"), "the human's comment is untouched");
    assert_eq!(after[60], "Bumps tokio");
    assert!(after[130].contains(r"database\_0000"), "ours now holds the new report");

    let requests = lab.requests().await;
    assert_eq!(lab.calls().await, ["user", "list", "list", "edit"], "two pages of 100: {requests:?}");
    assert_eq!(lab.count("POST").await, 0);
    let received = lab.server.received_requests().await.unwrap_or_default();
    assert!(
        received.iter().filter(|r| call(r.method.as_str(), r.url.path()) == "list").all(|r| r
            .url
            .query()
            .unwrap_or("")
            .contains("per_page=100"))
    );
}

#[tokio::test]
async fn forbidden_on_a_fork_warns_with_the_permission_and_still_writes_summary_and_outputs() {
    let lab = lab("", vec![]).await;
    lab.fake.script(Scripted {
        method: "POST",
        status: 403,
        headers: vec![],
        body: github_error(
            "Resource not accessible by integration",
            "https://docs.github.com/rest/issues/comments#create-an-issue-comment",
        ),
        lands: false,
    });
    let report = report(1);
    assert_eq!(report.verdict, Verdict::Fail);
    let published = publish(&lab, &report).await;

    assert_eq!(published.comment, None);
    let warning = published.notes.iter().find(|n| n.severity == Severity::Warning).expect("a warning");
    assert!(warning.message.contains("pull-requests: write"), "{}", warning.message);
    assert!(warning.message.contains("Resource not accessible by integration"), "{}", warning.message);
    assert_eq!(lab.count("POST").await, 1, "a permission error is not retried");
    assert!(lab.fake.comments().is_empty());

    let summary = std::fs::read_to_string(lab.dir.path().join("summary.md")).expect("summary written");
    assert!(summary.contains(r"database\_0000"));
    let outputs = std::fs::read_to_string(lab.dir.path().join("output.txt")).expect("outputs written");
    assert!(outputs.contains("verdict=fail\n"), "{outputs}");
}

#[tokio::test]
async fn a_body_refused_as_too_long_is_sent_once_more_shorter() {
    let lab = lab("", vec![]).await;
    // A GitHub that refuses anything above the short budget, so only the retry can pass.
    lab.fake.state.lock().expect("state").max_body_chars = Some(SHORT_COMMENT_BUDGET);
    let big = report(600);
    let published = publish(&lab, &big).await;
    assert!(matches!(published.comment, Some(Outcome::Created { .. })), "{published:?}");

    let received = lab.server.received_requests().await.unwrap_or_default();
    let posts: Vec<usize> = received
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .map(|r| r.body_json::<Value>().ok().and_then(|v| v["body"].as_str().map(|s| s.chars().count())).unwrap_or(0))
        .collect();
    assert_eq!(posts.len(), 2, "{posts:?}");
    assert!(posts[0] > SHORT_COMMENT_BUDGET && posts[0] <= 60_000, "{posts:?}");
    assert!(posts[1] <= SHORT_COMMENT_BUDGET, "{posts:?}");
    let body = &bodies(&lab.fake.comments())[0];
    assert!(body.starts_with(MARKER));
    assert!(body.contains("actions/runs/987654321"), "points to the run and its summary");
}

#[tokio::test]
async fn a_body_refused_twice_gives_a_warning_not_a_loop() {
    let lab = lab("", vec![]).await;
    let published = publish_failing(&lab, |fake| fake.state.lock().expect("state").max_body_chars = Some(10)).await;
    assert_eq!(lab.calls().await, ["user", "list", "create", "list", "create"]);
    assert_eq!(
        warnings(&published),
        [plain_warning(
            "GitHub answered 422: Validation Failed (https://docs.github.com/rest/issues/comments#create-an-issue-comment)"
        )]
    );
    assert!(lab.waits().is_empty(), "a refused body is not waited on");
}

#[tokio::test]
async fn server_errors_are_retried_and_a_post_that_landed_is_edited_not_duplicated() {
    let lab = lab("", vec![]).await;
    lab.fake.script(Scripted {
        method: "GET",
        status: 500,
        headers: vec![],
        body: json!({"message": "Server Error"}),
        lands: false,
    });
    // GitHub stored the comment but the answer was lost behind a 502.
    lab.fake.script(Scripted {
        method: "POST",
        status: 502,
        headers: vec![],
        body: json!({"message": "Server Error"}),
        lands: true,
    });
    let published = publish(&lab, &report(1)).await;
    let comments = lab.fake.comments();
    assert_eq!(comments.len(), 1, "no duplicate comment: {:?}", bodies(&comments));
    let id = comments[0]["id"].as_u64().expect("id");
    assert_eq!(published.comment, Some(Outcome::Updated { id }), "{published:?}");
    assert_eq!(lab.count("POST").await, 1);
    assert_eq!(lab.count("PATCH").await, 1);
}

#[tokio::test]
async fn rate_limits_honour_retry_after() {
    let lab = lab("", vec![]).await;
    lab.fake.script(Scripted {
        method: "GET",
        status: 429,
        headers: vec![("retry-after", "1")],
        body: json!({"message": "API rate limit exceeded"}),
        lands: false,
    });
    let outcome =
        mongo_preflight::github::comment::upsert(&lab.target(), &lab.policy, |_| format!("{MARKER}\nhi")).await;
    assert!(matches!(outcome, Ok(Outcome::Created { .. })), "{outcome:?}");
    // The policy's own backoff is 20 ms: the wait is GitHub's.
    assert_eq!(lab.waits(), [Duration::from_secs(1)]);
    assert_eq!(lab.calls().await, ["user", "list", "list", "create"]);
}

#[tokio::test]
async fn persistent_server_errors_give_up_with_a_warning() {
    let lab = lab("", vec![]).await;
    let published = publish_failing(&lab, |fake| {
        for _ in 0..10 {
            fake.script(Scripted {
                method: "GET",
                status: 503,
                headers: vec![],
                body: json!({"message": "Unavailable"}),
                lands: false,
            });
        }
    })
    .await;
    assert_eq!(lab.calls().await, ["user", "list", "list", "list", "list"], "never create without a listing");
    assert_eq!(lab.waits(), ms(&[20, 40, 80]));
    assert_eq!(
        warnings(&published),
        [plain_warning("listing the comments failed 4 times (last: GitHub answered 503: Unavailable)")]
    );
}

#[tokio::test]
async fn the_token_never_appears_in_notes_or_errors() {
    let lab = lab("", vec![]).await;
    // A hostile or buggy server that echoes the credentials back.
    lab.fake.script(Scripted {
        method: "POST",
        status: 403,
        headers: vec![],
        body: github_error(&format!("token {TOKEN} is not allowed"), "https://docs.github.com/rest"),
        lands: false,
    });
    let published = publish(&lab, &report(1)).await;
    let shown = format!("{published:?}");
    assert!(!shown.contains(TOKEN), "{shown}");
    assert!(shown.contains("pull-requests: write"));
    assert!(!format!("{:?}", lab.env()).contains(TOKEN));
    // The token did travel, but only in the Authorization header.
    let received = lab.server.received_requests().await.unwrap_or_default();
    assert!(
        received.iter().all(|r| !String::from_utf8_lossy(&r.body).contains(TOKEN) && !r.url.as_str().contains(TOKEN))
    );

    // The error itself, built from GitHub's 403 that echoes the token, before any note is made.
    lab.fake.script(Scripted {
        method: "POST",
        status: 403,
        headers: vec![],
        body: github_error(&format!("token {TOKEN} is not allowed"), "https://docs.github.com/rest"),
        lands: false,
    });
    let err = mongo_preflight::github::comment::upsert(&lab.target(), &lab.policy, |_| format!("{MARKER}\nhi"))
        .await
        .expect_err("a 403");
    let CommentError::Forbidden { message } = &err else { panic!("{err:?}") };
    assert!(message.contains("token *** is not allowed"), "the echo is kept, the token cut out: {message}");
    assert!(!format!("{err} {err:?}").contains(TOKEN), "{err:?}");
}

#[tokio::test]
async fn no_comment_outside_a_pull_request_event() {
    let lab = lab("", vec![]).await;
    let mut env = lab.env();
    env.pr_number = None;
    env.event_name = Some("push".into());
    env.pr_number_problem = None;
    let options = PublishOptions {
        stdout_format: Format::Text,
        sarif_file: None,
        comment: true,
        retry: fast_retries(),
        comment_author: None,
    };
    let published = github::publish_in(&env, &report(1), &RenderContext::default(), &options).await;
    assert_eq!(published.comment, None);
    assert!(lab.requests().await.is_empty());
    assert!(published.notes.iter().all(|n| n.severity == Severity::Info), "{:?}", published.notes);
    assert!(Path::new(&lab.dir.path().join("summary.md")).exists(), "the summary is written anyway");
}

fn scripted(method: &'static str, status: u16, headers: Vec<(&'static str, &'static str)>, body: Value) -> Scripted {
    Scripted { method, status, headers, body, lands: false }
}

fn secondary_rate_limit() -> Value {
    github_error(
        "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
        "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits",
    )
}

// --- The fault matrix: one fault each, with the exact warning and the requests it cost. ---

#[tokio::test]
async fn fault_500_once_is_retried_and_the_comment_written() {
    let lab = lab("", vec![]).await;
    lab.fake.script(scripted("GET", 500, vec![], json!({"message": "Server Error"})));
    let published = publish(&lab, &report(1)).await;
    assert!(matches!(published.comment, Some(Outcome::Created { .. })), "{published:?}");
    assert!(warnings(&published).is_empty(), "{:?}", published.notes);
    assert_eq!(lab.calls().await, ["user", "list", "list", "create"]);
    assert_eq!(lab.waits(), ms(&[20]));
    assert_eq!(lab.fake.comments().len(), 1);
}

#[tokio::test]
async fn fault_502_on_every_call_gives_up_after_the_attempts_with_one_warning() {
    let lab = lab("", vec![]).await;
    let published = publish_failing(&lab, |fake| {
        for _ in 0..10 {
            fake.script(scripted("GET", 502, vec![], json!({"message": "Server Error"})));
        }
    })
    .await;
    assert_eq!(
        warnings(&published),
        [plain_warning("listing the comments failed 4 times (last: GitHub answered 502: Server Error)")]
    );
    assert_eq!(lab.calls().await, ["user", "list", "list", "list", "list"]);
    assert_eq!(lab.waits(), ms(&[20, 40, 80]));
}

#[tokio::test]
async fn fault_secondary_rate_limit_waits_as_asked_then_succeeds() {
    let lab = lab("", vec![]).await;
    lab.fake.script(scripted("POST", 403, vec![("retry-after", "3")], secondary_rate_limit()));
    let published = publish(&lab, &report(1)).await;
    assert!(matches!(published.comment, Some(Outcome::Created { .. })), "{published:?}");
    assert!(warnings(&published).is_empty(), "{:?}", published.notes);
    // Listed again before the second POST, in case the first one landed after all.
    assert_eq!(lab.calls().await, ["user", "list", "create", "list", "create"]);
    assert_eq!(lab.waits(), [Duration::from_secs(3)]);
    assert_eq!(lab.fake.comments().len(), 1);
}

#[tokio::test]
async fn fault_429_waits_as_asked_then_succeeds() {
    let lab = lab("", vec![]).await;
    lab.fake.script(scripted("GET", 429, vec![("retry-after", "2")], json!({"message": "API rate limit exceeded"})));
    let published = publish(&lab, &report(1)).await;
    assert!(matches!(published.comment, Some(Outcome::Created { .. })), "{published:?}");
    assert_eq!(lab.calls().await, ["user", "list", "list", "create"]);
    assert_eq!(lab.waits(), [Duration::from_secs(2)]);
}

#[tokio::test]
async fn fault_primary_rate_limit_waits_until_the_reset() {
    let lab = lab("", vec![]).await;
    // Another step of the job spent the token's hour: the reset is 5 s away on the client's clock.
    {
        let mut state = lab.fake.state.lock().expect("state");
        state.rate = Rate { limit: 1000, remaining: 0, reset: NOW + 5 };
    }
    let published = publish(&lab, &report(1)).await;
    assert!(matches!(published.comment, Some(Outcome::Created { .. })), "{published:?}");
    assert!(warnings(&published).is_empty(), "{:?}", published.notes);
    assert_eq!(lab.calls().await, ["user", "user", "list", "create"]);
    assert_eq!(lab.waits(), [Duration::from_secs(5)], "exactly until x-ratelimit-reset");
    assert_eq!(lab.fake.state.lock().expect("state").limited_answers, 1, "asked once while limited, never again");
}

#[tokio::test]
async fn the_last_request_of_the_hour_is_followed_by_none_before_the_reset() {
    let lab = lab("", vec![]).await;
    // Two requests left: `GET /user` and the listing. The listing's answer says none remain.
    lab.fake.state.lock().expect("state").rate = Rate { limit: 1000, remaining: 2, reset: NOW + 7 };
    let published = publish(&lab, &report(1)).await;
    assert!(matches!(published.comment, Some(Outcome::Created { .. })), "{published:?}");
    assert_eq!(lab.calls().await, ["user", "list", "create"]);
    assert_eq!(lab.waits(), [Duration::from_secs(7)], "the POST waited for the reset");
    assert_eq!(lab.fake.state.lock().expect("state").limited_answers, 0, "no request while limited");
}

#[tokio::test]
async fn a_reset_past_the_deadline_stops_at_once_and_says_when_to_try_again() {
    let lab = lab("", vec![]).await;
    let published = publish_failing(&lab, |fake| {
        fake.state.lock().expect("state").rate = Rate { limit: 1000, remaining: 0, reset: NOW + 3600 }
    })
    .await;
    assert_eq!(
        warnings(&published),
        [plain_warning(
            "asking GitHub whose token this is: GitHub answered 403: API rate limit exceeded for installation ID \
             48151623. (https://docs.github.com/rest/overview/rate-limits-for-the-rest-api), and GitHub's rate limit \
             resets at 2026-11-30T01:53:20Z, which would pass the 30s deadline; try again after 2026-11-30T01:53:20Z"
        )]
    );
    assert_eq!(lab.calls().await, ["user"], "nothing more is asked while limited");
    assert!(lab.waits().is_empty());
}

#[tokio::test]
async fn fault_secondary_rate_limit_without_a_time_waits_at_least_a_minute_and_longer_each_time() {
    let lab = lab_with("", vec![], retries_within(Duration::from_secs(600))).await;
    // "Rate limits for the REST API": without `retry-after` or a spent primary limit, wait at
    // least a minute, and exponentially longer while the secondary limit persists.
    for _ in 0..2 {
        lab.fake.script(scripted("GET", 403, vec![], secondary_rate_limit()));
    }
    let published = publish(&lab, &report(1)).await;
    assert!(matches!(published.comment, Some(Outcome::Created { .. })), "{published:?}");
    assert_eq!(lab.calls().await, ["user", "list", "list", "list", "create"]);
    assert_eq!(lab.waits(), [Duration::from_secs(60), Duration::from_secs(120)]);
}

#[tokio::test]
async fn fault_secondary_rate_limit_without_a_time_past_the_deadline_says_when_to_try_again() {
    let lab = lab("", vec![]).await;
    let published =
        publish_failing(&lab, |fake| fake.script(scripted("POST", 429, vec![], secondary_rate_limit()))).await;
    assert_eq!(
        warnings(&published),
        [plain_warning(
            "creating the comment: GitHub answered 429: You have exceeded a secondary rate limit. Please wait a few \
             minutes before you try again. (https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits), \
             and GitHub asks to wait at least 60s, which would pass the 30s deadline; try again after 2026-11-30T00:54:20Z"
        )]
    );
    assert_eq!(lab.calls().await, ["user", "list", "create"], "never retried at once");
    assert!(lab.waits().is_empty());
}

#[tokio::test]
async fn fault_retry_after_past_the_deadline_gives_up_at_once() {
    let lab = lab("", vec![]).await;
    let published = publish_failing(&lab, |fake| {
        fake.script(scripted("POST", 403, vec![("retry-after", "600")], secondary_rate_limit()))
    })
    .await;
    assert_eq!(
        warnings(&published),
        [plain_warning(
            "creating the comment: GitHub answered 403: You have exceeded a secondary rate limit. Please wait a few \
             minutes before you try again. (https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits), \
             and GitHub asks to wait 600s, which would pass the 30s deadline; try again after 2026-11-30T01:03:20Z"
        )]
    );
    assert_eq!(lab.calls().await, ["user", "list", "create"]);
    assert!(lab.waits().is_empty(), "no wait that cannot end in a try");
}

#[tokio::test]
async fn fault_401_is_not_retried_and_says_the_token_was_refused() {
    let lab = lab("", vec![]).await;
    let report = report(1);
    let env = actions_env(lab.dir.path(), &lab.api_url, "ghs_RevokedToken0000000000000000000000");
    let options = PublishOptions {
        stdout_format: Format::Text,
        sarif_file: None,
        comment: true,
        retry: lab.policy.clone(),
        comment_author: None,
    };
    let published = github::publish_in(&env, &report, &RenderContext::default(), &options).await;
    assert_eq!(published.comment, None);
    assert_eq!(
        warnings(&published),
        [format!(
            "cannot comment on pull request #{PR}: GitHub refused the token (401 Unauthorized: Bad credentials \
             (https://docs.github.com/rest)). Check the action's `github-token` input: the token may be invalid, \
             expired or revoked. The job summary has the report; the verdict is unaffected."
        )]
    );
    assert_eq!(lab.calls().await, ["user"]);
    assert!(lab.waits().is_empty());
    assert_unaffected(lab.dir.path(), &lab.api_url, &report).await;
}

#[tokio::test]
async fn fault_404_on_the_comments_means_the_pull_request_is_gone_and_is_not_retried() {
    let lab = lab("", vec![]).await;
    let published = publish_failing(&lab, |fake| {
        fake.script(scripted(
            "GET",
            404,
            vec![],
            github_error("Not Found", "https://docs.github.com/rest/issues/comments#list-issue-comments"),
        ))
    })
    .await;
    assert_eq!(
        warnings(&published),
        [format!(
            "cannot comment on pull request #{PR}: GitHub answered 404 Not Found: Not Found \
             (https://docs.github.com/rest/issues/comments#list-issue-comments). The pull request may be gone, or \
             the token cannot see the repository. The job summary has the report; the verdict is unaffected."
        )]
    );
    assert_eq!(lab.calls().await, ["user", "list"]);
    assert!(lab.waits().is_empty());
}

/// What a raw test server does with each connection once it has read the request head.
#[derive(Clone, Copy)]
enum Misbehaviour {
    /// Close with SO_LINGER 0: the client gets a TCP reset.
    Reset,
    /// Close cleanly, without a word.
    Close,
    /// Keep the connection open and never answer.
    Silent,
}

/// A server that wiremock cannot be: it breaks the connection. It records each request line,
/// listens on 127.0.0.1 only, and stops by itself after a few connections or a minute.
struct RawServer {
    misbehaviour: Misbehaviour,
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
    dir: tempfile::TempDir,
}

async fn raw_server(misbehaviour: Misbehaviour) -> RawServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let log = requests.clone();
    tokio::spawn(tokio::time::timeout(Duration::from_secs(60), async move {
        let mut held = Vec::new();
        for _ in 0..40 {
            let Ok((mut stream, _)) = listener.accept().await else { return };
            let head = read_head(&mut stream).await;
            log.lock().expect("log").push(head.lines().next().unwrap_or_default().to_string());
            match misbehaviour {
                Misbehaviour::Reset => {
                    let _ = stream.set_zero_linger();
                    drop(stream);
                }
                Misbehaviour::Close => drop(stream),
                Misbehaviour::Silent => held.push(stream),
            }
        }
    }));
    RawServer { misbehaviour, url, requests, dir: tempfile::tempdir().expect("tempdir") }
}

/// The request head (a GET has no body), bounded in size and time.
async fn read_head(stream: &mut tokio::net::TcpStream) -> String {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65_536 {
        match tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => head.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

impl RawServer {
    fn calls(&self) -> Vec<String> {
        let lines = self.requests.lock().expect("requests").clone();
        lines
            .iter()
            .map(|line| {
                let mut parts = line.split(' ');
                call(parts.next().unwrap_or(""), parts.next().unwrap_or(""))
            })
            .collect()
    }

    /// Publishes a failing report as `github-actions[bot]` (so the listing is the first request);
    /// then a real `check` against a server that misbehaves the same way exits with its verdict.
    async fn publish_failing(&self, policy: &RetryPolicy) -> github::Published {
        let report = report(1);
        let options = PublishOptions {
            stdout_format: Format::Text,
            sarif_file: None,
            comment: true,
            retry: policy.clone(),
            comment_author: Some(BOT.0.to_string()),
        };
        let env = actions_env(self.dir.path(), &self.url, TOKEN);
        let published = github::publish_in(&env, &report, &RenderContext::default(), &options).await;
        assert_eq!(published.comment, None, "{published:?}");
        assert_unaffected(self.dir.path(), &self.url, &report).await;
        let twin = raw_server(self.misbehaviour).await;
        assert_check_exits_with_its_verdict(&twin.url, 1).await;
        published
    }
}

#[tokio::test]
async fn fault_connection_reset_names_the_reset() {
    let server = raw_server(Misbehaviour::Reset).await;
    let policy = fast_retries();
    let published = server.publish_failing(&policy).await;
    assert_eq!(
        warnings(&published),
        [plain_warning("listing the comments failed 4 times (last: connection reset by peer)")]
    );
    assert_eq!(server.calls(), ["list", "list", "list", "list"]);
    assert_eq!(waits(&policy), ms(&[20, 40, 80]));
}

#[tokio::test]
async fn fault_connection_closed_without_an_answer_says_so() {
    let server = raw_server(Misbehaviour::Close).await;
    let policy = fast_retries();
    let published = server.publish_failing(&policy).await;
    assert_eq!(
        warnings(&published),
        [plain_warning("listing the comments failed 4 times (last: connection closed before message completed)")]
    );
    assert_eq!(server.calls(), ["list", "list", "list", "list"]);
}

#[tokio::test]
async fn fault_a_server_that_never_answers_is_bounded_by_the_timeout() {
    let server = raw_server(Misbehaviour::Silent).await;
    let policy = RetryPolicy { attempts: 2, request_timeout: Duration::from_millis(300), ..fast_retries() };
    let published = server.publish_failing(&policy).await;
    assert_eq!(
        warnings(&published),
        [plain_warning("listing the comments failed 2 times (last: timed out after 0.3s)")]
    );
    assert_eq!(server.calls(), ["list", "list"], "nothing is created blind");
    assert_eq!(waits(&policy), ms(&[20]));
}

/// The run of issue 18: `check --comment --timeout 5` against a GitHub that accepts connections
/// and never answers took 27 s. The whole publish step now ends within twice `--timeout`.
#[tokio::test]
async fn a_github_that_never_answers_holds_the_run_at_most_twice_the_timeout() {
    let server = raw_server(Misbehaviour::Silent).await;
    let (stderr, _) = assert_check_exits_with_its_verdict(&server.url, 3).await;
    assert!(stderr.contains("cannot comment on pull request #7") && stderr.contains("timed out after"), "{stderr}");
    let calls = server.calls();
    assert!(!calls.is_empty() && calls.len() <= 3, "one request at a time, each within the deadline: {calls:?}");
}

#[tokio::test]
async fn the_token_never_appears_in_a_transport_warning() {
    let server = raw_server(Misbehaviour::Reset).await;
    let published = server.publish_failing(&fast_retries()).await;
    assert!(!format!("{published:?}").contains(TOKEN));
}

// --- Whose comment is ours. ---

#[tokio::test]
async fn a_marker_planted_by_another_bot_is_left_alone_and_a_new_comment_created() {
    let planted = format!("{MARKER}\nplanted by another app");
    let lab = lab("", vec![comment_json(500, ("helpful-app[bot]", 7_000_001, "Bot"), &planted)]).await;
    let published = publish(&lab, &report(1)).await;
    assert!(matches!(published.comment, Some(Outcome::Created { .. })), "{published:?}");
    assert_eq!(lab.calls().await, ["user", "list", "create"]);
    let comments = lab.fake.comments();
    assert_eq!(bodies(&comments)[0], planted, "the other bot's comment is untouched");
    assert_eq!(comments[1]["user"]["login"], json!(BOT.0));
}

#[tokio::test]
async fn the_actions_bots_marked_comment_is_edited() {
    let lab = lab("", vec![comment_json(501, BOT, &format!("{MARKER}\nold report"))]).await;
    let published = publish(&lab, &report(1)).await;
    assert_eq!(published.comment, Some(Outcome::Updated { id: 501 }));
    assert_eq!(lab.calls().await, ["user", "list", "edit"]);
}

#[tokio::test]
async fn a_personal_token_edits_its_own_users_comment_not_the_bots() {
    let lab = lab(
        "",
        vec![
            comment_json(600, BOT, &format!("{MARKER}\nfrom another workflow")),
            comment_json(601, HUMAN, &format!("{MARKER}\nours, written with a PAT")),
        ],
    )
    .await;
    lab.fake.state.lock().expect("state").user = Some(HUMAN);
    let published = publish(&lab, &report(1)).await;
    assert_eq!(published.comment, Some(Outcome::Updated { id: 601 }));
    assert_eq!(lab.calls().await, ["user", "list", "edit"]);
    assert!(bodies(&lab.fake.comments())[0].contains("from another workflow"));
}

#[tokio::test]
async fn an_explicit_author_is_used_without_asking_github() {
    let app = ("preflight-app[bot]", 7_000_002, "Bot");
    let lab = lab(
        "",
        vec![
            comment_json(700, BOT, &format!("{MARKER}\nnot ours")),
            comment_json(701, app, &format!("{MARKER}\nours, written by the app")),
        ],
    )
    .await;
    let published = publish_as(&lab, &report(1), Some(app.0)).await;
    assert_eq!(published.comment, Some(Outcome::Updated { id: 701 }));
    assert_eq!(lab.calls().await, ["list", "edit"]);
}
