//! The regression issue of scheduled runs: one open issue per cluster that fell below its
//! floor in the posture lock, found by its hidden marker and edited in place, like the sticky
//! pull request comment; closed once the cluster is back at its floor.
//!
//! A pull request that weakens a cluster's TLS is caught by `check` on the pull request. A
//! server that is reconfigured on its own is not: a scheduled `check --issue` on the default
//! branch finds it, fails, and says so where people look.

use std::collections::BTreeMap;

use http::Method;

use super::api::{Api, CommentError, Failure, RetryPolicy, Target, classify, has_next_page, scrub_error};
use super::context::Repository;
use crate::catalog::codes::DiagnosisCode;
use crate::model::{ClusterReport, Note, RunReport, Severity};
use crate::report::escape;

/// Pages of 100 open issues read at most while looking for the cluster's issue.
const MAX_PAGES: u32 = 20;

/// The hidden marker of one cluster's regression issue. The name is percent-encoded, so no
/// cluster name can end the HTML comment or pose as another cluster's marker.
pub fn marker(cluster: &str) -> String {
    const NAME: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');
    format!("<!-- mongo-preflight regression: {} -->", percent_encoding::utf8_percent_encode(cluster, NAME))
}

/// The issue's title: the cluster's name, so each cluster has its own.
pub fn title(cluster: &str) -> String {
    let name: String = cluster.chars().filter(|c| !c.is_control()).take(100).collect();
    format!("TLS regression: {name} is weaker than its mongo-preflight lock")
}

/// `check --issue`: syncs the regression issues from the process's Actions environment. A
/// failure here never changes the verdict: it comes back as a warning note. `retry` is the one
/// the comment used, so both share the publish step's deadline and GitHub's rate limit.
pub async fn publish(report: &RunReport, run_url: Option<&str>, retry: &RetryPolicy) -> Vec<Note> {
    let env = super::ActionsEnv::from_process();
    let note = |severity, message: String| vec![Note { severity, message }];
    if let Some(change) = &env.change {
        return note(
            Severity::Info,
            format!(
                "no regression issue for {}: issues are for scheduled runs on the default branch; a pull request's comment reports its regressions",
                change.describe()
            ),
        );
    }
    let (Some(repository), Some(token)) = (env.repository.clone(), env.token.clone()) else {
        return note(
            Severity::Warning,
            "no regression issue: GITHUB_REPOSITORY and GITHUB_TOKEN must both be set (the token needs `issues: write`)"
                .to_string(),
        );
    };
    let author = std::env::var(super::comment::AUTHOR_ENV).ok().map(|a| a.trim().to_string()).filter(|a| !a.is_empty());
    let target = Target { api_url: env.api_url.clone(), repository, pr_number: 0, token, author };
    let run_url = run_url.map(str::to_string).or_else(|| env.run_url());
    match sync(&target, retry, report, run_url.as_deref()).await {
        Ok(outcomes) => outcomes
            .into_iter()
            .map(|o| {
                let message = match o {
                    IssueOutcome::Opened { cluster, number } => {
                        format!("opened issue #{number} for cluster `{cluster}`'s TLS regression")
                    }
                    IssueOutcome::Updated { cluster, number } => {
                        format!("updated issue #{number} for cluster `{cluster}`'s TLS regression")
                    }
                    IssueOutcome::Closed { cluster, number } => {
                        format!("closed issue #{number}: cluster `{cluster}` is back at its floor")
                    }
                };
                Note { severity: Severity::Info, message }
            })
            .collect(),
        Err(e) => note(
            Severity::Warning,
            format!(
                "cannot open or update the regression issue: {e}. The token needs the `issues: write` permission; the verdict is unaffected."
            ),
        ),
    }
}

/// What happened to one cluster's issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueOutcome {
    Opened {
        cluster: String,
        number: u64,
    },
    Updated {
        cluster: String,
        number: u64,
    },
    /// The cluster is back at its floor: its open issue was closed.
    Closed {
        cluster: String,
        number: u64,
    },
}

