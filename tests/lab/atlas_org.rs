//! A stand-in Atlas organization: the Administration API's projects, clusters and flex clusters
//! behind pages of at most 100 items, OAuth client credentials, the API's error bodies and its
//! 429 with `Retry-After`; and a DNS zone in which every cluster's `mongodb+srv` name points at
//! a few real TLS endpoints (fake MongoDB servers answering `hello`), so an organization of
//! thousands of clusters can be probed for real on one machine.
//!
//! Cluster `cNNNN` of project `pNNN` is `mongodb+srv://cNNNN.pNNN.org.test`, whose SRV record
//! lists `n1`, `n2`, `n3` `.pNNN.org.test` (one port each, shared by the project's clusters);
//! every project's certificate covers `*.pNNN.org.test`, signed by this stand-in's own CA
//! (`ca_file`). Everything listens on 127.0.0.1 and stops by itself.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use super::certs::{LeafSpec, Pki};
use super::fake_mongo::{self, HelloSpec};
use super::process::Guarded;

/// The organization every test discovers.
pub const ORG_ID: &str = "5f1e2d3c4b5a69788796a5b4";
/// Another organization the credentials also see: its projects must be left out.
pub const OTHER_ORG_ID: &str = "60aa0000000000000000beef";
pub const CLIENT_ID: &str = "mdb_sa_id_0rg5f1e2d3c4b5a69788796a5";
/// Secrets: tests assert they never appear in any output.
pub const CLIENT_SECRET: &str = "mdb_sa_sk_CanaryOrgClientSecret-5e1f";
pub const TOKEN_PREFIX: &str = "CanaryOrgBearer";
/// The DNS zone of the organization's clusters.
pub const ZONE: &str = "org.test";
/// The most items a page holds, whatever `itemsPerPage` asks.
pub const PAGE_SIZE: usize = 100;
/// TLS endpoints every cluster's three SRV targets point at.
const NODES: usize = 3;

/// The organization's shape.
#[derive(Debug, Clone)]
pub struct Shape {
    pub projects: usize,
    pub clusters_per_project: usize,
    /// Every `paused_every`-th cluster (counting from 1 over the organization) is paused; 0: none.
    pub paused_every: usize,
    /// The first project holds this many clusters instead (to make its clusters page).
    pub first_project_clusters: Option<usize>,
    /// How long the stand-in lives.
    pub lifetime: Duration,
}

impl Shape {
    pub fn small(projects: usize, clusters_per_project: usize) -> Shape {
        Shape {
            projects,
            clusters_per_project,
            paused_every: 0,
            first_project_clusters: None,
            lifetime: Duration::from_secs(300),
        }
    }
}

/// One project as the stand-in keeps it.
#[derive(Debug, Clone)]
pub struct ProjectState {
    pub id: String,
    pub name: String,
    pub org_id: String,
    pub clusters: Vec<Value>,
    pub flex: Vec<Value>,
    /// Its clusters answer 401 USER_UNAUTHORIZED (the credentials lack a role there).
    pub unreadable: bool,
}

#[derive(Debug, Default)]
pub struct State {
    pub projects: Vec<ProjectState>,
    pub tokens: Vec<String>,
    /// `METHOD path?query` of every request, in order.
    pub requests: Vec<String>,
    /// Answer 429 (with `Retry-After: 1`) to the next requests whose path and query contain
    /// this, as many times as the count says.
    pub rate_limit: Option<(String, usize)>,
    /// How many 429s were sent.
    pub rate_limited: usize,
}

impl State {
    pub fn project(&mut self, name: &str) -> &mut ProjectState {
        self.projects.iter_mut().find(|p| p.name == name).expect("stand-in: no such project")
    }

    /// The cluster `name` of project `project`, to change its state.
    pub fn cluster(&mut self, project: &str, name: &str) -> &mut Value {
        self.project(project).clusters.iter_mut().find(|c| c["name"] == name).expect("stand-in: no such cluster")
    }
}

