//! The sticky pull request comment: one per PR, found by its hidden marker, edited in place.
//!
//! Requests go through octocrab's raw methods so that every status and header (`retry-after`)
//! is ours to judge. octocrab is built without its `retry` feature: its retries re-send a POST
//! after a 5xx, which can create a second comment. Here a failed write is retried only after
//! listing the comments again, so a POST that did land is found and edited instead.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{HeaderMap, StatusCode};
use octocrab::Octocrab;
use octocrab::models::issues::Comment;
use tokio::time::Instant;

use super::context::{Repository, Token};
use super::fit::MARKER;

/// Comment bodies are limited to 65,536 characters; this leaves room for GitHub's own counting.
pub const COMMENT_BUDGET: usize = 60_000;
/// The budget after GitHub still refused a body as too long (422).
pub const SHORT_COMMENT_BUDGET: usize = 20_000;
/// Pages of 100 comments read at most while looking for the sticky one.
const MAX_PAGES: u32 = 100;
/// The longest the comment may hold up the job, whatever `--timeout` says: the verdict is
/// already decided, and a throttling GitHub is not worth more.
pub const MAX_DEADLINE: Duration = Duration::from_secs(120);
/// The author assumed when the token cannot say who it is (`GET /user` answers 403): that is
/// the workflow's `GITHUB_TOKEN`, which writes as this bot.
pub const ACTIONS_BOT: &str = "github-actions[bot]";
/// Names the comment's author outright, for app installation tokens (`name[bot]`), which
/// cannot read `/user` either.
pub const AUTHOR_ENV: &str = "MONGO_PREFLIGHT_COMMENT_AUTHOR";

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
    /// Deadline for the whole upsert, waits included. A request never runs past it.
    pub deadline: Duration,
    pub waits: Waits,
}

impl RetryPolicy {
    /// The policy for a run with `--timeout` `timeout`: each request within it, the whole upsert
    /// within six of them and never more than [`MAX_DEADLINE`], so a dead or throttling GitHub
    /// delays the job by a bounded, predictable amount.
    pub fn for_timeout(timeout: Duration) -> Self {
        RetryPolicy {
            attempts: 4,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            request_timeout: timeout,
            deadline: timeout.saturating_mul(6).min(MAX_DEADLINE).max(timeout),
            waits: Waits::Sleep,
        }
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::for_timeout(crate::defaults::TIMEOUT)
    }
}

/// How the pauses between tries are spent.
#[derive(Debug, Clone, Default)]
pub enum Waits {
    /// Sleep on tokio's clock.
    #[default]
    Sleep,
    /// Write each pause down and go on at once, counting it as spent against the deadline.
    /// Tests against a server on another thread use it: they can assert the exact wait GitHub
    /// asked for, and a paused tokio clock would instead fire request timeouts while the answer
    /// is still on its way.
    Record(Arc<Mutex<Vec<Duration>>>),
}

/// Where the comment goes.
#[derive(Debug, Clone)]
pub struct Target {
    /// The REST API root, e.g. `https://api.github.com` or `https://ghe.example.com/api/v3`.
    pub api_url: String,
    pub repository: Repository,
    pub pr_number: u64,
    pub token: Token,
    /// The login the token writes as; asked of GitHub when `None`. Only a marked comment by
    /// this login is ever edited.
    pub author: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created { id: u64 },
    Updated { id: u64 },
}

/// Why no comment was written. Messages never contain the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommentError {
    /// 401: the token is invalid, expired or revoked.
    Unauthorized { message: String },
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
            CommentError::Unauthorized { message } => {
                write!(f, "GitHub refused the token (401 Unauthorized: {message})")
            }
            CommentError::Forbidden { message } => write!(f, "GitHub answered 403 Forbidden: {message}"),
            CommentError::NotFound { message } => write!(f, "GitHub answered 404 Not Found: {message}"),
            CommentError::Rejected { status, message } => write!(f, "GitHub answered {status}: {message}"),
            CommentError::GaveUp { message } | CommentError::Client { message } => f.write_str(message),
        }
    }
}

