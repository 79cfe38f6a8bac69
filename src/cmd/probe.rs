use crate::cli::ProbeArgs;

use crate::error::AppError;
use crate::model::RunReport;
use crate::probe::{self, ProbeTarget};
use crate::uri::ConnectionString;

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
