//! The base commit's policy and ignore files through the GitHub API: the last resort when git
//! can neither find nor fetch the base commit (a checkout without a usable `origin`).
//!
//! Two kinds of request, each bounded by a deadline: the git trees API lists the commit's
//! `.mongo-preflight-ignore` files, and the contents API reads each file raw.

use std::time::Duration;

use http::StatusCode;
use octocrab::Octocrab;

use super::context::{ActionsEnv, Repository, Token};
use crate::policy::changes::IgnoreFileText;
use crate::policy::source::{BaseFileSource, BaseFiles, IGNORE_FILE_NAME};

/// Deadline for one request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// Reads files at a commit of the workflow's repository.
pub struct ContentsApi {
    octocrab: Octocrab,
    repository: Repository,
    token: Token,
}

impl ContentsApi {
    /// `None` without a repository or a token: then there is nothing to ask.
    pub fn from_env(env: &ActionsEnv) -> Option<ContentsApi> {
        let repository = env.repository.clone()?;
        let token = env.token.clone()?;
        if !token.expose().bytes().all(|b| b.is_ascii_graphic()) {
            return None;
        }
        let octocrab = Octocrab::builder()
            .base_uri(env.api_url.as_str())
            .ok()?
            .personal_token(token.expose().to_string())
            .add_header(http::HeaderName::from_static("x-github-api-version"), "2022-11-28".to_string())
            .add_header(http::header::ACCEPT, "application/vnd.github.raw+json".to_string())
            .set_connect_timeout(Some(REQUEST_TIMEOUT))
            .set_read_timeout(Some(REQUEST_TIMEOUT))
            .build()
            .ok()?;
        Some(ContentsApi { octocrab, repository, token })
    }

    /// The body of a successful GET; `Ok(None)` for a 404.
    async fn get(&self, path: &str) -> Result<Option<String>, String> {
        let request = async {
            let response = self.octocrab._get(path).await.map_err(|e| format!("GET {path} failed: {e}"))?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = self
                .octocrab
                .body_to_string(response)
                .await
                .map_err(|e| format!("GET {path}: reading the answer failed: {e}"))?;
            match status {
                s if s.is_success() => Ok(Some(body)),
                StatusCode::NOT_FOUND => Ok(None),
                status => {
                    let reply = super::api::Reply { status, headers, body };
                    Err(format!("GET {path}: {}", super::api::explain(reply, std::time::SystemTime::now())))
                }
            }
        };
        let result = match tokio::time::timeout(REQUEST_TIMEOUT, request).await {
            Ok(result) => result,
            Err(_) => Err(format!("GET {path} got no answer within {}s", REQUEST_TIMEOUT.as_secs())),
        };
        result.map_err(|e| super::context::scrub(&e, &self.token))
    }

    async fn read_at(&self, commit: &str, path: &str) -> Result<BaseFiles, String> {
        let Repository { owner, name } = &self.repository;
        let tree_path = format!("/repos/{owner}/{name}/git/trees/{commit}?recursive=1");
        let tree = self.get(&tree_path).await?.ok_or_else(|| format!("GitHub does not know commit {commit}"))?;
        let tree: serde_json::Value =
            serde_json::from_str(&tree).map_err(|e| format!("unexpected tree listing from GitHub: {e}"))?;
        let entries = tree.get("tree").and_then(|t| t.as_array()).cloned().unwrap_or_default();
        let blob_paths = entries
            .iter()
            .filter(|e| e.get("type").and_then(|t| t.as_str()) == Some("blob"))
            .filter_map(|e| e.get("path").and_then(|p| p.as_str()));
        let ignore_paths: Vec<String> =
            blob_paths.filter(|p| p.rsplit('/').next() == Some(IGNORE_FILE_NAME)).map(str::to_string).collect();

        let file = |p: &str| format!("/repos/{owner}/{name}/contents/{}?ref={commit}", encode_path(p));
        let policy = self.get(&file(path)).await?;
        let mut ignore_files = Vec::new();
        for ignore_path in ignore_paths {
            if let Some(content) = self.get(&file(&ignore_path)).await? {
                ignore_files.push(IgnoreFileText { path: ignore_path, content });
            }
        }
        let lock = self.get(&file(&crate::lock::shown_path_for(path))).await?;
        Ok(BaseFiles { policy, ignore_files, lock })
    }
}

impl BaseFileSource for ContentsApi {
    fn read<'a>(
        &'a self,
        commit: &'a str,
        policy_path: &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<BaseFiles, String>> + Send + 'a>> {
        Box::pin(async move {
            if !crate::git::valid_sha(commit) {
                return Err("the base commit is not a SHA".to_string());
            }
            self.read_at(commit, policy_path).await.map_err(|e| format!("the GitHub API could not help either: {e}"))
        })
    }
}

/// What a URL path segment cannot hold as itself (RFC 3986), `%` and `/` included.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// A repository path as a URL path: each segment percent-encoded, `/` kept.
fn encode_path(path: &str) -> String {
    path.split('/')
        .map(|segment| percent_encoding::utf8_percent_encode(segment, SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}
