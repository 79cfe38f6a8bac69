use std::path::{Path, PathBuf};

use clap::Args;

use crate::cli::{NetworkArgs, OutputArgs};
use crate::error::AppError;
use crate::model::RunReport;
use crate::policy::{self, ClientCert, Policy};
use crate::probe::{ProbeSettings, ProbeTarget};
use crate::report::{Format, RenderContext};
use crate::scan::ScanOptions;

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
    /// Only findings that REF lacks fail (default: the policy's `scan.base`, or
    /// origin/$GITHUB_BASE_REF in a pull request).
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
    #[command(flatten)]
    pub network: NetworkArgs,
}

pub async fn run(args: CheckArgs) -> Result<i32, AppError> {
    let root = policy::repository_root();
    let env = |name: &str| std::env::var(name).ok();

    // Everything that can make the run unjudgeable is checked before anything runs or is written.
    let policy = match &args.policy {
        Some(path) => {
            if !path.is_file() {
                return Err(AppError::Policy(format!("the policy file {} does not exist", path.display())));
            }
            Policy::load(path, &shown_path(path, &root))?
        }
        None => {
            let path = root.join(policy::DEFAULT_FILE_NAME);
            if path.is_file() {
                Policy::load(&path, policy::DEFAULT_FILE_NAME)?
            } else {
                Policy::default_for_env(&env)?
            }
        }
    };
    let scan_options = ScanOptions {
        root: root.clone(),
        paths: policy.scan.paths.clone(),
        exclude: policy.scan.exclude.clone(),
        base: scan_base(args.base.as_deref(), &policy, &env),
        ..ScanOptions::default()
    };
    let timeout = args.network.timeout_given().or(policy.timeout).unwrap_or(crate::cli::DEFAULT_TIMEOUT);
    let client_certs = ClientCertFiles::materialize(&policy)?;
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
    let today = time::OffsetDateTime::now_utc().date();
    let mut notes = policy.notes.clone();
    notes.extend(scan.notes);
    notes.extend(policy::waivers::apply(&policy, &mut clusters, &mut findings, today));
    let report = RunReport::new(clusters, findings, notes);

    let ctx = RenderContext {
        color: args.output.color(),
        policy_path: policy.file.clone(),
        run_url: run_url(),
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
    for note in crate::github::publish(&report, &ctx, format, args.sarif.as_deref(), args.comment).await {
        eprintln!("warning: {}", crate::redact::text(&note.message));
    }
    Ok(report.verdict.exit_code())
}

/// The ref whose findings only warn: `--base`, else the policy's `scan.base`, else in a pull
/// request the branch it targets (`origin/$GITHUB_BASE_REF`).
pub fn scan_base(cli: Option<&str>, policy: &Policy, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    cli.map(str::to_string)
        .or_else(|| policy.scan.base.clone())
        .or_else(|| env("GITHUB_BASE_REF").filter(|b| !b.trim().is_empty()).map(|b| format!("origin/{}", b.trim())))
}

/// How a policy path is shown: relative to the repository root when inside it, so SARIF and
/// annotations locate it.
fn shown_path(path: &Path, root: &Path) -> String {
    let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    match absolute.strip_prefix(&root) {
        Ok(relative) => relative.to_string_lossy().replace('\\', "/"),
        Err(_) => path.display().to_string(),
    }
}

/// `--timeout` has a default, so only the command line tells whether the user chose it; when
/// they did, it wins over the policy's `timeout`.
fn run_url() -> Option<String> {
    let server = std::env::var("GITHUB_SERVER_URL").unwrap_or_else(|_| "https://github.com".to_string());
    let repo = std::env::var("GITHUB_REPOSITORY").ok().filter(|s| !s.is_empty())?;
    let run = std::env::var("GITHUB_RUN_ID").ok().filter(|s| !s.is_empty())?;
    Some(format!("{server}/{repo}/actions/runs/{run}"))
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
