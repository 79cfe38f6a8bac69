//! The sticky pull request comment: one per PR, found by its hidden marker, edited in place.
//!
//! Requests go through octocrab's raw methods so that every status and header (`retry-after`)
//! is ours to judge. octocrab is built without its `retry` feature: its retries re-send a POST
//! after a 5xx, which can create a second comment. Here a failed write is retried only after
//! listing the comments again, so a POST that did land is found and edited instead.

use std::time::{Duration, Instant};

use http::{HeaderMap, StatusCode};
use octocrab::Octocrab;
use octocrab::models::issues::Comment;

use super::MARKER;
use super::context::{Repository, Token};

/// Comment bodies are limited to 65,536 characters; this leaves room for GitHub's own counting.
pub const COMMENT_BUDGET: usize = 60_000;
/// The budget after GitHub still refused a body as too long (422).
pub const SHORT_COMMENT_BUDGET: usize = 20_000;
/// Pages of 100 comments read at most while looking for the sticky one.
const MAX_PAGES: u32 = 100;

/// How hard to try, and how long to wait.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per request that failed with 5xx, 429, a rate-limit 403 or a transport error.
    pub attempts: u32,
    /// Backoff before the first retry when GitHub gives no `retry-after`; doubled each time.
    pub base_delay: Duration,
    /// The longest backoff of our own choosing.
    pub max_delay: Duration,
    /// Deadline for one request, connection to last byte.
    pub request_timeout: Duration,
    /// Deadline for the whole upsert, waits included.
    pub deadline: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            base_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(30),
            request_timeout: Duration::from_secs(20),
            deadline: Duration::from_secs(120),
        }
    }
}

/// Where the comment goes.
#[derive(Debug, Clone)]
pub struct Target {
    /// The REST API root, e.g. `https://api.github.com` or `https://ghe.example.com/api/v3`.
    pub api_url: String,
    pub repository: Repository,
    pub pr_number: u64,
    pub token: Token,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created { id: u64 },
    Updated { id: u64 },
}

/// Why no comment was written. Messages never contain the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommentError {
    /// 403 that is not a rate limit: the token may not write comments (fork PRs, missing permission).
    Forbidden { message: String },
    /// 404 on the pull request's comments: no such PR, or the token cannot see the repository.
    NotFound { message: String },
    /// GitHub refused the request for good (4xx, or 422 even for the short body).
    Rejected { status: u16, message: String },
    /// Retries or the deadline ran out.
    GaveUp { message: String },
    /// The HTTP client could not be set up.
    Client { message: String },
}

impl std::fmt::Display for CommentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CommentError::Forbidden { message } => write!(f, "GitHub answered 403 Forbidden: {message}"),
            CommentError::NotFound { message } => write!(f, "GitHub answered 404 Not Found: {message}"),
            CommentError::Rejected { status, message } => write!(f, "GitHub answered {status}: {message}"),
            CommentError::GaveUp { message } | CommentError::Client { message } => f.write_str(message),
        }
    }
}

/// Creates the sticky comment, or edits the one a bot wrote earlier.
///
/// `body_for(budget)` returns the comment body in at most `budget` characters, marker included;
/// it is asked again with a smaller budget when GitHub refuses the body as too long.
pub async fn upsert(
    target: &Target,
    policy: &RetryPolicy,
    body_for: impl Fn(usize) -> String,
) -> Result<Outcome, CommentError> {
    let api = Api::new(target, policy)?;
    let result = api.upsert(body_for).await;
    result.map_err(|e| scrub_error(e, &target.token))
}

struct Api<'a> {
    octocrab: Octocrab,
    target: &'a Target,
    policy: &'a RetryPolicy,
    started: Instant,
}

/// One answer from GitHub, read to the end.
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

/// Why one request did not get a usable answer.
enum Failure {
    /// Worth another try: 5xx, 429, a rate-limit 403, a transport error or timeout.
    Transient { message: String, wait: Option<Duration> },
    /// Not worth another try.
    Fatal(CommentError),
}

