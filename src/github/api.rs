//! The request machinery behind the comment and the regression issues: one deadline for the
//! whole publish step, retries, and GitHub's rate limits as "Rate limits for the REST API"
//! documents them.
//!
//! - A primary limit sets `x-ratelimit-remaining: 0`: nothing is sent before `x-ratelimit-reset`
//!   (UTC epoch seconds), also after a successful answer that spent the last request.
//! - A secondary limit (403 or 429 whose message says so): `retry-after` seconds; else the reset
//!   when `x-ratelimit-remaining` is 0; else at least a minute, doubled on each retry.
//! - A 403 with none of these signs is a permission problem: never retried.
//!
//! A wait that fits the deadline is waited out; one that does not ends the step at once with the
//! UTC time after which GitHub takes requests again, and no request goes out before that time.
//!
//! Requests go through octocrab's raw methods so that every status and header is ours to judge.
//! octocrab is built without its `retry` feature: its retries re-send a POST after a 5xx, which
//! can create a second comment.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, StatusCode};
use octocrab::Octocrab;

use super::context::{Repository, Token};

/// The longest publishing may hold up the job, whatever `--timeout` says: the verdict is already
/// decided, and a throttling GitHub is not worth more.
pub const MAX_DEADLINE: Duration = Duration::from_secs(120);
/// GitHub asks to wait at least a minute after a secondary rate limit that names no time.
pub const SECONDARY_LIMIT_WAIT: Duration = Duration::from_secs(60);
/// The author assumed when the token cannot say who it is (`GET /user` answers 403 "Resource not
/// accessible by integration"): that is the workflow's `GITHUB_TOKEN`, which writes as this bot.
pub const ACTIONS_BOT: &str = "github-actions[bot]";

/// How hard to try, and how long to wait.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per request that failed with 5xx, a rate limit or a transport error.
    pub attempts: u32,
    /// Backoff before the first retry after a 5xx or a transport error; doubled each time.
    pub base_delay: Duration,
    /// The longest such backoff.
    pub max_delay: Duration,
    /// The first wait after a secondary rate limit that names no time; doubled each time.
    pub rate_limit_delay: Duration,
    /// Deadline for one request, connection to last byte (never past [`RetryPolicy::deadline`]).
    pub request_timeout: Duration,
    /// The publish step's one deadline: every clone of the policy shares it, so the comment and
    /// the issues together end within it.
    pub deadline: Deadline,
    pub waits: Waits,
}

