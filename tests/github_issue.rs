//! The regression issue of scheduled runs against a fake GitHub (wiremock) that speaks the
//! real REST shapes: complete issue objects (pull requests among them, as GitHub lists them),
//! `creator` filtering, pages, GitHub's error bodies and rate limits, each as GitHub documents it.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use mongo_preflight::catalog::Documented;
use mongo_preflight::catalog::codes::DiagnosisCode;
use mongo_preflight::github::comment::{Deadline, RetryPolicy, SECONDARY_LIMIT_WAIT, Target, Waits};
use mongo_preflight::github::context::{Repository, Token};
use mongo_preflight::github::issue::{self, IssueOutcome};
use mongo_preflight::model::{ClusterReport, Diagnosis, RunReport};
use serde_json::{Value, json};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const TOKEN: &str = "ghs_IssueTokenThatMustNeverLeak0123456789";
const OWNER: &str = "octo-org";
const REPO: &str = "payments";
const BOT: (&str, u64, &str) = ("github-actions[bot]", 41898282, "Bot");
const HUMAN: (&str, u64, &str) = ("octocat", 583231, "User");
const RUN_URL: &str = "https://github.com/octo-org/payments/actions/runs/42";
/// The wall clock of the tests' publishing: 2026-11-30T00:53:20Z, moved only by recorded waits.
const NOW: u64 = 1_796_000_000;

/// A full GitHub user object.
fn user((login, id, kind): (&str, u64, &str)) -> Value {
    let api = format!("https://api.github.com/users/{}", login.replace('[', "%5B").replace(']', "%5D"));
    json!({
        "login": login, "id": id, "node_id": format!("MDQ6VXNlcj{id}"),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"), "gravatar_id": "",
        "url": api, "html_url": format!("https://github.com/{login}"),
        "followers_url": format!("{api}/followers"), "following_url": format!("{api}/following{{/other_user}}"),
        "gists_url": format!("{api}/gists{{/gist_id}}"), "starred_url": format!("{api}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{api}/subscriptions"), "organizations_url": format!("{api}/orgs"),
        "repos_url": format!("{api}/repos"), "events_url": format!("{api}/events{{/privacy}}"),
        "received_events_url": format!("{api}/received_events"), "type": kind, "user_view_type": "public",
        "site_admin": false
    })
}

/// A full issue as `GET /repos/{o}/{r}/issues` returns it; `pull_request` makes it a PR.
fn issue_json(number: u64, author: (&str, u64, &str), title: &str, body: &str, pull_request: bool) -> Value {
    let repo_api = format!("https://api.github.com/repos/{OWNER}/{REPO}");
    let mut issue = json!({
        "url": format!("{repo_api}/issues/{number}"),
        "repository_url": repo_api,
        "labels_url": format!("{repo_api}/issues/{number}/labels{{/name}}"),
        "comments_url": format!("{repo_api}/issues/{number}/comments"),
        "events_url": format!("{repo_api}/issues/{number}/events"),
        "html_url": format!("https://github.com/{OWNER}/{REPO}/issues/{number}"),
        "id": 2_000_000 + number, "node_id": format!("I_kwDOABCDEF{number}"), "number": number,
        "title": title, "user": user(author), "labels": [], "state": "open", "locked": false,
        "assignee": null, "assignees": [], "milestone": null, "comments": 0,
        "created_at": "2026-11-20T09:30:00Z", "updated_at": "2026-11-20T09:30:00Z", "closed_at": null,
        "author_association": if author.2 == "Bot" { "NONE" } else { "CONTRIBUTOR" },
        "active_lock_reason": null, "body": body, "closed_by": null,
        "reactions": { "url": format!("{repo_api}/issues/{number}/reactions"), "total_count": 0, "+1": 0, "-1": 0,
                       "laugh": 0, "hooray": 0, "confused": 0, "heart": 0, "rocket": 0, "eyes": 0 },
        "timeline_url": format!("{repo_api}/issues/{number}/timeline"),
        "performed_via_github_app": null, "state_reason": null
    });
    if pull_request {
        issue["pull_request"] = json!({
            "url": format!("{repo_api}/pulls/{number}"),
            "html_url": format!("https://github.com/{OWNER}/{REPO}/pull/{number}"),
            "diff_url": format!("https://github.com/{OWNER}/{REPO}/pull/{number}.diff"),
            "patch_url": format!("https://github.com/{OWNER}/{REPO}/pull/{number}.patch"),
            "merged_at": null
        });
    }
    issue
}

/// An in-memory GitHub issues API.
#[derive(Clone, Default)]
struct FakeGitHub {
    issues: Arc<Mutex<Vec<Value>>>,
    /// Canned answers for the next requests of one method.
    script: Arc<Mutex<VecDeque<Canned>>>,
}

