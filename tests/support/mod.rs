//! What the tests that run the built binary share: a command with nothing from the caller's
//! environment steering it, and a watchdog. `mod support;` in a test file brings it in.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeSet;
use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub mod runner;

/// The built binary. Tests never start it by this path: `mongo_preflight()` does, and
/// `tests/architecture.rs` fails when a test file names it.
pub const BIN: &str = env!("CARGO_BIN_EXE_mongo-preflight");

/// How long a run of the binary may take before the watchdog kills it and fails the test: far
/// above what any run needs (probes here end within a few deadlines of 2 to 10 s), a bound
/// against a hang, not a timing assertion.
pub const WATCHDOG: Duration = Duration::from_secs(120);

/// The binary, with every variable removed that a developer's shell or a pull-request runner
/// sets and that would steer it (see `steers`). A test sets back what it means to test.
pub fn mongo_preflight() -> Command {
    let mut cmd = Command::new(BIN);
    remove_caller_env(&mut cmd);
    cmd.env("NO_COLOR", "1");
    cmd
}

/// The binary started by `sh` under `ulimit -v KIB` (its address space), for the tests that
/// check memory bounds: `exec` keeps the pid, so sampling the child samples the binary.
pub fn mongo_preflight_with_address_space(kib: u64) -> Command {
    let mut cmd = Command::new("sh");
    remove_caller_env(&mut cmd);
    cmd.env("NO_COLOR", "1").arg("-c").arg(format!("ulimit -v {kib} && exec \"$0\" \"$@\"")).arg(BIN);
    cmd
}

/// The built binary's bytes, for a test that installs it as a stand-in release asset.
pub fn binary_bytes() -> Vec<u8> {
    std::fs::read(BIN).expect("the built binary")
}

/// Whether a variable of the caller's environment would steer a run of the binary or of git:
/// the GitHub event and context (`GITHUB_*`, `CI`, `RUNNER_*`, `ACTIONS_*`), git's overrides
/// (`GIT_*`), our own settings (`MONGO_PREFLIGHT_*`), the Atlas CLI's and Terraform's
/// credentials and base URL (`MONGODB_ATLAS_*`), a real cluster (`MONGODB_URI`), the trust
/// store (`SSL_CERT_FILE`, `SSL_CERT_DIR`), HTTP proxies, a log level, and colour.
pub fn steers(key: &str) -> bool {
    const PREFIXES: [&str; 7] =
        ["GITHUB_", "GIT_", "MONGO_PREFLIGHT_", "MONGODB_ATLAS_", "RUNNER_", "ACTIONS_", "INPUT_"];
    const NAMES: [&str; 14] = [
        "CI",
        "RUST_LOG",
        "RUST_BACKTRACE",
        "MONGODB_URI",
        "CLICOLOR",
        "CLICOLOR_FORCE",
        "NO_COLOR",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
        "XDG_CONFIG_HOME",
    ];
    let upper = key.to_ascii_uppercase();
    PREFIXES.iter().any(|p| upper.starts_with(p)) || NAMES.contains(&upper.as_str())
}

/// Removes those variables from any command (git too: `GIT_DIR` would point it elsewhere).
pub fn remove_caller_env(cmd: &mut Command) {
    for (key, _) in std::env::vars_os() {
        if steers(&key.to_string_lossy()) {
            cmd.env_remove(key);
        }
    }
}

