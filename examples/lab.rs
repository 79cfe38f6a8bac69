//! Starts the probe test lab and prints its endpoint map as JSON on stdout, for benchmarks and
//! manual runs. Runs until stdin closes or `--seconds N` pass, whichever comes first. A stdin
//! of `/dev/null` (a background job) does not count as closed: then only `--seconds` ends it.
//!
//! ```text
//! cargo run --example lab -- --seconds 600 > lab.json
//! ```

#![forbid(unsafe_code)]

#[path = "../tests/lab/mod.rs"]
mod lab;

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;
use std::sync::mpsc;
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
    let stdin_is_null = std::fs::read_link("/proc/self/fd/0").is_ok_and(|target| target == Path::new("/dev/null"));
    if stdin_is_null && seconds.is_none() {
        eprintln!("lab: stdin is /dev/null, so nothing would stop the lab: pass --seconds N or keep stdin open");
        return ExitCode::from(2);
    }
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
    let (stdin_closed, wait) = mpsc::channel::<()>();
    if !stdin_is_null {
        let stdin_closed = stdin_closed.clone();
        std::thread::spawn(move || {
            let mut sink = [0u8; 1024];
            let mut stdin = std::io::stdin();
            while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
            let _ = stdin_closed.send(());
        });
    }
    match seconds {
        Some(seconds) => {
            let _ = wait.recv_timeout(Duration::from_secs(seconds));
        }
        None => {
            let _ = wait.recv();
        }
    }
    drop(stdin_closed);
    ExitCode::SUCCESS
}
