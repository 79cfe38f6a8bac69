//! `.mongo-preflight-ignore`: gitignore-syntax files that leave paths out of the scan only.
//!
//! Their contents come from the caller's choice of source. In a pull request the files as the
//! base commit has them are the ones to trust: otherwise the change under review could add an
//! entry that hides its own insecure line.

use ignore::gitignore::{Gitignore, GitignoreBuilder};

use crate::error::AppError;

/// The file name, in any directory.
pub const IGNORE_FILE_NAME: &str = ".mongo-preflight-ignore";

/// Where the scan takes its `.mongo-preflight-ignore` files from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum IgnoreFiles {
    /// Every `.mongo-preflight-ignore` among the scanned files, as they are on disk.
    #[default]
    WorkingTree,
    /// Exactly these (for example the base commit's versions); files on disk are not read.
    Given(Vec<IgnoreFile>),
}

/// One ignore file's content and where it sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreFile {
    /// The directory that holds it, relative to the repository's top (to the scan root outside
    /// git), `/`-separated, without leading or trailing `/`; `""` is the top.
    pub dir: String,
    pub content: String,
}

/// The patterns of one ignore file, in order: every line that is neither blank nor a comment,
/// with its line ending and unescaped trailing spaces removed (as git reads them).
pub fn ignore_entries(content: &str) -> Vec<String> {
    content
        .trim_start_matches('\u{feff}')
        .lines()
        .filter_map(|line| {
            let mut end = line.len();
            // Trailing spaces end a pattern unless the last one is escaped with a backslash.
            while end > 0 && line.as_bytes()[end - 1] == b' ' {
                if end >= 2 && line.as_bytes()[end - 2] == b'\\' {
                    break;
                }
                end -= 1;
            }
            let entry = &line[..end];
            (!entry.is_empty() && !entry.starts_with('#')).then(|| entry.to_string())
        })
        .collect()
}

/// All ignore files of a scan, ready to test paths against.
#[derive(Debug, Default)]
pub(crate) struct IgnoreMatcher {
    /// Directory (`""` or `a/b`) and the matcher built from the file there.
    files: Vec<(String, Gitignore)>,
}

impl IgnoreMatcher {
    pub(crate) fn new(files: &[IgnoreFile]) -> Result<IgnoreMatcher, AppError> {
        let mut built = Vec::with_capacity(files.len());
        for file in files {
            let dir = file.dir.trim_matches('/').to_string();
            // Paths are made relative to `dir` before matching, so the matcher's own root is
            // `.`: the crate would otherwise strip it as a string prefix (`app` from `apple/`).
            let mut builder = GitignoreBuilder::new(".");
            for entry in ignore_entries(&file.content) {
                builder
                    .add_line(None, &entry)
                    .map_err(|e| AppError::Usage(format!("invalid pattern `{entry}` in {}: {e}", shown(&dir))))?;
            }
            let matcher = builder.build().map_err(|e| AppError::Usage(format!("{}: {e}", shown(&dir))))?;
            if !matcher.is_empty() {
                built.push((dir, matcher));
            }
        }
        Ok(IgnoreMatcher { files: built })
    }

    /// Whether any file that applies to `path` (repository-relative, `/`-separated) leaves it
    /// out: each file decides on its own, `!` re-including only what that same file excluded.
    pub(crate) fn is_ignored(&self, path: &str) -> bool {
        self.files.iter().any(|(dir, matcher)| {
            let below = if dir.is_empty() {
                Some(path)
            } else {
                path.strip_prefix(dir.as_str()).and_then(|rest| rest.strip_prefix('/'))
            };
            below.is_some_and(|rest| !rest.is_empty() && matcher.matched_path_or_any_parents(rest, false).is_ignore())
        })
    }
}

fn shown(dir: &str) -> String {
    if dir.is_empty() { format!("`{IGNORE_FILE_NAME}`") } else { format!("`{dir}/{IGNORE_FILE_NAME}`") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_skip_comments_and_blank_lines() {
        let content = "\u{feff}# test data\n\nfixtures/\r\n  \n!fixtures/keep.env  \n\\#literal\nend\\ \n";
        assert_eq!(ignore_entries(content), vec!["fixtures/", "!fixtures/keep.env", "\\#literal", "end\\ "]);
    }

    #[test]
    fn nested_files_apply_to_their_directory_with_negation() {
        let built = IgnoreMatcher::new(&[
            IgnoreFile { dir: String::new(), content: "/top.env\nfixtures/\n!fixtures/keep.env\n".into() },
            IgnoreFile { dir: "app".into(), content: "*.local\n/only-here.env\n".into() },
        ]);
        let Ok(matcher) = &built else { panic!("{built:?}") };
        assert!(matcher.is_ignored("top.env"));
        assert!(!matcher.is_ignored("sub/top.env"));
        assert!(matcher.is_ignored("a/fixtures/x.env"));
        assert!(!matcher.is_ignored("fixtures/keep.env"));
        assert!(matcher.is_ignored("app/deep/x.local"));
        assert!(!matcher.is_ignored("x.local"));
        assert!(!matcher.is_ignored("apple/x.local"));
        assert!(matcher.is_ignored("app/only-here.env"));
        assert!(!matcher.is_ignored("app/deep/only-here.env"));
    }
}
