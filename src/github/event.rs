//! What the event payload says about the change being judged: a pull request or a merge-queue
//! entry, the base commit it must be judged against, and whether it comes from somewhere that
//! gets no secrets (a fork, Dependabot).

use serde_json::Value;

/// The events whose run judges a change against a base commit.
pub const PULL_REQUEST_EVENTS: &[&str] = &["pull_request", "pull_request_target", "pull_request_review"];
pub const MERGE_QUEUE_EVENT: &str = "merge_group";

/// Dependabot's pull requests run without the repository's secrets.
const DEPENDABOT: &str = "dependabot[bot]";

/// A change under review, read from the event payload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeEvent {
    /// `pull_request`, `merge_group`, …: the event name as GitHub gives it.
    pub event: String,
    /// The commit the change is judged against: `pull_request.base.sha` or
    /// `merge_group.base_sha`. `None` when the payload lacks it.
    pub base_sha: Option<String>,
    /// The branch the change targets (`main`), for messages.
    pub base_ref: Option<String>,
    /// The pull request number; merge-queue entries have none.
    pub number: Option<u64>,
    /// Opened from another repository: that run gets no secrets.
    pub from_fork: bool,
    /// Opened by Dependabot: that run gets no secrets either.
    pub from_dependabot: bool,
}

impl ChangeEvent {
    /// Reads the payload of `event`; `None` for events that judge no change (push, schedule).
    /// `actor` is `GITHUB_ACTOR`, which names Dependabot when the payload does not.
    pub fn from_payload(event: &str, payload: &Value, actor: Option<&str>) -> Option<ChangeEvent> {
        let text = |v: &Value| v.as_str().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        if event == MERGE_QUEUE_EVENT {
            let group = payload.get("merge_group")?;
            return Some(ChangeEvent {
                event: event.to_string(),
                base_sha: group.get("base_sha").and_then(text),
                base_ref: group.get("base_ref").and_then(text).map(|r| strip_heads(&r)),
                ..ChangeEvent::default()
            });
        }
        if !PULL_REQUEST_EVENTS.contains(&event) {
            return None;
        }
        let pr = payload.get("pull_request")?;
        let repo_name = |side: &str| pr.pointer(&format!("/{side}/repo/full_name")).and_then(text);
        let base_repo = repo_name("base");
        // A head repository that is gone (a deleted fork) is a fork as far as secrets go.
        let from_fork = match (repo_name("head"), &base_repo) {
            (Some(head), Some(base)) => !head.eq_ignore_ascii_case(base),
            (None, Some(_)) => true,
            _ => false,
        };
        let author = pr.pointer("/user/login").and_then(text);
        Some(ChangeEvent {
            event: event.to_string(),
            base_sha: pr.pointer("/base/sha").and_then(text),
            base_ref: pr.pointer("/base/ref").and_then(text),
            number: pr.get("number").and_then(Value::as_u64).or_else(|| payload.get("number").and_then(Value::as_u64)),
            from_fork,
            from_dependabot: author.as_deref() == Some(DEPENDABOT) || actor.map(str::trim) == Some(DEPENDABOT),
        })
    }

    /// Whether the run gets no repository secrets, so an empty `uri_env` is expected there.
    pub fn lacks_secrets(&self) -> bool {
        self.from_fork || self.from_dependabot
    }

    /// `pull request #12` / `merge queue entry`, for messages.
    pub fn describe(&self) -> String {
        match (self.event.as_str(), self.number) {
            (MERGE_QUEUE_EVENT, _) => "this merge queue entry".to_string(),
            (_, Some(n)) => format!("pull request #{n}"),
            _ => "this pull request".to_string(),
        }
    }
}

fn strip_heads(reference: &str) -> String {
    reference.strip_prefix("refs/heads/").unwrap_or(reference).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pr_payload(head_repo: Option<&str>, login: &str) -> Value {
        serde_json::json!({
            "action": "synchronize",
            "number": 7,
            "pull_request": {
                "number": 7,
                "user": {"login": login, "type": "User"},
                "base": {"sha": "1111111111111111111111111111111111111111", "ref": "main",
                         "repo": {"full_name": "octo/app"}},
                "head": {"sha": "2222222222222222222222222222222222222222", "ref": "feature",
                         "repo": head_repo.map(|r| serde_json::json!({"full_name": r}))}
            }
        })
    }

    #[test]
    fn a_pull_request_names_its_base_commit() {
        let event = ChangeEvent::from_payload("pull_request", &pr_payload(Some("octo/app"), "mona"), None);
        let event = event.expect("a change");
        assert_eq!(event.base_sha.as_deref(), Some("1111111111111111111111111111111111111111"));
        assert_eq!(event.base_ref.as_deref(), Some("main"));
        assert_eq!(event.number, Some(7));
        assert!(!event.lacks_secrets());
    }

    #[test]
    fn forks_deleted_forks_and_dependabot_lack_secrets() {
        let fork = ChangeEvent::from_payload("pull_request", &pr_payload(Some("someone/app"), "mona"), None);
        assert!(fork.is_some_and(|e| e.from_fork));
        let gone = ChangeEvent::from_payload("pull_request", &pr_payload(None, "mona"), None);
        assert!(gone.is_some_and(|e| e.from_fork));
        let bot = ChangeEvent::from_payload("pull_request", &pr_payload(Some("octo/app"), DEPENDABOT), None);
        assert!(bot.is_some_and(|e| e.from_dependabot && !e.from_fork));
        let by_actor =
            ChangeEvent::from_payload("pull_request", &pr_payload(Some("octo/app"), "mona"), Some(DEPENDABOT));
        assert!(by_actor.is_some_and(|e| e.from_dependabot));
    }

    #[test]
    fn a_merge_queue_entry_is_judged_against_its_base_sha() {
        let payload = serde_json::json!({"merge_group": {"base_sha": "abcabcabcabcabcabcabcabcabcabcabcabcabca",
            "base_ref": "refs/heads/main", "head_sha": "def"}});
        let event = ChangeEvent::from_payload(MERGE_QUEUE_EVENT, &payload, None).expect("a change");
        assert_eq!(event.base_sha.as_deref(), Some("abcabcabcabcabcabcabcabcabcabcabcabcabca"));
        assert_eq!(event.base_ref.as_deref(), Some("main"));
        assert_eq!(event.describe(), "this merge queue entry");
    }

    #[test]
    fn pushes_and_schedules_judge_no_change() {
        let push = serde_json::json!({"ref": "refs/heads/main", "after": "abc"});
        assert_eq!(ChangeEvent::from_payload("push", &push, None), None);
        assert_eq!(ChangeEvent::from_payload("schedule", &serde_json::json!({}), None), None);
    }
}