impl RetryPolicy {
    /// The policy for a run with `--timeout` `timeout`: each request within it, the whole publish
    /// step (comment and issues, waits included) within twice that and never more than
    /// [`MAX_DEADLINE`], from now.
    pub fn for_timeout(timeout: Duration) -> Self {
        RetryPolicy {
            attempts: 4,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            rate_limit_delay: SECONDARY_LIMIT_WAIT,
            request_timeout: timeout,
            deadline: Deadline::after(timeout.saturating_mul(2).min(MAX_DEADLINE)),
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
    /// Write each pause down and go on at once, counting it as spent against the deadline (and
    /// as passed on the deadline's wall clock). Tests use it to assert the exact wait GitHub
    /// asked for without spending it.
    Record(Arc<Mutex<Vec<Duration>>>),
}

/// One deadline shared by every request of the publish step, with the wall clock that GitHub's
/// reset times are read against, and the time before which GitHub must not be asked again.
#[derive(Debug, Clone)]
pub struct Deadline(Arc<DeadlineState>);

#[derive(Debug)]
struct DeadlineState {
    limit: Duration,
    started: Instant,
    /// The wall clock at `started`; `None`: the system's clock.
    wall_clock: Option<SystemTime>,
    /// Recorded waits ([`Waits::Record`]), which count as spent without passing.
    skipped: Mutex<Duration>,
    /// A rate limit's end, and what said so: no request goes out before it.
    blocked_until: Mutex<Option<(SystemTime, String)>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A poisoned lock still holds a valid value.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Deadline {
    /// A deadline `limit` from now, on the system's clock.
    pub fn after(limit: Duration) -> Deadline {
        Deadline::new(limit, None)
    }

    /// A deadline `limit` from now whose wall clock reads `now` at this moment and then moves only
    /// by recorded waits: reset times and retry times become exact in tests.
    pub fn with_wall_clock(limit: Duration, now: SystemTime) -> Deadline {
        Deadline::new(limit, Some(now))
    }

    fn new(limit: Duration, wall_clock: Option<SystemTime>) -> Deadline {
        Deadline(Arc::new(DeadlineState {
            limit,
            started: Instant::now(),
            wall_clock,
            skipped: Mutex::new(Duration::ZERO),
            blocked_until: Mutex::new(None),
        }))
    }

    pub fn limit(&self) -> Duration {
        self.0.limit
    }

    /// Time left before the deadline.
    pub fn left(&self) -> Duration {
        let spent = self.0.started.elapsed() + *lock(&self.0.skipped);
        self.0.limit.saturating_sub(spent)
    }

    /// The time of day, as GitHub's `x-ratelimit-reset` counts it.
    pub fn now_utc(&self) -> SystemTime {
        match self.0.wall_clock {
            Some(at) => at + *lock(&self.0.skipped),
            None => SystemTime::now(),
        }
    }

    fn skip(&self, duration: Duration) {
        *lock(&self.0.skipped) += duration;
    }

    /// Until when GitHub must not be asked, and why, if that time has not come.
    fn blocked(&self) -> Option<(Duration, SystemTime, String)> {
        let (until, why) = lock(&self.0.blocked_until).clone()?;
        let wait = until.duration_since(self.now_utc()).ok().filter(|w| !w.is_zero())?;
        Some((wait, until, why))
    }

    fn block_until(&self, until: SystemTime, why: String) {
        let mut slot = lock(&self.0.blocked_until);
        if slot.as_ref().is_none_or(|(current, _)| *current < until) {
            *slot = Some((until, why));
        }
    }
}

/// Where the requests go.
#[derive(Debug, Clone)]
pub struct Target {
    /// The REST API root, e.g. `https://api.github.com` or `https://ghe.example.com/api/v3`.
    pub api_url: String,
    pub repository: Repository,
    /// The pull request of the comment; not used by the issues.
    pub pr_number: u64,
    pub token: Token,
    /// The login the token writes as; asked of GitHub when `None`. Only a marked comment or issue
    /// by this login is ever edited.
    pub author: Option<String>,
}

/// Why nothing was written. Messages never contain the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommentError {
    /// 401: the token is invalid, expired or revoked.
    Unauthorized { message: String },
    /// 403 that is not a rate limit: the token may not write (fork PRs, missing permission).
    Forbidden { message: String },
    /// 404 on the pull request's comments: no such PR, or the token cannot see the repository.
    NotFound { message: String },
    /// GitHub refused the request for good (4xx, or 422 even for the short body).
    Rejected { status: u16, message: String },
    /// Retries, the deadline or GitHub's rate limit ran out.
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

/// The request machinery (deadline, retries, rate limits), shared by the comment and the issues.
pub(super) struct Api<'a> {
    octocrab: Octocrab,
    pub(super) target: &'a Target,
    pub(super) policy: &'a RetryPolicy,
}

/// One answer from GitHub, read to the end.
pub(super) struct Reply {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) body: String,
}

/// How long a transient failure asks to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Wait {
    /// A 5xx or a transport error: our own backoff.
    Backoff,
    /// `retry-after` seconds.
    RetryAfter(Duration),
    /// Until `x-ratelimit-reset`, in UTC epoch seconds.
    UntilReset(u64),
    /// A secondary rate limit that names no time: at least a minute, longer each retry.
    AtLeastAMinute,
}

