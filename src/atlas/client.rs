//! The Admin API client: authentication (OAuth client credentials or HTTP digest), versioned
//! media types, pagination, rate limits waited out within the deadline, and every failure named.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use http_body_util::Full;
use serde::Deserialize;

use super::access::{AccessEntry, EntryStatus};
use super::cluster::AtlasCluster;
use super::http::{Http, Response, TransportError};
use super::settings::{self, AtlasSettings, Credentials};

/// The API version each resource is served in (the access list exists only in 2023-01-01).
const V_ACCESS_LIST: &str = "2023-01-01";
const V_CLUSTERS: &str = "2024-08-05";
const V_FLEX: &str = "2024-11-13";
/// Projects (groups) exist only in 2023-01-01.
const V_GROUPS: &str = "2023-01-01";
/// The most items a page may hold.
const PAGE_SIZE: usize = 500;
/// A project holds at most 200 access-list entries; this bounds a misbehaving server.
const MAX_PAGES: u32 = 50;
/// How much of an error's `detail` a report shows.
const DETAIL_CHARS: usize = 300;
/// Retries of one request that Atlas answered 429 ("Atlas Administration API Rate Limits").
const RATE_LIMIT_RETRIES: u32 = 3;
/// The wait when a 429 names none; like a named wait, doubled after each failed retry (the
/// documentation's example: 10 s, 20 s, 40 s).
const RATE_LIMIT_BACKOFF: Duration = Duration::from_secs(10);

/// Why the API could not answer a question.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiFailure {
    /// No credentials in the environment, or only half a pair.
    NoCredentials(String),
    /// 401: the credentials were refused (wrong key, revoked, or a key outside the project's
    /// organization).
    Unauthorized { detail: String },
    /// 403 `IP_ADDRESS_NOT_ON_ACCESS_LIST`: the API key's (or service account's) own access list
    /// does not hold the runner's address. This is not the project's IP access list.
    KeyAccessList { detail: String },
    /// Another 403: the credentials lack the role for this request.
    Forbidden { code: String, detail: String },
    /// 404: no such project, cluster or entry.
    NotFound { code: String, detail: String },
    /// 429 that could not be waited out: the error body's code and detail, the wait the next
    /// try would have needed and where it came from, and the UTC time to try again after.
    RateLimited { detail: String, wait_seconds: u64, source: &'static str, retry_at: String },
    /// 5xx.
    Server { status: u16, detail: String },
    /// No complete answer before the deadline.
    Timeout { seconds: f64 },
    /// The API could not be reached (refused, DNS, TLS).
    Unreachable(String),
    /// Any other answer the client cannot use.
    Unexpected { status: u16, detail: String },
}

impl ApiFailure {
    /// The failure in words, for evidence. API text has been made printable.
    pub fn describe(&self) -> String {
        match self {
            ApiFailure::NoCredentials(why) => format!("no Atlas credentials: {why}"),
            ApiFailure::Unauthorized { detail } => format!("the API refused the credentials (HTTP 401{detail})"),
            ApiFailure::KeyAccessList { detail } => format!(
                "the API credential's own access list does not allow this runner (HTTP 403 IP_ADDRESS_NOT_ON_ACCESS_LIST{detail}); \
                 this is the API key's or service account's list, not the project's"
            ),
            ApiFailure::Forbidden { code, detail } => {
                format!("the credentials lack the role for this request (HTTP 403 {code}{detail})")
            }
            ApiFailure::NotFound { code, detail } => format!("not found (HTTP 404 {code}{detail})"),
            ApiFailure::RateLimited { detail, wait_seconds, source, retry_at } => format!(
                "rate limited (HTTP 429{detail}); the next try would have to wait {wait_seconds} s ({source}), \
                 longer than this run's deadline allows: try again after {retry_at}"
            ),
            ApiFailure::Server { status, detail } => format!("the API failed (HTTP {status}{detail})"),
            ApiFailure::Timeout { seconds } => format!("no answer from the API within {seconds} s"),
            ApiFailure::Unreachable(why) => format!("the API could not be reached: {why}"),
            ApiFailure::Unexpected { status, detail } => format!("unexpected answer (HTTP {status}{detail})"),
        }
    }
}

