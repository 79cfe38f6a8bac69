//! The policy's `atlas:` key: the MongoDB Atlas project behind the clusters, whose
//! Administration API confirms or refutes an access-list rejection and can give CI temporary
//! access.

use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::diagnostic::Source;
use crate::error::AppError;
use crate::model::{Note, Severity};

/// The Atlas project of the clusters. The credentials come from the environment:
/// `MONGODB_ATLAS_CLIENT_ID` and `MONGODB_ATLAS_CLIENT_SECRET` (a service account), or
/// `MONGODB_ATLAS_PUBLIC_KEY` and `MONGODB_ATLAS_PRIVATE_KEY` (an API key); Project Read Only
/// confirms a diagnosis, Project Network Access Manager also allows temporary access.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AtlasFile {
    /// The project (group) id, 24 hexadecimal digits.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub project_id: Option<Spanned<String>>,
    /// An environment variable holding the project id.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub project_id_env: Option<Spanned<String>>,
    /// Add the runner's IP/32 to the project's access list for this long (`30m`, `2h`, at most
    /// `7d`) before probing, and delete it at the end of the run. `--atlas-temporary-access`
    /// wins.
    #[serde(default)]
    #[schemars(with = "Option<String>", regex(pattern = r"^[0-9]+(s|m|min|h|d)?$"))]
    pub temporary_access: Option<Spanned<String>>,
}

/// The validated `atlas:` key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtlasPolicy {
    pub project_id: String,
    pub temporary_access: Option<Duration>,
}

/// Validates `atlas:`. `Ok(None)` with a note when the project id's variable is empty in a run
/// without secrets.
pub(super) fn validate(
    raw: &Spanned<AtlasFile>,
    source: &Source<'_>,
    env: &dyn Fn(&str) -> Option<String>,
    secrets_withheld: bool,
) -> Result<(Option<AtlasPolicy>, Option<Note>), AppError> {
    let a = &raw.value;
    let temporary_access = match &a.temporary_access {
        Some(d) => Some(
            crate::atlas::temporary::parse_duration(&d.value)
                .map_err(|e| source.error_at(d.referenced, format!("`atlas.temporary_access`: {e}")))?,
        ),
        None => None,
    };
    let project_id = match (&a.project_id, &a.project_id_env) {
        (Some(_), Some(var)) => {
            return Err(source.error_at(var.referenced, "`atlas` has both `project_id` and `project_id_env`; keep one"));
        }
        (None, None) => {
            return Err(source.error_at(raw.referenced, "`atlas` needs `project_id` or `project_id_env`"));
        }
        (Some(id), None) => (id.value.trim().to_string(), id.referenced),
        (None, Some(var)) => match env(&var.value).map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) {
            Some(id) => (id, var.referenced),
            None if secrets_withheld => {
                let note = Note {
                    severity: Severity::Warning,
                    message: format!(
                        "the Atlas project was not asked: `{}` (`atlas.project_id_env`) is empty in a run without secrets",
                        var.value
                    ),
                };
                return Ok((None, Some(note)));
            }
            None => {
                return Err(source.error_at(
                    var.referenced,
                    format!("`atlas.project_id_env`: the environment variable `{}` is not set or is empty", var.value),
                ));
            }
        },
    };
    let (id, at) = project_id;
    if id.len() != 24 || !id.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(source.error_at(
            at,
            format!("`atlas`: the project id must be 24 hexadecimal digits, not `{}`", crate::redact::printable(&id)),
        ));
    }
    Ok((Some(AtlasPolicy { project_id: id, temporary_access }), None))
}
