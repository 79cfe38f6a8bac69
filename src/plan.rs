//! The validated plan of a run: the command line, the policy and the GitHub Actions
//! environment turned into everything the run needs, before anything runs.
//!
//! As ripgrep separates its raw arguments from the validated ones, nothing after this layer
//! sees an invalid combination or decides a precedence again: the CA file, the timeout, the
//! scan's base, the ignore files and the client certificates are each settled here, once.

use std::path::PathBuf;
use std::time::Duration;

use crate::cli::{CheckArgs, LockArgs, NetworkArgs};
use crate::diagnose::Thresholds;
use crate::error::AppError;
use crate::github::ActionsEnv;
use crate::github::event::ChangeEvent;
use crate::model::{Note, Severity};
use crate::policy::{self, ClientCert, ClusterPolicy, Policy};
use crate::probe::{ProbeSettings, ProbeTarget};
use crate::report::{Format, RenderContext};
use crate::scan::{IgnoreFile, IgnoreFiles, ScanOptions};

/// Everything `check` will do, decided.
pub struct CheckPlan {
    pub actions: ActionsEnv,
    /// The policy that judges, where it came from, and the pull request's loosenings.
    pub judging: policy::source::Judging,
    /// What planning had to say (the policy's source, skipped clusters, the scan's base).
    pub notes: Vec<Note>,
    pub scan: ScanOptions,
    pub probe: ProbePlan,
    /// The day (UTC) waivers are judged against.
    pub today: time::Date,
    pub output: OutputPlan,
    /// The posture lock that judges the clusters, when there is one.
    pub lock: Option<LockPlan>,
    /// The Atlas project to ask, with `atlas:` in the policy.
    pub atlas: Option<AtlasPlan>,
    /// The Atlas organization whose clusters are discovered, with `atlas.organization_id`.
    pub organization: Option<OrganizationPlan>,
    /// `--shard I/N`: the share of the clusters this job takes.
    pub shard: crate::shard::Shard,
}

/// Every cluster of an Atlas organization, discovered and probed like a listed one.
#[derive(Debug, Clone)]
pub struct OrganizationPlan {
    pub settings: crate::atlas::AtlasSettings,
    pub selection: crate::atlas::organization::Selection,
    /// How each discovered cluster is probed (no credentials, no client certificate).
    pub probe: ProbeSettings,
}

/// The posture lock that judges, and how it is shown.
pub struct LockPlan {
    pub lock: crate::lock::Lock,
    pub path: String,
}

/// What the run asks the Atlas Administration API, and whether it adds temporary access.
#[derive(Debug, Clone)]
pub struct AtlasPlan {
    pub settings: crate::atlas::AtlasSettings,
    /// `--atlas-temporary-access`, else the policy's `atlas.temporary_access`.
    pub temporary_access: Option<Duration>,
    /// `--egress-ip`.
    pub egress_ip: Option<std::net::IpAddr>,
}

/// The clusters to probe, with the secret files they need for as long as the plan lives.
pub struct ProbePlan {
    pub targets: Vec<ProbeTarget>,
    pub client_certs: ClientCertFiles,
}

/// Where and how the report goes.
pub struct OutputPlan {
    pub format: Format,
    pub output: Option<PathBuf>,
    pub sarif: Option<PathBuf>,
    pub comment: bool,
    /// Open or update the regression issues (`--issue`).
    pub issue: bool,
    pub render: RenderContext,
    /// The effective network deadline, for the GitHub API too.
    pub timeout: Duration,
}

