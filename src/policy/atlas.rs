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
    /// The organization whose every cluster is discovered through the Administration API and
    /// probed as `PROJECT_NAME/CLUSTER_NAME` (Organization Read Only is enough), 24 hexadecimal
    /// digits.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub organization_id: Option<Spanned<String>>,
    /// An environment variable holding the organization id.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub organization_id_env: Option<Spanned<String>>,
    /// With an organization: only these projects (names or ids).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub projects: Vec<Spanned<String>>,
    /// With an organization: discovered clusters left out, by `PROJECT_NAME/CLUSTER_NAME` or a
    /// glob over it (`sandbox-*/*`, `*/scratch`).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub exclude: Vec<Spanned<String>>,
}

/// The validated `atlas:` key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtlasPolicy {
    /// The project asked about the listed clusters; `None` with only an organization.
    pub project_id: Option<String>,
    pub temporary_access: Option<Duration>,
    /// Every cluster of this organization is discovered and probed.
    pub organization: Option<OrganizationPolicy>,
}

/// `atlas.organization_id` with its `projects:` and `exclude:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationPolicy {
    pub id: String,
    /// Project names or ids; empty: every project.
    pub projects: Vec<String>,
    /// Names or globs over `PROJECT_NAME/CLUSTER_NAME`.
    pub exclude: Vec<String>,
}

/// An id as Atlas writes them: 24 hexadecimal digits.
fn is_atlas_id(id: &str) -> bool {
    id.len() == 24 && id.chars().all(|c| c.is_ascii_hexdigit())
}

/// Reads an id given directly or through an environment variable. `Ok(None)` when neither is
/// given; `Err(Ok(note))` when the variable is empty in a run without secrets.
#[allow(clippy::type_complexity)]
fn id_of(
    what: &str,
    direct: &Option<Spanned<String>>,
    var: &Option<Spanned<String>>,
    source: &Source<'_>,
    env: &dyn Fn(&str) -> Option<String>,
    secrets_withheld: bool,
) -> Result<Option<String>, Result<Note, AppError>> {
    let (id, at) = match (direct, var) {
        (Some(_), Some(var)) => {
            return Err(Err(
                source.error_at(var.referenced, format!("`atlas` has both `{what}_id` and `{what}_id_env`; keep one"))
            ));
        }
        (None, None) => return Ok(None),
        (Some(id), None) => (id.value.trim().to_string(), id.referenced),
        (None, Some(var)) => match env(&var.value).map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) {
            Some(id) => (id, var.referenced),
            None if secrets_withheld => {
                return Err(Ok(Note {
                    severity: Severity::Warning,
                    message: format!(
                        "the Atlas {what} was not asked: `{}` (`atlas.{what}_id_env`) is empty in a run without secrets",
                        var.value
                    ),
                }));
            }
            None => {
                return Err(Err(source.error_at(
                    var.referenced,
                    format!("`atlas.{what}_id_env`: the environment variable `{}` is not set or is empty", var.value),
                )));
            }
        },
    };
    if !is_atlas_id(&id) {
        return Err(Err(source.error_at(
            at,
            format!("`atlas`: the {what} id must be 24 hexadecimal digits, not `{}`", crate::redact::printable(&id)),
        )));
    }
    Ok(Some(id))
}

/// The organization part of `atlas:`.
fn organization(
    a: &AtlasFile,
    source: &Source<'_>,
    env: &dyn Fn(&str) -> Option<String>,
    secrets_withheld: bool,
) -> Result<Result<Option<OrganizationPolicy>, Note>, AppError> {
    let id = match id_of("organization", &a.organization_id, &a.organization_id_env, source, env, secrets_withheld) {
        Ok(id) => id,
        Err(Ok(note)) => return Ok(Err(note)),
        Err(Err(e)) => return Err(e),
    };
    let Some(id) = id else {
        if let Some(first) = a.projects.first().or(a.exclude.first()) {
            return Err(source.error_at(
                first.referenced,
                "`atlas.projects` and `atlas.exclude` choose among an organization's clusters: add `organization_id`",
            ));
        }
        return Ok(Ok(None));
    };
    let mut projects = Vec::new();
    for p in &a.projects {
        let p = p.value.trim();
        if p.is_empty() {
            return Err(source.error_at(a.projects[0].referenced, "`atlas.projects`: a project cannot be empty"));
        }
        projects.push(p.to_string());
    }
    let mut exclude = Vec::new();
    for e in &a.exclude {
        if let Err(why) = globset::GlobBuilder::new(e.value.trim()).literal_separator(true).build() {
            return Err(source.error_at(
                e.referenced,
                format!("`atlas.exclude` pattern `{}` is not a valid glob: {}", e.value, why.kind()),
            ));
        }
        exclude.push(e.value.trim().to_string());
    }
    Ok(Ok(Some(OrganizationPolicy { id, projects, exclude })))
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
    let organization = match organization(a, source, env, secrets_withheld)? {
        Ok(organization) => organization,
        Err(note) => return Ok((None, Some(note))),
    };
    let project_id = match id_of("project", &a.project_id, &a.project_id_env, source, env, secrets_withheld) {
        Ok(id) => id,
        Err(Ok(note)) => return Ok((None, Some(note))),
        Err(Err(e)) => return Err(e),
    };
    if project_id.is_none() && organization.is_none() {
        return Err(source.error_at(
            raw.referenced,
            "`atlas` needs `project_id` or `project_id_env` (or `organization_id` or `organization_id_env`)",
        ));
    }
    if project_id.is_none()
        && let Some(d) = &a.temporary_access
    {
        return Err(source.error_at(
            d.referenced,
            "`atlas.temporary_access` adds an entry to one project's access list: add `project_id`",
        ));
    }
    Ok((Some(AtlasPolicy { project_id, temporary_access, organization }), None))
}
