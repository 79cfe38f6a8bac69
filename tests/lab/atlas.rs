//! A stand-in for the Atlas Administration API v2, built from the API's documented and recorded
//! behaviour, and an access-list-aware TLS front that answers like Atlas's edge.
//!
//! The API keeps state: entries are PENDING for a number of status reads after they are added
//! and then ACTIVE (driven by the client's own requests, not by the clock);
//! POST answers 201 with the list page, DELETE 204 (404 when the entry is gone); lists are
//! paged with `next` links; API keys authenticate with HTTP digest (MD5, qop=auth) and service
//! accounts with OAuth client credentials (the token revoked only with the client's Basic auth).
//! Errors carry the API's JSON body and `X-Error-Code`; a 429 carries the wait in its body and
//! not always in `Retry-After`, as "Atlas Administration API Rate Limits" documents.
//!
//! The front sends the 7-byte `internal_error` alert after the ClientHello unless an ACTIVE
//! entry covers the runner's IP (which the test names: every lab client is 127.0.0.1), and
//! otherwise pipes the connection to a real TLS MongoDB endpoint of the lab.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::raw::ACCESS_LIST_ALERT;

pub const PROJECT_ID: &str = "65a1b2c3d4e5f6a7b8c9d0e1";
pub const PUBLIC_KEY: &str = "qwertyui";
/// Secrets: tests assert they never appear in any output.
pub const PRIVATE_KEY: &str = "CanaryAtlasPrivKey-6a1f0e4c-93b2";
pub const CLIENT_ID: &str = "mdb_sa_id_65a1b2c3d4e5f6a7b8c9d0ff";
pub const CLIENT_SECRET: &str = "mdb_sa_sk_CanaryAtlasClientSecret77";
/// The prefix of every bearer token the stand-in issues (the rest is random per token).
pub const TOKEN_PREFIX: &str = "CanaryBearerToken";
/// How long the stand-in stays up at most.
const LIFETIME: Duration = Duration::from_secs(300);

/// One access-list entry as the stand-in keeps it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub cidr: String,
    pub ip: Option<String>,
    pub comment: Option<String>,
    pub delete_after: Option<String>,
    /// Status reads (`GET …/status`) still answered PENDING before it turns ACTIVE.
    pub pending_reads: u32,
    /// It never turns ACTIVE (FAILED).
    pub failed: bool,
}

impl Entry {
    /// A permanent entry, ACTIVE already.
    pub fn active(cidr: &str, comment: &str) -> Entry {
        let ip = cidr.strip_suffix("/32").map(str::to_string);
        Entry {
            cidr: cidr.to_string(),
            ip,
            comment: Some(comment.to_string()),
            delete_after: None,
            pending_reads: 0,
            failed: false,
        }
    }

    /// An entry that answers PENDING to the next `reads` status reads, then ACTIVE.
    pub fn pending(cidr: &str, comment: &str, reads: u32) -> Entry {
        Entry { pending_reads: reads, ..Entry::active(cidr, comment) }
    }

    pub fn status(&self) -> &'static str {
        match (self.failed, self.pending_reads) {
            (true, _) => "FAILED",
            (false, 0) => "ACTIVE",
            (false, _) => "PENDING",
        }
    }

    fn covers(&self, ip: IpAddr) -> bool {
        self.cidr.parse::<ipnet::IpNet>().is_ok_and(|n| n.trunc().contains(&ip))
    }

    fn json(&self) -> Value {
        let mut v = json!({
            "cidrBlock": self.cidr,
            "groupId": PROJECT_ID,
            "links": [{"href": format!("https://cloud.mongodb.com/api/atlas/v2/groups/{PROJECT_ID}/accessList/{}", self.cidr.replace('/', "%2F")), "rel": "self"}],
        });
        if let Some(ip) = &self.ip {
            v["ipAddress"] = json!(ip);
        }
        if let Some(c) = &self.comment {
            v["comment"] = json!(c);
        }
        if let Some(d) = &self.delete_after {
            v["deleteAfterDate"] = json!(d);
        }
        v
    }
}

/// A failure every `/api/atlas/v2` request gets.
#[derive(Debug, Clone)]
pub enum Failure {
    /// Status, error code, detail, extra headers.
    Status(u16, &'static str, String, Vec<(&'static str, String)>),
    /// No answer for a minute.
    Hang,
    /// The next `times` requests get Atlas's documented 429: body `RATE_LIMITED_TOKEN_BUCKET`
    /// naming the wait in `detail` ("Please retry after N seconds") and `parameters`; the
    /// `Retry-After` header only when `header` ("Atlas may not always return" the headers).
    RateLimited { times: u32, wait_secs: u64, header: bool },
}