/// The error body every Admin API error carries.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiError {
    #[serde(default)]
    error_code: Option<String>,
    #[serde(default)]
    detail: Option<String>,
    #[serde(default)]
    parameters: Vec<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct Page<T> {
    #[serde(default = "Vec::new")]
    results: Vec<T>,
    #[serde(default)]
    links: Vec<Link>,
    #[serde(default, rename = "totalCount")]
    total_count: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct Link {
    #[serde(default)]
    rel: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClusterBody {
    name: String,
    #[serde(default)]
    paused: Option<bool>,
    #[serde(default)]
    state_name: Option<String>,
    #[serde(default)]
    connection_strings: Option<ConnectionStrings>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConnectionStrings {
    #[serde(default)]
    standard: Option<String>,
    #[serde(default)]
    standard_srv: Option<String>,
}

#[derive(Debug, Deserialize)]
struct StatusBody {
    #[serde(rename = "STATUS")]
    status: String,
}

#[derive(Debug, Deserialize)]
struct TokenBody {
    access_token: String,
}

/// A project the credentials can read, as `GET /groups` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    pub id: String,
    pub name: String,
    /// The organization the project belongs to.
    #[serde(default)]
    pub org_id: String,
}

/// What deleting an entry found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    Removed,
    /// 404: it was gone already (expired by its `deleteAfterDate`, or removed by hand).
    AlreadyGone,
}

/// A client for one project.
pub struct AtlasClient {
    http: Http,
    base_url: String,
    project_id: String,
    credentials: Option<Credentials>,
    timeout_seconds: f64,
    /// The last digest challenge, reused with an increasing nonce count.
    challenge: Mutex<Option<digest_auth::WwwAuthenticateHeader>>,
    /// The service account's bearer token, valid for an hour: one per run.
    token: tokio::sync::Mutex<Option<String>>,
    /// Told each new bearer token before it is used (to mask it in GitHub Actions).
    on_token: Option<TokenHook>,
    /// How long one request may spend waiting out 429s: the run's deadline.
    rate_limit_budget: Duration,
}

/// What learns each new bearer token.
pub type TokenHook = Arc<dyn Fn(&str) + Send + Sync>;

impl std::fmt::Debug for AtlasClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AtlasClient").field("base_url", &self.base_url).field("project_id", &self.project_id).finish()
    }
}

impl AtlasClient {
    pub fn new(settings: &AtlasSettings) -> Result<AtlasClient, ApiFailure> {
        let http = Http::new(settings.timeout).map_err(ApiFailure::Unreachable)?;
        Ok(AtlasClient {
            http,
            base_url: settings.base_url.trim_end_matches('/').to_string(),
            project_id: settings.project_id.clone(),
            credentials: settings.credentials.clone(),
            timeout_seconds: settings.timeout.as_secs_f64(),
            challenge: Mutex::new(None),
            token: tokio::sync::Mutex::new(None),
            on_token: None,
            rate_limit_budget: settings.timeout,
        })
    }

    /// Calls `hook` with each bearer token the service account gets, before its first use.
    pub fn on_token(mut self, hook: TokenHook) -> AtlasClient {
        self.on_token = Some(hook);
        self
    }

    pub fn project_id(&self) -> &str {
        &self.project_id
    }

    fn group_path(&self, rest: &str) -> String {
        project_path(&self.project_id, rest)
    }

    /// Every project the credentials can read, page by page (an organization's projects carry
    /// its id in `orgId`).
    pub async fn projects(&self) -> Result<Vec<Project>, ApiFailure> {
        self.pages("/api/atlas/v2/groups", V_GROUPS).await
    }