/// Opens or updates one issue per regressed cluster and closes the issues of clusters that
/// no longer regress. `target.pr_number` is not used.
pub async fn sync(
    target: &Target,
    policy: &RetryPolicy,
    report: &RunReport,
    run_url: Option<&str>,
) -> Result<Vec<IssueOutcome>, CommentError> {
    let api = Api::new(target, policy)?;
    let result = sync_with(&api, target, report, run_url).await;
    result.map_err(|e| scrub_error(e, &target.token))
}

fn regressions(cluster: &ClusterReport) -> Vec<&crate::model::Diagnosis> {
    cluster.diagnoses.iter().filter(|d| d.code == DiagnosisCode::TlsRegression && !d.waived).collect()
}

async fn sync_with(
    api: &Api<'_>,
    target: &Target,
    report: &RunReport,
    run_url: Option<&str>,
) -> Result<Vec<IssueOutcome>, CommentError> {
    let author = match &target.author {
        Some(author) => author.clone(),
        None => api.token_author().await?,
    };
    let Repository { owner, name } = &target.repository;
    let issues_path = format!("/repos/{owner}/{name}/issues");
    let mut open = open_issues(api, &issues_path, &author).await?;
    let mut outcomes = Vec::new();
    for cluster in &report.clusters {
        let marker = marker(&cluster.name);
        let found = open.remove(&marker);
        let regressed = regressions(cluster);
        let (method, path, body, outcome): PlannedWrite = match (regressed.is_empty(), found) {
            (true, None) => continue,
            (true, Some(number)) => (
                Method::PATCH,
                format!("{issues_path}/{number}"),
                serde_json::json!({ "state": "closed", "body": resolved_body(cluster, &marker, run_url) }),
                |cluster, number| IssueOutcome::Closed { cluster, number },
            ),
            (false, Some(number)) => (
                Method::PATCH,
                format!("{issues_path}/{number}"),
                serde_json::json!({ "title": title(&cluster.name), "body": body(cluster, &marker, run_url) }),
                |cluster, number| IssueOutcome::Updated { cluster, number },
            ),
            (false, None) => (
                Method::POST,
                issues_path.clone(),
                serde_json::json!({ "title": title(&cluster.name), "body": body(cluster, &marker, run_url) }),
                |cluster, number| IssueOutcome::Opened { cluster, number },
            ),
        };
        let number = write(api, method, &path, &body, &issues_path, &author, &marker).await?;
        outcomes.push(outcome(cluster.name.clone(), number));
    }
    Ok(outcomes)
}

/// A request to make, and how to name what it did.
type PlannedWrite = (Method, String, serde_json::Value, fn(String, u64) -> IssueOutcome);

/// One write. After a transient failure the open issues are listed again before the next try:
/// an issue a failed POST did create is then edited, never opened twice.
async fn write(
    api: &Api<'_>,
    method: Method,
    path: &str,
    body: &serde_json::Value,
    issues_path: &str,
    author: &str,
    marker: &str,
) -> Result<u64, CommentError> {
    let (mut method, mut path) = (method, path.to_string());
    let mut failures = 0u32;
    loop {
        let doing = format!("{method} {path}");
        let failure = match api.send(method.clone(), &path, Some(body)).await {
            Ok(reply) if reply.status.is_success() => {
                let number = serde_json::from_str::<serde_json::Value>(&reply.body)
                    .ok()
                    .and_then(|v| v.get("number")?.as_u64())
                    .unwrap_or_default();
                return Ok(number);
            }
            Ok(reply) => classify(reply),
            Err(failure) => failure,
        };
        failures += 1;
        let transient = matches!(failure, Failure::Transient { .. });
        api.absorb(failure, failures, &doing).await?;
        if transient
            && method == Method::POST
            && let Some(number) = open_issues(api, issues_path, author).await?.remove(marker)
        {
            (method, path) = (Method::PATCH, format!("{issues_path}/{number}"));
        }
    }
}

