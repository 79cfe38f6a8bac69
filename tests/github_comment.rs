//! The sticky PR comment against a fake GitHub (wiremock) that speaks the real REST shapes:
//! complete issue-comment objects, `Link` pagination, GitHub's error bodies.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mongo_preflight::github::comment::{CommentError, Outcome, RetryPolicy, SHORT_COMMENT_BUDGET, Target};
use mongo_preflight::github::context::{Repository, Token};
use mongo_preflight::github::{self, ActionsEnv, MARKER, PublishOptions};
use mongo_preflight::model::{Finding, RunReport, Severity, Verdict};
use mongo_preflight::report::{Format, RenderContext};
use serde_json::{Value, json};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const TOKEN: &str = "ghs_TestTokenThatMustNeverLeak0123456789";
const OWNER: &str = "octo-org";
const REPO: &str = "payments";
const PR: u64 = 7;
const BOT: (&str, u64, &str) = ("github-actions[bot]", 41898282, "Bot");
const HUMAN: (&str, u64, &str) = ("octocat", 583231, "User");

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
        let method = request.method.as_str().to_string();
        let path = request.url.path().to_string();
        let list_path = format!("{}/repos/{OWNER}/{REPO}/issues/{PR}/comments", self.base_path);
        let edit_prefix = format!("{}/repos/{OWNER}/{REPO}/issues/comments/", self.base_path);

        let auth = request.headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
        if auth != format!("Bearer {TOKEN}") {
            return ResponseTemplate::new(401)
                .set_body_json(github_error("Bad credentials", "https://docs.github.com/rest"));
        }

        let scripted = match state.script.front() {
            Some(s) if s.method == method => state.script.pop_front(),
            _ => None,
        };
        if let Some(s) = &scripted
            && !s.lands
        {
            let mut template = ResponseTemplate::new(s.status).set_body_json(s.body.clone());
            for (k, v) in &s.headers {
                template = template.insert_header(*k, *v);
            }
            return template;
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
            ("GET", p) if p == list_path => {
                let query: HashMap<String, String> = request.url.query_pairs().into_owned().collect();
                let per_page: usize = query.get("per_page").and_then(|v| v.parse().ok()).unwrap_or(30);
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
                    let created = comment_json(state.next_id, BOT, &body);
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
            Some(s) => ResponseTemplate::new(s.status).set_body_json(s.body),
            None => answer,
        }
    }
}

struct Lab {
    server: MockServer,
    fake: FakeGitHub,
    dir: tempfile::TempDir,
    api_url: String,
}

async fn lab(base_path: &str, comments: Vec<Value>) -> Lab {
    let server = MockServer::start().await;
    let fake = FakeGitHub::new(base_path, comments);
    Mock::given(any()).respond_with(fake.clone()).mount(&server).await;
    let api_url = format!("{}{base_path}", server.uri());
    Lab { server, fake, dir: tempfile::tempdir().expect("tempdir"), api_url }
}

impl Lab {
    fn env(&self) -> ActionsEnv {
        let event = self.dir.path().join("event.json");
        let payload =
            json!({"action": "synchronize", "number": PR, "pull_request": {"number": PR, "head": {"sha": "0a1b2c"}}});
        std::fs::write(&event, payload.to_string()).expect("event");
        let vars: HashMap<&str, String> = HashMap::from([
            ("GITHUB_ACTIONS", "true".to_string()),
            ("GITHUB_API_URL", self.api_url.clone()),
            ("GITHUB_SERVER_URL", "https://github.com".to_string()),
            ("GITHUB_REPOSITORY", format!("{OWNER}/{REPO}")),
            ("GITHUB_RUN_ID", "987654321".to_string()),
            ("GITHUB_TOKEN", TOKEN.to_string()),
            ("GITHUB_EVENT_NAME", "pull_request".to_string()),
            ("GITHUB_EVENT_PATH", event.display().to_string()),
            ("GITHUB_STEP_SUMMARY", self.dir.path().join("summary.md").display().to_string()),
            ("GITHUB_OUTPUT", self.dir.path().join("output.txt").display().to_string()),
        ]);
        ActionsEnv::from_lookup(|k| vars.get(k).cloned())
    }

    fn target(&self) -> Target {
        Target {
            api_url: self.api_url.clone(),
            repository: Repository { owner: OWNER.into(), name: REPO.into() },
            pr_number: PR,
            token: Token::new(TOKEN),
        }
    }

