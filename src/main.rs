#![forbid(unsafe_code)]

use clap::Parser;
use mongo_preflight::{cli::Cli, error::EXIT_UNJUDGED, redact};

fn main() {
    let cli = Cli::parse();
    // In GitHub Actions: secrets masked and the command fence opened before anything else the
    // command prints.
    let vars: Vec<(String, String)> =
        std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))).collect();
    // Secrets the run can read are hidden wherever they would appear, in Actions or not.
    redact::remember_secrets(mongo_preflight::output::secrets_to_mask(&vars));
    let fence = cli.command.prints_untrusted_text().then(|| {
        let stream = if cli.command.stdout_is_a_document() {
            mongo_preflight::output::CommandStream::Stderr
        } else {
            mongo_preflight::output::CommandStream::Stdout
        };
        mongo_preflight::output::CommandFence::open(&|name| std::env::var(name).ok(), &vars, stream)
    });
    let code = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => {
            init_tracing();
            runtime.block_on(async {
                mongo_preflight::secret_files::install_cleanup(close_output_on_signal);
                match mongo_preflight::cmd::run(cli).await {
                    Ok(code) => code,
                    Err(err) => {
                        eprintln!("error: {}", redact::text(&err.to_string()));
                        err.exit_code()
                    }
                }
            })
        }
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            EXIT_UNJUDGED
        }
    };
    if let Some(fence) = fence {
        fence.close();
    }
    // The MongoDB driver's monitor tasks can keep the process alive; the report is written.
    std::process::exit(code);
}

/// A run stopped by a signal still closes the workflow-command fence, so the runner reads the
/// rest of the job's log normally.
fn close_output_on_signal() {
    mongo_preflight::output::close_fence_now();
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("MONGO_PREFLIGHT_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(|| RedactingStderr).with_target(false).try_init();
}

/// Log output passes through the redactor, so no log line (even at `trace`, even from a
/// dependency) can carry a connection string's user info.
struct RedactingStderr;

impl std::io::Write for RedactingStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().lock().write_all(redact::text(&text).as_bytes())?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
