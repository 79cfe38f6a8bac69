//! `check`'s look at the CA files the repository's MongoDB settings name: found with `git grep`
//! over the tracked files, read, and judged like the CA file a probe uses.

use std::path::Path;
use std::time::Duration;

use crate::model::{ClusterReport, Note, Severity};

/// A report entry per CA file with a problem; a note when the repository could not be searched.
pub async fn judge(root: &Path, timeout: Duration) -> (Vec<ClusterReport>, Vec<Note>) {
    let repo = crate::git::Repo::new(root, crate::git::deadline_for(Some(timeout)));
    let output = match repo.grep(crate::scan::ca_files::GREP_PATTERN).await {
        Ok(output) => output,
        // Outside a git repository there are no tracked settings to read.
        Err(e) if e.contains("not a git repository") => return (Vec::new(), Vec::new()),
        Err(e) => {
            let message = format!("the CA files the repository's settings name were not checked: {e}");
            return (Vec::new(), vec![Note { severity: Severity::Info, message }]);
        }
    };
    let lines = crate::scan::ca_files::parse_grep(&output);
    let references = crate::scan::ca_files::references(root, &lines);
    let reports = references
        .iter()
        .filter_map(|r| {
            let bundle = crate::probe::ca_bundle::read(&root.join(&r.path));
            crate::diagnose::ca_bundle::repository_file(r, &bundle)
        })
        .collect();
    (reports, Vec::new())
}