impl<'a> Api<'a> {
    fn new(target: &'a Target, policy: &'a RetryPolicy) -> Result<Self, CommentError> {
        let token = target.token.expose();
        // octocrab turns the token into a header value and panics if it cannot.
        if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(CommentError::Client { message: "GITHUB_TOKEN holds characters a token cannot hold".into() });
        }
        let client_error =
            |e: octocrab::Error| CommentError::Client { message: format!("cannot set up the GitHub client: {e}") };
        let octocrab = Octocrab::builder()
            .base_uri(target.api_url.as_str())
            .map_err(client_error)?
            .personal_token(token.to_string())
            .add_header(http::HeaderName::from_static("x-github-api-version"), "2022-11-28".to_string())
            .set_connect_timeout(Some(policy.request_timeout))
            .set_read_timeout(Some(policy.request_timeout))
            .set_write_timeout(Some(policy.request_timeout))
            .build()
            .map_err(client_error)?;
        Ok(Api { octocrab, target, policy, started: Instant::now() })
    }

    fn issue_path(&self) -> String {
        let Repository { owner, name } = &self.target.repository;
        format!("/repos/{owner}/{name}/issues/{}/comments", self.target.pr_number)
    }

    fn comment_path(&self, id: u64) -> String {
        let Repository { owner, name } = &self.target.repository;
        format!("/repos/{owner}/{name}/issues/comments/{id}")
    }

    async fn upsert(&self, body_for: impl Fn(usize) -> String) -> Result<Outcome, CommentError> {
        let mut budget = COMMENT_BUDGET;
        let mut failures = 0u32;
        // Bounded even when every answer is one that asks to go round again (a 404 race, a 422).
        for _ in 0..self.policy.attempts + 2 {
            // Listed afresh before every write: if an earlier POST landed despite an error, it is
            // found here and edited, never duplicated.
            let existing = self.find_sticky().await?;
            let body = serde_json::json!({ "body": body_for(budget) });
            let reply = match existing {
                Some(id) => self.send(http::Method::PATCH, &self.comment_path(id), Some(&body)).await,
                None => self.send(http::Method::POST, &self.issue_path(), Some(&body)).await,
            };
            let failure = match reply {
                Ok(reply) if reply.status.is_success() => {
                    return match existing {
                        Some(id) => Ok(Outcome::Updated { id }),
                        None => Ok(Outcome::Created { id: comment_id(&reply.body).unwrap_or(0) }),
                    };
                }
                // Deleted between listing and editing: list again.
                Ok(reply) if reply.status == StatusCode::NOT_FOUND && existing.is_some() => continue,
                Ok(reply) if reply.status == StatusCode::UNPROCESSABLE_ENTITY && budget > SHORT_COMMENT_BUDGET => {
                    budget = SHORT_COMMENT_BUDGET;
                    continue;
                }
                Ok(reply) => classify(reply),
                Err(failure) => failure,
            };
            failures += 1;
            self.absorb(failure, failures).await?;
        }
        Err(CommentError::GaveUp { message: "GitHub kept asking to try again; gave up".to_string() })
    }

    /// The id of the first comment a bot wrote with the marker, across all pages.
    async fn find_sticky(&self) -> Result<Option<u64>, CommentError> {
        for page in 1..=MAX_PAGES {
            let path = format!("{}?per_page=100&page={page}", self.issue_path());
            let reply = self.send_with_retries(http::Method::GET, &path).await?;
            let comments: Vec<Comment> = serde_json::from_str(&reply.body).map_err(|e| CommentError::Rejected {
                status: reply.status.as_u16(),
                message: format!("unexpected comment list from GitHub: {e}"),
            })?;
            if let Some(found) = comments.iter().find(|c| is_sticky(c)) {
                return Ok(Some(found.id.into_inner()));
            }
            // Pages are requested by number rather than by following the `Link` URL, so the
            // token is only ever sent to the configured API host.
            if comments.is_empty() || !has_next_page(&reply.headers) {
                return Ok(None);
            }
        }
        Ok(None)
    }

    /// A GET, retried while GitHub answers with something transient.
    async fn send_with_retries(&self, method: http::Method, path: &str) -> Result<Reply, CommentError> {
        let mut failures = 0u32;
        loop {
            let failure = match self.send(method.clone(), path, None).await {
                Ok(reply) if reply.status.is_success() => return Ok(reply),
                Ok(reply) => classify(reply),
                Err(failure) => failure,
            };
            failures += 1;
            self.absorb(failure, failures).await?;
        }
    }

    /// Waits before the next try, or gives up when the attempts or the deadline are spent.
    /// A fatal failure ends the attempt; a transient one waits before the next try.
    async fn absorb(&self, failure: Failure, failures: u32) -> Result<(), CommentError> {
        match failure {
            Failure::Fatal(e) => Err(e),
            Failure::Transient { message, wait } => self.pause(failures, wait, &message).await,
        }
    }

    async fn pause(&self, failures: u32, asked: Option<Duration>, message: &str) -> Result<(), CommentError> {
        if failures >= self.policy.attempts {
            return Err(CommentError::GaveUp { message: format!("gave up after {failures} attempts: {message}") });
        }
        let backoff = self.policy.base_delay.saturating_mul(1 << (failures - 1).min(16)).min(self.policy.max_delay);
        let wait = asked.unwrap_or(backoff);
        let left = self.policy.deadline.saturating_sub(self.started.elapsed());
        if wait >= left {
            return Err(CommentError::GaveUp {
                message: format!("{message}; waiting {}s more would pass the deadline", wait.as_secs()),
            });
        }
        tokio::time::sleep(wait).await;
        Ok(())
    }

    /// One request with its deadline. Never retried here.
    async fn send(&self, method: http::Method, path: &str, body: Option<&serde_json::Value>) -> Result<Reply, Failure> {
        let request = async {
            let response = match method {
                http::Method::GET => self.octocrab._get(path).await,
                http::Method::POST => self.octocrab._post(path, body).await,
                http::Method::PATCH => self.octocrab._patch(path, body).await,
                _ => {
                    return Err(Failure::Fatal(CommentError::Client {
                        message: format!("unsupported method {method}"),
                    }));
                }
            };
            let response = response.map_err(|e| transport(format!("{method} {path} failed: {e}")))?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = self
                .octocrab
                .body_to_string(response)
                .await
                .map_err(|e| transport(format!("{method} {path}: reading the answer failed: {e}")))?;
            Ok(Reply { status, headers, body })
        };
        match tokio::time::timeout(self.policy.request_timeout, request).await {
            Ok(result) => result,
            Err(_) => Err(transport(format!(
                "{method} {path} got no answer within {}s",
                self.policy.request_timeout.as_secs_f64()
            ))),
        }
    }
}