/// `(method, status, headers, message)`.
type Canned = (&'static str, u16, Vec<(&'static str, &'static str)>, &'static str);

impl Respond for FakeGitHub {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut issues = self.issues.lock().expect("issues");
        let mut script = self.script.lock().expect("script");
        // Scripts are about the issue routes; who the token is is answered below.
        if request.url.path() != "/user"
            && script.front().is_some_and(|(method, ..)| *method == request.method.as_str())
            && let Some((_, status, headers, message)) = script.pop_front()
        {
            let mut template = ResponseTemplate::new(status).set_body_json(json!({
                "message": message,
                "documentation_url": "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits"
            }));
            for (k, v) in headers {
                template = template.insert_header(k, v);
            }
            return template;
        }
        let auth = request.headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
        if auth != format!("Bearer {TOKEN}") {
            return ResponseTemplate::new(401).set_body_json(json!({"message": "Bad credentials"}));
        }
        let path = request.url.path().to_string();
        let list = format!("/repos/{OWNER}/{REPO}/issues");
        let body = || serde_json::from_slice::<Value>(&request.body).expect("json body");
        match (request.method.as_str(), path.as_str()) {
            // "Get the authenticated user" needs a user; GitHub answers the Actions token (an app
            // installation's) 403 "Resource not accessible by integration" ("Troubleshooting the
            // REST API", https://docs.github.com/rest/using-the-rest-api/troubleshooting-the-rest-api).
            ("GET", "/user") => ResponseTemplate::new(403).set_body_json(json!({
                "message": "Resource not accessible by integration",
                "documentation_url": "https://docs.github.com/rest/users/users#get-the-authenticated-user"
            })),
            // "List repository issues" (https://docs.github.com/rest/issues/issues#list-repository-issues)
            // filters by `state` and `creator`, and pages as "Using pagination in the REST API"
            // (https://docs.github.com/rest/using-the-rest-api/using-pagination-in-the-rest-api)
            // says: `per_page` (default 30, at most 100), `page`, and a `Link` header with
            // `rel="next"` while more pages follow.
            ("GET", p) if p == list => {
                let query: Vec<(String, String)> = request.url.query_pairs().into_owned().collect();
                let get = |key: &str| query.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
                let creator = get("creator");
                let state = get("state").unwrap_or_else(|| "open".to_string());
                let per_page: usize = get("per_page").and_then(|v| v.parse().ok()).unwrap_or(30).clamp(1, 100);
                let page: usize = get("page").and_then(|v| v.parse().ok()).unwrap_or(1).max(1);
                let open: Vec<Value> = issues
                    .iter()
                    .filter(|i| state == "all" || i["state"] == state.as_str())
                    .filter(|i| creator.as_deref().is_none_or(|c| i["user"]["login"] == c))
                    .cloned()
                    .collect();
                let start = (page - 1) * per_page;
                let items: Vec<Value> = open.iter().skip(start).take(per_page).cloned().collect();
                let mut template = ResponseTemplate::new(200).set_body_json(Value::Array(items));
                if start + per_page < open.len() {
                    let last = open.len().div_ceil(per_page);
                    let link = format!(
                        "<https://api.github.com/repositories/1/issues?state={state}&per_page={per_page}&page={}>; rel=\"next\", \
                         <https://api.github.com/repositories/1/issues?state={state}&per_page={per_page}&page={last}>; rel=\"last\"",
                        page + 1
                    );
                    template = template.insert_header("link", link.as_str());
                }
                template
            }
            ("POST", p) if p == list => {
                let b = body();
                let number = 100 + issues.len() as u64;
                let created = issue_json(
                    number,
                    BOT,
                    b["title"].as_str().unwrap_or_default(),
                    b["body"].as_str().unwrap_or_default(),
                    false,
                );
                issues.push(created.clone());
                ResponseTemplate::new(201).set_body_json(created)
            }
            ("PATCH", p) if p.starts_with(&format!("{list}/")) => {
                let number: u64 = p[list.len() + 1..].parse().unwrap_or(0);
                let b = body();
                match issues.iter_mut().find(|i| i["number"] == json!(number)) {
                    Some(i) => {
                        for key in ["title", "body", "state"] {
                            if let Some(v) = b.get(key) {
                                i[key] = v.clone();
                            }
                        }
                        ResponseTemplate::new(200).set_body_json(i.clone())
                    }
                    None => ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})),
                }
            }
            _ => ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})),
        }
    }
}

async fn github(issues: Vec<Value>) -> (MockServer, FakeGitHub) {
    let server = MockServer::start().await;
    let fake = FakeGitHub { issues: Arc::new(Mutex::new(issues)), ..FakeGitHub::default() };
    Mock::given(any()).respond_with(fake.clone()).mount(&server).await;
    (server, fake)
}