/// How requests authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    Digest,
    OAuth,
}

#[derive(Debug)]
pub struct State {
    pub entries: Vec<Entry>,
    pub clusters: Vec<Value>,
    pub flex_clusters: Vec<Value>,
    /// Status reads a new entry answers PENDING before ACTIVE.
    pub pending_reads: u32,
    /// The most items a page holds, whatever `itemsPerPage` asks (to make paging visible).
    pub max_page_size: usize,
    pub fail: Option<Failure>,
    /// Fail only requests whose path contains this (with `fail`).
    pub fail_only: Option<&'static str>,
    nonces: Vec<String>,
    /// Bearer tokens issued and not revoked.
    pub tokens: Vec<String>,
    /// `METHOD path?query` of every request, in order, and when it came.
    pub requests: Vec<String>,
    pub request_times: Vec<Instant>,
    /// Every Authorization header received (to prove the secret itself never travels).
    pub authorizations: Vec<String>,
    /// What `GET /ip` answers: the IP echo service's text.
    pub echo: String,
    /// DELETE removes the entry but answers 404, as when it expired just before.
    pub delete_answers_404: bool,
    /// Added just before the next POST is handled: another job won the race for the address.
    pub race: Option<Entry>,
}

impl State {
    /// Whether an ACTIVE entry covers `ip`.
    pub fn admits(&self, ip: IpAddr) -> bool {
        self.entries.iter().any(|e| e.status() == "ACTIVE" && e.covers(ip))
    }
}

pub struct StandIn {
    pub url: String,
    pub state: Arc<Mutex<State>>,
}