    async fn requests(&self) -> Vec<(String, String)> {
        let received = self.server.received_requests().await.unwrap_or_default();
        received.iter().map(|r| (r.method.to_string(), r.url.path().to_string())).collect()
    }

    async fn count(&self, method: &str) -> usize {
        self.requests().await.iter().filter(|(m, _)| m == method).count()
    }
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        attempts: 4,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        request_timeout: Duration::from_secs(10),
        deadline: Duration::from_secs(30),
    }
}

fn report(findings: usize) -> RunReport {
    let findings = (0..findings)
        .map(|i| Finding {
            rule: "allow-invalid-certificates".into(),
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
    let options =
        PublishOptions { stdout_format: Format::Text, sarif_file: None, comment: true, retry: fast_retries() };
    github::publish_in(&lab.env(), report, &RenderContext::default(), &options).await
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
    let pages: Vec<_> = requests.iter().filter(|(m, _)| m == "GET").collect();
    assert_eq!(pages.len(), 2, "two pages of 100: {requests:?}");
    assert_eq!(lab.count("POST").await, 0);
    let received = lab.server.received_requests().await.unwrap_or_default();
    assert!(
        received.iter().filter(|r| r.method.as_str() == "GET").all(|r| r
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
    lab.fake.state.lock().expect("state").max_body_chars = Some(10);
    let published = publish(&lab, &report(3)).await;
    assert_eq!(published.comment, None);
    assert_eq!(lab.count("POST").await, 2);
    let warning = published.notes.iter().find(|n| n.severity == Severity::Warning).expect("a warning");
    assert!(warning.message.contains("422"), "{}", warning.message);
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
    let started = std::time::Instant::now();
    let outcome =
        mongo_preflight::github::comment::upsert(&lab.target(), &fast_retries(), |_| format!("{MARKER}\nhi")).await;
    assert!(matches!(outcome, Ok(Outcome::Created { .. })), "{outcome:?}");
    // The policy's own backoff is 20 ms: only `retry-after` explains waiting a second.
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(lab.count("GET").await, 2);
}

#[tokio::test]
async fn persistent_server_errors_give_up_with_a_warning() {
    let lab = lab("", vec![]).await;
    for _ in 0..10 {
        lab.fake.script(Scripted {
            method: "GET",
            status: 503,
            headers: vec![],
            body: json!({"message": "Unavailable"}),
            lands: false,
        });
    }
    let published = publish(&lab, &report(1)).await;
    assert_eq!(published.comment, None);
    assert_eq!(lab.count("GET").await, fast_retries().attempts as usize);
    assert_eq!(lab.count("POST").await, 0, "never create without a successful listing");
    assert!(published.notes.iter().any(|n| n.severity == Severity::Warning && n.message.contains("503")));
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

    let err = CommentError::Forbidden { message: "x".into() };
    assert!(!err.to_string().contains(TOKEN));
}

#[tokio::test]
async fn no_comment_outside_a_pull_request_event() {
    let lab = lab("", vec![]).await;
    let mut env = lab.env();
    env.pr_number = None;
    env.event_name = Some("push".into());
    env.pr_number_problem = None;
    let options =
        PublishOptions { stdout_format: Format::Text, sarif_file: None, comment: true, retry: fast_retries() };
    let published = github::publish_in(&env, &report(1), &RenderContext::default(), &options).await;
    assert_eq!(published.comment, None);
    assert!(lab.requests().await.is_empty());
    assert!(published.notes.iter().all(|n| n.severity == Severity::Info), "{:?}", published.notes);
    assert!(Path::new(&lab.dir.path().join("summary.md")).exists(), "the summary is written anyway");
}

#[tokio::test]
async fn every_request_has_a_deadline() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let target = Target {
        api_url: server.uri(),
        repository: Repository { owner: OWNER.into(), name: REPO.into() },
        pr_number: PR,
        token: Token::new(TOKEN),
    };
    let policy = RetryPolicy { attempts: 2, request_timeout: Duration::from_millis(300), ..fast_retries() };
    let outcome = mongo_preflight::github::comment::upsert(&target, &policy, |_| MARKER.to_string()).await;
    match outcome {
        Err(CommentError::GaveUp { message }) => assert!(message.contains("no answer within"), "{message}"),
        other => panic!("expected to give up: {other:?}"),
    }
    let requests = server.received_requests().await.unwrap_or_default();
    assert_eq!(requests.len(), 2, "one try and one retry");
    assert!(requests.iter().all(|r| r.method.as_str() == "GET"), "nothing is created blind");
}
