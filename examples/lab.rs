//! Starts the probe test lab and prints its endpoint map as JSON on stdout, for benchmarks and
//! manual runs. Runs for `--seconds N` (stdin ignored, so it can run in the background), or
//! without that flag until stdin closes.
//!
//! ```text
//! cargo run --example lab -- --seconds 600 > lab.json
//! ```

#![forbid(unsafe_code)]

#[path = "../tests/lab/mod.rs"]
mod lab;

use std::io::Read;
use std::process::ExitCode;
use std::time::Duration;

fn parse_seconds() -> Result<Option<u64>, String> {
    let mut args = std::env::args().skip(1);
    let mut seconds = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => {
                let value = args.next().ok_or("--seconds needs a value")?;
                seconds = Some(value.parse::<u64>().map_err(|e| format!("--seconds {value:?}: {e}"))?);
            }
            "-h" | "--help" => {
                return Err("usage: lab [--seconds N]  (without --seconds: runs until stdin closes)".into());
            }
            other => return Err(format!("unknown argument {other:?}; usage: lab [--seconds N]")),
        }
    }
    Ok(seconds)
}

fn main() -> ExitCode {
    let seconds = match parse_seconds() {
        Ok(seconds) => seconds,
        Err(why) => {
            eprintln!("{why}");
            return ExitCode::from(2);
        }
    };
    // Children get a backstop a little past the requested run; with stdin as the signal, the
    // watchdog (this process gone) is what stops them, so the backstop can be long.
    let lifetime = seconds.map_or(Duration::from_secs(24 * 3600), |s| Duration::from_secs(s + 60));
    let lab = lab::shared_with_lifetime(lifetime);
    let json = match serde_json::to_string_pretty(&lab.to_json()) {
        Ok(json) => json,
        Err(e) => {
            eprintln!("lab: cannot serialise the endpoint map: {e}");
            return ExitCode::FAILURE;
        }
    };
    #[allow(clippy::print_stdout)] // The endpoint map on stdout is this program's output.
    {
        println!("{json}");
    }
    match seconds {
        Some(seconds) => std::thread::sleep(Duration::from_secs(seconds)),
        None => {
            let mut sink = [0u8; 1024];
            let mut stdin = std::io::stdin();
            while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
        }
    }
    ExitCode::SUCCESS
}
