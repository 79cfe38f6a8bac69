//! Secrets that must exist as files for a while (a client certificate and key given as PEM
//! text in a CI secret), and their removal on every way out of the process.
//!
//! The files go to `RUNNER_TEMP` in GitHub Actions (the runner empties it after the job, a last
//! line of defence) or the system's temporary directory, readable by the owner only. They are
//! removed when dropped, and also by a panic hook and on SIGINT/SIGTERM, where no destructor
//! runs (release builds abort on panic).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Every secret file that exists right now.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// A private file holding a secret; removed when dropped.
#[derive(Debug)]
pub struct SecretFile {
    path: PathBuf,
}

impl SecretFile {
    /// Writes `content` to a new private file named `<prefix>-<random>.pem`.
    pub fn write(prefix: &str, content: &[u8]) -> std::io::Result<SecretFile> {
        use std::io::Write;
        let mut suffix = [0u8; 12];
        getrandom::fill(&mut suffix).map_err(std::io::Error::other)?;
        let name: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
        let path = directory().join(format!("{prefix}-{name}.pem"));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        // Registered before the first byte is written, so that no way out leaves it behind.
        if let Ok(mut live) = LIVE.lock() {
            live.push(path.clone());
        }
        let file = SecretFile { path };
        let mut handle = options.open(&file.path)?;
        handle.write_all(content)?;
        handle.sync_all()?;
        Ok(file)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SecretFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        if let Ok(mut live) = LIVE.lock() {
            live.retain(|p| p != &self.path);
        }
    }
}

/// `RUNNER_TEMP` when the runner gives one, else the system's temporary directory.
fn directory() -> PathBuf {
    std::env::var_os("RUNNER_TEMP").map(PathBuf::from).filter(|p| p.is_dir()).unwrap_or_else(std::env::temp_dir)
}

/// Removes every secret file that still exists. Safe to call from a panic hook or a signal
/// handler task: it never panics and never blocks on a poisoned lock.
pub fn remove_all() {
    let paths = match LIVE.lock() {
        Ok(mut live) => std::mem::take(&mut *live),
        Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
    };
    for path in paths {
        let _ = std::fs::remove_file(path);
    }
}

/// Installs the panic hook and, inside a Tokio runtime, the SIGINT/SIGTERM handler that remove
/// the secret files before the process ends. `on_signal` runs after the removal (to close the
/// output cleanly); the process then exits with 128 + the signal number.
pub fn install_cleanup(on_signal: fn()) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        remove_all();
        run_cleanups_blocking();
        previous(info);
    }));
    tokio::spawn(async move {
        let code = wait_for_signal().await;
        remove_all();
        run_cleanups().await;
        on_signal();
        std::process::exit(code);
    });
}

#[cfg(unix)]
async fn wait_for_signal() -> i32 {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut interrupt), Ok(mut terminate)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
    else {
        // Without signal handling the files are still removed on every other way out.
        return std::future::pending().await;
    };
    tokio::select! {
        _ = interrupt.recv() => 130,
        _ = terminate.recv() => 143,
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() -> i32 {
    match tokio::signal::ctrl_c().await {
        Ok(()) => 130,
        Err(_) => std::future::pending().await,
    }
}

/// Work that undoes something outside the process (a temporary Atlas access-list entry), run on
/// SIGINT/SIGTERM and on a panic, where no destructor runs. Each gets a bounded time.
pub type Cleanup =
    std::sync::Arc<dyn Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> + Send + Sync>;

/// How long one cleanup may take on the way out.
const CLEANUP_DEADLINE: std::time::Duration = std::time::Duration::from_secs(15);

static CLEANUPS: Mutex<Vec<(u64, Cleanup)>> = Mutex::new(Vec::new());
static NEXT_CLEANUP: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// A registered cleanup; dropping it (once the work was undone normally) unregisters it.
#[derive(Debug)]
pub struct CleanupGuard {
    id: u64,
}

/// Registers `cleanup` to run if the process is stopped by a signal or a panic before the guard
/// is dropped.
pub fn register_cleanup(cleanup: Cleanup) -> CleanupGuard {
    let id = NEXT_CLEANUP.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    match CLEANUPS.lock() {
        Ok(mut all) => all.push((id, cleanup)),
        Err(poisoned) => poisoned.into_inner().push((id, cleanup)),
    }
    CleanupGuard { id }
}

impl Drop for CleanupGuard {
    fn drop(&mut self) {
        match CLEANUPS.lock() {
            Ok(mut all) => all.retain(|(id, _)| *id != self.id),
            Err(poisoned) => poisoned.into_inner().retain(|(id, _)| *id != self.id),
        }
    }
}

fn take_cleanups() -> Vec<Cleanup> {
    let taken = match CLEANUPS.lock() {
        Ok(mut all) => std::mem::take(&mut *all),
        Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
    };
    taken.into_iter().map(|(_, c)| c).collect()
}

/// Runs every registered cleanup, each within its deadline.
async fn run_cleanups() {
    let all = take_cleanups();
    futures::future::join_all(all.iter().map(|c| tokio::time::timeout(CLEANUP_DEADLINE, c()))).await;
}

/// From a panic hook: the cleanups run on a thread of their own with a runtime of their own,
/// because the panicking thread may be inside the main runtime.
fn run_cleanups_blocking() {
    let all = take_cleanups();
    if all.is_empty() {
        return;
    }
    let worker = std::thread::spawn(move || {
        if let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
            runtime.block_on(async {
                futures::future::join_all(all.iter().map(|c| tokio::time::timeout(CLEANUP_DEADLINE, c()))).await;
            });
        }
    });
    let _ = worker.join();
}