/// Creates the sticky comment, or edits the one the token's author wrote earlier.
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

/// The request machinery (deadline, retries, rate limits), shared with `issue.rs`.
pub(super) struct Api<'a> {
    octocrab: Octocrab,
    target: &'a Target,
    policy: &'a RetryPolicy,
    started: Instant,
    /// Recorded waits ([`Waits::Record`]), which count against the deadline without passing.
    skipped: Mutex<Duration>,
}

/// One answer from GitHub, read to the end.
pub(super) struct Reply {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) body: String,
}

/// Why one request did not get a usable answer.
pub(super) enum Failure {
    /// Worth another try: 5xx, 429, a rate-limit 403, a transport error or timeout.
    Transient { message: String, wait: Option<Duration> },
    /// Not worth another try.
    Fatal(CommentError),
}

impl<'a> Api<'a> {
    pub(super) fn new(target: &'a Target, policy: &'a RetryPolicy) -> Result<Self, CommentError> {
        let token = target.token.expose();
        // octocrab turns the token into a header value and panics if it cannot.
        if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(CommentError::Client { message: "GITHUB_TOKEN holds characters a token cannot hold".into() });
        }
        let client_error =
            |e: octocrab::Error| CommentError::Client { message: format!("cannot set up the GitHub client: {e}") };
        // No connect/read/write timeouts of octocrab's own: one deadline around the whole request
        // (see `send`) gives one clear message, and never a second timer racing the first.
        let octocrab = Octocrab::builder()
            .base_uri(target.api_url.as_str())
            .map_err(client_error)?
            .personal_token(token.to_string())
            .add_header(http::HeaderName::from_static("x-github-api-version"), "2022-11-28".to_string())
            .build()
            .map_err(client_error)?;
        Ok(Api { octocrab, target, policy, started: Instant::now(), skipped: Mutex::new(Duration::ZERO) })
    }

    fn issue_path(&self) -> String {
        let Repository { owner, name } = &self.target.repository;
        format!("/repos/{owner}/{name}/issues/{}/comments", self.target.pr_number)
    }

    fn comment_path(&self, id: u64) -> String {
        let Repository { owner, name } = &self.target.repository;
        format!("/repos/{owner}/{name}/issues/comments/{id}")
    }

    fn skipped(&self) -> std::sync::MutexGuard<'_, Duration> {
        // A poisoned lock still holds a valid duration.
        self.skipped.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Time left before the whole upsert's deadline.
    fn time_left(&self) -> Duration {
        let spent = self.started.elapsed() + *self.skipped();
        self.policy.deadline.saturating_sub(spent)
    }

    async fn wait(&self, duration: Duration) {
        match &self.policy.waits {
            Waits::Sleep => tokio::time::sleep(duration).await,
            Waits::Record(log) => {
                log.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(duration);
                *self.skipped() += duration;
            }
        }
    }

    async fn upsert(&self, body_for: impl Fn(usize) -> String) -> Result<Outcome, CommentError> {
        let author = match &self.target.author {
            Some(author) => author.clone(),
            None => self.token_author().await?,
        };
        let mut budget = COMMENT_BUDGET;
        let mut failures = 0u32;
        // Bounded even when every answer is one that asks to go round again (a 404 race, a 422).
        for _ in 0..self.policy.attempts + 2 {
            // Listed afresh before every write: if an earlier POST landed despite an error, it is
            // found here and edited, never duplicated.
            let existing = self.find_sticky(&author).await?;
            let body = serde_json::json!({ "body": body_for(budget) });
            let (reply, doing) = match existing {
                Some(id) => (
                    self.send(http::Method::PATCH, &self.comment_path(id), Some(&body)).await,
                    format!("editing comment {id}"),
                ),
                None => (
                    self.send(http::Method::POST, &self.issue_path(), Some(&body)).await,
                    "creating the comment".to_string(),
                ),
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
            self.absorb(failure, failures, &doing).await?;
        }
        Err(CommentError::GaveUp { message: "GitHub kept asking to try again; gave up".to_string() })
    }

    /// The login the token writes as. A personal token may read `/user`; the Actions token and
    /// app installation tokens may not (403), and the Actions token writes as
    /// `github-actions[bot]`. Any bot at all would be the wrong rule: another app, perhaps one
    /// the PR's author controls, could plant a comment with our marker.
    pub(super) async fn token_author(&self) -> Result<String, CommentError> {
        match self.send_with_retries(http::Method::GET, "/user", "asking GitHub whose token this is").await {
            Ok(reply) => serde_json::from_str::<serde_json::Value>(&reply.body)
                .ok()
                .and_then(|user| user.get("login")?.as_str().map(str::to_string))
                .ok_or_else(|| CommentError::Rejected {
                    status: reply.status.as_u16(),
                    message: "GitHub's answer to GET /user has no login".to_string(),
                }),
            Err(CommentError::Forbidden { .. }) => Ok(ACTIONS_BOT.to_string()),
            // Not about the pull request, whatever the generic 404 advice would say.
            Err(CommentError::NotFound { message }) => {
                Err(CommentError::Rejected { status: 404, message: format!("GET /user: {message}") })
            }
            Err(e) => Err(e),
        }
    }

    /// The id of the first comment by `author` with the marker, across all pages.
    async fn find_sticky(&self, author: &str) -> Result<Option<u64>, CommentError> {
        for page in 1..=MAX_PAGES {
            let path = format!("{}?per_page=100&page={page}", self.issue_path());
            let reply = self.send_with_retries(http::Method::GET, &path, "listing the comments").await?;
            let comments: Vec<Comment> = serde_json::from_str(&reply.body).map_err(|e| CommentError::Rejected {
                status: reply.status.as_u16(),
                message: format!("unexpected comment list from GitHub: {e}"),
            })?;
            if let Some(found) = comments.iter().find(|c| is_sticky(c, author)) {
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
    pub(super) async fn send_with_retries(
        &self,
        method: http::Method,
        path: &str,
        doing: &str,
    ) -> Result<Reply, CommentError> {
        let mut failures = 0u32;
        loop {
            let failure = match self.send(method.clone(), path, None).await {
                Ok(reply) if reply.status.is_success() => return Ok(reply),
                Ok(reply) => classify(reply),
                Err(failure) => failure,
            };
            failures += 1;
            self.absorb(failure, failures, doing).await?;
        }
    }

    /// A fatal failure ends the attempt; a transient one waits before the next try, unless the
    /// attempts or the deadline are spent.
    pub(super) async fn absorb(&self, failure: Failure, failures: u32, doing: &str) -> Result<(), CommentError> {
        let (message, asked) = match failure {
            Failure::Fatal(e) => return Err(e),
            Failure::Transient { message, wait } => (message, wait),
        };
        if failures >= self.policy.attempts {
            return Err(CommentError::GaveUp { message: format!("{doing} failed {failures} times (last: {message})") });
        }
        let backoff = self.policy.base_delay.saturating_mul(1 << (failures - 1).min(16)).min(self.policy.max_delay);
        let wait = asked.unwrap_or(backoff);
        // Waiting and then being cut off by the deadline would only delay the same warning.
        if wait >= self.time_left() {
            let deadline = seconds(self.policy.deadline);
            let message = match asked {
                Some(asked) => format!(
                    "{doing}: {message}, and GitHub asks to wait {}, which would pass the {deadline} deadline",
                    seconds(asked)
                ),
                None => format!("{doing}: {message}, and the {deadline} deadline leaves no time to try again"),
            };
            return Err(CommentError::GaveUp { message });
        }
        self.wait(wait).await;
        Ok(())
    }

    /// One request, bounded by the request timeout and by what is left of the deadline.
    /// Never retried here.
    pub(super) async fn send(
        &self,
        method: http::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Reply, Failure> {
        let limit = self.policy.request_timeout.min(self.time_left());
        if limit.is_zero() {
            return Err(Failure::Fatal(CommentError::GaveUp {
                message: format!("the {} deadline passed before {method} {path}", seconds(self.policy.deadline)),
            }));
        }
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
            let response = response.map_err(|e| transport(root_cause(&e)))?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = self
                .octocrab
                .body_to_string(response)
                .await
                .map_err(|e| transport(format!("reading the answer failed: {}", root_cause(&e))))?;
            Ok(Reply { status, headers, body })
        };
        match tokio::time::timeout(limit, request).await {
            Ok(result) => result,
            Err(_) => Err(transport(format!("timed out after {}", seconds(limit)))),
        }
    }
}

/// `2s`, `0.3s`, `1.25s`: short, and exact for the whole seconds that timeouts usually are.
fn seconds(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis.is_multiple_of(1000) {
        format!("{}s", millis / 1000)
    } else {
        let text = format!("{:.3}", duration.as_secs_f64());
        format!("{}s", text.trim_end_matches('0'))
    }
}

/// The innermost cause of a transport failure, in words. The outer messages ("client error
/// (SendRequest)") only say which stage failed; the reason is further down `source()`.
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut deepest = error;
    let mut io = None;
    let mut next = Some(error);
    // Bounded: a chain that loops back on itself is a bug elsewhere, not a reason to hang.
    for _ in 0..32 {
        let Some(current) = next else { break };
        if io.is_none() {
            io = current.downcast_ref::<std::io::Error>();
        }
        deepest = current;
        next = current.source();
    }
    let text = match io {
        Some(io) => io_words(io.kind()).map(str::to_string).unwrap_or_else(|| io.to_string()),
        None => deepest.to_string(),
    };
    one_line(&text)
}

/// Plain words for the socket errors a CI runner meets, without the OS's error number.
fn io_words(kind: std::io::ErrorKind) -> Option<&'static str> {
    use std::io::ErrorKind as K;
    Some(match kind {
        K::ConnectionReset => "connection reset by peer",
        K::ConnectionRefused => "connection refused",
        K::ConnectionAborted => "connection aborted",
        K::BrokenPipe => "connection closed while sending (broken pipe)",
        K::UnexpectedEof => "connection closed before the answer was complete",
        K::TimedOut => "the connection timed out",
        K::NotConnected => "not connected",
        K::HostUnreachable => "host unreachable",
        K::NetworkUnreachable => "network unreachable",
        K::AddrNotAvailable => "address not available",
        _ => return None,
    })
}

/// Text from elsewhere made safe for one warning line: no control characters, bounded.
fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).take(300).collect()
}

