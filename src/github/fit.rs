//! GitHub's size limits: the comment and the job summary each get the report at the most detail
//! that fits, and one function cuts text to size. The comment's marker lives here too: only the
//! comment carries it.

use crate::model::RunReport;
use crate::report::RenderContext;

/// The hidden marker that identifies our PR comment. Only the comment carries it.
pub const MARKER: &str = "<!-- mongo-preflight -->";

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
pub(crate) fn fit_markdown(
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
}
