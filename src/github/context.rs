//! What GitHub Actions tells a step through its environment.
//!
//! Everything is read once, through a lookup function, so tests build a context from a map
//! instead of mutating the process environment.

use std::fmt;
use std::path::PathBuf;

/// The public API, used when `GITHUB_API_URL` is unset.
pub const DEFAULT_API_URL: &str = "https://api.github.com";
/// The public web front, used when `GITHUB_SERVER_URL` is unset.
pub const DEFAULT_SERVER_URL: &str = "https://github.com";

/// A secret that never shows up in `Debug` or `Display` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn new(value: impl Into<String>) -> Self {
        Token(value.into())
    }
    /// The raw value, for the `Authorization` header and for scrubbing it out of messages.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

/// The step's view of GitHub Actions.
#[derive(Debug, Clone, Default)]
pub struct ActionsEnv {
    /// `GITHUB_ACTIONS=true`: without it nothing is published.
    pub in_actions: bool,
    /// `owner/name` from `GITHUB_REPOSITORY`.
    pub repository: Option<Repository>,
    /// `GITHUB_API_URL` without a trailing slash; a GHES `…/api/v3` prefix is kept.
    pub api_url: String,
    /// `GITHUB_SERVER_URL` without a trailing slash.
    pub server_url: String,
    pub run_id: Option<String>,
    pub token: Option<Token>,
    pub event_name: Option<String>,
    /// The pull request number from the event payload, when the event is about one.
    pub pr_number: Option<u64>,
    /// Why the event payload gave no pull request number, for a useful note.
    pub pr_number_problem: Option<String>,
    /// The pull request or merge-queue entry this run judges, from the event payload.
    pub change: Option<super::event::ChangeEvent>,
    pub step_summary: Option<PathBuf>,
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    pub owner: String,
    pub name: String,
}

impl fmt::Display for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

impl ActionsEnv {
    /// Reads the real process environment.
    pub fn from_process() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the variables through `lookup`; empty values count as unset, as they do in Actions.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let in_actions = get("GITHUB_ACTIONS").is_some_and(|v| v.trim() == "true");
        let repository = get("GITHUB_REPOSITORY").and_then(|r| parse_repository(&r));
        let api_url =
            get("GITHUB_API_URL").unwrap_or_else(|| DEFAULT_API_URL.to_string()).trim_end_matches('/').to_string();
        let server_url = get("GITHUB_SERVER_URL")
            .unwrap_or_else(|| DEFAULT_SERVER_URL.to_string())
            .trim_end_matches('/')
            .to_string();
        let event_name = get("GITHUB_EVENT_NAME");
        let payload = match get("GITHUB_EVENT_PATH") {
            Some(path) => match std::fs::read(&path) {
                Ok(bytes) => serde_json::from_slice::<serde_json::Value>(&bytes)
                    .map_err(|e| format!("the event payload at {path} is not valid JSON: {e}")),
                Err(e) => Err(format!("cannot read the event payload at {path}: {e}")),
            },
            None => Err("GITHUB_EVENT_PATH is not set".to_string()),
        };
        let (pr_number, pr_number_problem, change) = match &payload {
            Ok(value) => (
                pr_number_in(value),
                None,
                event_name.as_deref().and_then(|name| {
                    super::event::ChangeEvent::from_payload(name, value, get("GITHUB_ACTOR").as_deref())
                }),
            ),
            Err(problem) => (None, Some(problem.clone()), None),
        };
        ActionsEnv {
            in_actions,
            repository,
            api_url,
            server_url,
            run_id: get("GITHUB_RUN_ID"),
            token: get("GITHUB_TOKEN").map(|t| Token::new(t.trim())),
            event_name,
            pr_number,
            pr_number_problem,
            change,
            step_summary: get("GITHUB_STEP_SUMMARY").map(PathBuf::from),
            output: get("GITHUB_OUTPUT").map(PathBuf::from),
        }
    }

    /// `GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/runs/GITHUB_RUN_ID`, when all three are known.
    pub fn run_url(&self) -> Option<String> {
        let repo = self.repository.as_ref()?;
        let run_id = self.run_id.as_deref()?;
        Some(format!("{}/{repo}/actions/runs/{run_id}", self.server_url))
    }
}