fn transport(message: String) -> Failure {
    Failure::Transient { message, wait: None }
}

/// Sorts an unsuccessful answer into retry-worthy or final.
pub(super) fn classify(reply: Reply) -> Failure {
    let status = reply.status;
    let message = github_message(&reply.body).unwrap_or_else(|| status.canonical_reason().unwrap_or("").to_string());
    let wait = retry_after(&reply.headers);
    // GitHub sends a secondary rate limit's 403 without `retry-after` at times; only its message
    // then tells it from a missing permission, whose advice would send the user the wrong way.
    let rate_limited = status == StatusCode::TOO_MANY_REQUESTS
        || (status == StatusCode::FORBIDDEN
            && (wait.is_some()
                || header(&reply.headers, "x-ratelimit-remaining").as_deref() == Some("0")
                || message.to_ascii_lowercase().contains("rate limit")));
    if rate_limited || status.is_server_error() {
        let wait = wait.or_else(|| rate_limit_reset(&reply.headers));
        return Failure::Transient { message: format!("GitHub answered {}: {message}", status.as_u16()), wait };
    }
    Failure::Fatal(match status {
        StatusCode::UNAUTHORIZED => CommentError::Unauthorized { message },
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

pub(super) fn has_next_page(headers: &HeaderMap) -> bool {
    headers
        .get_all(http::header::LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|link| link.split(';').skip(1).any(|param| param.trim().eq_ignore_ascii_case("rel=\"next\"")))
}

/// Only a comment the token's own author wrote with the marker: a person quoting the marker, or
/// another bot pasting it, never gets edited. Logins compare as GitHub does, ignoring case.
fn is_sticky(comment: &Comment, author: &str) -> bool {
    comment.user.login.eq_ignore_ascii_case(author) && comment.body.as_deref().is_some_and(|b| b.contains(MARKER))
}

fn comment_id(body: &str) -> Option<u64> {
    serde_json::from_str::<serde_json::Value>(body).ok()?.get("id")?.as_u64()
}

/// GitHub's `message`, made safe to print: one line, bounded, no control characters.
fn github_message(body: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    let message = value.get("message")?.as_str()?;
    let mut clean = one_line(message);
    if let Some(url) = value.get("documentation_url").and_then(|u| u.as_str())
        && url.starts_with("https://")
        && !url.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        clean.push_str(&format!(" ({url})"));
    }
    Some(clean)
}

/// Belt and braces: a token echoed back in any message is cut out.
pub(super) fn scrub_error(error: CommentError, token: &Token) -> CommentError {
    let scrub = |s: String| super::context::scrub(&s, token);
    match error {
        CommentError::Unauthorized { message } => CommentError::Unauthorized { message: scrub(message) },
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
        let body = r#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes."}"#.to_string();
        let bare = Reply { status: StatusCode::FORBIDDEN, headers: HeaderMap::new(), body };
        assert!(matches!(classify(bare), Failure::Transient { wait: None, .. }), "no header, still a rate limit");
    }

    /// An error that wraps another, as hyper-util's and octocrab's do.
    #[derive(Debug)]
    struct Wrapper(&'static str, Box<dyn std::error::Error + Send + Sync>);

    impl std::fmt::Display for Wrapper {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Wrapper {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(self.1.as_ref())
        }
    }

    #[test]
    fn the_root_cause_is_named_not_the_stage() {
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        let chain = Wrapper("Service Error", Box::new(Wrapper("client error (SendRequest)", Box::new(reset))));
        assert_eq!(root_cause(&chain), "connection reset by peer");

        let tls = std::io::Error::new(std::io::ErrorKind::InvalidData, "invalid peer certificate: UnknownIssuer");
        assert_eq!(
            root_cause(&Wrapper("client error (Connect)", Box::new(tls))),
            "invalid peer certificate: UnknownIssuer"
        );

        let inner = Wrapper("connection closed before\nmessage completed", Box::new(std::fmt::Error));
        assert_eq!(root_cause(&inner), "an error occurred when formatting an argument");
    }

    #[test]
    fn durations_read_as_seconds() {
        assert_eq!(seconds(Duration::from_secs(2)), "2s");
        assert_eq!(seconds(Duration::from_millis(300)), "0.3s");
        assert_eq!(seconds(Duration::from_millis(1250)), "1.25s");
    }

    #[test]
    fn the_policy_follows_the_timeout_and_is_capped() {
        let p = RetryPolicy::for_timeout(Duration::from_secs(2));
        assert_eq!((p.request_timeout, p.deadline), (Duration::from_secs(2), Duration::from_secs(12)));
        let p = RetryPolicy::for_timeout(Duration::from_secs(60));
        assert_eq!((p.request_timeout, p.deadline), (Duration::from_secs(60), MAX_DEADLINE));
        let p = RetryPolicy::for_timeout(Duration::from_secs(300));
        assert_eq!(p.deadline, Duration::from_secs(300), "one whole request always fits");
    }

    #[test]
    fn server_messages_are_flattened_to_one_line() {
        let msg = github_message(r#"{"message":"bad\n::error::injected"}"#);
        assert_eq!(msg.as_deref(), Some("bad ::error::injected"));
    }
}