impl CheckPlan {
    /// Everything that can make the run unjudgeable is checked here, before anything runs or
    /// is written.
    pub async fn build(args: CheckArgs) -> Result<CheckPlan, AppError> {
        let root = policy::repository_root();
        let env = |name: &str| std::env::var(name).ok();
        let actions = ActionsEnv::from_process();
        let change = actions.change.as_ref();
        let today = policy::today_utc();
        let repo = crate::git::Repo::new(&root, crate::git::deadline_for(args.network.timeout_given()));
        let contents_api = crate::github::contents::ContentsApi::from_env(&actions);

        let label = change.map(ChangeEvent::describe).unwrap_or_default();
        let judging = policy::source::resolve(
            &policy::source::Request {
                root: &root,
                explicit: args.policy.as_deref(),
                change: change.map(|c| policy::source::Change {
                    base_sha: c.base_sha.as_deref(),
                    secrets_withheld: c.lacks_secrets(),
                    label: &label,
                }),
                env: &env,
                today,
                fallback: contents_api.as_ref().map(|api| api as &dyn policy::source::BaseFileSource),
            },
            &repo,
        )
        .await?;
        let mut judging = judging;
        let lock = lock_plan(&mut judging)?;
        let policy = &judging.policy;
        let mut notes = judging.notes.clone();
        notes.extend(policy.notes.iter().cloned());

        let (base, base_note) = scan_base(args.base.as_deref(), policy, change, &repo).await;
        notes.extend(base_note);
        let scan = ScanOptions {
            root: root.clone(),
            paths: policy.scan.paths.clone(),
            exclude: policy.scan.exclude.clone(),
            ignore_files: ignore_files(&judging),
            base,
            ..ScanOptions::default()
        };

        let timeout = args.network.timeout_given().or(policy.timeout).unwrap_or(crate::defaults::TIMEOUT);
        let client_certs = ClientCertFiles::materialize(policy)?;
        let targets = probe_targets(policy, &args.network, timeout, &client_certs, lock.is_some());

        let render = RenderContext {
            color: args.output.color(),
            policy_path: policy.file.clone(),
            run_url: actions.run_url(),
            timestamp: time::OffsetDateTime::now_utc()
                .replace_nanosecond(0)
                .ok()
                .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok()),
        };
        let output = OutputPlan {
            format: args.output.format,
            output: args.output.output.clone(),
            sarif: args.sarif.clone(),
            comment: args.comment,
            issue: args.issue,
            render,
            timeout,
        };
        let secrets_withheld = change.is_some_and(ChangeEvent::lacks_secrets);
        let atlas = atlas_plan(&args.atlas, policy, timeout, &env, secrets_withheld, &mut notes)?;
        let organization =
            organization_plan(policy, &args.network, timeout, &env, (lock.is_some(), secrets_withheld), &mut notes);
        Ok(CheckPlan {
            actions,
            judging,
            notes,
            scan,
            probe: ProbePlan { targets, client_certs },
            today,
            output,
            atlas,
            lock,
            organization,
            shard: args.shard.unwrap_or(crate::shard::Shard::ALL),
        })
    }
}

/// Everything `lock` will do, decided: the working tree's policy (the lock is written here,
/// reviewed in a pull request, and judged from the base once merged), its clusters probed
/// with every TLS version offered on its own, and where the lock goes.
pub struct LockRun {
    pub probe: ProbePlan,
    /// The lock file on disk, next to the policy.
    pub file: PathBuf,
    /// How it is shown (repository-relative).
    pub shown: String,
    /// The lock already there, to say what changes.
    pub existing: Option<crate::lock::Lock>,
    /// The Atlas organization whose clusters are discovered and locked too.
    pub organization: Option<OrganizationPlan>,
    /// `--shard I/N`: lock only this share, into a partial lock.
    pub shard: crate::shard::Shard,
    /// What planning had to say.
    pub notes: Vec<Note>,
}