impl StandIn {
    /// Starts the stand-in on 127.0.0.1 on the current runtime.
    pub async fn start() -> StandIn {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("atlas stand-in: bind");
        let port = listener.local_addr().expect("addr").port();
        let state = Arc::new(Mutex::new(State {
            entries: Vec::new(),
            clusters: Vec::new(),
            flex_clusters: Vec::new(),
            pending_reads: 2,
            max_page_size: 500,
            fail: None,
            fail_only: None,
            nonces: Vec::new(),
            tokens: Vec::new(),
            requests: Vec::new(),
            request_times: Vec::new(),
            authorizations: Vec::new(),
            echo: "198.51.100.7\n".to_string(),
            delete_answers_404: false,
            race: None,
        }));
        let served = state.clone();
        tokio::spawn(async move {
            let stop = tokio::time::sleep(LIFETIME);
            tokio::pin!(stop);
            loop {
                let accepted = tokio::select! {
                    a = listener.accept() => a,
                    () = &mut stop => return,
                };
                let Ok((stream, _)) = accepted else { continue };
                let state = served.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(handle(state, req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        StandIn { url: format!("http://127.0.0.1:{port}"), state }
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state.lock().expect("stand-in state"))
    }

    /// Adds a dedicated cluster whose standard connection string lists `hosts`.
    pub fn add_cluster(&self, name: &str, hosts: &[String], srv: Option<&str>, paused: bool) {
        let standard =
            format!("mongodb://{}/?ssl=true&authSource=admin&replicaSet=atlas-xyz123-shard-0", hosts.join(","));
        let mut strings = json!({"standard": standard, "privateEndpoint": []});
        if let Some(srv) = srv {
            strings["standardSrv"] = json!(format!("mongodb+srv://{srv}"));
        }
        let cluster = json!({
            "id": "65b0c0ffee0123456789abcd", "groupId": PROJECT_ID, "name": name, "clusterType": "REPLICASET",
            "paused": paused, "stateName": "IDLE",
            "mongoDBVersion": "8.0.29", "mongoDBMajorVersion": "8.0", "connectionStrings": strings,
            "advancedConfiguration": {"minimumEnabledTlsProtocol": "TLS1_2", "tlsCipherConfigMode": "DEFAULT"},
            "links": [{"href": format!("https://cloud.mongodb.com/api/atlas/v2/groups/{PROJECT_ID}/clusters/{name}"), "rel": "self"}],
        });
        self.with(|s| s.clusters.push(cluster));
    }
}

fn respond(status: u16, version: &str, body: &Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", format!("application/vnd.atlas.{version}+json;charset=utf-8"))
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("response")
}

fn error(status: u16, code: &str, detail: &str, params: Value) -> Response<Full<Bytes>> {
    let reason = hyper::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("Error");
    let body = json!({"detail": detail, "error": status, "errorCode": code, "parameters": params, "reason": reason});
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("x-error-code", code)
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("response")
}

fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).expect("random");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn challenge(state: &mut State) -> Response<Full<Bytes>> {
    let nonce = random_hex(16);
    state.nonces.push(nonce.clone());
    let mut r = error(401, "USER_UNAUTHORIZED", "Current user is not authorized to perform this action.", json!([]));
    r.headers_mut().insert(
        "www-authenticate",
        format!(
            "Digest realm=\"MMS Public API\", domain=\"\", nonce=\"{nonce}\", algorithm=MD5, qop=\"auth\", stale=false"
        )
        .parse()
        .expect("header"),
    );
    r
}

/// Whether the request carries valid credentials of either kind.
fn authenticated(state: &State, method: &str, auth: Option<&str>, body: &[u8]) -> bool {
    let Some(auth) = auth else { return false };
    if let Some(token) = auth.strip_prefix("Bearer ") {
        return state.tokens.iter().any(|t| t == token.trim());
    }
    let Some(rest) = auth.strip_prefix("Digest ") else { return false };
    let Ok(header) = digest_auth::AuthorizationHeader::parse(rest) else { return false };
    if header.username != PUBLIC_KEY || !state.nonces.contains(&header.nonce) {
        return false;
    }
    let mut expected = header.clone();
    let context = digest_auth::AuthContext::new_with_method(
        PUBLIC_KEY,
        PRIVATE_KEY,
        header.uri.as_str(),
        Some(body),
        digest_auth::HttpMethod::from(method),
    );
    expected.digest(&context);
    expected.response == header.response
}

fn query_param(query: &str, key: &str) -> Option<usize> {
    query.split('&').find_map(|kv| kv.split_once('=').filter(|(k, _)| *k == key).and_then(|(_, v)| v.parse().ok()))
}

fn page(state: &State, path: &str, query: &str, items: Vec<Value>, version: &str) -> Response<Full<Bytes>> {
    let per_page = query_param(query, "itemsPerPage").unwrap_or(100).clamp(1, 500).min(state.max_page_size);
    let page_num = query_param(query, "pageNum").unwrap_or(1).max(1);
    let start = (page_num - 1) * per_page;
    let results: Vec<Value> = items.iter().skip(start).take(per_page).cloned().collect();
    let base = format!("https://cloud.mongodb.com{path}");
    let mut links = vec![
        json!({"href": format!("{base}?includeCount=true&itemsPerPage={per_page}&pageNum={page_num}"), "rel": "self"}),
    ];
    if start + per_page < items.len() {
        links.push(json!({"href": format!("{base}?includeCount=true&itemsPerPage={per_page}&pageNum={}", page_num + 1), "rel": "next"}));
    }
    respond(200, version, &json!({"links": links, "results": results, "totalCount": items.len()}))
}

fn find_entry(state: &State, value: &str) -> Option<usize> {
    let value = percent_encoding::percent_decode_str(value).decode_utf8_lossy().into_owned();
    state.entries.iter().position(|e| e.cidr == value || e.ip.as_deref() == Some(value.as_str()))
}

async fn handle(state: Arc<Mutex<State>>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or_default().to_string();
    let accept = req.headers().get("accept").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let auth = req.headers().get("authorization").and_then(|v| v.to_str().ok()).map(str::to_string);
    let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();

    let hang = {
        let mut s = state.lock().expect("state");
        s.requests
            .push(format!("{method} {path}{}", if query.is_empty() { String::new() } else { format!("?{query}") }));
        s.request_times.push(Instant::now());
        if let Some(a) = &auth {
            s.authorizations.push(a.clone());
        }
        matches!(s.fail, Some(Failure::Hang)) && path.starts_with("/api/atlas/")
    };
    if hang {
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
    let mut s = state.lock().expect("state");

    let basic = {
        use base64::Engine;
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}")))
    };
    let invalid_client = || {
        Response::builder()
            .status(401)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(r#"{"error":"invalid_client"}"#)))
            .expect("response")
    };
    // Revoking needs the client's own credentials (RFC 7009; atlas-sdk-go's clientcredentials
    // sends them as Basic auth): a token alone revokes nothing.
    if path == "/api/oauth/revoke" && method == "POST" {
        if auth.as_deref() != Some(basic.as_str()) {
            return invalid_client();
        }
        let form = String::from_utf8_lossy(&body).into_owned();
        let token = form
            .split('&')
            .find_map(|kv| kv.strip_prefix("token="))
            .map(|t| percent_encoding::percent_decode_str(t).decode_utf8_lossy().into_owned())
            .unwrap_or_default();
        s.tokens.retain(|t| *t != token);
        return Response::builder().status(200).body(Full::new(Bytes::new())).expect("response");
    }
    if path == "/api/oauth/token" && method == "POST" {
        let form = String::from_utf8_lossy(&body);
        if auth.as_deref() != Some(basic.as_str()) || !form.contains("grant_type=client_credentials") {
            return invalid_client();
        }
        let token = format!("{TOKEN_PREFIX}{}", random_hex(12));
        s.tokens.push(token.clone());
        let body = json!({"access_token": token, "token_type": "Bearer", "expires_in": 3600});
        return Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.to_string())))
            .expect("response");
    }

    if path == "/ip" && method == "GET" {
        return Response::builder().status(200).body(Full::new(Bytes::from(s.echo.clone()))).expect("response");
    }
    let Some(rest) = path.strip_prefix("/api/atlas/v2/") else {
        return error(404, "RESOURCE_NOT_FOUND", "Cannot find resource.", json!([path]));
    };
    if !authenticated(&s, &method, auth.as_deref(), &body) {
        return challenge(&mut s);
    }
    let version = match accept.strip_prefix("application/vnd.atlas.").and_then(|v| v.strip_suffix("+json")) {
        Some(v) if v.len() == 10 => v.to_string(),
        _ => return error(406, "INVALID_VERSION_DATE", "Invalid accept header or version date.", json!([])),
    };
    if let Some(Failure::RateLimited { times, wait_secs, header }) = s.fail.clone()
        && times > 0
        && s.fail_only.is_none_or(|only| path.contains(only))
    {
        s.fail = Some(Failure::RateLimited { times: times - 1, wait_secs, header });
        return rate_limited(&path, wait_secs, header);
    }
    if let Some(Failure::Status(status, code, detail, headers)) = s.fail.clone()
        && s.fail_only.is_none_or(|only| path.contains(only))
    {
        let mut r = error(status, code, &detail, json!([]));
        for (k, v) in headers {
            r.headers_mut().insert(k, v.parse().expect("header"));
        }
        return r;
    }
    let parts: Vec<&str> = rest.split('/').collect();
    let ["groups", group, tail @ ..] = parts.as_slice() else {
        return error(404, "RESOURCE_NOT_FOUND", "Cannot find resource.", json!([path]));
    };
    if *group != PROJECT_ID {
        return error(404, "GROUP_NOT_FOUND", &format!("No group with ID {group} exists."), json!([group]));
    }
    let list_path = format!("/api/atlas/v2/groups/{PROJECT_ID}/accessList");
    match (method.as_str(), tail) {
        ("GET", ["accessList"]) => {
            let items = s.entries.iter().map(Entry::json).collect();
            page(&s, &path, &query, items, &version)
        }
        ("POST", ["accessList"]) => {
            if let Some(winner) = s.race.take() {
                s.entries.push(winner);
            }
            let Ok(Value::Array(new)) = serde_json::from_slice::<Value>(&body) else {
                return error(400, "VALIDATION_ERROR", "The request body must be a JSON array.", json!([]));
            };
            for item in new {
                let ip = item["ipAddress"].as_str().map(str::to_string);
                let cidr =
                    item["cidrBlock"].as_str().map(str::to_string).or_else(|| ip.as_ref().map(|i| format!("{i}/32")));
                let Some(cidr) = cidr else {
                    return error(
                        400,
                        "VALIDATION_ERROR",
                        "Exactly one of ipAddress, cidrBlock or awsSecurityGroup is required.",
                        json!([]),
                    );
                };
                // Adding an entry that exists succeeds and changes nothing.
                if s.entries.iter().any(|e| e.cidr == cidr) {
                    continue;
                }
                let pending_reads = s.pending_reads;
                s.entries.push(Entry {
                    cidr,
                    ip,
                    comment: item["comment"].as_str().map(str::to_string),
                    delete_after: item["deleteAfterDate"].as_str().map(str::to_string),
                    pending_reads,
                    failed: false,
                });
            }
            let items = s.entries.iter().map(Entry::json).collect::<Vec<_>>();
            let mut r = page(&s, &list_path, "", items, &version);
            *r.status_mut() = hyper::StatusCode::CREATED;
            r
        }
        ("GET", ["accessList", value]) => match find_entry(&s, value) {
            Some(i) => respond(200, &version, &s.entries[i].json()),
            None => not_on_list(value),
        },
        ("GET", ["accessList", value, "status"]) => match find_entry(&s, value) {
            Some(i) => {
                let status = s.entries[i].status();
                let entry = &mut s.entries[i];
                entry.pending_reads = entry.pending_reads.saturating_sub(1);
                respond(200, &version, &json!({"STATUS": status}))
            }
            None => not_on_list(value),
        },
        ("DELETE", ["accessList", value]) => match find_entry(&s, value) {
            Some(i) => {
                s.entries.remove(i);
                if s.delete_answers_404 {
                    return not_on_list(value);
                }
                Response::builder().status(204).body(Full::new(Bytes::new())).expect("response")
            }
            None => not_on_list(value),
        },
        ("GET", ["clusters"]) => {
            let items = s.clusters.clone();
            page(&s, &path, &query, items, &version)
        }
        ("GET", ["flexClusters"]) => {
            let items = s.flex_clusters.clone();
            page(&s, &path, &query, items, &version)
        }
        _ => error(404, "RESOURCE_NOT_FOUND", "Cannot find resource.", json!([path])),
    }
}

/// "Atlas Administration API Rate Limits": an empty token bucket answers 429 with this body;
/// `RateLimit-Limit`/`RateLimit-Remaining`, and `Retry-After` only "when the limit is exceeded",
/// which Atlas "may not always return".
fn rate_limited(path: &str, wait_secs: u64, header: bool) -> Response<Full<Bytes>> {
    let endpoint = path.trim_start_matches('/');
    let detail = format!(
        "Rate limit exceeded for {endpoint}. Please retry after {wait_secs} seconds. Request capacity: 10. Refill rate: 5 per 60 seconds."
    );
    let mut r = error(429, "RATE_LIMITED_TOKEN_BUCKET", &detail, json!([endpoint, wait_secs, 10, 5, 60]));
    if header {
        let headers = r.headers_mut();
        headers.insert("retry-after", wait_secs.to_string().parse().expect("header"));
        headers.insert("ratelimit-limit", "10".parse().expect("header"));
        headers.insert("ratelimit-remaining", "0".parse().expect("header"));
    }
    r
}

fn not_on_list(value: &str) -> Response<Full<Bytes>> {
    let value = percent_encoding::percent_decode_str(value).decode_utf8_lossy().into_owned();
    let entry = if value.contains('/') { value } else { format!("{value}/32") };
    error(
        404,
        "ATLAS_NETWORK_PERMISSION_ENTRY_NOT_FOUND",
        &format!("IP Address {entry} not on Atlas access list for group {PROJECT_ID}."),
        json!([entry, PROJECT_ID]),
    )
}

/// The access-list-aware front: the alert unless an ACTIVE entry covers `runner`, else a pipe
/// to `upstream` (a lab TLS endpoint). Returns its port.
pub async fn front(state: Arc<Mutex<State>>, runner: IpAddr, upstream: SocketAddr) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("front: bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        let stop = tokio::time::sleep(LIFETIME);
        tokio::pin!(stop);
        loop {
            let accepted = tokio::select! {
                a = listener.accept() => a,
                () = &mut stop => return,
            };
            let Ok((mut client, _)) = accepted else { continue };
            let state = state.clone();
            tokio::spawn(async move {
                let mut first = vec![0u8; 16 * 1024];
                let n = match tokio::time::timeout(Duration::from_secs(10), client.read(&mut first)).await {
                    Ok(Ok(n)) if n > 0 => n,
                    _ => return,
                };
                let admitted = state.lock().map(|s| s.admits(runner)).unwrap_or(false);
                if !admitted {
                    let _ = client.write_all(&ACCESS_LIST_ALERT).await;
                    let _ = client.shutdown().await;
                    return;
                }
                let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await else { return };
                if server.write_all(&first[..n]).await.is_err() {
                    return;
                }
                let _ = tokio::time::timeout(
                    Duration::from_secs(60),
                    tokio::io::copy_bidirectional(&mut client, &mut server),
                )
                .await;
            });
        }
    });
    port
}