fn transport(message: String) -> Failure {
    Failure::Transient { message, wait: None }
}

/// Sorts an unsuccessful answer into retry-worthy or final.
fn classify(reply: Reply) -> Failure {
    let status = reply.status;
    let message = github_message(&reply.body).unwrap_or_else(|| status.canonical_reason().unwrap_or("").to_string());
    let wait = retry_after(&reply.headers);
    let rate_limited = status == StatusCode::TOO_MANY_REQUESTS
        || (status == StatusCode::FORBIDDEN
            && (wait.is_some() || header(&reply.headers, "x-ratelimit-remaining").as_deref() == Some("0")));
    if rate_limited || status.is_server_error() {
        let wait = wait.or_else(|| rate_limit_reset(&reply.headers));
        return Failure::Transient { message: format!("GitHub answered {}: {message}", status.as_u16()), wait };
    }
    Failure::Fatal(match status {
        StatusCode::FORBIDDEN => CommentError::Forbidden { message },
        StatusCode::NOT_FOUND => CommentError::NotFound { message },
        _ => CommentError::Rejected { status: status.as_u16(), message },
    })
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(|v| v.trim().to_string())
}

/// `retry-after` in seconds. (GitHub sends seconds; an HTTP date falls back to our backoff.)
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    header(headers, "retry-after")?.parse::<u64>().ok().map(Duration::from_secs)
}

