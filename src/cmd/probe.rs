use clap::Args;

use crate::cli::{NetworkArgs, OutputArgs};
use crate::error::AppError;
use crate::model::RunReport;
use crate::probe::{self, ProbeTarget, TlsVersion};
use crate::uri::ConnectionString;

/// Probe clusters given as connection strings, no policy needed.
///
/// For each host: TCP, strict TLS, relaxed TLS (no verification, only to learn what the
/// server presents), MongoDB hello, and auth when credentials are given. Each failure is
/// explained with a stable code, the evidence and a remedy.
#[derive(Debug, Args)]
#[command(after_help = "Exit codes: 0 pass (warnings allowed), 1 an error-severity diagnosis, 2 bad arguments or an \
invalid URI.\nExamples:\n  mongo-preflight probe 'mongodb+srv://cluster0.abcde.mongodb.net/'\n  \
mongo-preflight probe --ca-file ca.pem 'mongodb://db1:27017,db2:27017/?tls=true&replicaSet=rs0'\n  \
mongo-preflight probe --format json \"$MONGODB_URI\"      (credentials are shown as ****)\n  \
mongo-preflight explain ip-access-list-rejected")]
pub struct ProbeArgs {
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub network: NetworkArgs,
    /// Warn when a certificate expires in fewer than N days.
    #[arg(long, value_name = "N", default_value_t = crate::defaults::WARN_DAYS)]
    pub warn_days: u32,
    /// Fail when a certificate expires in fewer than N days.
    #[arg(long, value_name = "N", default_value_t = crate::defaults::FAIL_DAYS)]
    pub fail_days: u32,
    /// Fail when the negotiated TLS version is below this.
    #[arg(long, value_name = "VERSION", value_parser = parse_tls_version)]
    pub min_tls_version: Option<TlsVersion>,
    /// Connection strings (mongodb:// or mongodb+srv://). Quote them in the shell.
    #[arg(required = true, value_name = "URI")]
    pub uris: Vec<String>,
}

fn parse_tls_version(s: &str) -> Result<TlsVersion, String> {
    match s.trim().trim_start_matches(['T', 't', 'L', 'l', 'S', 's', ' ', 'v']) {
        "1.0" => Ok(TlsVersion::Tls10),
        "1.1" => Ok(TlsVersion::Tls11),
        "1.2" => Ok(TlsVersion::Tls12),
        "1.3" => Ok(TlsVersion::Tls13),
        _ => Err(format!("`{s}` is not one of 1.0, 1.1, 1.2, 1.3")),
    }
}

pub async fn run(args: ProbeArgs) -> Result<i32, AppError> {
    let thresholds = crate::diagnose::Thresholds {
        warn_days: args.warn_days,
        fail_days: args.fail_days,
        min_tls_version: args.min_tls_version,
    };
    let settings = crate::plan::probe_settings(&args.network, args.network.timeout(), &thresholds, None, None);
    if settings.fail_days > settings.warn_days {
        return Err(AppError::Usage("--fail-days cannot be larger than --warn-days".to_string()));
    }
    let mut targets = Vec::new();
    for raw in &args.uris {
        let uri = ConnectionString::parse(raw)?;
        let name = uri.hosts.first().map(|h| h.host.clone()).unwrap_or_default();
        targets.push(ProbeTarget { name, uri, settings: settings.clone(), required: true, policy_line: None });
    }
    let spinner =
        crate::output::Spinner::start(format!("probing {}…", crate::report::plural(targets.len(), "cluster")));
    let observed = probe::probe_all(targets).await;
    spinner.finish();
    let clusters = observed?.iter().map(|o| crate::diagnose::cluster(o, &thresholds)).collect();
    let report = RunReport::new(clusters, Vec::new(), Vec::new());
    let ctx = crate::report::RenderContext { color: args.output.color(), ..Default::default() };
    let format = args.output.format;
    crate::output::emit_report(&crate::report::render(&report, format, &ctx), format, args.output.output.as_deref())?;
    Ok(report.verdict.exit_code())
}
