use std::path::PathBuf;

use clap::Args;

use crate::cli::{NetworkArgs, OutputArgs};
use crate::error::AppError;
use crate::github::event::ChangeEvent;
use crate::model::{Note, PolicyReport, RunReport, Severity};
use crate::policy::{self, ClientCert, Policy};
use crate::probe::{ProbeSettings, ProbeTarget};
use crate::report::{Format, RenderContext};
use crate::scan::{IgnoreFile, IgnoreFiles, ScanOptions};

/// The CI gate: read the policy, run scan and probe, report, exit by the verdict.
///
/// Without a policy file, scans the repository and probes `$MONGODB_URI` when it is set.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The policy file (default: mongo-preflight.yml at the repository root).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Also write a SARIF 2.1.0 report to FILE (for code scanning), whatever `--format` is.
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
    /// In a pull request, create or update one comment with the report.
    #[arg(long)]
    pub comment: bool,
    /// Outside pull requests: only findings that REF lacks fail (default: the policy's
    /// `scan.base`). In a pull request or merge queue the merge base with the event's base
    /// commit is used instead.
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
    #[command(flatten)]
    pub network: NetworkArgs,
}

pub async fn run(args: CheckArgs) -> Result<i32, AppError> {
    let root = policy::repository_root();
    let env = |name: &str| std::env::var(name).ok();
    let actions = crate::github::ActionsEnv::from_process();
    let change = actions.change.as_ref();
    let today = policy::today_utc();
    let repo = crate::git::Repo::new(&root, crate::git::deadline_for(args.network.timeout_given()));
    let contents_api = crate::github::contents::ContentsApi::from_env(&actions);

    // Everything that can make the run unjudgeable is checked before anything runs or is written.
    let judging = policy::source::resolve(
        &policy::source::Request {
            root: &root,
            explicit: args.policy.as_deref(),
            change,
            env: &env,
            today,
            fallback: contents_api.as_ref().map(|api| api as &dyn policy::source::BaseFileSource),
        },
        &repo,
    )
    .await?;
    let policy = &judging.policy;
    let mut notes = judging.notes.clone();
    notes.extend(policy.notes.iter().cloned());

    let (base, base_note) = scan_base(args.base.as_deref(), policy, change, &repo).await;
    notes.extend(base_note);
    let scan_options = ScanOptions {
        root: root.clone(),
        paths: policy.scan.paths.clone(),
        exclude: policy.scan.exclude.clone(),
        ignore_files: judging.ignore_files.as_deref().map_or(IgnoreFiles::WorkingTree, |files| {
            IgnoreFiles::Given(
                files
                    .iter()
                    .map(|f| IgnoreFile {
                        dir: f.path.rsplit_once('/').map(|(dir, _)| dir.to_string()).unwrap_or_default(),
                        content: f.content.clone(),
                    })
                    .collect(),
            )
        }),
        base,
        ..ScanOptions::default()
    };
    let timeout = args.network.timeout_given().or(policy.timeout).unwrap_or(crate::cli::DEFAULT_TIMEOUT);
    let client_certs = ClientCertFiles::materialize(policy)?;
    let targets: Vec<ProbeTarget> = policy
        .clusters
        .iter()
        .zip(client_certs.paths.iter())
        .map(|(c, cert)| ProbeTarget {
            name: c.name.clone(),
            uri: c.uri.clone(),
            settings: ProbeSettings {
                timeout,
                ca_file: c.ca_file.clone().or_else(|| args.network.ca_file.clone()),
                system_roots: args.network.system_roots,
                dns_server: args.network.dns_server,
                warn_days: c.warn_days,
                fail_days: c.fail_days,
                min_tls_version: c.min_tls_version,
                client_cert: cert.clone(),
            },
            required: c.required,
            policy_line: c.line,
        })
        .collect();

    let progress = crate::output::Spinner::start(format!(
        "scanning the repository and probing {}…",
        crate::report::plural(targets.len(), "cluster")
    ));
    let scan_task = tokio::task::spawn_blocking(move || crate::scan::run(&scan_options));
    let (probed, scanned) = tokio::join!(crate::probe::probe_all(targets), scan_task);
    drop(client_certs);
    progress.finish();
    let mut clusters = probed?;
    let scan = scanned.map_err(|e| AppError::Other(format!("the scanner stopped unexpectedly: {e}")))??;

    let mut findings = scan.findings;
    notes.extend(scan.notes);
    let judged = policy::apply(policy, &mut clusters, &mut findings, today);
    notes.extend(judged.notes);
    let report = RunReport::new(clusters, findings, notes).with_policy(PolicyReport {
        path: judging.path.clone(),
        source: judging.source,
        changes: judging.changes.clone(),
        waivers: judged.waivers,
    });

    let ctx = RenderContext {
        color: args.output.color(),
        policy_path: policy.file.clone(),
        run_url: actions.run_url(),
        max_chars: None,
        timestamp: time::OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .ok()
            .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok()),
    };
    let format = args.output.format;
    crate::output::emit(&crate::report::render(&report, format, &ctx), args.output.output.as_deref())?;
    if let Some(path) = &args.sarif {
        let sarif = crate::report::render(&report, Format::Sarif, &RenderContext { color: false, ..ctx.clone() });
        crate::output::write_atomic(path, sarif.as_bytes())?;
    }
    for note in crate::github::publish(&report, &ctx, format, args.sarif.as_deref(), args.comment, timeout).await {
        eprintln!("warning: {}", crate::redact::text(&note.message));
    }
    Ok(report.verdict.exit_code())
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
/// temporary files for the probe, and removed when the probe is done.
struct ClientCertFiles {
    paths: Vec<Option<PathBuf>>,
    temporary: Vec<PathBuf>,
}

impl ClientCertFiles {
    fn materialize(policy: &Policy) -> Result<ClientCertFiles, AppError> {
        let mut files = ClientCertFiles { paths: Vec::new(), temporary: Vec::new() };
        for cluster in &policy.clusters {
            let path = match &cluster.client_cert {
                None => None,
                Some(ClientCert::File(p)) => Some(p.clone()),
                Some(ClientCert::Pem { var, pem }) => {
                    let path = private_temp_file(pem.as_bytes())
                        .map_err(|e| AppError::io(format!("cannot write the client certificate from ${var}"), e))?;
                    files.temporary.push(path.clone());
                    Some(path)
                }
            };
            files.paths.push(path);
        }
        Ok(files)
    }
}

impl Drop for ClientCertFiles {
    fn drop(&mut self) {
        for path in &self.temporary {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn private_temp_file(content: &[u8]) -> std::io::Result<PathBuf> {
    use std::io::Write;
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut suffix).map_err(std::io::Error::other)?;
    let name: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
    let path = std::env::temp_dir().join(format!("mongo-preflight-client-{name}.pem"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&path)?;
    file.write_all(content)?;
    Ok(path)
}
