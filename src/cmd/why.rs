use std::io::Read;

use crate::catalog::Likelihood;
use crate::cli::{WhyArgs, WhyFormat};
use crate::error::AppError;
use crate::model::{ClusterReport, Severity};
use crate::probe::{self, ProbeTarget};
use crate::uri::ConnectionString;
use crate::why::{self, Cause, Reading, command};

/// The input: the arguments, `--file`, or stdin. Not UTF-8 is read lossily; a log is a log.
fn input(args: &WhyArgs) -> Result<String, AppError> {
    if !args.text.is_empty() {
        return Ok(args.text.join("\n"));
    }
    let bytes = match &args.file {
        Some(path) => std::fs::read(path).map_err(|e| AppError::io(format!("cannot read {}", path.display()), e))?,
        None => {
            let mut bytes = Vec::new();
            std::io::stdin().read_to_end(&mut bytes).map_err(|e| AppError::io("cannot read stdin", e))?;
            bytes
        }
    };
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Runs the probe on `target` and returns its cluster report.
async fn run_probe(args: &WhyArgs, target: &str) -> Result<ClusterReport, AppError> {
    let uri = ConnectionString::parse(target).map_err(|e| {
        AppError::Usage(format!("the text's hosts do not make a connection string the probe can use: {e}"))
    })?;
    let thresholds = crate::diagnose::Thresholds {
        warn_days: crate::defaults::WARN_DAYS,
        fail_days: crate::defaults::FAIL_DAYS,
        min_tls_version: None,
    };
    let settings = crate::plan::probe_settings(&args.network, args.network.timeout(), &thresholds, None, None);
    let name = uri.hosts.first().map(|h| h.host.clone()).unwrap_or_default();
    let targets = vec![ProbeTarget { name, uri, settings, required: true, policy_line: None }];
    let spinner = crate::output::Spinner::start("probing the hosts of the text…".to_string());
    let observed = probe::probe_all(targets).await;
    spinner.finish();
    let observed = observed?;
    let cluster = observed
        .first()
        .map(|o| crate::diagnose::cluster(o, &thresholds))
        .ok_or_else(|| AppError::Other("the probe returned no cluster".to_string()))?;
    Ok(cluster)
}

/// The probe's errors and warnings, as the answer: what it observed is likely.
fn probe_causes(cluster: &ClusterReport) -> Vec<Cause> {
    let mut causes: Vec<Cause> = Vec::new();
    let all = cluster.diagnoses.iter().chain(cluster.hosts.iter().flat_map(|h| h.diagnoses.iter()));
    let mut diagnoses: Vec<_> = all.filter(|d| d.severity >= Severity::Warning).collect();
    diagnoses.sort_by_key(|d| std::cmp::Reverse(d.severity));
    for d in diagnoses {
        if causes.iter().any(|c| c.code == d.code) {
            continue;
        }
        causes.push(Cause {
            code: d.code,
            likelihood: Likelihood::Likely,
            why: format!("the probe observed it: {}", crate::redact::text(&d.summary)),
        });
    }
    causes
}

pub async fn run(args: WhyArgs) -> Result<i32, AppError> {
    let text = input(&args)?;
    let mut reading: Reading = why::read(&text);
    drop(text);
    let flags = command::Flags {
        timeout: args.network.timeout,
        ca_file: args.network.ca_file.as_deref(),
        dns_server: args.network.dns_server,
    };
    let target = command::target(&reading);
    let probe_command = target.as_deref().map(|t| command::command(t, &flags));
    let mut probe_json = None;
    let mut probed = false;
    if args.probe && target.is_none() {
        eprintln!("why: the text names no host, so there is nothing to probe");
    }
    if args.probe
        && let Some(target) = &target
    {
        let cluster = run_probe(&args, target).await?;
        let causes = probe_causes(&cluster);
        if !causes.is_empty() {
            reading.rules_out = why::rank::rules_out(why::rank::likely_stage(&causes));
            reading.causes = causes;
            probed = true;
        }
        probe_json = Some(serde_json::to_value(&cluster).unwrap_or_default());
    }
    let out = match args.format {
        WhyFormat::Text => why::render::text(&reading, probe_command.as_deref(), probed),
        WhyFormat::Markdown => why::render::markdown(&reading, probe_command.as_deref(), probed),
        WhyFormat::Json => why::render::json(&reading, probe_command.as_deref(), probe_json),
    };
    crate::output::emit(&out, None)?;
    Ok(0)
}