impl LockRun {
    pub async fn build(args: LockArgs) -> Result<LockRun, AppError> {
        let root = policy::repository_root();
        let env = |name: &str| std::env::var(name).ok();
        let repo = crate::git::Repo::new(&root, crate::git::deadline_for(args.network.timeout_given()));
        let request = policy::source::Request {
            root: &root,
            explicit: args.policy.as_deref(),
            change: None,
            env: &env,
            today: policy::today_utc(),
            fallback: None,
        };
        let judging = policy::source::resolve(&request, &repo).await?;
        let policy = &judging.policy;
        let discovers = policy.atlas.as_ref().is_some_and(|a| a.organization.is_some());
        if policy.clusters.is_empty() && !discovers {
            return Err(AppError::Usage(format!(
                "there is no cluster to lock: list clusters in {} (see `mongo-preflight init`)",
                judging.path.as_deref().unwrap_or(policy::DEFAULT_FILE_NAME)
            )));
        }
        let policy_file = args.policy.clone().or_else(|| {
            let default = root.join(policy::DEFAULT_FILE_NAME);
            default.is_file().then_some(default)
        });
        let file = crate::lock::path_for(policy_file.as_deref(), &root);
        let shown = judging.lock.path.clone();
        let existing = judging.lock.judging.as_deref().map(|t| crate::lock::Lock::parse(t, &shown)).transpose()?;
        let timeout = args.network.timeout_given().or(policy.timeout).unwrap_or(crate::defaults::TIMEOUT);
        let client_certs = ClientCertFiles::materialize(policy)?;
        let targets = probe_targets(policy, &args.network, timeout, &client_certs, true);
        let mut notes = policy.notes.clone();
        let organization = organization_plan(policy, &args.network, timeout, &env, (true, false), &mut notes);
        Ok(LockRun {
            probe: ProbePlan { targets, client_certs },
            file,
            shown,
            existing,
            organization,
            shard: args.shard.unwrap_or(crate::shard::Shard::ALL),
            notes,
        })
    }
}

/// Reads the lock that judges and, in a pull request, lists how the change's own lock lowers
/// it (`lock-lowered`). Either lock being invalid makes the run unjudgeable, as a policy does.
fn lock_plan(judging: &mut policy::source::Judging) -> Result<Option<LockPlan>, AppError> {
    let texts = &judging.lock;
    let parse = |text: &Option<String>, whose: &str| -> Result<Option<crate::lock::Lock>, AppError> {
        text.as_deref()
            .map(|t| crate::lock::Lock::parse(t, &texts.path).map_err(|e| AppError::Policy(format!("{whose}{e}"))))
            .transpose()
    };
    let judging_lock = parse(&texts.judging, if texts.from_base { "the lock at the base commit: " } else { "" })?;
    if texts.from_base {
        let head = parse(&texts.head, "")?;
        judging.changes.extend(crate::lock::lowered(judging_lock.as_ref(), head.as_ref()));
        judging.changes.sort();
        judging.changes.dedup();
    }
    Ok(judging_lock.map(|lock| LockPlan { lock, path: texts.path.clone() }))
}

/// The Atlas project, its credentials and the temporary access asked for. Temporary access
/// without `atlas:` in the policy cannot run (exit 2).
fn atlas_plan(
    args: &crate::cli::AtlasArgs,
    policy: &Policy,
    timeout: Duration,
    env: &dyn Fn(&str) -> Option<String>,
    secrets_withheld: bool,
    notes: &mut Vec<Note>,
) -> Result<Option<AtlasPlan>, AppError> {
    let Some(atlas) = policy.atlas.as_ref().filter(|a| a.project_id.is_some()) else {
        if args.atlas_temporary_access.is_some() {
            return Err(AppError::Usage(
                "--atlas-temporary-access needs the Atlas project: add `atlas: {project_id: …}` to the policy"
                    .to_string(),
            ));
        }
        return Ok(None);
    };
    let credentials = match crate::atlas::Credentials::from_env(env) {
        Ok(credentials) => credentials,
        Err(why) => {
            notes.push(Note { severity: Severity::Warning, message: format!("Atlas credentials ignored: {why}") });
            None
        }
    };
    // A pull request from a fork or from Dependabot gets no secrets: nothing to ask with.
    if credentials.is_none() && secrets_withheld {
        notes.push(Note {
            severity: Severity::Warning,
            message: "the Atlas project was not asked: this run gets no secrets (a pull request from a fork or \
                      from Dependabot)"
                .to_string(),
        });
        return Ok(None);
    }
    let base_url = env(crate::atlas::ENV_BASE_URL)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| crate::atlas::DEFAULT_BASE_URL.to_string());
    Ok(Some(AtlasPlan {
        settings: crate::atlas::AtlasSettings {
            base_url,
            credentials,
            project_id: atlas.project_id.clone().unwrap_or_default(),
            timeout,
        },
        temporary_access: args.atlas_temporary_access.or(atlas.temporary_access),
        egress_ip: args.egress_ip,
    }))
}