pub struct OrgLab {
    pub url: String,
    pub state: Arc<Mutex<State>>,
    pub dns_server: SocketAddr,
    /// The CA that signs every node's certificate: pass as `--ca-file`.
    pub ca_file: PathBuf,
    pub node_ports: Vec<u16>,
    runtime: Option<tokio::runtime::Runtime>,
    _dns: Guarded,
    _dir: tempfile::TempDir,
}

impl Drop for OrgLab {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

pub fn project_name(p: usize) -> String {
    format!("p{p:03}")
}

pub fn cluster_name(c: usize) -> String {
    format!("c{c:04}")
}

/// 24 hexadecimal digits from a number.
fn id(prefix: &str, n: usize) -> String {
    format!("{prefix}{n:0>width$x}", width = 24 - prefix.len())
}

/// A dedicated cluster as `GET /groups/{id}/clusters` lists it.
pub fn cluster_json(project: &str, project_id: &str, name: &str, node_ports: &[u16], paused: bool) -> Value {
    let label = format!("{project}.{ZONE}");
    let hosts: Vec<String> =
        node_ports.iter().enumerate().map(|(i, port)| format!("n{}.{label}:{port}", i + 1)).collect();
    json!({
        "id": id("c0ffee", name.len() + node_ports.len()), "groupId": project_id, "name": name,
        "clusterType": "REPLICASET", "paused": paused, "stateName": "IDLE",
        "mongoDBVersion": "8.0.29", "mongoDBMajorVersion": "8.0",
        "connectionStrings": {
            "standard": format!("mongodb://{}/?ssl=true&authSource=admin&replicaSet=atlas-{project}-shard-0", hosts.join(",")),
            "standardSrv": format!("mongodb+srv://{}.{label}", name.to_ascii_lowercase()),
            "privateEndpoint": []
        },
        "links": [{"href": format!("https://cloud.mongodb.com/api/atlas/v2/groups/{project_id}/clusters/{name}"), "rel": "self"}]
    })
}

/// A flex cluster as `GET /groups/{id}/flexClusters` lists it (no `paused` field).
pub fn flex_json(project: &str, project_id: &str, name: &str) -> Value {
    json!({
        "id": id("f1e0", name.len()), "groupId": project_id, "name": name, "clusterType": "REPLICASET",
        "stateName": "IDLE", "mongoDBVersion": "8.0.29",
        "connectionStrings": {"standardSrv": format!("mongodb+srv://{}.{project}.{ZONE}", name.to_ascii_lowercase())},
        "providerSettings": {"providerName": "FLEX", "backingProviderName": "AWS", "regionName": "US_EAST_1", "diskSizeGB": 5.0}
    })
}

impl OrgLab {
    /// Starts the API, the TLS nodes and the DNS zone for `shape` on a runtime of their own.
    pub fn start(shape: &Shape) -> OrgLab {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .thread_name("org-lab")
            .build()
            .expect("org lab: runtime");
        let dir = tempfile::tempdir().expect("org lab: tempdir");
        let pki = Pki::generate(dir.path());
        let config = by_project_config(&pki, shape.projects);
        let (node_ports, listener) = runtime.block_on(async {
            let mut ports = Vec::new();
            for _ in 0..NODES {
                ports.push(fake_mongo::serve(config.clone(), HelloSpec::standalone(25)).await);
            }
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("org lab: bind API");
            (ports, listener)
        });

        let mut state = State::default();
        let mut counter = 0;
        for p in 1..=shape.projects {
            let name = project_name(p);
            let project_id = id("5e11", p);
            let mut clusters = Vec::new();
            let count = if p == 1 {
                shape.first_project_clusters.unwrap_or(shape.clusters_per_project)
            } else {
                shape.clusters_per_project
            };
            for _ in 0..count {
                counter += 1;
                let paused = shape.paused_every > 0 && counter % shape.paused_every == 0;
                clusters.push(cluster_json(&name, &project_id, &cluster_name(counter), &node_ports, paused));
            }
            state.projects.push(ProjectState {
                id: project_id,
                name,
                org_id: ORG_ID.to_string(),
                clusters,
                flex: Vec::new(),
                unreadable: false,
            });
        }
        state.projects.push(ProjectState {
            id: id("0be", 1),
            name: "elsewhere".to_string(),
            org_id: OTHER_ORG_ID.to_string(),
            clusters: vec![cluster_json("elsewhere", &id("0be", 1), "NotOurs", &node_ports, false)],
            flex: Vec::new(),
            unreadable: false,
        });

        // Every cluster's SRV record, and the nodes' addresses, in the zone.
        let mut zone = super::dns::Zone {
            hosts: Vec::new(),
            clusters: Vec::new(),
            no_address: Vec::new(),
            broken_domains: Vec::new(),
            local_domains: vec![ZONE.to_string()],
            wildcard_domains: Vec::new(),
        };
        for project in state.projects.iter().filter(|p| p.org_id == ORG_ID) {
            let label = format!("{}.{ZONE}", project.name);
            for (i, _) in node_ports.iter().enumerate() {
                zone.hosts.push(format!("n{}.{label}", i + 1));
            }
            let flex = json!({"name": "flex"});
            for cluster in project.clusters.iter().chain(std::iter::once(&flex)) {
                let name = cluster["name"].as_str().unwrap_or_default().to_ascii_lowercase();
                zone.clusters.push(super::dns::SrvCluster {
                    name: format!("{name}.{label}"),
                    targets: node_ports
                        .iter()
                        .enumerate()
                        .map(|(i, port)| (format!("n{}.{label}", i + 1), *port))
                        .collect(),
                    txt: None,
                });
            }
        }
        let (dns, dns_port) = runtime.block_on(super::dns::start(&zone, dir.path(), shape.lifetime));

        let state = Arc::new(Mutex::new(state));
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let served = state.clone();
        let lifetime = shape.lifetime;
        runtime.spawn(async move {
            let stop = tokio::time::sleep(lifetime);
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
        OrgLab {
            url,
            state,
            dns_server: SocketAddr::from(([127, 0, 0, 1], dns_port)),
            ca_file: pki.ca_file.clone(),
            node_ports,
            runtime: Some(runtime),
            _dns: dns,
            _dir: dir,
        }
    }

    pub fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state.lock().expect("org stand-in state"))
    }

