//! The job summary: markdown appended to the `GITHUB_STEP_SUMMARY` file.

use std::io::Write;
use std::path::Path;

/// GitHub refuses a step summary over 1 MiB (and then shows none of it).
pub const SUMMARY_LIMIT_BYTES: usize = 1024 * 1024;

/// What ends a summary that had to be cut.
pub const CUT_NOTICE: &str = "\n\n> [!WARNING]\n> The report was cut to fit the 1 MiB job summary limit. \
Run `mongo-preflight check --format json` for the full report.\n";

/// Appends `markdown` to the summary file at `path`, cut so that the whole file stays within
/// [`SUMMARY_LIMIT_BYTES`] (earlier steps' or tools' content in the same file counts too).
/// Returns whether the text had to be cut.
pub fn append(path: &Path, markdown: &str) -> std::io::Result<bool> {
    let existing = std::fs::metadata(path).map(|m| m.len() as usize).unwrap_or(0);
    let separator = if existing > 0 { "\n" } else { "" };
    let room = SUMMARY_LIMIT_BYTES.saturating_sub(existing + separator.len());
    let (text, cut) = fit(markdown, room);
    if text.is_empty() {
        return Ok(cut);
    }
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    file.write_all(separator.as_bytes())?;
    file.write_all(text.as_bytes())?;
    if !text.ends_with('\n') {
        file.write_all(b"\n")?;
    }
    file.flush()?;
    Ok(cut)
}

/// `markdown` itself when it fits in `room` bytes (with its final newline), otherwise a
/// prefix of whole lines that fits together with [`CUT_NOTICE`].
fn fit(markdown: &str, room: usize) -> (String, bool) {
    let needs_newline = usize::from(!markdown.ends_with('\n'));
    if markdown.len() + needs_newline <= room {
        return (markdown.to_string(), false);
    }
    (super::fit::cut_to_fit(markdown, room.saturating_sub(1), CUT_NOTICE, str::len), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_kept_whole() {
        assert_eq!(fit("# ok\n", 100), ("# ok\n".to_string(), false));
    }

    #[test]
    fn long_text_is_cut_at_a_line_and_says_so() {
        let text = "line\n".repeat(1000);
        let (out, cut) = fit(&text, 600);
        assert!(cut);
        assert!(out.len() <= 600, "{} bytes", out.len());
        assert!(out.ends_with(CUT_NOTICE));
        assert!(out.trim_end_matches(CUT_NOTICE).lines().all(|l| l == "line"));
    }

    #[test]
    fn multibyte_text_is_cut_on_a_char_boundary() {
        let text = "é".repeat(1000);
        let (out, cut) = fit(&text, 700);
        assert!(cut);
        assert!(out.len() <= 700);
    }
}