/// The open issues `author` wrote, by marker. Pull requests (which the issues API lists too)
/// and issues by anyone else never count, whatever their text holds.
async fn open_issues(api: &Api<'_>, issues_path: &str, author: &str) -> Result<BTreeMap<String, u64>, CommentError> {
    let creator = percent_encoding::utf8_percent_encode(author, percent_encoding::NON_ALPHANUMERIC).to_string();
    let mut found = BTreeMap::new();
    for page in 1..=MAX_PAGES {
        let path = format!("{issues_path}?state=open&creator={creator}&per_page=100&page={page}");
        let reply = api.send_with_retries(Method::GET, &path, "listing the open issues").await?;
        let issues: Vec<serde_json::Value> = serde_json::from_str(&reply.body).map_err(|e| CommentError::Rejected {
            status: reply.status.as_u16(),
            message: format!("unexpected issue list from GitHub: {e}"),
        })?;
        for issue in &issues {
            let by_author = issue
                .pointer("/user/login")
                .and_then(|l| l.as_str())
                .is_some_and(|login| login.eq_ignore_ascii_case(author));
            let is_pull_request = issue.get("pull_request").is_some_and(|p| !p.is_null());
            let (Some(number), Some(body)) =
                (issue.get("number").and_then(|n| n.as_u64()), issue.get("body").and_then(|b| b.as_str()))
            else {
                continue;
            };
            if !by_author || is_pull_request {
                continue;
            }
            if let Some(marker) = first_marker(body) {
                found.entry(marker).or_insert(number);
            }
        }
        if issues.is_empty() || !has_next_page(&reply.headers) {
            break;
        }
    }
    Ok(found)
}

/// The marker an issue body starts with.
fn first_marker(body: &str) -> Option<String> {
    let line = body.lines().next()?.trim();
    (line.starts_with("<!-- mongo-preflight regression: ") && line.ends_with(" -->")).then(|| line.to_string())
}

fn run_link(run_url: Option<&str>) -> String {
    match run_url {
        Some(url) if url.starts_with("https://") && !url.chars().any(|c| c.is_whitespace() || c == ')') => {
            format!("[this run]({url})")
        }
        _ => "a scheduled run".to_string(),
    }
}

fn body(cluster: &ClusterReport, marker: &str, run_url: Option<&str>) -> String {
    let mut out = format!(
        "{marker}\n## Cluster {} is weaker than its TLS lock\n\n{} found it below the floor that `mongo-preflight.lock` holds:\n\n",
        escape::code(&cluster.name),
        run_link(run_url)
    );
    for d in regressions(cluster) {
        out.push_str(&format!(
            "- **{}**\n  - evidence: {}\n  - remedy: {}\n",
            escape::markdown_with_code(&d.summary),
            escape::markdown_with_code(&d.evidence),
            escape::markdown_with_code(&d.remedy)
        ));
    }
    out.push_str(
        "\nNo pull request caused this: the server itself changed. Restore its TLS settings, or, when the change is \
         deliberate, run `mongo-preflight lock` and commit the lock in a pull request, where the lowered floor is \
         listed as a loosening for the reviewers.\n\nEach scheduled run updates this issue and closes it once the \
         cluster is back at its floor.\n",
    );
    out
}

fn resolved_body(cluster: &ClusterReport, marker: &str, run_url: Option<&str>) -> String {
    format!(
        "{marker}\n## Cluster {} is back at its TLS floor\n\n{} found no regression against `mongo-preflight.lock`; closing.\n",
        escape::code(&cluster.name),
        run_link(run_url)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marker_cannot_be_closed_or_forged_by_a_cluster_name() {
        assert_eq!(marker("orders-prod"), "<!-- mongo-preflight regression: orders-prod -->");
        let hostile = marker("x --> <img> orders-prod");
        assert_eq!(hostile.matches("-->").count(), 1, "{hostile}");
        assert_ne!(marker("a b"), marker("a%20b"));
        assert_eq!(first_marker(&format!("{}\nbody", marker("orders-prod"))), Some(marker("orders-prod")));
        assert_eq!(first_marker("text\n<!-- mongo-preflight regression: x -->"), None);
    }
}