fn target(server: &MockServer) -> Target {
    Target {
        api_url: server.uri(),
        repository: Repository { owner: OWNER.into(), name: REPO.into() },
        pr_number: 0,
        token: Token::new(TOKEN),
        author: None,
    }
}

/// Waits recorded, not slept, on a wall clock fixed at [`NOW`].
fn fast() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        rate_limit_delay: SECONDARY_LIMIT_WAIT,
        request_timeout: Duration::from_secs(10),
        deadline: Deadline::with_wall_clock(Duration::from_secs(30), UNIX_EPOCH + Duration::from_secs(NOW)),
        waits: Waits::Record(Arc::default()),
    }
}

fn waits(policy: &RetryPolicy) -> Vec<Duration> {
    match &policy.waits {
        Waits::Record(log) => log.lock().expect("waits").clone(),
        Waits::Sleep => vec![],
    }
}

fn cluster(name: &str, evidence: Option<&str>) -> ClusterReport {
    let diagnoses = evidence
        .map(|e| Diagnosis {
            code: DiagnosisCode::TlsRegression,
            severity: DiagnosisCode::TlsRegression.default_severity(),
            summary: format!("`{name}` is weaker than its lock: TLS floor 1.3 → 1.2"),
            evidence: e.to_string(),
            remedy: "Raise the minimum TLS version back.".to_string(),
            waived: false,
        })
        .into_iter()
        .collect();
    ClusterReport {
        name: name.to_string(),
        uri: "mongodb://db.example.net/".to_string(),
        diagnoses,
        hosts: Vec::new(),
        required: true,
        policy_line: None,
        shared: Vec::new(),
    }
}

fn report(clusters: Vec<ClusterReport>) -> RunReport {
    RunReport::new(clusters, Vec::new(), Vec::new())
}

const EVIDENCE: &str =
    "min_tls_version: lock 1.3 → observed 1.2; db1:27017 accepted a ClientHello offering only TLS 1.2";

#[tokio::test]
async fn a_regression_opens_one_issue_titled_after_the_cluster_and_later_runs_update_it() {
    let (server, fake) = github(Vec::new()).await;
    let run = report(vec![cluster("orders-prod", Some(EVIDENCE)), cluster("billing", None)]);
    let first = issue::sync(&target(&server), &fast(), &run, Some(RUN_URL)).await.expect("first run");
    assert_eq!(first, [IssueOutcome::Opened { cluster: "orders-prod".into(), number: 100 }]);
    let second = issue::sync(&target(&server), &fast(), &run, Some(RUN_URL)).await.expect("second run");
    assert_eq!(second, [IssueOutcome::Updated { cluster: "orders-prod".into(), number: 100 }]);

    let issues = fake.issues.lock().expect("issues").clone();
    assert_eq!(issues.len(), 1, "one issue, updated in place: {issues:#?}");
    let title = issues[0]["title"].as_str().unwrap_or_default();
    assert!(title.contains("orders-prod"), "{title}");
    let body = issues[0]["body"].as_str().unwrap_or_default();
    assert!(body.starts_with(&issue::marker("orders-prod")), "{body}");
    assert!(body.contains("min\\_tls\\_version: lock 1.3 → observed 1.2"), "{body}");
    assert!(body.contains(RUN_URL), "{body}");
    let posts =
        server.received_requests().await.unwrap_or_default().iter().filter(|r| r.method.as_str() == "POST").count();
    assert_eq!(posts, 1);
}

#[tokio::test]
async fn only_the_bots_own_issue_is_edited_never_a_persons_or_a_pull_request() {
    let marker = issue::marker("orders-prod");
    let planted = format!("{marker}\nI pasted the marker");
    let (server, fake) = github(vec![
        issue_json(7, HUMAN, "TLS regression: orders-prod", &planted, false),
        issue_json(8, BOT, "a pull request", &planted, true),
    ])
    .await;
    let run = report(vec![cluster("orders-prod", Some(EVIDENCE))]);
    let outcome = issue::sync(&target(&server), &fast(), &run, None).await.expect("run");
    assert_eq!(outcome, [IssueOutcome::Opened { cluster: "orders-prod".into(), number: 102 }]);
    let issues = fake.issues.lock().expect("issues").clone();
    assert_eq!(issues[0]["body"], json!(planted), "the person's issue is untouched");
    assert_eq!(issues[1]["body"], json!(planted), "the pull request is untouched");
}

#[tokio::test]
async fn a_cluster_back_at_its_floor_closes_its_issue() {
    let body = format!("{}\nold", issue::marker("orders-prod"));
    let (server, fake) = github(vec![issue_json(5, BOT, "TLS regression: orders-prod", &body, false)]).await;
    let run = report(vec![cluster("orders-prod", None)]);
    let outcome = issue::sync(&target(&server), &fast(), &run, Some(RUN_URL)).await.expect("run");
    assert_eq!(outcome, [IssueOutcome::Closed { cluster: "orders-prod".into(), number: 5 }]);
    assert_eq!(fake.issues.lock().expect("issues")[0]["state"], "closed");
}

