//! Which policy judges a run.
//!
//! Outside pull requests: the working tree's `mongo-preflight.yml` (or the embedded default).
//! In a pull request or merge-queue entry: the base commit's policy and `.mongo-preflight-ignore`
//! files, so that the change under review cannot loosen the gate that judges it. The change's
//! own files are still validated (a broken one stops the run with its location) and compared
//! with the base's: each loosening is reported, and takes effect once merged, after review.
//!
//! The base's files come from git objects, fetched when absent, then from the GitHub contents
//! API. When none of those work, the working tree judges and a warning says why.

use std::path::{Path, PathBuf};

use super::changes::{IgnoreFileText, loosenings};
use super::{DEFAULT_FILE_NAME, ParseContext, Policy};
use crate::error::AppError;
use crate::git::Repo;
use crate::model::{Note, PolicyChange, PolicySource, Severity};

pub use crate::scan::ignore_files::IGNORE_FILE_NAME;

/// What the run needs to find its policy.
pub struct Request<'a> {
    pub root: &'a Path,
    /// `--policy FILE`, when given.
    pub explicit: Option<&'a Path>,
    /// The pull request or merge-queue entry being judged, if any.
    pub change: Option<Change<'a>>,
    pub env: &'a dyn Fn(&str) -> Option<String>,
    pub today: time::Date,
    /// Reads the base's files when git cannot: the GitHub contents API.
    pub fallback: Option<&'a dyn BaseFileSource>,
}

/// What the policy layer needs to know of a change under review (a pull request or a
/// merge-queue entry), whatever event carried it.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    /// The commit the change is judged against, when the event names one.
    pub base_sha: Option<&'a str>,
    /// The run gets no secrets (a fork or Dependabot pull request).
    pub secrets_withheld: bool,
    /// How messages name it: `pull request #12`, `this merge queue entry`.
    pub label: &'a str,
}

/// The policy that judges, and what the run should know about it.
#[derive(Debug)]
pub struct Judging {
    pub policy: Policy,
    /// Repository-relative path of the policy file; `None` for the embedded default.
    pub path: Option<String>,
    pub source: PolicySource,
    pub changes: Vec<PolicyChange>,
    /// The base's ignore files in a pull request; `None`: the working tree's.
    pub ignore_files: Option<Vec<IgnoreFileText>>,
    /// Warnings about how the policy was found.
    pub notes: Vec<Note>,
    /// The posture lock next to the policy: the one that judges, and the change's own.
    pub lock: LockTexts,
}

/// The text of `mongo-preflight.lock` next to the policy, as the run found it. The lock is
/// policy: in a pull request the base's judges and the change's is only compared with it.
#[derive(Debug, Clone, Default)]
pub struct LockTexts {
    /// Repository-relative path, as it is shown.
    pub path: String,
    /// The lock that judges (`None`: there is none).
    pub judging: Option<String>,
    /// In a pull request, the change's own lock (`None`: the change has none).
    pub head: Option<String>,
    /// The base's lock judges a pull request: `head` is only compared with it.
    pub from_base: bool,
}

/// The base commit's policy file and ignore files.
#[derive(Debug, Default)]
pub struct BaseFiles {
    pub policy: Option<String>,
    pub ignore_files: Vec<IgnoreFileText>,
    /// The posture lock next to the policy.
    pub lock: Option<String>,
}

/// Another way to read the base's files, for when git has no way to them.
pub trait BaseFileSource: Sync {
    /// The files at `commit`; `Err` says why they could not be read.
    fn read<'a>(
        &'a self,
        commit: &'a str,
        policy_path: &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<BaseFiles, String>> + Send + 'a>>;
}

