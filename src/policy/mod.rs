//! The `mongo-preflight.yml` policy: read, validated completely before anything runs, and
//! applied to the results in one ordered pass ([`judge`]).
//!
//! Every mistake in the file is an [`AppError::Policy`] (exit 2) that names the file, line and
//! column; nothing is probed, scanned or written before the whole policy is valid.

pub mod atlas;
pub mod changes;
pub mod diagnostic;
pub mod file;
pub mod judge;
pub mod source;
pub mod waivers;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_saphyr::Spanned;

use crate::catalog;
use crate::error::AppError;
use crate::model;
use crate::model::TlsVersion;
use crate::model::{Note, Severity};
use crate::uri::ConnectionString;
use diagnostic::{Source, did_you_mean};
pub use judge::Judged;
pub use waivers::{Waiver, WaiverEffect, WaiverTarget};

/// Applies the policy to the results in the one ordered pass of [`judge`]; `today` (UTC) decides
/// which waivers are live.
pub fn apply(
    policy: &Policy,
    clusters: &mut [model::ClusterReport],
    findings: &mut [model::Finding],
    today: time::Date,
) -> Judged {
    judge::apply(judge::Weights { waivers: &policy.waivers, overrides: &policy.overrides }, clusters, findings, today)
}

/// The file name looked up at the repository root.
pub const DEFAULT_FILE_NAME: &str = "mongo-preflight.yml";

/// The environment variable probed by the embedded default policy.
pub const DEFAULT_URI_ENV: &str = "MONGODB_URI";

/// A commented starter policy, written by `mongo-preflight init`.
pub const STARTER: &str = include_str!("starter.yml");

/// A validated policy, ready to run.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// How the policy file is shown (relative to the repository root when inside it);
    /// `None` for the embedded default.
    pub file: Option<String>,
    pub clusters: Vec<ClusterPolicy>,
    pub scan: ScanPolicy,
    /// Waivers, and severity overrides that lower a severity (those are waivers too).
    pub waivers: Vec<Waiver>,
    /// Severity by diagnosis code or scan rule id, where the policy raises or keeps it.
    pub overrides: BTreeMap<String, Severity>,
    pub timeout: Option<Duration>,
    /// How far after the run's day a waiver may end.
    pub max_waiver_days: u32,
    /// Clusters not probed in this run because it gets no secrets (fork and Dependabot pull
    /// requests).
    pub skipped_clusters: Vec<String>,
    /// Remarks about the policy itself (e.g. the default policy skipped the probe).
    pub notes: Vec<Note>,
    /// The Atlas project behind the clusters (`atlas:`).
    pub atlas: Option<atlas::AtlasPolicy>,
}

#[derive(Debug, Clone)]
pub struct ClusterPolicy {
    pub name: String,
    pub uri: ConnectionString,
    pub ca_file: Option<PathBuf>,
    pub client_cert: Option<ClientCert>,
    pub min_tls_version: Option<TlsVersion>,
    pub warn_days: u32,
    pub fail_days: u32,
    pub required: bool,
    /// 1-based line of the cluster's entry in the policy file.
    pub line: Option<u32>,
}

/// Where a client certificate comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum ClientCert {
    File(PathBuf),
    /// PEM text from an environment variable; it is a secret and never printed.
    Pem {
        var: String,
        pem: String,
    },
}

impl std::fmt::Debug for ClientCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientCert::File(p) => write!(f, "File({})", p.display()),
            ClientCert::Pem { var, .. } => write!(f, "Pem(${var})"),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanPolicy {
    pub paths: Vec<PathBuf>,
    pub exclude: Vec<String>,
    pub base: Option<String>,
}

/// What validating a policy depends on besides its text.
pub struct ParseContext<'a> {
    /// Relative paths inside the file are taken from here (the file's directory).
    pub base_dir: &'a Path,
    /// Looks up environment variables, so that tests never touch the process environment.
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// The run's day (UTC): waivers may end at most `max_waiver_days` after it.
    pub today: time::Date,
    /// The run gets no secrets (a pull request from a fork or from Dependabot): a cluster whose
    /// `uri_env` is empty is skipped with a warning instead of failing the policy.
    pub secrets_withheld: bool,
}

impl ParseContext<'_> {
    /// Today (UTC) in the real process environment, secrets expected.
    pub fn process(base_dir: &Path) -> ParseContext<'_> {
        ParseContext { base_dir, env: &process_env, today: today_utc(), secrets_withheld: false }
    }
}

fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The run's day, UTC: what waiver expiry is judged against.
pub fn today_utc() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

impl Policy {
    /// Reads and validates a policy file. `shown_as` is how the file is named in messages and
    /// reports (repository-relative when possible). Relative paths inside the file are taken
    /// from the file's directory.
    pub fn load(path: &Path, shown_as: &str) -> Result<Policy, AppError> {
        let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Policy::load_with(path, shown_as, &ParseContext::process(&base_dir))
    }

