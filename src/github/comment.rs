//! The sticky pull request comment: one per PR, found by its hidden marker, edited in place.
//!
//! The requests, their deadline and GitHub's rate limits are `api.rs`'s. Here a failed write is
//! retried only after listing the comments again, so a POST that did land is found and edited
//! instead of duplicated.

use http::StatusCode;
use octocrab::models::issues::Comment;

pub use super::api::{
    ACTIONS_BOT, CommentError, Deadline, MAX_DEADLINE, RetryPolicy, SECONDARY_LIMIT_WAIT, Target, Waits, scrub_error,
};
use super::api::{Api, classify, has_next_page};
use super::context::Repository;
use super::fit::MARKER;

/// Comment bodies are limited to 65,536 characters; this leaves room for GitHub's own counting.
pub const COMMENT_BUDGET: usize = 60_000;
/// The budget after GitHub still refused a body as too long (422).
pub const SHORT_COMMENT_BUDGET: usize = 20_000;
/// Pages of 100 comments read at most while looking for the sticky one.
const MAX_PAGES: u32 = 100;
/// Names the comment's author outright, for app installation tokens (`name[bot]`), which
/// cannot read `/user` either.
pub const AUTHOR_ENV: &str = "MONGO_PREFLIGHT_COMMENT_AUTHOR";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created { id: u64 },
    Updated { id: u64 },
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

impl Api<'_> {
    fn issue_path(&self) -> String {
        let Repository { owner, name } = &self.target.repository;
        format!("/repos/{owner}/{name}/issues/{}/comments", self.target.pr_number)
    }

    fn comment_path(&self, id: u64) -> String {
        let Repository { owner, name } = &self.target.repository;
        format!("/repos/{owner}/{name}/issues/comments/{id}")
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
}

/// Only a comment the token's own author wrote with the marker: a person quoting the marker, or
/// another bot pasting it, never gets edited. Logins compare as GitHub does, ignoring case.
fn is_sticky(comment: &Comment, author: &str) -> bool {
    comment.user.login.eq_ignore_ascii_case(author) && comment.body.as_deref().is_some_and(|b| b.contains(MARKER))
}

fn comment_id(body: &str) -> Option<u64> {
    serde_json::from_str::<serde_json::Value>(body).ok()?.get("id")?.as_u64()
}