    /// The environment a run needs: the API's address and the service account.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("MONGODB_ATLAS_BASE_URL", self.url.clone()),
            ("MONGODB_ATLAS_CLIENT_ID", CLIENT_ID.to_string()),
            ("MONGODB_ATLAS_CLIENT_SECRET", CLIENT_SECRET.to_string()),
        ]
    }

    /// `--ca-file <CA> --dns-server <DNS>`.
    pub fn probe_args(&self) -> Vec<String> {
        vec![
            "--ca-file".to_string(),
            self.ca_file.display().to_string(),
            "--dns-server".to_string(),
            self.dns_server.to_string(),
        ]
    }
}

/// Each project's nodes present their own certificate, for `*.pNNN.org.test` only, as Atlas's
/// do for a project's label: chosen by the name the client sends (SNI).
#[derive(Debug)]
struct ByProject(HashMap<String, Arc<CertifiedKey>>);

impl ResolvesServerCert for ByProject {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let name = hello.server_name()?;
        let label = name.strip_suffix(&format!(".{ZONE}"))?.rsplit('.').next()?;
        self.0.get(label).cloned()
    }
}

fn by_project_config(pki: &Pki, projects: usize) -> rustls::ServerConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut certs = HashMap::new();
    for p in 1..=projects {
        let label = project_name(p);
        let identity = pki.issue(&LeafSpec::server("org-node", vec![format!("*.{label}.{ZONE}")]));
        let key = provider.key_provider.load_private_key(identity.key()).expect("org lab: signing key");
        certs.insert(label, Arc::new(CertifiedKey::new(identity.chain.clone(), key)));
    }
    rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .expect("org lab: protocol versions")
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(ByProject(certs)))
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