/// The organization to discover, its credentials, and how its clusters are probed. Without
/// credentials in a run that gets no secrets, nothing is discovered and a note says so.
fn organization_plan(
    policy: &Policy,
    network: &NetworkArgs,
    timeout: Duration,
    env: &dyn Fn(&str) -> Option<String>,
    (posture, secrets_withheld): (bool, bool),
    notes: &mut Vec<Note>,
) -> Option<OrganizationPlan> {
    let organization = policy.atlas.as_ref()?.organization.as_ref()?;
    let credentials = match crate::atlas::Credentials::from_env(env) {
        Ok(credentials) => credentials,
        Err(why) => {
            notes.push(Note { severity: Severity::Warning, message: format!("Atlas credentials ignored: {why}") });
            None
        }
    };
    if credentials.is_none() && secrets_withheld {
        notes.push(Note {
            severity: Severity::Warning,
            message: format!(
                "the clusters of Atlas organization {} were not discovered: this run gets no secrets (a pull request \
                 from a fork or from Dependabot)",
                organization.id
            ),
        });
        return None;
    }
    let base_url = env(crate::atlas::ENV_BASE_URL)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| crate::atlas::DEFAULT_BASE_URL.to_string());
    let thresholds = Thresholds {
        warn_days: crate::defaults::WARN_DAYS,
        fail_days: crate::defaults::FAIL_DAYS,
        min_tls_version: None,
    };
    let mut probe = probe_settings(network, timeout, &thresholds, None, None);
    probe.posture = posture;
    Some(OrganizationPlan {
        settings: crate::atlas::AtlasSettings { base_url, credentials, project_id: String::new(), timeout },
        selection: crate::atlas::organization::Selection {
            organization_id: organization.id.clone(),
            projects: organization.projects.clone(),
            exclude: organization.exclude.clone(),
        },
        probe,
    })
}

fn thresholds_of(cluster: &ClusterPolicy) -> Thresholds {
    Thresholds { warn_days: cluster.warn_days, fail_days: cluster.fail_days, min_tls_version: cluster.min_tls_version }
}

/// One probe target per policy cluster. `posture`: also offer each TLS version on its own, for
/// the lock (`lock`, and `check` when a lock judges).
fn probe_targets(
    policy: &Policy,
    network: &NetworkArgs,
    timeout: Duration,
    client_certs: &ClientCertFiles,
    posture: bool,
) -> Vec<ProbeTarget> {
    policy
        .clusters
        .iter()
        .zip(client_certs.paths.iter())
        .map(|(cluster, cert)| {
            let mut settings =
                probe_settings(network, timeout, &thresholds_of(cluster), cluster.ca_file.clone(), cert.clone());
            settings.posture = posture;
            ProbeTarget {
                name: cluster.name.clone(),
                uri: cluster.uri.clone(),
                settings,
                required: cluster.required,
                policy_line: cluster.line,
            }
        })
        .collect()
}

/// How one cluster is probed. The trust anchors: the cluster's own `ca_file` wins over
/// `--ca-file` (and the URI's `tlsCAFile` over both, inside the probe).
pub fn probe_settings(
    network: &NetworkArgs,
    timeout: Duration,
    thresholds: &Thresholds,
    cluster_ca_file: Option<PathBuf>,
    client_cert: Option<PathBuf>,
) -> ProbeSettings {
    ProbeSettings {
        timeout,
        ca_file: cluster_ca_file.or_else(|| network.ca_file.clone()),
        system_roots: network.system_roots,
        dns_server: network.dns_server,
        warn_days: thresholds.warn_days,
        fail_days: thresholds.fail_days,
        min_tls_version: thresholds.min_tls_version,
        client_cert,
        posture: false,
    }
}

