//! GitHub Actions integration: PR comment, job summary, outputs, annotations.
//!
//! Everything here runs after the report is written and the verdict decided. Nothing here can
//! change either: a failure becomes a warning [`Note`] for the caller to show.

pub mod comment;
pub mod contents;
pub mod context;
pub mod event;
pub mod issue;
pub mod outputs;
pub mod summary;

use std::path::Path;

use crate::model::{Note, RunReport, Severity};
use crate::report::{Format, RenderContext};

pub use context::ActionsEnv;

/// The hidden marker that identifies our PR comment. Only the comment carries it.
pub const MARKER: &str = "<!-- mongo-preflight -->";

/// Publishes a finished run to GitHub when running in Actions: the job summary and step
/// outputs always, the sticky PR comment when `comment` is set, annotations when the chosen
/// stdout format is not already `github`. Failures here never change the verdict: they come
/// back as notes (warnings) for the caller to show. `timeout` is the run's `--timeout`: it
/// bounds every GitHub request, and the comment as a whole (see [`comment::RetryPolicy::for_timeout`]).
pub async fn publish(
    report: &RunReport,
    ctx: &RenderContext,
    stdout_format: Format,
    sarif_file: Option<&Path>,
    comment: bool,
    timeout: std::time::Duration,
) -> Vec<Note> {
    let env = ActionsEnv::from_process();
    let comment_author =
        std::env::var(comment::AUTHOR_ENV).ok().map(|a| a.trim().to_string()).filter(|a| !a.is_empty());
    let options = PublishOptions {
        stdout_format,
        sarif_file,
        comment,
        retry: comment::RetryPolicy::for_timeout(timeout),
        comment_author,
    };
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
    fit_markdown(report, ctx, summary::SUMMARY_LIMIT_BYTES, summary::CUT_NOTICE, str::len)
}

/// The comment body in at most `budget` characters: the marker, then the report at the most
/// detail that fits. Anything still too long is cut at a line, with a pointer to the job
/// summary that holds the whole report.
pub fn comment_body(report: &RunReport, ctx: &RenderContext, budget: usize) -> String {
    let notice = match &ctx.run_url {
        Some(url) => format!(
            "\n\n---\n_This comment was shortened to fit GitHub's limit. The full report is in the [job summary]({})._\n",
            url.replace(')', "%29")
        ),
        None => "\n\n---\n_This comment was shortened to fit GitHub's limit. The full report is in the job summary._\n"
            .to_string(),
    };
    let room = budget.saturating_sub(MARKER.chars().count() + 1);
    let markdown = fit_markdown(report, ctx, room, &notice, |s| s.chars().count());
    format!("{MARKER}\n{markdown}")
}

/// The report in at most `room` (as `measure` counts): everything when it fits; otherwise
/// tables only, with fewer and fewer finding rows; as a last resort cut at a line.
fn fit_markdown(
    report: &RunReport,
    ctx: &RenderContext,
    room: usize,
    notice: &str,
    measure: impl Fn(&str) -> usize,
) -> String {
    use crate::report::markdown::{Detail, render_detail};
    let full = render_detail(report, ctx, Detail::Full);
    if measure(&full) <= room {
        return full;
    }
    let mut rows = report.findings.len();
    loop {
        let body = render_detail(report, ctx, Detail::Compact { findings: rows });
        if measure(&body) <= room || rows == 0 {
            return cut_to_fit(&body, room, notice, &measure);
        }
        rows = rows.saturating_sub((rows / 4).max(1));
    }
}

/// `text` if `measure(text) <= room`; otherwise the longest prefix of whole lines that fits
/// with the closers for any code fence or `<details>` it leaves open and then `notice`.
pub(crate) fn cut_to_fit(text: &str, room: usize, notice: &str, measure: impl Fn(&str) -> usize) -> String {
    if measure(text) <= room {
        return text.to_string();
    }
    let mut line_ends: Vec<usize> = text.match_indices('\n').map(|(i, _)| i).collect();
    // Start from the last line end that could possibly fit, then walk back until it does.
    let notice_size = measure(notice);
    while let Some(&end) = line_ends.last() {
        let head = &text[..end];
        if measure(head) + notice_size <= room {
            let candidate = format!("{head}{}{notice}", closers(head));
            if measure(&candidate) <= room {
                return candidate;
            }
        }
        line_ends.pop();
    }
    notice.trim_start().chars().take(room).collect()
}

/// What closes the code fences and `<details>` blocks left open in `head`.
fn closers(head: &str) -> String {
    let mut in_fence = false;
    let mut open_details = 0usize;
    for line in head.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        open_details += trimmed.matches("<details").count();
        open_details = open_details.saturating_sub(trimmed.matches("</details>").count());
    }
    let mut out = String::new();
    if in_fence {
        out.push_str("\n```");
    }
    for _ in 0..open_details {
        out.push_str("\n\n</details>");
    }
    out
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
    warning(scrub(&message, &target.token))
}

/// Removes the token from `text`, should any message ever echo it.
pub(crate) fn scrub(text: &str, token: &context::Token) -> String {
    let secret = token.expose();
    if secret.len() < 4 { text.to_string() } else { text.replace(secret, "***") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_untouched() {
        assert_eq!(cut_to_fit("a\nb\n", 10, "!", str::len), "a\nb\n");
    }

    #[test]
    fn cut_keeps_whole_lines_and_closes_an_open_fence() {
        let text = "head\n```\ncode1\ncode2\ncode3\n```\ntail\n";
        let out = cut_to_fit(text, 30, "\n[cut]", str::len);
        assert!(out.len() <= 30, "{out:?}");
        assert!(out.starts_with("head\n```\n"));
        assert!(out.ends_with("```\n[cut]"), "{out:?}");
    }

    #[test]
    fn cut_closes_open_details() {
        let text = "<details>\n<summary>x</summary>\n\nline one\nline two\nline three\n</details>\n";
        let out = cut_to_fit(text, 60, "\n[cut]", str::len);
        assert!(out.len() <= 60, "{out:?}");
        assert!(out.contains("</details>"), "{out:?}");
        assert!(out.ends_with("[cut]"));
    }

    #[test]
    fn tiny_room_still_fits() {
        let out = cut_to_fit(&"x".repeat(100), 5, "notice", str::len);
        assert!(out.len() <= 5);
    }

    #[test]
    fn scrub_removes_the_token() {
        let token = context::Token::new("ghs_abcdef123456");
        assert_eq!(scrub("Bearer ghs_abcdef123456 failed", &token), "Bearer *** failed");
    }
}
