//! Command-line interface. Arguments shared by several commands live here; each command's own
//! arguments live with the command in [`crate::cmd`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::report::Format;

#[derive(Debug, Parser)]
#[command(
    name = "mongo-preflight",
    version,
    about = "Find the true cause of MongoDB TLS/connection failures, and block insecure TLS fallbacks in CI",
    long_about = "mongo-preflight probes MongoDB clusters stage by stage (DNS, TCP, strict TLS, relaxed TLS, \
hello, auth) and explains each failure with a stable code, the evidence and the remedy. Comparing strict \
with relaxed TLS answers one question: would an insecure fallback such as tlsAllowInvalidCertificates change \
anything? (For Atlas's TLSV1_ALERT_INTERNAL_ERROR, the IP access list, it never does.)\n\n\
It also scans code and config for insecure TLS fallbacks, and `check` gates a pull request on both.",
    after_help = "Exit codes: 0 pass (warnings allowed), 1 fail, 2 the run could not be judged.\n\
Examples:\n  mongo-preflight probe 'mongodb+srv://cluster0.example.mongodb.net/'\n  \
mongo-preflight scan --base origin/main .\n  mongo-preflight check --format markdown\n  \
mongo-preflight explain ip-access-list-rejected"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Probe(crate::cmd::probe::ProbeArgs),
    Scan(crate::cmd::scan::ScanArgs),
    Check(crate::cmd::check::CheckArgs),
    Init(crate::cmd::init::InitArgs),
    Schema(crate::cmd::schema::SchemaArgs),
    Explain(crate::cmd::explain::ExplainArgs),
}

impl Command {
    /// Whether the command prints text from outside (servers, certificates, files, a policy):
    /// in GitHub Actions such output is fenced off from the runner's command parser. `init`,
    /// `schema` and `explain` print only our own text, often into a file.
    pub fn prints_untrusted_text(&self) -> bool {
        matches!(self, Command::Probe(_) | Command::Scan(_) | Command::Check(_))
    }
}

/// Where and how results are written.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write the report to FILE instead of stdout (atomically: never half-written).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

impl OutputArgs {
    /// Colour only for a person: text on stdout, a terminal (or `CLICOLOR_FORCE`), and no `NO_COLOR`.
    pub fn color(&self) -> bool {
        self.output.is_none() && self.format == Format::Text && crate::report::stdout_color()
    }
}

/// How the network is reached.
#[derive(Debug, Clone, Args)]
pub struct NetworkArgs {
    /// Deadline in seconds for each network stage (DNS, TCP, TLS, hello, auth) [default: 10,
    /// or the policy's `timeout`].
    #[arg(long, value_name = "SECONDS", value_parser = parse_timeout)]
    pub timeout: Option<f64>,
    /// PEM trust anchors that replace the default Mozilla roots (as `tlsCAFile` does in the drivers).
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
    /// Also trust the operating system's certificate store.
    #[arg(long)]
    pub system_roots: bool,
    /// Send every DNS lookup (SRV, TXT, A/AAAA) to this server, e.g. 10.0.0.2:53.
    #[arg(long, value_name = "IP:PORT", value_parser = parse_dns_server)]
    pub dns_server: Option<SocketAddr>,
}

/// The stage deadline when neither the command line nor a policy sets one.
pub const DEFAULT_TIMEOUT: Duration = crate::defaults::TIMEOUT;

impl NetworkArgs {
    /// `--timeout` if given.
    pub fn timeout_given(&self) -> Option<Duration> {
        self.timeout.map(Duration::from_secs_f64)
    }

    /// `--timeout`, else the default.
    pub fn timeout(&self) -> Duration {
        self.timeout_given().unwrap_or(DEFAULT_TIMEOUT)
    }
}

fn parse_timeout(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("`{s}` is not a number of seconds"))?;
    if !(v.is_finite() && v > 0.0 && v <= 3600.0) {
        return Err("the timeout must be between 0 and 3600 seconds".to_string());
    }
    Ok(v)
}

fn parse_dns_server(s: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(addr);
    }
    s.parse::<std::net::IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| format!("`{s}` is not IP:PORT (e.g. 127.0.0.1:5353) or an IP address"))
}