fn query_param(query: &str, key: &str) -> Option<usize> {
    query.split('&').find_map(|kv| kv.split_once('=').filter(|(k, _)| *k == key).and_then(|(_, v)| v.parse().ok()))
}

fn page(path: &str, query: &str, items: &[Value], version: &str) -> Response<Full<Bytes>> {
    let per_page = query_param(query, "itemsPerPage").unwrap_or(100).clamp(1, 500).min(PAGE_SIZE);
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

fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).expect("random");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn handle(state: Arc<Mutex<State>>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or_default().to_string();
    let accept = req.headers().get("accept").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let auth = req.headers().get("authorization").and_then(|v| v.to_str().ok()).map(str::to_string);
    let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let mut s = state.lock().expect("state");
    let line = format!("{method} {path}{}", if query.is_empty() { String::new() } else { format!("?{query}") });
    s.requests.push(line.clone());

    if path == "/api/oauth/revoke" && method == "POST" {
        let form = String::from_utf8_lossy(&body).into_owned();
        s.tokens.retain(|t| !form.contains(t.as_str()));
        return Response::builder().status(200).body(Full::new(Bytes::new())).expect("response");
    }
    if path == "/api/oauth/token" && method == "POST" {
        use base64::Engine;
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"));
        if auth.as_deref() != Some(&format!("Basic {basic}")) {
            return Response::builder()
                .status(401)
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(r#"{"error":"invalid_client"}"#)))
                .expect("response");
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
    let Some(rest) = path.strip_prefix("/api/atlas/v2/") else {
        return error(404, "RESOURCE_NOT_FOUND", "Cannot find resource.", json!([path]));
    };
    let token = auth.as_deref().and_then(|a| a.strip_prefix("Bearer ")).unwrap_or_default();
    if !s.tokens.iter().any(|t| t == token) {
        return error(401, "USER_UNAUTHORIZED", "Current user is not authorized to perform this action.", json!([]));
    }
    let version = match accept.strip_prefix("application/vnd.atlas.").and_then(|v| v.strip_suffix("+json")) {
        Some(v) if v.len() == 10 => v.to_string(),
        _ => return error(406, "INVALID_VERSION_DATE", "Invalid accept header or version date.", json!([])),
    };
    if let Some((needle, left)) = s.rate_limit.clone()
        && left > 0
        && line.contains(&needle)
    {
        s.rate_limit = Some((needle, left - 1));
        s.rate_limited += 1;
        let mut r = error(
            429,
            "RATE_LIMITED_TOKEN_BUCKET",
            "Rate limit exceeded for api/atlas/v2/groups. Please retry after 1 seconds. Request capacity: 10. Refill rate: 5 per 60 seconds.",
            json!(["api/atlas/v2/groups", 1, 10, 5, 60]),
        );
        r.headers_mut().insert("retry-after", "1".parse().expect("header"));
        return r;
    }
    let parts: Vec<&str> = rest.split('/').collect();
    match (method.as_str(), parts.as_slice()) {
        ("GET", ["groups"]) => {
            let items: Vec<Value> = s
                .projects
                .iter()
                .map(|p| json!({"id": p.id, "name": p.name, "orgId": p.org_id, "clusterCount": p.clusters.len(), "created": "2025-01-01T00:00:00Z", "links": []}))
                .collect();
            page(&path, &query, &items, &version)
        }
        ("GET", ["groups", group, kind @ ("clusters" | "flexClusters")]) => {
            let Some(project) = s.projects.iter().find(|p| p.id == *group) else {
                return error(404, "GROUP_NOT_FOUND", &format!("No group with ID {group} exists."), json!([group]));
            };
            if project.unreadable {
                return error(
                    401,
                    "USER_UNAUTHORIZED",
                    "Current user is not authorized to perform this action.",
                    json!([]),
                );
            }
            let items = if *kind == "clusters" { &project.clusters } else { &project.flex };
            page(&path, &query, items, &version)
        }
        _ => error(404, "RESOURCE_NOT_FOUND", "Cannot find resource.", json!([path])),
    }
}