/// The base's ignore files in a pull request; otherwise the working tree's.
fn ignore_files(judging: &policy::source::Judging) -> IgnoreFiles {
    judging.ignore_files.as_deref().map_or(IgnoreFiles::WorkingTree, |files| {
        IgnoreFiles::Given(
            files
                .iter()
                .map(|f| IgnoreFile {
                    dir: f.path.rsplit_once('/').map(|(dir, _)| dir.to_string()).unwrap_or_default(),
                    content: f.content.clone(),
                })
                .collect(),
        )
    })
}

/// The commit whose findings only warn, and a note when there is something to say about it.
///
/// In a pull request or merge queue: the merge base of HEAD and the event's base commit,
/// fetched as needed. When it cannot be had, every finding counts as new and a note says why:
/// a base the user never named never makes the run unjudgeable. Outside them: `--base`, else
/// the policy's `scan.base`; an unknown ref there is the user's own mistake (exit 2).
async fn scan_base(
    cli: Option<&str>,
    policy: &Policy,
    change: Option<&ChangeEvent>,
    repo: &crate::git::Repo,
) -> (Option<String>, Option<Note>) {
    let Some(change) = change else {
        return (cli.map(str::to_string).or_else(|| policy.scan.base.clone()), None);
    };
    let note = |severity, message: String| Some(Note { severity, message });
    let ignored = match (cli, &policy.scan.base) {
        (Some(given), _) => format!("; `--base {given}` is for runs outside pull requests and was not used"),
        (None, Some(given)) => format!("; `scan.base: {given}` is for runs outside pull requests and was not used"),
        (None, None) => String::new(),
    };
    let Some(base_sha) = change.base_sha.as_deref() else {
        let why =
            format!("the event payload names no base commit, so every finding in {} counts as new", change.describe());
        return (None, note(Severity::Info, why + &ignored));
    };
    match repo.merge_base_with(base_sha).await {
        Ok(merge_base) => {
            let note = (!ignored.is_empty()).then(|| Note {
                severity: Severity::Info,
                message: format!(
                    "findings were compared with the merge base {}{ignored}",
                    crate::git::short(&merge_base)
                ),
            });
            (Some(merge_base), note)
        }
        Err(why) => (
            None,
            note(
                Severity::Info,
                format!(
                    "every finding counts as new: the merge base with the base commit {} could not be found ({why}){ignored}",
                    crate::git::short(base_sha)
                ),
            ),
        ),
    }
}

/// Client certificates given as PEM text in environment variables are written to private
/// files for the probe (see [`crate::secret_files`]), and removed when the probe is done.
pub struct ClientCertFiles {
    pub paths: Vec<Option<PathBuf>>,
    _temporary: Vec<crate::secret_files::SecretFile>,
}

impl ClientCertFiles {
    fn materialize(policy: &Policy) -> Result<ClientCertFiles, AppError> {
        let mut paths = Vec::new();
        let mut temporary = Vec::new();
        for cluster in &policy.clusters {
            let path = match &cluster.client_cert {
                None => None,
                Some(ClientCert::File(p)) => Some(p.clone()),
                Some(ClientCert::Pem { var, pem }) => {
                    let file = crate::secret_files::SecretFile::write("mongo-preflight-client", pem.as_bytes())
                        .map_err(|e| AppError::io(format!("cannot write the client certificate from ${var}"), e))?;
                    let path = file.path().to_path_buf();
                    temporary.push(file);
                    Some(path)
                }
            };
            paths.push(path);
        }
        Ok(ClientCertFiles { paths, _temporary: temporary })
    }
}