#[tokio::test]
async fn hostile_evidence_is_escaped_and_the_token_never_leaks() {
    let (server, fake) = github(Vec::new()).await;
    let hostile = "@octocat <img src=x onerror=alert(1)> [x](https://evil)";
    let run = report(vec![cluster("orders-prod", Some(hostile))]);
    issue::sync(&target(&server), &fast(), &run, None).await.expect("run");
    let body = fake.issues.lock().expect("issues")[0]["body"].as_str().unwrap_or_default().to_string();
    assert!(!body.contains("<img") && !body.contains("@octocat") && !body.contains("[x](https"), "{body}");

    let wrong = Target { token: Token::new("ghs_wrong"), ..target(&server) };
    let err = issue::sync(&wrong, &fast(), &run, None).await.expect_err("401");
    assert!(!err.to_string().contains(TOKEN) && !err.to_string().contains("ghs_wrong"), "{err}");
}

#[tokio::test]
async fn the_clusters_issue_on_a_later_page_is_found_and_updated_not_opened_again() {
    // 130 open issues by the bot (other reports), the cluster's own on page 2.
    let mut issues: Vec<Value> =
        (0..130).map(|i| issue_json(1000 + i, BOT, &format!("report {i}"), "no marker here", false)).collect();
    let body = format!("{}\nold", issue::marker("orders-prod"));
    issues[120] = issue_json(1120, BOT, "TLS regression: orders-prod", &body, false);
    let (server, fake) = github(issues).await;
    let run = report(vec![cluster("orders-prod", Some(EVIDENCE))]);
    let outcome = issue::sync(&target(&server), &fast(), &run, None).await.expect("run");
    assert_eq!(outcome, [IssueOutcome::Updated { cluster: "orders-prod".into(), number: 1120 }]);
    assert_eq!(fake.issues.lock().expect("issues").len(), 130, "no duplicate");
    let pages: Vec<String> = server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.method.as_str() == "GET" && r.url.path().ends_with("/issues"))
        .map(|r| r.url.query().unwrap_or_default().to_string())
        .collect();
    assert_eq!(pages.len(), 2, "{pages:?}");
    assert!(pages[0].contains("per_page=100") && pages[0].contains("page=1"), "{pages:?}");
    assert!(pages[1].contains("page=2"), "{pages:?}");
}

#[tokio::test]
async fn a_secondary_rate_limit_is_waited_out_as_asked() {
    let (server, fake) = github(Vec::new()).await;
    let secondary = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.";
    // "Rate limits for the REST API": a secondary limit answers 403 or 429, with `retry-after`
    // seconds when GitHub names the wait.
    fake.script.lock().expect("script").push_back(("GET", 429, vec![("retry-after", "4")], secondary));
    let run = report(vec![cluster("orders-prod", Some(EVIDENCE))]);
    let policy = fast();
    let outcome = issue::sync(&target(&server), &policy, &run, None).await.expect("run");
    assert_eq!(outcome, [IssueOutcome::Opened { cluster: "orders-prod".into(), number: 100 }]);
    assert_eq!(waits(&policy), [Duration::from_secs(4)]);
    assert_eq!(
        server.received_requests().await.unwrap_or_default().len(),
        4,
        "list (429), list, create, after the user"
    );
}

#[tokio::test]
async fn a_rate_limit_that_outlasts_the_deadline_stops_every_later_request_and_says_when() {
    let (server, fake) = github(Vec::new()).await;
    let secondary = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.";
    // Neither `retry-after` nor a spent primary limit: GitHub asks for at least a minute.
    fake.script.lock().expect("script").push_back(("GET", 403, vec![], secondary));
    let run = report(vec![cluster("orders-prod", Some(EVIDENCE))]);
    let policy = fast();
    let err = issue::sync(&target(&server), &policy, &run, None).await.expect_err("limited");
    assert!(err.to_string().ends_with("try again after 2026-11-30T00:54:20Z"), "{err}");
    let sent = server.received_requests().await.unwrap_or_default().len();
    assert_eq!(sent, 2, "user, list (403)");
    // The same publish step (a second sync, as the comment and the issues share the policy) sends
    // nothing while the limit lasts.
    let again = issue::sync(&target(&server), &policy, &run, None).await.expect_err("still limited");
    assert!(again.to_string().contains("try again after 2026-11-30T00:54:20Z"), "{again}");
    assert_eq!(server.received_requests().await.unwrap_or_default().len(), sent, "no request while limited");
    assert!(waits(&policy).is_empty());
}
