//! Child processes (SecantusDB, dnsmasq, openssl) that stop by themselves.
//!
//! The lab lives in a `static`, which is never dropped, so nothing in this process would ever
//! kill its children. Each child therefore runs under a small `sh` wrapper whose watchdog kills
//! it once the process that started the lab is gone, with `timeout` as a backstop.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

/// `$1` = pid to outlive, `$2` = backstop seconds, the rest = the command.
/// TERM on the wrapper stops the child gracefully and waits for it; USR1 kills it at once.
/// The backstop is counted in the watchdog loop rather than with `timeout(1)`, so that `$child`
/// is the program itself and can be killed directly.
const WRAPPER: &str = r#"
parent=$1; lifetime=$2; shift 2
"$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 143' TERM INT
trap 'kill -KILL "$child" 2>/dev/null; wait "$child"; exit 137' USR1
(
  n=0
  while [ "$n" -lt "$lifetime" ] && kill -0 "$parent" 2>/dev/null && kill -0 "$child" 2>/dev/null; do
    sleep 1; n=$((n + 1))
  done
  kill -TERM "$child" 2>/dev/null; sleep 3; kill -KILL "$child" 2>/dev/null
) </dev/null >/dev/null 2>&1 &
watchdog=$!
wait "$child"
status=$?
kill "$watchdog" 2>/dev/null
exit "$status"
"#;

/// A program the lab needs: from its environment variable (set by `scripts/test`), else the
/// venv `scripts/test` creates, else PATH.
pub fn tool(env_var: &str, names: &[&str]) -> PathBuf {
    if let Some(path) = std::env::var_os(env_var).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "lab: {env_var}={} does not exist; run scripts/test, which installs it",
            path.display()
        );
        return path;
    }
    let search = std::env::var_os("PATH").unwrap_or_default();
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".cache/venv/bin");
    let dirs = std::iter::once(venv).chain(std::env::split_paths(&search)).chain(["/usr/sbin".into(), "/sbin".into()]);
    for dir in dirs {
        for name in names {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "lab: {} not found (set {env_var} or put it on PATH); run scripts/test, which installs it",
        names.join(" / ")
    )
}

/// A port for a child to bind, chosen below the kernel's ephemeral range: a port from `bind(0)`
/// comes from that range, which outgoing connections draw from too, so one of them could take
/// it between our test bind and the child's. Random, so that parallel test binaries (each with
/// its own lab) rarely collide; if another process still wins, the child exits early and
/// [`start_listening`] retries with a new port.
pub fn free_port() -> u16 {
    use std::hash::{BuildHasher, RandomState};
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let (low, high) = (10_000u16, ephemeral_low.max(10_100));
    for attempt in 0u32..200 {
        let random = RandomState::new().hash_one(attempt);
        let port = low + u16::try_from(random % u64::from(high - low)).expect("in range");
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    let listener = TcpListener::bind("127.0.0.1:0").expect("lab: bind a free port");
    listener.local_addr().expect("lab: local addr").port()
}

pub struct Guarded {
    pub name: String,
    pub child: Child,
    pub log: PathBuf,
}

impl Guarded {
    pub fn spawn(name: &str, program: &Path, args: &[String], dir: &Path, lifetime: Duration) -> Guarded {
        let log = dir.join(format!("{name}.log"));
        let log_file = std::fs::File::create(&log).expect("lab: create child log");
        let log_err = log_file.try_clone().expect("lab: clone log handle");
        let child = Command::new("sh")
            .arg("-c")
            .arg(WRAPPER)
            .arg("lab-guard")
            .arg(std::process::id().to_string())
            .arg(lifetime.as_secs().max(1).to_string())
            .arg(program)
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(log_err)
            .spawn()
            .unwrap_or_else(|e| panic!("lab: spawn {name} ({}): {e}", program.display()));
        Guarded { name: name.to_string(), child, log }
    }

    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    /// Waits until `addr` accepts TCP connections. `Err` when the child exited first (e.g. the
    /// port was taken); panics when the deadline passes.
    pub async fn wait_for_port(&mut self, addr: SocketAddr, deadline: Duration) -> Result<(), String> {
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "{} exited with {status} before listening on {addr}:\n{}",
                    self.name,
                    self.log_tail()
                ));
            }
            if let Ok(Ok(_)) =
                tokio::time::timeout(Duration::from_millis(500), tokio::net::TcpStream::connect(addr)).await
            {
                // Something listens; make sure it is our child and not another process that
                // took the port: a child that lost the race exits at once with "address in use".
                tokio::time::sleep(Duration::from_millis(150)).await;
                if let Ok(Some(status)) = self.child.try_wait() {
                    return Err(format!(
                        "{} exited with {status} although {addr} accepts (another process has the port):\n{}",
                        self.name,
                        self.log_tail()
                    ));
                }
                return Ok(());
            }
            if start.elapsed() > deadline {
                panic!("lab: {} did not listen on {addr} within {deadline:?}:\n{}", self.name, self.log_tail());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the child through the wrapper's TERM trap and waits (bounded) for it to exit.
    pub async fn stop(self) {
        self.signal_and_wait("-TERM").await;
    }

    /// Kills the child at once (SIGKILL through the wrapper's USR1 trap) and waits for it.
    pub async fn kill(self) {
        self.signal_and_wait("-USR1").await;
    }

    async fn signal_and_wait(mut self, signal: &str) {
        if let Some(pid) = self.child.id() {
            let _ = Command::new("kill").arg(signal).arg(pid.to_string()).status().await;
        }
        if tokio::time::timeout(Duration::from_secs(15), self.child.wait()).await.is_err() {
            let _ = self.child.start_kill();
            let _ = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
        }
    }
}

/// Startup timings on stderr when `MONGO_PREFLIGHT_LAB_TRACE` is set (for tuning startup).
pub fn trace(what: &str) {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let start = *START.get_or_init(Instant::now);
    if std::env::var_os("MONGO_PREFLIGHT_LAB_TRACE").is_some() {
        eprintln!("lab: {:>6} ms  {what}", start.elapsed().as_millis());
    }
}

/// Starts a server child on a fresh port, retrying a few times if it loses a port race.
pub async fn start_listening(
    name: &str,
    program: &Path,
    dir: &Path,
    lifetime: Duration,
    deadline: Duration,
    args_for_port: impl Fn(u16) -> Vec<String>,
) -> (Guarded, u16) {
    let mut failures = Vec::new();
    for _ in 0..3 {
        let port = free_port();
        let mut guarded = Guarded::spawn(name, program, &args_for_port(port), dir, lifetime);
        match guarded.wait_for_port(SocketAddr::from(([127, 0, 0, 1], port)), deadline).await {
            Ok(()) => {
                trace(&format!("{name} listening on {port}"));
                return (guarded, port);
            }
            Err(why) => failures.push(why),
        }
    }
    panic!("lab: {name} failed to start three times:\n{}", failures.join("\n---\n"))
}

/// Removes the lab directory once the process that started the lab has exited (statics are
/// never dropped, so a `TempDir` guard would never run).
pub fn spawn_janitor(dir: &Path, lifetime: Duration) {
    let script = r#"parent=$1; dir=$2; end=$(( $(date +%s) + $3 ))
while kill -0 "$parent" 2>/dev/null && [ "$(date +%s)" -lt "$end" ]; do sleep 1; done
sleep 5; rm -rf "$dir""#;
    let spawned = std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("lab-janitor")
        .arg(std::process::id().to_string())
        .arg(dir)
        .arg((lifetime.as_secs() + 10).to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    // Without a janitor only a temporary directory is left behind: not worth failing the lab.
    drop(spawned);
}