/// A started run of the binary with its output being read. If the test panics before
/// `finish`, dropping it kills the child: nothing outlives the test.
pub struct Running {
    child: std::process::Child,
    stdout: Option<std::thread::JoinHandle<Vec<u8>>>,
    stderr: Option<std::thread::JoinHandle<Vec<u8>>>,
    started: Instant,
    limit: Duration,
    what: String,
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

/// Starts `cmd` (stdin closed, stdout and stderr read), to be finished within `limit` of now.
pub fn spawn_within(mut cmd: Command, limit: Duration) -> Running {
    start(&mut cmd, limit)
}

/// `spawn_within` for a command built in place (`command().args(..).env(..)`).
pub fn start(cmd: &mut Command, limit: Duration) -> Running {
    let what = format!("{cmd:?}");
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    let stdout = Some(drain(child.stdout.take()));
    let stderr = Some(drain(child.stderr.take()));
    Running { child, stdout, stderr, started: Instant::now(), limit, what }
}

/// `Command::output` with the watchdog, for commands built in place:
/// `support::mongo_preflight().args([..]).watched()`.
pub trait Watched {
    fn watched(&mut self) -> Output;
}

impl Watched for Command {
    fn watched(&mut self) -> Output {
        start(self, WATCHDOG).finish()
    }
}

impl Running {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the exit, calling `sample` with the pid every 20 ms meanwhile; kills the
    /// child and fails the test when the limit passes first.
    pub fn finish_sampling(mut self, mut sample: impl FnMut(u32)) -> Output {
        let status = loop {
            sample(self.child.id());
            if let Some(status) = self.child.try_wait().expect("wait for the child") {
                break status;
            }
            if self.started.elapsed() > self.limit {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("ran longer than {:?} and was killed: {}", self.limit, self.what);
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let stdout = self.stdout.take().map(|h| h.join().expect("stdout reader")).unwrap_or_default();
        let stderr = self.stderr.take().map(|h| h.join().expect("stderr reader")).unwrap_or_default();
        Output { status, stdout, stderr }
    }

    pub fn finish(self) -> Output {
        self.finish_sampling(|_| {})
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Like `Command::output`, but kills the child and fails the test if it has not exited within
/// `limit`: a regression that hangs must fail, not stall the suite.
pub fn output_within(cmd: Command, limit: Duration) -> Output {
    spawn_within(cmd, limit).finish()
}

/// `output_within` with the usual watchdog.
pub fn run(cmd: Command) -> Output {
    output_within(cmd, WATCHDOG)
}

/// stdout and stderr of a run, as one text.
pub fn all_output(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Every diagnosis of a JSON report: the clusters' own, then their hosts'.
pub fn all_diagnoses(json: &serde_json::Value) -> Vec<&serde_json::Value> {
    let mut out = Vec::new();
    for cluster in json["clusters"].as_array().into_iter().flatten() {
        out.extend(cluster["diagnoses"].as_array().into_iter().flatten());
        for host in cluster["hosts"].as_array().into_iter().flatten() {
            out.extend(host["diagnoses"].as_array().into_iter().flatten());
        }
    }
    out
}

/// The codes of a JSON report's diagnoses.
pub fn codes(json: &serde_json::Value) -> BTreeSet<String> {
    all_diagnoses(json).iter().map(|d| d["code"].as_str().unwrap_or_default().to_string()).collect()
}

/// The first diagnosis with `code`; panics showing the report otherwise.
pub fn diagnosis<'a>(json: &'a serde_json::Value, code: &str) -> &'a serde_json::Value {
    all_diagnoses(json).into_iter().find(|d| d["code"] == code).unwrap_or_else(|| panic!("no {code} in {json:#}"))
}

/// Runs git in `dir` with nothing of the caller's configuration or environment (`GIT_DIR` from a
/// hook that runs the tests, a global `user.name`, commit signing), `home` as its home; panics
/// with git's words when it fails.
pub fn git(dir: &std::path::Path, home: &std::path::Path, args: &[&str]) -> String {
    let mut cmd = Command::new("git");
    remove_caller_env(&mut cmd);
    let out = cmd
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"])
        .args(["-c", "core.symlinks=true", "-c", "init.defaultBranch=main"])
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("HOME", home)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A `pull_request` event payload (number 7) whose base is `base_sha` on `main` of `octo/app`,
/// from a head in `head_repo` (another name is a fork).
pub fn pull_request_event(base_sha: &str, head_repo: &str) -> serde_json::Value {
    serde_json::json!({
        "action": "synchronize",
        "number": 7,
        "pull_request": {
            "number": 7,
            "user": {"login": "mona", "type": "User"},
            "base": {"sha": base_sha, "ref": "main", "repo": {"full_name": "octo/app"}},
            "head": {"sha": "0", "ref": "pr", "repo": {"full_name": head_repo}}
        }
    })
}

/// A stand-in HTTP service on 127.0.0.1 that answers every request `503` and records its
/// request line: for asserting that a run asked nothing (`requests()` stays empty). It stops by
/// itself after `WATCHDOG`, or when dropped.
pub struct Recorder {
    pub url: String,
    requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Recorder {
    pub fn start() -> Recorder {
        use std::io::Write;
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the recorder");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        listener.set_nonblocking(true).expect("nonblocking");
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (seen, stopped) = (requests.clone(), stop.clone());
        std::thread::spawn(move || {
            let started = Instant::now();
            while !stopped.load(Ordering::Relaxed) && started.elapsed() < WATCHDOG {
                match listener.accept() {
                    Ok((mut conn, _)) => {
                        let _ = conn.set_nonblocking(false);
                        let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
                        let mut head = [0u8; 4096];
                        let n = conn.read(&mut head).unwrap_or(0);
                        let text = String::from_utf8_lossy(&head[..n]);
                        let line = text.lines().next().unwrap_or("(connection without a request)").to_string();
                        seen.lock().unwrap_or_else(|p| p.into_inner()).push(line);
                        let _ = conn.write_all(
                            b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                        );
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Recorder { url, requests, stop }
    }

    /// The request lines (or connections) seen so far.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}
