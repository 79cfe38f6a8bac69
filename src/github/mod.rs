//! GitHub Actions integration: PR comment, job summary, outputs, annotations.
//!
//! Everything here runs after the report is written and the verdict decided. Nothing here can
//! change either: a failure becomes a warning [`Note`] for the caller to show.

mod api;
pub mod comment;
pub mod contents;
pub mod context;
pub mod event;
mod fit;
pub mod issue;
pub mod outputs;
pub mod summary;

use std::path::Path;

use crate::model::{Note, RunReport, Severity};
use crate::report::{Format, RenderContext};

pub use context::ActionsEnv;
pub use fit::{MARKER, comment_body};

/// Publishes a finished run to GitHub when running in Actions: the job summary and step
/// outputs always, the sticky PR comment when `comment` is set, annotations when the chosen
/// stdout format is not already `github`. Failures here never change the verdict: they come
/// back as notes (warnings) for the caller to show. `retry` holds the publish step's one
/// deadline ([`comment::RetryPolicy::for_timeout`]): pass the same to [`issue::publish`].
pub async fn publish(
    report: &RunReport,
    ctx: &RenderContext,
    stdout_format: Format,
    sarif_file: Option<&Path>,
    comment: bool,
    retry: &comment::RetryPolicy,
) -> Vec<Note> {
    let env = ActionsEnv::from_process();
    let comment_author =
        std::env::var(comment::AUTHOR_ENV).ok().map(|a| a.trim().to_string()).filter(|a| !a.is_empty());
    let options = PublishOptions { stdout_format, sarif_file, comment, retry: retry.clone(), comment_author };
    let published = publish_in(&env, report, ctx, &options).await;
    if let Some((stream, text)) = &published.annotations {
        print_annotations(*stream, text);
    }
    published.notes
}

/// What [`publish_in`] should do besides the summary and outputs.
#[derive(Debug, Clone)]
pub struct PublishOptions<'a> {
    pub stdout_format: Format,
    pub sarif_file: Option<&'a Path>,
    pub comment: bool,
    pub retry: comment::RetryPolicy,
    /// The login whose marked comment is ours (`MONGO_PREFLIGHT_COMMENT_AUTHOR`); when `None`
    /// it is asked of GitHub.
    pub comment_author: Option<String>,
}

/// Where annotations go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// What [`publish_in`] did.
#[derive(Debug, Default)]
pub struct Published {
    pub notes: Vec<Note>,
    /// Workflow commands to print, and where: the caller prints them.
    pub annotations: Option<(Stream, String)>,
    pub comment: Option<comment::Outcome>,
}

/// [`publish`] against an explicit environment; it prints nothing itself.
pub async fn publish_in(
    env: &ActionsEnv,
    report: &RunReport,
    ctx: &RenderContext,
    options: &PublishOptions<'_>,
) -> Published {
    let mut published = Published::default();
    if !env.in_actions {
        return published;
    }
    let ctx = RenderContext { run_url: ctx.run_url.clone().or_else(|| env.run_url()), ..ctx.clone() };
    let notes = &mut published.notes;

    if let Some(path) = &env.step_summary {
        match summary::append(path, &summary_markdown(report, &ctx)) {
            Ok(true) => notes.push(warning("the job summary was cut to fit GitHub's 1 MiB limit")),
            Ok(false) => {}
            Err(e) => notes.push(warning(format!("cannot write the job summary to {}: {e}", path.display()))),
        }
    }

    if let Some(path) = &env.output
        && let Err(e) = outputs::append(path, &step_outputs(report, options.sarif_file))
    {
        notes.push(warning(format!("cannot write the step outputs to {}: {e}", path.display())));
    }

    published.annotations = annotations(report, &ctx, options.stdout_format);

    if options.comment {
        match comment_target(env, options.comment_author.clone()) {
            Ok(target) => {
                let result =
                    comment::upsert(&target, &options.retry, |budget| comment_body(report, &ctx, budget)).await;
                match result {
                    Ok(outcome) => published.comment = Some(outcome),
                    Err(e) => published.notes.push(comment_failure(&e, &target)),
                }
            }
            Err(note) => published.notes.push(note),
        }
    }
    published
}