/// Why one request did not get a usable answer.
pub(super) enum Failure {
    /// Worth another try: 5xx, a rate limit, a transport error or timeout.
    Transient { message: String, wait: Wait },
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
        Ok(Api { octocrab, target, policy })
    }

    fn deadline(&self) -> &Deadline {
        &self.policy.deadline
    }

    async fn wait(&self, duration: Duration) {
        match &self.policy.waits {
            Waits::Sleep => tokio::time::sleep(duration).await,
            Waits::Record(log) => {
                lock(log).push(duration);
                self.deadline().skip(duration);
            }
        }
    }

    /// The login the token writes as. A personal token may read `/user`; the Actions token and
    /// app installation tokens may not: GitHub answers 403 "Resource not accessible by
    /// integration", and the Actions token writes as `github-actions[bot]`. Any bot at all would
    /// be the wrong rule: another app, perhaps one the PR's author controls, could plant a
    /// comment with our marker.
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
    /// attempts are spent or the wait would pass the deadline. Never an immediate retry.
    pub(super) async fn absorb(&self, failure: Failure, failures: u32, doing: &str) -> Result<(), CommentError> {
        let (message, asked) = match failure {
            Failure::Fatal(e) => return Err(e),
            Failure::Transient { message, wait } => (message, wait),
        };
        let doubled = |first: Duration, cap: Duration| first.saturating_mul(1 << (failures - 1).min(16)).min(cap);
        let now = self.deadline().now_utc();
        let (wait, why) = match asked {
            Wait::Backoff => (doubled(self.policy.base_delay, self.policy.max_delay), None),
            Wait::RetryAfter(d) => (d.max(Duration::from_secs(1)), Some(format!("GitHub asks to wait {}", seconds(d)))),
            Wait::UntilReset(epoch) => {
                let reset = UNIX_EPOCH + Duration::from_secs(epoch);
                let wait = reset.duration_since(now).unwrap_or_default().max(Duration::from_secs(1));
                (wait, Some(format!("GitHub's rate limit resets at {}", utc(now + wait))))
            }
            Wait::AtLeastAMinute => {
                let wait = doubled(self.policy.rate_limit_delay, Duration::MAX);
                (wait, Some(format!("GitHub asks to wait at least {}", seconds(wait))))
            }
        };
        let retry_at = now + wait;
        if let Some(why) = &why {
            // A rate limit: whatever happens next, nothing is sent before it ends.
            self.deadline().block_until(retry_at, format!("{doing}: {message}"));
            if failures >= self.policy.attempts || wait >= self.deadline().left() {
                let tail = if failures >= self.policy.attempts {
                    format!("{doing} failed {failures} times (last: {message}), and {why}")
                } else {
                    format!(
                        "{doing}: {message}, and {why}, which would pass the {} deadline",
                        seconds(self.deadline().limit())
                    )
                };
                return Err(CommentError::GaveUp { message: format!("{tail}; try again after {}", utc(retry_at)) });
            }
        } else if failures >= self.policy.attempts {
            return Err(CommentError::GaveUp { message: format!("{doing} failed {failures} times (last: {message})") });
        } else if wait >= self.deadline().left() {
            // Waiting and then being cut off by the deadline would only delay the same warning.
            return Err(CommentError::GaveUp {
                message: format!(
                    "{doing}: {message}, and the {} deadline leaves no time to try again",
                    seconds(self.deadline().limit())
                ),
            });
        }
        self.wait(wait).await;
        Ok(())
    }

    /// One request, bounded by the request timeout and by what is left of the deadline, and
    /// never sent while GitHub's rate limit is known to be spent. Never retried here.
    pub(super) async fn send(
        &self,
        method: http::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Reply, Failure> {
        if let Some((wait, until, why)) = self.deadline().blocked() {
            if wait >= self.deadline().left() {
                return Err(Failure::Fatal(CommentError::GaveUp {
                    message: format!(
                        "{method} {path} not sent: GitHub's rate limit ({why}) lasts until {}, past the {} deadline; \
                         try again after {}",
                        utc(until),
                        seconds(self.deadline().limit()),
                        utc(until)
                    ),
                }));
            }
            self.wait(wait).await;
        }
        let limit = self.policy.request_timeout.min(self.deadline().left());
        if limit.is_zero() {
            return Err(Failure::Fatal(CommentError::GaveUp {
                message: format!("the {} deadline passed before {method} {path}", seconds(self.deadline().limit())),
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
        let reply = match tokio::time::timeout(limit, request).await {
            Ok(result) => result?,
            Err(_) => return Err(transport(format!("timed out after {}", seconds(limit)))),
        };
        // The last request of the hour went through: the next one waits for the reset.
        if reply.status.is_success()
            && let Some(epoch) = spent_until(&reply.headers)
        {
            let until = UNIX_EPOCH + Duration::from_secs(epoch);
            self.deadline().block_until(until, "the last request the rate limit allowed was spent".to_string());
        }
        Ok(reply)
    }
}

/// `2s`, `0.3s`, `1.25s`: short, and exact for the whole seconds that timeouts usually are.
pub(super) fn seconds(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis.is_multiple_of(1000) {
        format!("{}s", millis / 1000)
    } else {
        let text = format!("{:.3}", duration.as_secs_f64());
        format!("{}s", text.trim_end_matches('0'))
    }
}

/// A time of day as GitHub's documentation and the runner's log show it: `2026-12-07T20:15:03Z`.
pub(super) fn utc(at: SystemTime) -> String {
    let epoch = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    time::OffsetDateTime::from_unix_timestamp(i64::try_from(epoch).unwrap_or(i64::MAX))
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| format!("{epoch} (Unix time)"))
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
    Failure::Transient { message, wait: Wait::Backoff }
}

/// Sorts an unsuccessful answer into retry-worthy or final ("Rate limits for the REST API"):
/// a 403 or 429 is a rate limit when it carries `retry-after`, `x-ratelimit-remaining: 0` or a
/// message saying so; any other 403 is a permission problem.
pub(super) fn classify(reply: Reply) -> Failure {
    let status = reply.status;
    let message = github_message(&reply.body).unwrap_or_else(|| status.canonical_reason().unwrap_or("").to_string());
    let retry_after = retry_after(&reply.headers);
    let reset = spent_until(&reply.headers);
    let says_so = message.to_ascii_lowercase().contains("rate limit");
    let rate_limited = matches!(status, StatusCode::TOO_MANY_REQUESTS | StatusCode::FORBIDDEN)
        && (status == StatusCode::TOO_MANY_REQUESTS || retry_after.is_some() || reset.is_some() || says_so);
    if rate_limited {
        let wait = match (retry_after, reset) {
            (Some(d), _) => Wait::RetryAfter(d),
            (None, Some(epoch)) => Wait::UntilReset(epoch),
            (None, None) => Wait::AtLeastAMinute,
        };
        return Failure::Transient { message: format!("GitHub answered {}: {message}", status.as_u16()), wait };
    }
    if status.is_server_error() {
        let message = format!("GitHub answered {}: {message}", status.as_u16());
        let wait = retry_after.map_or(Wait::Backoff, Wait::RetryAfter);
        return Failure::Transient { message, wait };
    }
    Failure::Fatal(match status {
        StatusCode::UNAUTHORIZED => CommentError::Unauthorized { message },
        StatusCode::FORBIDDEN => CommentError::Forbidden { message },
        StatusCode::NOT_FOUND => CommentError::NotFound { message },
        _ => CommentError::Rejected { status: status.as_u16(), message },
    })
}

/// A failed answer in words for a caller that does not retry (the contents API): a rate limit
/// says when GitHub takes requests again.
pub(super) fn explain(reply: Reply, now: SystemTime) -> String {
    match classify(reply) {
        Failure::Fatal(e) => e.to_string(),
        Failure::Transient { message, wait } => {
            let retry_at = match wait {
                Wait::Backoff => return message,
                Wait::RetryAfter(d) => now + d,
                Wait::UntilReset(epoch) => UNIX_EPOCH + Duration::from_secs(epoch),
                Wait::AtLeastAMinute => now + SECONDARY_LIMIT_WAIT,
            };
            format!("{message}; GitHub's rate limit: try again after {}", utc(retry_at))
        }
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(|v| v.trim().to_string())
}

/// `retry-after` in seconds. (GitHub sends seconds; an HTTP date falls back to the other signs.)
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    header(headers, "retry-after")?.parse::<u64>().ok().map(Duration::from_secs)
}

/// `x-ratelimit-reset` (epoch seconds) when `x-ratelimit-remaining` is 0: the primary limit is spent.
fn spent_until(headers: &HeaderMap) -> Option<u64> {
    if header(headers, "x-ratelimit-remaining").as_deref() != Some("0") {
        return None;
    }
    header(headers, "x-ratelimit-reset")?.parse().ok()
}

pub(super) fn has_next_page(headers: &HeaderMap) -> bool {
    headers
        .get_all(http::header::LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|link| link.split(';').skip(1).any(|param| param.trim().eq_ignore_ascii_case("rel=\"next\"")))
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
pub fn scrub_error(error: CommentError, token: &Token) -> CommentError {
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

    fn reply(status: u16, pairs: &[(&'static str, &str)], message: &str) -> Reply {
        Reply {
            status: StatusCode::from_u16(status).expect("status"),
            headers: headers(pairs),
            body: serde_json::json!({ "message": message }).to_string(),
        }
    }

    fn wait_of(failure: Failure) -> Option<Wait> {
        match failure {
            Failure::Transient { wait, .. } => Some(wait),
            Failure::Fatal(_) => None,
        }
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
    fn rate_limits_are_told_by_their_documented_signs() {
        let secondary = "You have exceeded a secondary rate limit. Please wait a few minutes.";
        assert_eq!(
            wait_of(classify(reply(403, &[("retry-after", "3")], secondary))),
            Some(Wait::RetryAfter(Duration::from_secs(3)))
        );
        assert_eq!(
            wait_of(classify(reply(429, &[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "1700000000")], "x"))),
            Some(Wait::UntilReset(1_700_000_000))
        );
        assert_eq!(wait_of(classify(reply(403, &[], secondary))), Some(Wait::AtLeastAMinute));
        assert_eq!(wait_of(classify(reply(429, &[], "Too Many Requests"))), Some(Wait::AtLeastAMinute));
        let remaining = [("x-ratelimit-remaining", "4999"), ("x-ratelimit-reset", "1700000000")];
        assert!(matches!(
            classify(reply(403, &remaining, "Resource not accessible by integration")),
            Failure::Fatal(CommentError::Forbidden { .. })
        ));
        assert_eq!(wait_of(classify(reply(502, &[], "Server Error"))), Some(Wait::Backoff));
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
    fn durations_and_times_read_as_people_write_them() {
        assert_eq!(seconds(Duration::from_secs(2)), "2s");
        assert_eq!(seconds(Duration::from_millis(300)), "0.3s");
        assert_eq!(seconds(Duration::from_millis(1250)), "1.25s");
        assert_eq!(utc(UNIX_EPOCH + Duration::from_secs(1_700_000_000)), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn the_policy_follows_the_timeout_and_is_capped() {
        let p = RetryPolicy::for_timeout(Duration::from_secs(2));
        assert_eq!((p.request_timeout, p.deadline.limit()), (Duration::from_secs(2), Duration::from_secs(4)));
        let p = RetryPolicy::for_timeout(Duration::from_secs(300));
        assert_eq!(p.deadline.limit(), MAX_DEADLINE);
        assert_eq!(p.rate_limit_delay, Duration::from_secs(60), "GitHub asks for at least a minute");
    }

    #[test]
    fn a_fixed_wall_clock_moves_only_by_recorded_waits() {
        let start = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let deadline = Deadline::with_wall_clock(Duration::from_secs(30), start);
        deadline.skip(Duration::from_secs(5));
        assert_eq!(deadline.now_utc(), start + Duration::from_secs(5));
        assert!(deadline.left() <= Duration::from_secs(25));
        deadline.block_until(start + Duration::from_secs(20), "spent".into());
        assert_eq!(deadline.blocked().map(|(wait, ..)| wait), Some(Duration::from_secs(15)));
    }

    #[test]
    fn an_answer_that_is_not_retried_still_says_when_to_try_again() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let limited = reply(
            403,
            &[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "1700000600")],
            "API rate limit exceeded",
        );
        assert_eq!(
            explain(limited, now),
            "GitHub answered 403: API rate limit exceeded; GitHub's rate limit: try again after 2023-11-14T22:23:20Z"
        );
        let denied = reply(403, &[], "Resource not accessible by integration");
        assert_eq!(explain(denied, now), "GitHub answered 403 Forbidden: Resource not accessible by integration");
    }

    #[test]
    fn server_messages_are_flattened_to_one_line() {
        let msg = github_message(r#"{"message":"bad\n::error::injected"}"#);
        assert_eq!(msg.as_deref(), Some("bad ::error::injected"));
    }
}
