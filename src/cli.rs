//! The command line as typed: every command's arguments, parsed and checked for form, nothing
//! more. `plan` turns them (with the policy and the environment) into what a run does, and
//! `cmd` runs it; this module depends on neither.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::model::TlsVersion;
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
    Probe(ProbeArgs),
    Scan(ScanArgs),
    Check(CheckArgs),
    Lock(LockArgs),
    Init(InitArgs),
    Schema(SchemaArgs),
    Explain(ExplainArgs),
    Why(WhyArgs),
    Merge(MergeArgs),
}

impl Command {
    /// Whether the command prints text from outside (servers, certificates, files, a policy):
    /// in GitHub Actions such output is fenced off from the runner's command parser. `init`,
    /// `schema` and `explain` print only our own text, often into a file.
    pub fn prints_untrusted_text(&self) -> bool {
        matches!(
            self,
            Command::Probe(_)
                | Command::Scan(_)
                | Command::Check(_)
                | Command::Lock(_)
                | Command::Why(_)
                | Command::Merge(_)
        )
    }

    /// Whether stdout carries a JSON or SARIF document, which no fence line may enter.
    pub fn stdout_is_a_document(&self) -> bool {
        let output = match self {
            Command::Probe(args) => &args.output,
            Command::Scan(args) => &args.output,
            Command::Check(args) => &args.output,
            Command::Why(args) => return args.format == WhyFormat::Json,
            Command::Merge(args) => &args.output,
            Command::Lock(_) | Command::Init(_) | Command::Schema(_) | Command::Explain(_) => return false,
        };
        output.output.is_none() && matches!(output.format, Format::Json | Format::Sarif)
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
    /// Outside pull requests (a scheduled run on the default branch): open or update one issue
    /// per cluster that is weaker than its floor in mongo-preflight.lock, titled after the
    /// cluster, and close it once the cluster is back at its floor. Needs `issues: write`.
    #[arg(long)]
    pub issue: bool,
    /// Outside pull requests: only findings that REF lacks fail (default: the policy's
    /// `scan.base`). In a pull request or merge queue the merge base with the event's base
    /// commit is used instead.
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
    #[command(flatten)]
    pub network: NetworkArgs,
    #[command(flatten)]
    pub atlas: AtlasArgs,
    /// Take only share I of N of the clusters (a stable share by a hash of each name), for N
    /// parallel jobs; `mongo-preflight merge` combines their JSON reports. The repository scan
    /// runs in share 1 only.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<crate::shard::Shard>,
}

fn parse_shard(s: &str) -> Result<crate::shard::Shard, String> {
    crate::shard::Shard::parse(s)
}

/// The Atlas project's Administration API (with `atlas:` in the policy).
#[derive(Debug, Clone, Args)]
pub struct AtlasArgs {
    /// Add this runner's IP/32 to the Atlas project's access list for DURATION (`30m`, `2h`, at
    /// most `7d`), wait until it is ACTIVE, probe, and delete it at the end of the run. Needs
    /// `atlas:` in the policy.
    #[arg(long, value_name = "DURATION", value_parser = parse_access_duration)]
    pub atlas_temporary_access: Option<Duration>,
    /// The runner's public (egress) IP as Atlas sees it [default: $MONGO_PREFLIGHT_EGRESS_IP,
    /// else asked from $MONGO_PREFLIGHT_IP_ECHO_URL or https://checkip.amazonaws.com].
    #[arg(long, value_name = "IP")]
    pub egress_ip: Option<std::net::IpAddr>,
}

fn parse_access_duration(s: &str) -> Result<Duration, String> {
    crate::atlas::temporary::parse_duration(s)
}

/// Write mongo-preflight.lock: each cluster's TLS floor, which `check` then holds it to.
///
/// Probes every cluster of the policy and records, per cluster, what it may raise but never
/// silently lower: the oldest TLS version any host accepts (TLS 1.0, 1.1, 1.2 and 1.3 are each
/// offered on their own), whether every host passes strict verification, the roots its chains
/// end in (SHA-256 of each root's public key, with its subject), the weakest leaf key and the
/// host names the certificates cover. No serial or expiry date is recorded, so a renewal from
/// the same roots never fails `check`.
///
/// The file goes next to the policy, as sorted JSON that two runs on an unchanged cluster
/// write byte for byte the same. Commit it: `check` then fails with `tls-regression` when a
/// cluster gets weaker, and in a pull request the base's lock judges, and a lowered floor in
/// the change's lock is listed as a loosening (`lock-lowered`) for the reviewers.
#[derive(Debug, Args)]
#[command(
    after_help = "Exit codes: 0 the lock was written, 2 it was not: no policy cluster, an invalid policy, or a cluster that gave no TLS answer (nothing is written then).
Examples:
  mongo-preflight init && mongo-preflight lock
  mongo-preflight lock --policy ci/mongo-preflight.yml --ca-file ca.pem
  git diff mongo-preflight.lock      (what changed, in review)
  mongo-preflight explain tls-regression"
)]
pub struct LockArgs {
    /// The policy file whose clusters are locked (default: mongo-preflight.yml at the
    /// repository root); the lock is written next to it.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    #[command(flatten)]
    pub network: NetworkArgs,
    /// Lock only share I of N of the clusters and write a partial lock
    /// (`mongo-preflight.lock.I-of-N` next to the lock) that `mongo-preflight merge` combines
    /// with the other shares into mongo-preflight.lock.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<crate::shard::Shard>,
}