/// When the primary rate limit is spent, the wait until `x-ratelimit-reset` (epoch seconds).
fn rate_limit_reset(headers: &HeaderMap) -> Option<Duration> {
    if header(headers, "x-ratelimit-remaining").as_deref() != Some("0") {
        return None;
    }
    let reset: u64 = header(headers, "x-ratelimit-reset")?.parse().ok()?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(reset.saturating_sub(now).max(1)))
}

fn has_next_page(headers: &HeaderMap) -> bool {
    headers
        .get_all(http::header::LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|link| link.split(';').skip(1).any(|param| param.trim().eq_ignore_ascii_case("rel=\"next\"")))
}

/// Only a bot (the Actions token writes as `github-actions[bot]`, apps as `name[bot]`) that
/// left the marker: a person quoting the marker, or pasting it, never gets edited.
fn is_sticky(comment: &Comment) -> bool {
    comment.user.r#type == "Bot" && comment.body.as_deref().is_some_and(|b| b.contains(MARKER))
}

fn comment_id(body: &str) -> Option<u64> {
    serde_json::from_str::<serde_json::Value>(body).ok()?.get("id")?.as_u64()
}

/// GitHub's `message`, made safe to print: one line, bounded, no control characters.
fn github_message(body: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    let message = value.get("message")?.as_str()?;
    let mut clean: String = message.chars().map(|c| if c.is_control() { ' ' } else { c }).take(300).collect();
    if let Some(url) = value.get("documentation_url").and_then(|u| u.as_str())
        && url.starts_with("https://")
        && !url.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        clean.push_str(&format!(" ({url})"));
    }
    Some(clean)
}

/// Belt and braces: a token echoed back in any message is cut out.
fn scrub_error(error: CommentError, token: &Token) -> CommentError {
    let scrub = |s: String| super::scrub(&s, token);
    match error {
        CommentError::Forbidden { message } => CommentError::Forbidden { message: scrub(message) },
        CommentError::NotFound { message } => CommentError::NotFound { message: scrub(message) },
        CommentError::Rejected { status, message } => CommentError::Rejected { status, message: scrub(message) },
        CommentError::GaveUp { message } => CommentError::GaveUp { message: scrub(message) },
        CommentError::Client { message } => CommentError::Client { message: scrub(message) },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().expect("header value"));
        }
        h
    }

    #[test]
    fn next_page_is_read_from_the_link_header() {
        let h = headers(&[(
            "link",
            "<https://api.github.com/repositories/1/issues/2/comments?page=2>; rel=\"next\", <https://api.github.com/repositories/1/issues/2/comments?page=3>; rel=\"last\"",
        )]);
        assert!(has_next_page(&h));
        let last = headers(&[(
            "link",
            "<https://api.github.com/x?page=1>; rel=\"first\", <https://api.github.com/x?page=2>; rel=\"prev\"",
        )]);
        assert!(!has_next_page(&last));
        assert!(!has_next_page(&HeaderMap::new()));
    }

    #[test]
    fn secondary_rate_limit_403_is_transient_but_a_permission_403_is_not() {
        let body = r#"{"message":"You have exceeded a secondary rate limit"}"#.to_string();
        let limited = Reply { status: StatusCode::FORBIDDEN, headers: headers(&[("retry-after", "3")]), body };
        assert!(matches!(classify(limited), Failure::Transient { wait: Some(w), .. } if w == Duration::from_secs(3)));
        let body = r#"{"message":"Resource not accessible by integration"}"#.to_string();
        let denied = Reply { status: StatusCode::FORBIDDEN, headers: HeaderMap::new(), body };
        assert!(matches!(classify(denied), Failure::Fatal(CommentError::Forbidden { .. })));
    }

    #[test]
    fn server_messages_are_flattened_to_one_line() {
        let msg = github_message(r#"{"message":"bad\n::error::injected"}"#);
        assert_eq!(msg.as_deref(), Some("bad ::error::injected"));
    }
}