/// Finds and validates the policy that judges this run.
pub async fn resolve(request: &Request<'_>, repo: &Repo) -> Result<Judging, AppError> {
    let (file, shown) = working_tree_file(request)?;
    let base_dir = file.as_deref().and_then(Path::parent).unwrap_or(request.root).to_path_buf();
    let context = ParseContext {
        base_dir: &base_dir,
        env: request.env,
        today: request.today,
        secrets_withheld: request.change.is_some_and(|c| c.secrets_withheld),
    };
    // The change's own policy is validated in every case: a broken one must not merge.
    let working = match &file {
        Some(path) => Policy::load_with(path, &shown, &context)?,
        None => Policy::default_for_env(request.env)?,
    };
    let lock_path = crate::lock::shown_path_for(&shown);
    let working_lock = std::fs::read_to_string(crate::lock::path_for(file.as_deref(), request.root)).ok();
    // The working tree judges outside pull requests, and when the base cannot be read.
    let working_tree_judges = |notes: Vec<Note>| Judging {
        source: if file.is_some() { PolicySource::WorkingTree } else { PolicySource::Default },
        path: file.is_some().then(|| shown.clone()),
        policy: working.clone(),
        changes: Vec::new(),
        ignore_files: None,
        notes,
        lock: LockTexts { path: lock_path.clone(), judging: working_lock.clone(), head: None, from_base: false },
    };

    let Some(change) = request.change else {
        return Ok(working_tree_judges(Vec::new()));
    };

    let base_files = match change.base_sha {
        None => Err("the event payload names no base commit".to_string()),
        Some(sha) => read_base(repo, request.fallback, sha, &shown).await,
    };
    let base_files = match base_files {
        Ok(files) => files,
        Err(why) => {
            return Ok(working_tree_judges(vec![Note {
                severity: Severity::Warning,
                message: format!(
                    "the base commit's policy could not be read ({why}), so the policy in {} judged it: \
                     its own loosenings were not held back",
                    change.label
                ),
            }]));
        }
    };

    let base_sha = change.base_sha.unwrap_or_default();
    let (base, source) = match &base_files.policy {
        Some(text) => {
            let base = Policy::parse_with(text, &shown, &context).map_err(|e| {
                AppError::Policy(format!(
                    "the policy at the base commit {} judges {}, and it is invalid: {e}",
                    crate::git::short(base_sha),
                    change.label
                ))
            })?;
            (base, PolicySource::Base)
        }
        None => (Policy::default_for_env(request.env)?, PolicySource::Default),
    };
    let head_ignores = working_tree_ignore_files(repo, request.root).await;
    let changes = loosenings(&base, &working, &base_files.ignore_files, &head_ignores);
    let path = base_files.policy.is_some().then(|| shown.clone());
    let lock = LockTexts { path: lock_path, judging: base_files.lock, head: working_lock, from_base: true };
    Ok(Judging {
        policy: base,
        path,
        source,
        changes,
        ignore_files: Some(base_files.ignore_files),
        notes: Vec::new(),
        lock,
    })
}

/// The policy file in the working tree (`None`: there is none) and how it is shown.
fn working_tree_file(request: &Request<'_>) -> Result<(Option<PathBuf>, String), AppError> {
    match request.explicit {
        Some(path) => {
            if !path.is_file() {
                return Err(AppError::Policy(format!("the policy file {} does not exist", path.display())));
            }
            Ok((Some(path.to_path_buf()), shown_path(path, request.root)))
        }
        None => {
            let path = request.root.join(DEFAULT_FILE_NAME);
            Ok((path.is_file().then_some(path), DEFAULT_FILE_NAME.to_string()))
        }
    }
}

/// How a policy path is shown: relative to the repository root when inside it, so that SARIF,
/// annotations and the base commit's tree locate it.
fn shown_path(path: &Path, root: &Path) -> String {
    let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    match absolute.strip_prefix(&root) {
        Ok(relative) => relative.to_string_lossy().replace('\\', "/"),
        Err(_) => path.display().to_string(),
    }
}

async fn read_base(
    repo: &Repo,
    fallback: Option<&dyn BaseFileSource>,
    sha: &str,
    policy_path: &str,
) -> Result<BaseFiles, String> {
    let from_git = read_base_from_git(repo, sha, policy_path).await;
    match (from_git, fallback) {
        (Ok(files), _) => Ok(files),
        (Err(why), None) => Err(why),
        (Err(why), Some(api)) => api.read(sha, policy_path).await.map_err(|api_why| format!("{why}; {api_why}")),
    }
}

async fn read_base_from_git(repo: &Repo, sha: &str, policy_path: &str) -> Result<BaseFiles, String> {
    repo.ensure_commit(sha).await?;
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
    let policy = repo.read_at(sha, policy_path).await?.map(text);
    let mut ignore_files = Vec::new();
    for path in repo.paths_named_at(sha, IGNORE_FILE_NAME).await? {
        if let Some(bytes) = repo.read_at(sha, &path).await? {
            ignore_files.push(IgnoreFileText { path, content: text(bytes) });
        }
    }
    let lock = repo.read_at(sha, &crate::lock::shown_path_for(policy_path)).await?.map(text);
    Ok(BaseFiles { policy, ignore_files, lock })
}

/// The change's own ignore files, to list what it adds. Unreadable ones count as empty.
async fn working_tree_ignore_files(repo: &Repo, root: &Path) -> Vec<IgnoreFileText> {
    let paths = repo.listed_paths_named(IGNORE_FILE_NAME).await.unwrap_or_default();
    paths
        .into_iter()
        .filter_map(|path| {
            let content = std::fs::read_to_string(root.join(&path)).ok()?;
            Some(IgnoreFileText { path, content })
        })
        .collect()
}