    /// [`Policy::load`] with an explicit context.
    pub fn load_with(path: &Path, shown_as: &str, context: &ParseContext<'_>) -> Result<Policy, AppError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| AppError::Policy(format!("cannot read the policy file {shown_as}: {e}")))?;
        Policy::parse_with(&text, shown_as, context)
    }

    /// Parses and validates policy text, today, with secrets expected. `env` looks up
    /// environment variables, so that tests can run without touching the process environment.
    pub fn parse(
        text: &str,
        shown_as: &str,
        base_dir: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Policy, AppError> {
        Policy::parse_with(text, shown_as, &ParseContext { base_dir, env, today: today_utc(), secrets_withheld: false })
    }

    /// Parses and validates policy text in `context`.
    pub fn parse_with(text: &str, shown_as: &str, context: &ParseContext<'_>) -> Result<Policy, AppError> {
        let source = Source { name: shown_as, text };
        if text.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) {
            return Err(source.error_at_line_col(1, 1, "the policy is empty; it needs at least `version: 1`"));
        }
        let raw: file::PolicyFile = serde_saphyr::from_str(text).map_err(|e| diagnostic::from_yaml(&source, &e))?;
        Validator { source: &source, context, notes: std::cell::RefCell::new(Vec::new()) }.validate(raw)
    }

    /// The embedded policy used when the repository has no policy file: scan the whole
    /// repository, and probe `$MONGODB_URI` when it is set.
    pub fn default_for_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Policy, AppError> {
        let mut policy = Policy { max_waiver_days: DEFAULT_MAX_WAIVER_DAYS, ..Policy::default() };
        match env(DEFAULT_URI_ENV).filter(|v| !v.trim().is_empty()) {
            Some(raw) => {
                let uri = ConnectionString::parse(&raw).map_err(|e| {
                    AppError::Policy(format!(
                        "${DEFAULT_URI_ENV} (probed because there is no {DEFAULT_FILE_NAME}): {e}"
                    ))
                })?;
                policy.clusters.push(ClusterPolicy {
                    name: DEFAULT_URI_ENV.to_string(),
                    uri,
                    ca_file: None,
                    client_cert: None,
                    min_tls_version: None,
                    warn_days: DEFAULT_WARN_DAYS,
                    fail_days: DEFAULT_FAIL_DAYS,
                    required: true,
                    line: None,
                });
            }
            None => policy.notes.push(Note {
                severity: Severity::Info,
                message: format!(
                    "cluster probe skipped: there is no {DEFAULT_FILE_NAME} and ${DEFAULT_URI_ENV} is not set. \
                     Set {DEFAULT_URI_ENV} (from a CI secret) to probe one cluster, or run `mongo-preflight init` \
                     and list your clusters under `clusters:`."
                ),
            }),
        }
        Ok(policy)
    }
}

/// The repository root, where the policy lives: the git top level, or the current directory
/// outside git.
pub fn repository_root() -> PathBuf {
    let from_git = std::process::Command::new("git")
        .args(["rev-parse", "--show-toplevel"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| PathBuf::from(s.trim()))
        .filter(|p| p.is_dir());
    from_git.or_else(|| std::env::current_dir().ok()).unwrap_or_else(|| PathBuf::from("."))
}

/// Waivers end at most this many days after the run, unless the policy says otherwise.
pub use crate::defaults::MAX_WAIVER_DAYS as DEFAULT_MAX_WAIVER_DAYS;
pub use crate::defaults::{FAIL_DAYS as DEFAULT_FAIL_DAYS, WARN_DAYS as DEFAULT_WARN_DAYS};

/// The policy's JSON Schema, for `mongo-preflight schema` and editors. Draft-07, because it
/// is the draft every YAML editor integration (yaml-language-server among them) understands.
pub fn json_schema() -> serde_json::Value {
    let schema =
        schemars::generate::SchemaSettings::draft07().into_generator().into_root_schema_for::<file::PolicyFile>();
    serde_json::to_value(&schema).unwrap_or_default()
}

fn line_of(location: serde_saphyr::Location) -> Option<u32> {
    u32::try_from(location.line()).ok().filter(|l| *l > 0)
}

struct Validator<'a> {
    source: &'a Source<'a>,
    context: &'a ParseContext<'a>,
    /// Warnings about the policy that do not stop it (clusters skipped for lack of secrets).
    notes: std::cell::RefCell<Vec<Note>>,
}