fn parse_repository(value: &str) -> Option<Repository> {
    let (owner, name) = value.trim().split_once('/')?;
    let valid = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    (valid(owner) && valid(name)).then(|| Repository { owner: owner.to_string(), name: name.to_string() })
}

/// The pull request number of a `pull_request` / `pull_request_target` payload
/// (`pull_request.number`, or the top-level `number` those events also carry).
/// Other events (push, schedule) have none: `Ok(None)`.
pub fn pr_number_from_event(payload: &[u8]) -> Result<Option<u64>, serde_json::Error> {
    let event: serde_json::Value = serde_json::from_slice(payload)?;
    Ok(pr_number_in(&event))
}

fn pr_number_in(event: &serde_json::Value) -> Option<u64> {
    let pull_request = event.get("pull_request")?;
    pull_request.get("number").and_then(|n| n.as_u64()).or_else(|| event.get("number").and_then(|n| n.as_u64()))
}

/// Removes the token from `text`, should any message ever echo it.
pub(crate) fn scrub(text: &str, token: &Token) -> String {
    let secret = token.expose();
    if secret.len() < 4 { text.to_string() } else { text.replace(secret, "***") }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> ActionsEnv {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ActionsEnv::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn pull_request_number_comes_from_the_payload() {
        let payload = br#"{"action":"synchronize","number":42,"pull_request":{"number":42,"head":{"sha":"abc"}}}"#;
        assert_eq!(pr_number_from_event(payload).ok().flatten(), Some(42));
    }

    #[test]
    fn push_events_have_no_pull_request() {
        let payload = br#"{"ref":"refs/heads/main","after":"abc","commits":[]}"#;
        assert_eq!(pr_number_from_event(payload).ok().flatten(), None);
    }

    #[test]
    fn ghes_api_prefix_is_kept_and_trailing_slash_dropped() {
        let e = env(&[("GITHUB_API_URL", "https://ghe.example.com/api/v3/"), ("GITHUB_ACTIONS", "true")]);
        assert_eq!(e.api_url, "https://ghe.example.com/api/v3");
        assert!(e.in_actions);
    }

    #[test]
    fn defaults_apply_outside_actions() {
        let e = env(&[]);
        assert!(!e.in_actions);
        assert_eq!(e.api_url, DEFAULT_API_URL);
        assert_eq!(e.run_url(), None);
    }

    #[test]
    fn run_url_joins_server_repository_and_run() {
        let e = env(&[
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_REPOSITORY", "octo/app"),
            ("GITHUB_RUN_ID", "12345"),
        ]);
        assert_eq!(e.run_url().as_deref(), Some("https://github.com/octo/app/actions/runs/12345"));
    }

    #[test]
    fn malformed_repository_is_ignored() {
        assert_eq!(env(&[("GITHUB_REPOSITORY", "no-slash")]).repository, None);
        assert_eq!(env(&[("GITHUB_REPOSITORY", "a/b/c")]).repository, None);
    }

    #[test]
    fn token_is_hidden_from_debug() {
        let e = env(&[("GITHUB_TOKEN", "ghs_secretvalue")]);
        assert!(!format!("{e:?}").contains("ghs_secretvalue"));
        assert_eq!(e.token.as_ref().map(Token::expose), Some("ghs_secretvalue"));
    }

    #[test]
    fn scrub_removes_the_token() {
        let token = Token::new("ghs_abcdef123456");
        assert_eq!(scrub("Bearer ghs_abcdef123456 failed", &token), "Bearer *** failed");
    }
}