    /// Every entry of the project's IP access list, page by page.
    pub async fn access_list(&self) -> Result<Vec<AccessEntry>, ApiFailure> {
        self.pages(&self.group_path("/accessList"), V_ACCESS_LIST).await
    }

    /// The status of one entry (its key as [`AccessEntry::key`] gives it).
    pub async fn entry_status(&self, key: &str) -> Result<EntryStatus, ApiFailure> {
        let response =
            self.call("GET", &self.group_path(&format!("/accessList/{key}/status")), V_ACCESS_LIST, None).await?;
        let body: StatusBody = parse(&response)?;
        EntryStatus::parse(&body.status).ok_or_else(|| ApiFailure::Unexpected {
            status: response.status,
            detail: format!(": unknown status `{}`", crate::redact::printable(&body.status)),
        })
    }

    /// One entry, or `None` when the API says it does not exist.
    pub async fn entry(&self, key: &str) -> Result<Option<AccessEntry>, ApiFailure> {
        match self.call("GET", &self.group_path(&format!("/accessList/{key}")), V_ACCESS_LIST, None).await {
            Ok(response) => parse(&response).map(Some),
            Err(ApiFailure::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Adds one temporary single-address entry.
    pub async fn add_temporary(&self, ip: IpAddr, delete_after: &str, comment: &str) -> Result<(), ApiFailure> {
        let body =
            serde_json::json!([{ "ipAddress": ip.to_string(), "deleteAfterDate": delete_after, "comment": comment }]);
        self.call("POST", &self.group_path("/accessList"), V_ACCESS_LIST, Some(body)).await.map(|_| ())
    }

    /// Deletes one entry; a 404 means it is gone already, which is what was wanted.
    pub async fn delete_entry(&self, key: &str) -> Result<Deleted, ApiFailure> {
        match self.call("DELETE", &self.group_path(&format!("/accessList/{key}")), V_ACCESS_LIST, None).await {
            Ok(_) => Ok(Deleted::Removed),
            Err(ApiFailure::NotFound { .. }) => Ok(Deleted::AlreadyGone),
            Err(e) => Err(e),
        }
    }

    /// The project's clusters: dedicated ones, then flex ones (a project without flex clusters,
    /// or an API that does not know them, adds none).
    pub async fn clusters(&self) -> Result<Vec<AtlasCluster>, ApiFailure> {
        self.clusters_in(&self.project_id).await
    }

    /// Another project's clusters, dedicated then flex, every page of each.
    pub async fn clusters_in(&self, project_id: &str) -> Result<Vec<AtlasCluster>, ApiFailure> {
        let dedicated: Vec<ClusterBody> = self.pages(&project_path(project_id, "/clusters"), V_CLUSTERS).await?;
        let flex: Vec<ClusterBody> = match self.pages(&project_path(project_id, "/flexClusters"), V_FLEX).await {
            Ok(flex) => flex,
            Err(ApiFailure::NotFound { .. } | ApiFailure::Unexpected { .. }) => Vec::new(),
            Err(e) => return Err(e),
        };
        let to_cluster = |c: ClusterBody, flex: bool| {
            let strings = c.connection_strings.unwrap_or_default();
            AtlasCluster {
                name: c.name,
                paused: c.paused.unwrap_or(false),
                state_name: c.state_name.unwrap_or_default(),
                flex,
                srv_host: strings.standard_srv.as_deref().and_then(|s| hosts_of(s).into_iter().next()).map(|(h, _)| h),
                hosts: strings.standard.as_deref().map(hosts_of).unwrap_or_default(),
            }
        };
        Ok(dedicated
            .into_iter()
            .map(|c| to_cluster(c, false))
            .chain(flex.into_iter().map(|c| to_cluster(c, true)))
            .collect())
    }

    async fn pages<T: serde::de::DeserializeOwned>(&self, path: &str, version: &str) -> Result<Vec<T>, ApiFailure> {
        let mut all = Vec::new();
        for page in 1..=MAX_PAGES {
            let response = self
                .call(
                    "GET",
                    &format!("{path}?includeCount=true&itemsPerPage={PAGE_SIZE}&pageNum={page}"),
                    version,
                    None,
                )
                .await?;
            let body: Page<T> = parse(&response)?;
            let got = body.results.len();
            all.extend(body.results);
            let next = body.links.iter().any(|l| l.rel == "next");
            let short = body.total_count.is_some_and(|total| (all.len() as u64) < total);
            if got == 0 || !(next || short) {
                break;
            }
        }
        Ok(all)
    }

    /// One authenticated request; any status outside 2xx becomes an [`ApiFailure`]. A 429 is
    /// tried again after the wait Atlas names (`Retry-After`, else the body's), longer after each
    /// failed retry, as long as the waits fit the run's deadline; otherwise it is reported with
    /// the time to try again.
    async fn call(
        &self,
        method: &str,
        path: &str,
        version: &str,
        body: Option<serde_json::Value>,
    ) -> Result<Response, ApiFailure> {
        let mut waited = Duration::ZERO;
        for retry in 0.. {
            let response = self.exchange(method, path, version, body.clone()).await?;
            if (200..300).contains(&response.status) {
                return Ok(response);
            }
            if response.status != 429 {
                return Err(failure_of(&response));
            }
            let (wait, source) = rate_limit_wait(&response, retry);
            if retry < RATE_LIMIT_RETRIES && waited + wait <= self.rate_limit_budget {
                tokio::time::sleep(wait).await;
                waited += wait;
                continue;
            }
            return Err(rate_limited(&response, wait, source));
        }
        Err(ApiFailure::Unexpected { status: 429, detail: ": rate limited without end".to_string() })
    }

    /// One authenticated exchange, whatever its status; a digest challenge is answered once.
    async fn exchange(
        &self,
        method: &str,
        path: &str,
        version: &str,
        body: Option<serde_json::Value>,
    ) -> Result<Response, ApiFailure> {
        let Some(credentials) = &self.credentials else {
            return Err(ApiFailure::NoCredentials(format!(
                "set ${} and ${} (a service account) or ${} and ${} (an API key)",
                settings::ENV_CLIENT_ID,
                settings::ENV_CLIENT_SECRET,
                settings::ENV_PUBLIC_KEY,
                settings::ENV_PRIVATE_KEY
            )));
        };
        let body = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
        let media = format!("application/vnd.atlas.{version}+json");
        let mut response = None;
        for attempt in 0..2 {
            let mut request = http::Request::builder()
                .method(method)
                .uri(format!("{}{path}", self.base_url))
                .header(http::header::ACCEPT, &media)
                .header(http::header::USER_AGENT, concat!("mongo-preflight/", env!("CARGO_PKG_VERSION")));
            if method == "POST" {
                request = request.header(http::header::CONTENT_TYPE, &media);
            }
            match credentials {
                Credentials::ServiceAccount { client_id, client_secret } => {
                    let token = self.token(client_id, client_secret).await?;
                    request = request.header(http::header::AUTHORIZATION, format!("Bearer {token}"));
                }
                Credentials::ApiKey { public_key, private_key } => {
                    if let Some(header) = self.digest_header(public_key, private_key, method, path, &body) {
                        request = request.header(http::header::AUTHORIZATION, header);
                    }
                }
            }
            let request = request.body(Full::new(body.clone())).map_err(|e| ApiFailure::Unreachable(e.to_string()))?;
            let answer = self.http.send(request).await.map_err(|e| self.transport_failure(e))?;
            // A digest challenge (first contact, or a nonce that went stale) is answered once.
            if answer.status == 401
                && attempt == 0
                && matches!(credentials, Credentials::ApiKey { .. })
                && let Some(challenge) = digest_challenge(&answer)
            {
                if let Ok(mut slot) = self.challenge.lock() {
                    *slot = Some(challenge);
                }
                continue;
            }
            response = Some(answer);
            break;
        }
        response.ok_or_else(|| ApiFailure::Unauthorized { detail: String::new() })
    }

    fn digest_header(&self, user: &str, password: &str, method: &str, uri: &str, body: &[u8]) -> Option<String> {
        let mut slot = self.challenge.lock().ok()?;
        let challenge = slot.as_mut()?;
        let context = digest_auth::AuthContext::new_with_method(
            user,
            password,
            uri,
            Some(body),
            digest_auth::HttpMethod::from(method),
        );
        challenge.respond(&context).ok().map(|h| h.to_header_string())
    }

    async fn token(&self, client_id: &str, client_secret: &str) -> Result<String, ApiFailure> {
        let mut slot = self.token.lock().await;
        if let Some(token) = slot.as_ref() {
            return Ok(token.clone());
        }
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{client_secret}"));
        let request = http::Request::builder()
            .method("POST")
            .uri(format!("{}/api/oauth/token", self.base_url))
            .header(http::header::AUTHORIZATION, format!("Basic {basic}"))
            .header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(http::header::ACCEPT, "application/json")
            .body(Full::new(Bytes::from_static(b"grant_type=client_credentials")))
            .map_err(|e| ApiFailure::Unreachable(e.to_string()))?;
        let response = self.http.send(request).await.map_err(|e| self.transport_failure(e))?;
        match response.status {
            200..=299 => {
                let body: TokenBody = parse(&response)?;
                if let Some(hook) = &self.on_token {
                    hook(&body.access_token);
                }
                *slot = Some(body.access_token.clone());
                Ok(body.access_token)
            }
            // The token endpoint answers bad client credentials with 400 or 401.
            400 | 401 => Err(ApiFailure::Unauthorized { detail: " from the token endpoint".to_string() }),
            _ => Err(failure_of(&response)),
        }
    }

    /// Revokes the service account's token at the end of the run, so that it does not outlive
    /// the run by its hour. Best effort: a failure changes nothing in the report.
    pub async fn revoke(&self) {
        let Some(Credentials::ServiceAccount { client_id, client_secret }) = &self.credentials else { return };
        let Some(token) = self.token.lock().await.take() else { return };
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{client_secret}"));
        let form = format!(
            "token={}&token_type_hint=access_token",
            percent_encoding::utf8_percent_encode(&token, percent_encoding::NON_ALPHANUMERIC)
        );
        let Ok(request) = http::Request::builder()
            .method("POST")
            .uri(format!("{}/api/oauth/revoke", self.base_url))
            .header(http::header::AUTHORIZATION, format!("Basic {basic}"))
            .header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(http::header::ACCEPT, "application/json")
            .body(Full::new(Bytes::from(form)))
        else {
            return;
        };
        let _ = self.http.send(request).await;
    }

    fn transport_failure(&self, e: TransportError) -> ApiFailure {
        match e {
            TransportError::Timeout => ApiFailure::Timeout { seconds: self.timeout_seconds },
            TransportError::Failed(why) => ApiFailure::Unreachable(why),
        }
    }
}

/// `/api/atlas/v2/groups/{project}{rest}`, the id percent-encoded.
fn project_path(project_id: &str, rest: &str) -> String {
    let project = percent_encoding::utf8_percent_encode(project_id, percent_encoding::NON_ALPHANUMERIC);
    format!("/api/atlas/v2/groups/{project}{rest}")
}

fn digest_challenge(response: &Response) -> Option<digest_auth::WwwAuthenticateHeader> {
    response
        .headers
        .get_all(http::header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.trim_start().to_ascii_lowercase().starts_with("digest"))
        .and_then(|v| digest_auth::parse(v).ok())
}

fn parse<T: serde::de::DeserializeOwned>(response: &Response) -> Result<T, ApiFailure> {
    serde_json::from_slice(&response.body).map_err(|e| ApiFailure::Unexpected {
        status: response.status,
        detail: format!(": the body is not the JSON expected ({e})"),
    })
}

/// A 429 that is not waited out: `wait` is what the next try would need.
fn rate_limited(response: &Response, wait: Duration, source: &'static str) -> ApiFailure {
    let (code, detail) = code_and_detail(response);
    ApiFailure::RateLimited {
        detail: if code.is_empty() { detail } else { format!(" {code}{detail}") },
        wait_seconds: wait.as_secs(),
        source,
        retry_at: utc_after(wait),
    }
}

/// The failure a non-2xx answer means, with the error body's code and detail (printable,
/// shortened).
fn failure_of(response: &Response) -> ApiFailure {
    let (code, detail) = code_and_detail(response);
    match response.status {
        401 => ApiFailure::Unauthorized { detail: if code.is_empty() { detail } else { format!(" {code}{detail}") } },
        403 if code == "IP_ADDRESS_NOT_ON_ACCESS_LIST" => ApiFailure::KeyAccessList { detail },
        403 => ApiFailure::Forbidden { code, detail },
        404 => ApiFailure::NotFound { code, detail },
        429 => {
            let (wait, source) = rate_limit_wait(response, 0);
            rate_limited(response, wait, source)
        }
        status @ 500..=599 => {
            ApiFailure::Server { status, detail: if code.is_empty() { detail } else { format!(" {code}{detail}") } }
        }
        status => {
            ApiFailure::Unexpected { status, detail: if code.is_empty() { detail } else { format!(" {code}{detail}") } }
        }
    }
}

/// The error body's code (or `X-Error-Code`) and `: detail`, printable and shortened.
fn code_and_detail(response: &Response) -> (String, String) {
    let body: ApiError = serde_json::from_slice(&response.body).unwrap_or_default();
    let code = body
        .error_code
        .or_else(|| response.headers.get("x-error-code").and_then(|v| v.to_str().ok()).map(str::to_string))
        .map(|c| crate::redact::printable(&c))
        .unwrap_or_default();
    let detail = body
        .detail
        .map(|d| {
            let d = crate::redact::printable(d.trim());
            let short: String = d.chars().take(DETAIL_CHARS).collect();
            if short.len() < d.len() { format!(": {short}…") } else { format!(": {short}") }
        })
        .unwrap_or_default();
    (code, detail)
}

/// How long to wait before retry number `retry + 1` of a request answered 429, and where that
/// came from. Atlas names the wait in `Retry-After`, which it "may not always return", and in its
/// error body: "Please retry after 55 seconds" in `detail`, and the same number among the
/// `parameters` (`["api/atlas/v2/orgs", 55, 10, 5, 60]`). Each failed retry doubles the wait.
fn rate_limit_wait(response: &Response, retry: u32) -> (Duration, &'static str) {
    let header = response
        .headers
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let body: ApiError = serde_json::from_slice(&response.body).unwrap_or_default();
    let in_detail = body.detail.as_deref().and_then(|detail| {
        let lower = detail.to_ascii_lowercase();
        let after = &lower[lower.find("retry after ")? + "retry after ".len()..];
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        after[digits.len()..].trim_start().starts_with("second").then_some(())?;
        digits.parse::<u64>().ok()
    });
    let in_parameters = body.parameters.iter().find_map(serde_json::Value::as_u64);
    let (seconds, source) = match (header, in_detail, in_parameters) {
        (Some(s), _, _) => (s, "Retry-After"),
        (None, Some(s), _) => (s, "the error's detail"),
        (None, None, Some(s)) => (s, "the error's parameters"),
        (None, None, None) => (RATE_LIMIT_BACKOFF.as_secs(), "no wait named: backing off"),
    };
    // At least a second: never again at once.
    let first = Duration::from_secs(seconds.max(1));
    (first.saturating_mul(1 << retry.min(16)), source)
}

/// The UTC time `wait` from now, as `2026-12-07T20:31:05Z`.
fn utc_after(wait: Duration) -> String {
    let at = time::OffsetDateTime::now_utc() + wait;
    at.replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_else(|| format!("{} s from now", wait.as_secs()))
}

/// `host:port` pairs of a connection string as Atlas writes them (`mongodb://h1:27017,h2:27017/?…`
/// or `mongodb+srv://name`), host names in lower case.
fn hosts_of(uri: &str) -> Vec<(String, u16)> {
    let Some((_, rest)) = uri.split_once("://") else { return Vec::new() };
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let list = rest.split(['/', '?']).next().unwrap_or_default();
    list.split(',')
        .filter(|h| !h.is_empty())
        .map(|h| match h.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || host.starts_with('[') => {
                (host.to_ascii_lowercase(), port.parse().unwrap_or(27017))
            }
            _ => (h.to_ascii_lowercase(), 27017),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer_429(headers: &[(&'static str, &str)], body: serde_json::Value) -> Response {
        let mut map = http::HeaderMap::new();
        for (k, v) in headers {
            map.insert(*k, v.parse().expect("header"));
        }
        Response { status: 429, headers: map, body: Bytes::from(body.to_string()) }
    }

    #[test]
    fn the_wait_of_a_429_comes_from_the_header_then_the_body_and_doubles_each_retry() {
        // The documentation's body ("Atlas Administration API Rate Limits").
        let documented = serde_json::json!({
            "detail": "Rate limit exceeded for api/atlas/v2/orgs. Please retry after 55 seconds. Request capacity: 10. Refill rate: 5 per 60 seconds.",
            "error": 429, "errorCode": "RATE_LIMITED_TOKEN_BUCKET",
            "parameters": ["api/atlas/v2/orgs", 55, 10, 5, 60], "reason": "Too Many Requests"
        });
        let secs = |(d, source): (Duration, &'static str)| (d.as_secs(), source);
        assert_eq!(
            secs(rate_limit_wait(&answer_429(&[("retry-after", "7")], documented.clone()), 0)),
            (7, "Retry-After")
        );
        assert_eq!(secs(rate_limit_wait(&answer_429(&[], documented.clone()), 0)), (55, "the error's detail"));
        assert_eq!(secs(rate_limit_wait(&answer_429(&[], documented), 2)), (220, "the error's detail"));
        let params_only = serde_json::json!({"errorCode": "RATE_LIMITED_TOKEN_BUCKET", "parameters": ["api/atlas/v2/groups", 30, 10, 5, 60]});
        assert_eq!(secs(rate_limit_wait(&answer_429(&[], params_only), 0)), (30, "the error's parameters"));
        let bare = serde_json::json!({"errorCode": "RATE_LIMITED"});
        let backoff: Vec<u64> =
            (0..3).map(|retry| rate_limit_wait(&answer_429(&[], bare.clone()), retry).0.as_secs()).collect();
        assert_eq!(backoff, [10, 20, 40]);
    }

    #[test]
    fn hosts_of_atlas_connection_strings() {
        assert_eq!(
            hosts_of(
                "mongodb://cluster0-shard-00-00.abcde.mongodb.net:27017,Cluster0-shard-00-01.abcde.mongodb.net:27017/?ssl=true"
            ),
            vec![
                ("cluster0-shard-00-00.abcde.mongodb.net".to_string(), 27017),
                ("cluster0-shard-00-01.abcde.mongodb.net".to_string(), 27017)
            ]
        );
        assert_eq!(
            hosts_of("mongodb+srv://cluster0.abcde.mongodb.net"),
            vec![("cluster0.abcde.mongodb.net".to_string(), 27017)]
        );
    }
}