/// `verdict`, `errors`, `warnings` and `sarif-file` (empty without SARIF), as the contract names them.
pub fn step_outputs(report: &RunReport, sarif_file: Option<&Path>) -> Vec<(&'static str, String)> {
    let totals = report.totals();
    vec![
        ("verdict", report.verdict.as_str().to_string()),
        ("errors", totals.errors.to_string()),
        ("warnings", totals.warnings.to_string()),
        ("sarif-file", sarif_file.map(|p| p.display().to_string()).unwrap_or_default()),
    ]
}

/// The annotations, unless stdout already carries them. They go to stdout as documented for
/// the `github` format, except when stdout holds JSON or SARIF that a later step may parse:
/// then stderr, which the runner scans for workflow commands too.
pub fn annotations(report: &RunReport, ctx: &RenderContext, stdout_format: Format) -> Option<(Stream, String)> {
    let stream = match stdout_format {
        Format::Github => return None,
        Format::Json | Format::Sarif => Stream::Stderr,
        Format::Text | Format::Markdown => Stream::Stdout,
    };
    let text = crate::report::render(report, Format::Github, ctx);
    (!text.trim().is_empty()).then_some((stream, text))
}

fn print_annotations(stream: Stream, text: &str) {
    // Ours, so written after the command fence when one is open.
    crate::output::workflow_commands(text, stream == Stream::Stderr);
}

/// The markdown report for the job summary, fitted to its 1 MiB; [`summary::append`] cuts
/// whatever no longer fits beside what the file already holds.
fn summary_markdown(report: &RunReport, ctx: &RenderContext) -> String {
    fit::fit_markdown(report, ctx, summary::SUMMARY_LIMIT_BYTES, summary::CUT_NOTICE, str::len)
}

fn warning(message: impl Into<String>) -> Note {
    Note { severity: Severity::Warning, message: message.into() }
}

/// The comment's target, or why there is none.
fn comment_target(env: &ActionsEnv, author: Option<String>) -> Result<comment::Target, Note> {
    let Some(pr_number) = env.pr_number else {
        let why = env.pr_number_problem.clone().unwrap_or_else(|| {
            format!("the `{}` event is not about a pull request", env.event_name.as_deref().unwrap_or("unknown"))
        });
        return Err(Note {
            severity: Severity::Info,
            message: format!(
                "no pull request comment: {why} (comments need a `pull_request` or `pull_request_target` event)"
            ),
        });
    };
    let Some(repository) = env.repository.clone() else {
        return Err(warning("no pull request comment: GITHUB_REPOSITORY is not set to owner/name"));
    };
    let Some(token) = env.token.clone() else {
        return Err(warning(
            "no pull request comment: GITHUB_TOKEN is not set (the action passes its `github-token` input, \
             which defaults to the workflow's token)",
        ));
    };
    Ok(comment::Target { api_url: env.api_url.clone(), repository, pr_number, token, author })
}

fn comment_failure(error: &comment::CommentError, target: &comment::Target) -> Note {
    let pr = target.pr_number;
    let message = match error {
        comment::CommentError::Forbidden { .. } => format!(
            "cannot comment on pull request #{pr}: {error}. The token needs the `pull-requests: write` permission \
             (add `permissions: pull-requests: write` to the job). On pull requests from forks the token is \
             read-only whatever the workflow asks: the job summary still has the report; see the fork section \
             of docs/github-action.md for commenting on fork PRs. The verdict is unaffected."
        ),
        comment::CommentError::Unauthorized { .. } => format!(
            "cannot comment on pull request #{pr}: {error}. Check the action's `github-token` input: the token \
             may be invalid, expired or revoked. The job summary has the report; the verdict is unaffected."
        ),
        comment::CommentError::NotFound { .. } => format!(
            "cannot comment on pull request #{pr}: {error}. The pull request may be gone, or the token cannot \
             see the repository. The job summary has the report; the verdict is unaffected."
        ),
        _ => format!(
            "cannot comment on pull request #{pr}: {error}. The job summary has the report; the verdict is unaffected."
        ),
    };
    warning(context::scrub(&message, &target.token))
}