impl Validator<'_> {
    fn at<T>(&self, spanned: &Spanned<T>, message: impl std::fmt::Display) -> AppError {
        self.source.error_at(spanned.referenced, message)
    }

    fn validate(&self, raw: file::PolicyFile) -> Result<Policy, AppError> {
        if raw.version.value != 1 {
            return Err(self.at(
                &raw.version,
                format!("unsupported policy version {}; only `version: 1` exists", raw.version.value),
            ));
        }
        let timeout = match &raw.timeout {
            Some(t) if !(t.value.is_finite() && t.value > 0.0 && t.value <= 3600.0) => {
                return Err(self.at(t, "`timeout` must be a number of seconds between 0 and 3600"));
            }
            Some(t) => Some(Duration::from_secs_f64(t.value)),
            None => None,
        };

        let max_waiver_days = match &raw.max_waiver_days {
            Some(days) if !(1..=3650).contains(&days.value) => {
                return Err(self.at(days, "`max_waiver_days` must be a number of days between 1 and 3650"));
            }
            Some(days) => days.value,
            None => DEFAULT_MAX_WAIVER_DAYS,
        };
        let expiry = waivers::ExpiryLimit { today: self.context.today, max_days: max_waiver_days };

        let mut clusters = Vec::new();
        let mut names = HashSet::new();
        // Every name counts, skipped clusters too: a waiver naming one stays valid.
        let mut cluster_names = Vec::new();
        let mut skipped_clusters = Vec::new();
        for entry in &raw.clusters {
            let name = entry.value.name.value.trim().to_string();
            if !names.insert(name.clone()) {
                return Err(self.at(&entry.value.name, format!("duplicate cluster name `{name}`")));
            }
            match self.cluster(entry)? {
                Some(cluster) => clusters.push(cluster),
                None => skipped_clusters.push(name.clone()),
            }
            cluster_names.push(name);
        }

        let scan = self.scan(raw.scan.unwrap_or_default())?;
        let atlas = match &raw.atlas {
            Some(a) => {
                let (policy, note) = atlas::validate(a, self.source, self.context.env, self.context.secrets_withheld)?;
                self.notes.borrow_mut().extend(note);
                policy
            }
            None => None,
        };

        // With an organization, a waiver may name a discovered cluster (`PROJECT/CLUSTER`).
        if atlas.as_ref().is_some_and(|a| a.organization.is_some()) {
            cluster_names.extend(
                raw.allow
                    .iter()
                    .filter_map(|w| w.value.cluster.as_ref())
                    .map(|c| c.value.clone())
                    .filter(|c| c.contains('/')),
            );
        }
        let cluster_names: Vec<&str> = cluster_names.iter().map(String::as_str).collect();
        let mut waivers = raw
            .allow
            .iter()
            .map(|w| waivers::Waiver::from_file(w, self.source, &cluster_names, &expiry))
            .collect::<Result<Vec<_>, _>>()?;

        let mut overrides = BTreeMap::new();
        for (id, value) in &raw.severity {
            let Some(entry) = catalog::lookup(id) else {
                return Err(self.at(
                    value,
                    format!(
                        "`severity` names `{id}`, which is neither a diagnosis code nor a scan rule{}",
                        did_you_mean(id, catalog::all_ids())
                    ),
                ));
            };
            match waivers::Waiver::from_severity_override(entry, value, self.source, &expiry)? {
                Some(lowering) => waivers.push(lowering),
                None => {
                    overrides.insert(entry.documented().id().to_string(), value.value.level());
                }
            }
        }

        Ok(Policy {
            file: Some(self.source.name.to_string()),
            clusters,
            scan,
            waivers,
            overrides,
            timeout,
            max_waiver_days,
            skipped_clusters,
            notes: self.notes.take(),
            atlas,
        })
    }

    /// The validated cluster; `None` when it is skipped because the run gets no secrets.
    fn cluster(&self, entry: &Spanned<file::ClusterFile>) -> Result<Option<ClusterPolicy>, AppError> {
        let c = &entry.value;
        let name = c.name.value.trim().to_string();
        if name.is_empty() {
            return Err(self.at(&c.name, "a cluster `name` cannot be empty"));
        }
        let uri = match (&c.uri, &c.uri_env) {
            (Some(_), Some(env)) => {
                return Err(self.at(env, format!("cluster `{name}` has both `uri` and `uri_env`; keep one")));
            }
            (None, None) => {
                return Err(self.at(
                    &c.name,
                    format!("cluster `{name}` needs `uri_env` (an environment variable holding the connection string) or `uri`"),
                ));
            }
            (Some(uri), None) => {
                let parsed =
                    ConnectionString::parse(&uri.value).map_err(|e| self.at(uri, format!("cluster `{name}`: {e}")))?;
                if parsed.has_credentials() {
                    return Err(self.at(
                        uri,
                        format!(
                            "cluster `{name}`: the connection string holds credentials; keep them out of the policy \
                             file: put the whole string in a CI secret and name it with `uri_env`"
                        ),
                    ));
                }
                parsed
            }
            (None, Some(var)) => {
                let Some(value) = self.secret_env(var, &name, "uri_env")? else { return Ok(None) };
                ConnectionString::parse(&value)
                    .map_err(|e| self.at(var, format!("cluster `{name}`: ${}: {e}", var.value)))?
            }
        };

        let ca_file = match &c.ca_file {
            Some(path) => Some(self.existing_file(path, &name, "ca_file")?),
            None => None,
        };
        let client_cert = match (&c.client_cert, &c.client_cert_env) {
            (Some(_), Some(env)) => {
                return Err(
                    self.at(env, format!("cluster `{name}` has both `client_cert` and `client_cert_env`; keep one"))
                );
            }
            (Some(path), None) => Some(ClientCert::File(self.existing_file(path, &name, "client_cert")?)),
            (None, Some(var)) => match self.client_cert_from_env(var, &name)? {
                Some(cert) => Some(cert),
                None => return Ok(None),
            },
            (None, None) => None,
        };

        let warn_days = c.warn_days.unwrap_or(DEFAULT_WARN_DAYS);
        let fail_days = c.fail_days.as_ref().map(|d| d.value).unwrap_or(DEFAULT_FAIL_DAYS);
        if fail_days > warn_days {
            let at = c.fail_days.as_ref().map(|d| d.referenced).unwrap_or(entry.referenced);
            return Err(self.source.error_at(
                at,
                format!("cluster `{name}`: `fail_days` ({fail_days}) cannot be larger than `warn_days` ({warn_days})"),
            ));
        }

        Ok(Some(ClusterPolicy {
            name,
            uri,
            ca_file,
            client_cert,
            min_tls_version: c.min_tls_version.as_ref().map(|v| v.value.0),
            warn_days,
            fail_days,
            required: c.required,
            line: line_of(entry.referenced).or_else(|| line_of(c.name.referenced)),
        }))
    }

    fn existing_file(&self, path: &Spanned<String>, cluster: &str, key: &str) -> Result<PathBuf, AppError> {
        let resolved = self.context.base_dir.join(&path.value);
        if !resolved.is_file() {
            return Err(self.at(path, format!("cluster `{cluster}`: `{key}` file `{}` does not exist", path.value)));
        }
        Ok(resolved)
    }

    /// The value of a secret named by `key` (`uri_env`, `client_cert_env`). `Ok(None)` when the
    /// run gets no secrets and it is empty: the cluster is then skipped with a warning naming it.
    fn secret_env(&self, var: &Spanned<String>, cluster: &str, key: &str) -> Result<Option<String>, AppError> {
        if let Some(value) = (self.context.env)(&var.value).filter(|v| !v.trim().is_empty()) {
            return Ok(Some(value));
        }
        if self.context.secrets_withheld {
            self.notes.borrow_mut().push(Note {
                severity: Severity::Warning,
                message: format!(
                    "cluster `{cluster}` was not probed: `{}` (its `{key}`) is empty in a pull request from a fork \
                     or from Dependabot, which GitHub runs without secrets; the scan still ran",
                    var.value
                ),
            });
            return Ok(None);
        }
        Err(self.at(
            var,
            format!(
                "cluster `{cluster}`: the environment variable `{}` (its `{key}`) is not set or is empty",
                var.value
            ),
        ))
    }

    /// The client certificate a `client_cert_env` names; `Ok(None)`: skipped for lack of secrets.
    fn client_cert_from_env(&self, var: &Spanned<String>, cluster: &str) -> Result<Option<ClientCert>, AppError> {
        let Some(value) = self.secret_env(var, cluster, "client_cert_env")? else { return Ok(None) };
        if value.contains("-----BEGIN") {
            return Ok(Some(ClientCert::Pem { var: var.value.clone(), pem: value }));
        }
        let path = self.context.base_dir.join(value.trim());
        if path.is_file() {
            return Ok(Some(ClientCert::File(path)));
        }
        Err(self.at(
            var,
            format!(
                "cluster `{cluster}`: `{}` holds neither PEM text (`-----BEGIN ...`) nor the path of an existing file",
                var.value
            ),
        ))
    }

    fn scan(&self, raw: file::ScanFile) -> Result<ScanPolicy, AppError> {
        let mut exclude = Vec::new();
        for pattern in &raw.exclude {
            globset::GlobBuilder::new(&pattern.value).literal_separator(true).build().map_err(|e| {
                self.at(
                    pattern,
                    format!("`scan.exclude` pattern `{}` is not a valid glob: {}", pattern.value, e.kind()),
                )
            })?;
            exclude.push(pattern.value.clone());
        }
        Ok(ScanPolicy {
            paths: raw.paths.iter().map(PathBuf::from).collect(),
            exclude,
            base: raw.base.filter(|b| !b.trim().is_empty()),
        })
    }
}