/// Combine the JSON reports (and partial locks) of `check --shard` / `lock --shard` jobs.
///
/// The reports become one report, with one verdict and the totals of all, rendered in any
/// format; in GitHub Actions the job summary and step outputs are written, and `--issue` opens,
/// updates and closes the regression issues from the combined report. Partial locks become one
/// mongo-preflight.lock, written only when every share 1..N is there.
#[derive(Debug, Args)]
#[command(after_help = "Exit codes: 0 the merged verdict is pass, 1 it is fail, 2 a file is unreadable, not a report \
or partial lock, a cluster is in two files, or a share of the lock is missing.\nExamples:\n  \
mongo-preflight merge --format markdown shard-*/report.json\n  \
mongo-preflight merge --issue --output report.json shard-*/report.json\n  \
mongo-preflight merge shard-*/mongo-preflight.lock.*-of-4")]
pub struct MergeArgs {
    #[command(flatten)]
    pub output: OutputArgs,
    /// Also write a SARIF 2.1.0 report to FILE.
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
    /// Open, update and close the regression issues from the merged report (scheduled runs on
    /// the default branch; needs `issues: write`).
    #[arg(long)]
    pub issue: bool,
    /// Where the combined lock goes [default: mongo-preflight.lock at the repository root].
    #[arg(long, value_name = "FILE")]
    pub lock: Option<PathBuf>,
    /// Deadline in seconds for the GitHub API [default: 10].
    #[arg(long, value_name = "SECONDS", value_parser = parse_timeout)]
    pub timeout: Option<f64>,
    /// JSON reports of `check --format json` and partial locks of `lock --shard`.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

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

/// Scan files for insecure TLS fallbacks in MongoDB client settings.
#[derive(Debug, Args)]
#[command(after_help = "Exit codes: 0 no new finding, 1 a new finding (or any finding without --base), 2 bad \
arguments or an unknown --base ref.\nExamples:\n  mongo-preflight scan\n  mongo-preflight scan --base origin/main \
--format github\n  mongo-preflight scan src config/.env")]
pub struct ScanArgs {
    #[command(flatten)]
    pub output: OutputArgs,
    /// Only findings that REF lacks fail; those already present at REF are kept as warnings.
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
    /// Glob of paths to leave out, relative to the current directory (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// The contract's common network options, accepted so that one set of flags works for
    /// every command; the scan itself makes no network calls.
    #[command(flatten)]
    pub network: IgnoredNetworkArgs,
    /// Files or directories to scan (default: the current directory).
    pub paths: Vec<PathBuf>,
}

/// `--timeout`, `--ca-file`, `--dns-server` and `--system-roots` on a command that does not use them.
#[derive(Debug, Args)]
pub struct IgnoredNetworkArgs {
    #[arg(long, value_name = "SECONDS", hide = true)]
    pub timeout: Option<f64>,
    #[arg(long, value_name = "PEM", hide = true)]
    pub ca_file: Option<PathBuf>,
    #[arg(long, value_name = "IP:PORT", hide = true)]
    pub dns_server: Option<String>,
    #[arg(long, hide = true)]
    pub system_roots: bool,
}

/// Write a commented starter mongo-preflight.yml.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
    /// Where to write it (default: mongo-preflight.yml at the repository root, where `check`
    /// looks for it).
    #[arg(long, value_name = "FILE")]
    pub path: Option<PathBuf>,
}

/// Print the policy's JSON Schema (for editors: see docs/policy.md).
#[derive(Debug, Args)]
pub struct SchemaArgs {}

/// Print the long explanation of a diagnosis code or scan rule, with remedies.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A diagnosis code (e.g. ip-access-list-rejected) or scan rule (e.g. allow-invalid-certificates).
    #[arg(required_unless_present = "all")]
    pub code: Option<String>,
    /// Explain every code and rule (`--all --format markdown` is docs/codes.md).
    #[arg(long, conflicts_with = "code")]
    pub all: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
    pub format: ExplainFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExplainFormat {
    Text,
    Markdown,
}

/// Read a pasted error message or log: the likely cause, what it rules out, and the command
/// that decides.
///
/// Takes any text: an exception message, a stack trace, a CI log with other lines around the
/// failure (log prefixes, JSON `\n` escapes and wrapped lines are undone). Recognises the
/// formats of PyMongo, Motor, the Node.js driver, mongosh, Mongoose, Compass, the Java, Go, C#,
/// PHP, Ruby, Rust and C drivers and the database tools, over OpenSSL, BoringSSL, LibreSSL,
/// Secure Transport, SChannel, JSSE, Go's crypto/tls and rustls. Connection strings in the
/// input are redacted before anything is shown.
#[derive(Debug, Args)]
#[command(after_help = "Exit codes: 0 the text was read (whatever it says), 2 bad arguments or unreadable input.
Examples:
  mongo-preflight why '[SSL: TLSV1_ALERT_INTERNAL_ERROR] tlsv1 alert internal error (_ssl.c:1006)'
  pytest 2>&1 | tee test.log; mongo-preflight why --file test.log
  mongo-preflight why --file test.log --format markdown >> \"$GITHUB_STEP_SUMMARY\"
  pbpaste | mongo-preflight why --probe")]
pub struct WhyArgs {
    /// The error text (several arguments are read as lines). Without it and without --file,
    /// stdin is read.
    #[arg(value_name = "TEXT")]
    pub text: Vec<String>,
    /// Read the text from this file (a log, a saved stack trace).
    #[arg(long, value_name = "PATH", conflicts_with = "text")]
    pub file: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = WhyFormat::Text)]
    pub format: WhyFormat,
    /// Run the probe command now; the probe's diagnosis becomes the answer.
    #[arg(long)]
    pub probe: bool,
    #[command(flatten)]
    pub network: NetworkArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WhyFormat {
    Text,
    Json,
    Markdown,
}
