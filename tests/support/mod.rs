//! What the tests that run the built binary share: a command with nothing from the caller's
//! environment steering it, and a watchdog. `mod support;` in a test file brings it in.
#![allow(dead_code, unreachable_pub)]

use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_mongo-preflight");

/// The binary, with every variable removed that a developer's shell or a pull-request runner
/// sets and that would steer it: the GitHub event and context (`GITHUB_*`, `CI`), git's
/// overrides (`GIT_*`), our own settings (`MONGO_PREFLIGHT_*`), a log level, a real cluster, and
/// colour. A test sets back what it means to test.
pub fn mongo_preflight() -> Command {
    let mut cmd = Command::new(BIN);
    remove_caller_env(&mut cmd);
    cmd.env("NO_COLOR", "1");
    cmd
}

/// Removes those variables from any command (git too: `GIT_DIR` would point it elsewhere).
pub fn remove_caller_env(cmd: &mut Command) {
    for (key, _) in std::env::vars() {
        if key.starts_with("GITHUB_")
            || key.starts_with("GIT_")
            || key.starts_with("MONGO_PREFLIGHT_")
            || matches!(key.as_str(), "CI" | "RUST_LOG" | "MONGODB_URI" | "CLICOLOR" | "CLICOLOR_FORCE")
        {
            cmd.env_remove(key);
        }
    }
}

/// Like `Command::output`, but kills the child and fails the test if it has not exited within
/// `limit`: a regression that hangs must fail, not stall the suite.
pub fn output_within(mut cmd: Command, limit: Duration) -> Output {
    let mut child =
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn the binary");
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the binary") {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the binary ran longer than {limit:?} and was killed: {cmd:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output { status, stdout: stdout.join().expect("stdout reader"), stderr: stderr.join().expect("stderr reader") }
}
