//! Writing results: to stdout, or atomically to a file so nothing is ever half-written; and,
//! in GitHub Actions, the fence that keeps text from outside from acting as workflow commands.

use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::AppError;

/// Writes `content` to `path` through a temporary file in the same directory and a rename.
pub fn write_atomic(path: &Path, content: &[u8]) -> Result<(), AppError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let shown = path.display().to_string();
    let mut tmp = tempfile_in(dir).map_err(|e| AppError::io(format!("cannot write {shown}"), e))?;
    tmp.1.write_all(content).map_err(|e| AppError::io(format!("cannot write {shown}"), e))?;
    tmp.1.sync_all().map_err(|e| AppError::io(format!("cannot write {shown}"), e))?;
    drop(tmp.1);
    std::fs::rename(&tmp.0, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp.0);
        AppError::io(format!("cannot write {shown}"), e)
    })
}

fn tempfile_in(dir: &Path) -> std::io::Result<(std::path::PathBuf, std::fs::File)> {
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut suffix).map_err(std::io::Error::other)?;
    let name: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
    let path = dir.join(format!(".mongo-preflight-{name}.tmp"));
    let file = std::fs::OpenOptions::new().write(true).create_new(true).open(&path)?;
    Ok((path, file))
}

/// Sends a rendered report where the user asked: `--output FILE` or stdout.
pub fn emit(content: &str, output: Option<&Path>) -> Result<(), AppError> {
    match output {
        Some(path) => write_atomic(path, content.as_bytes()),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(content.as_bytes())
                .and_then(|_| if content.ends_with('\n') || content.is_empty() { Ok(()) } else { out.write_all(b"\n") })
                .and_then(|_| out.flush())
                .map_err(|e| AppError::io("cannot write to stdout", e))
        }
    }
}

/// A spinner on stderr while long work runs, only when stderr is a terminal: logs and CI
/// output stay clean.
pub struct Spinner(Option<indicatif::ProgressBar>);

impl Spinner {
    pub fn start(message: String) -> Spinner {
        use std::io::IsTerminal;
        if !std::io::stderr().is_terminal() {
            return Spinner(None);
        }
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_message(message);
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Spinner(Some(bar))
    }

    pub fn finish(self) {
        if let Some(bar) = self.0 {
            bar.finish_and_clear();
        }
    }
}

/// In GitHub Actions, everything this process prints is enclosed in `::stop-commands::TOKEN`
/// … `::TOKEN::`, with a fresh random token, so that a file name, a snippet, a certificate or
/// a server message can never act as a workflow command (`::add-mask::`, `::stop-commands::`,
/// `##[set-output]`, …). The tool's own annotations are held back and written after the fence.
///
/// A JSON or SARIF document on stdout is never fenced: the fence's lines would make it invalid,
/// and a document cannot carry a command (see `report::escape::json_document`). Then the fence,
/// the masks and the tool's own commands go to stderr, which the runner reads the same way.
pub struct CommandFence {
    _private: (),
}

/// Where the fence and the tool's own workflow commands are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandStream {
    Stdout,
    /// stdout carries a JSON or SARIF document.
    Stderr,
}

/// Our own workflow commands, written once the fence is closed.
static HELD_COMMANDS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The open fence's token and stream; `None` when no fence is open. Taken by whichever way out
/// comes first (the end of `main`, or a signal).
static FENCE: Mutex<Option<(String, CommandStream)>> = Mutex::new(None);

/// Set once stdout carries a document: from then on no workflow command goes to stdout.
static STDOUT_IS_DOCUMENT: AtomicBool = AtomicBool::new(false);

impl CommandFence {
    /// Outside Actions this does nothing. In Actions it first masks every secret the run can
    /// read from the environment (before any other output, as masking only hides what comes
    /// after it), then opens the fence.
    pub fn open(
        env: &dyn Fn(&str) -> Option<String>,
        vars: &[(String, String)],
        stream: CommandStream,
    ) -> CommandFence {
        STDOUT_IS_DOCUMENT.store(stream == CommandStream::Stderr, Ordering::SeqCst);
        if env("GITHUB_ACTIONS").as_deref().map(str::trim) != Some("true") {
            return CommandFence { _private: () };
        }
        let mut out = String::new();
        for secret in secrets_to_mask(vars) {
            // Only `%` needs escaping: secrets are masked line by line, and any other character
            // must reach the runner as itself or the mask would not match.
            out.push_str(&format!("::add-mask::{}\n", secret.replace('%', "%25")));
        }
        let token = random_token();
        out.push_str(&format!("::stop-commands::{token}\n"));
        write_to(stream, out.as_bytes());
        if let Ok(mut slot) = FENCE.lock() {
            *slot = Some((token, stream));
        }
        CommandFence { _private: () }
    }

    /// Closes the fence and writes the workflow commands held back.
    pub fn close(self) {
        close_fence_now();
    }
}

/// Writes and flushes; a closed pipe must not turn into a panic or a changed exit code.
fn write_to(stream: CommandStream, bytes: &[u8]) {
    let _ = match stream {
        CommandStream::Stdout => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes).and_then(|_| out.flush())
        }
        CommandStream::Stderr => {
            let mut err = std::io::stderr().lock();
            err.write_all(bytes).and_then(|_| err.flush())
        }
    };
}

/// Closes the fence, if one is open (both streams are flushed first, so nothing of ours lands
/// after it), then writes the workflow commands held back.
pub fn close_fence_now() {
    let fence = match FENCE.lock() {
        Ok(mut slot) => slot.take(),
        Err(poisoned) => poisoned.into_inner().take(),
    };
    let Some((token, stream)) = fence else { return };
    let _ = std::io::stderr().flush();
    let _ = std::io::stdout().flush();
    let held = HELD_COMMANDS.lock().map(|mut h| std::mem::take(&mut *h)).unwrap_or_default();
    let mut text = format!("::{token}::\n");
    for commands in held {
        text.push_str(&commands);
        if !commands.ends_with('\n') {
            text.push('\n');
        }
    }
    write_to(stream, text.as_bytes());
}

/// Masks a secret learnt during the run (the Atlas OAuth bearer token) in GitHub Actions, so
/// that the runner hides it from every later line. `::add-mask::` is a workflow command, which
/// the fence stops: an open fence is closed, the mask written, and a fresh fence (new token)
/// opened at once. Without a fence (stdout may hold JSON) the mask goes to stderr, which the
/// runner reads for workflow commands too. Outside Actions it is only remembered for redaction.
pub fn mask_secret_now(secret: &str) {
    // Hidden from our own output everywhere, in Actions or not.
    crate::redact::remember_secrets([secret.to_string()]);
    if std::env::var("GITHUB_ACTIONS").ok().as_deref().map(str::trim) != Some("true") {
        return;
    }
    let masks: String = secret
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| format!("::add-mask::{}\n", line.replace('%', "%25")))
        .collect();
    if masks.is_empty() {
        return;
    }
    let mut slot = FENCE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    match slot.as_mut() {
        Some((token, stream)) => {
            let _ = std::io::stderr().flush();
            let _ = std::io::stdout().flush();
            let fresh = random_token();
            let text = format!("::{token}::\n{masks}::stop-commands::{fresh}\n");
            *token = fresh;
            write_to(*stream, text.as_bytes());
        }
        None => write_to(CommandStream::Stderr, masks.as_bytes()),
    }
}

/// Writes workflow commands of our own (annotations): now, or after the fence when one is open.
/// They never go to a stdout that carries a document.
pub fn workflow_commands(text: &str, to_stderr: bool) {
    let fenced = FENCE.lock().map(|slot| slot.is_some()).unwrap_or(false);
    if fenced && let Ok(mut held) = HELD_COMMANDS.lock() {
        held.push(text.to_string());
        return;
    }
    let text = if text.ends_with('\n') { text.to_string() } else { format!("{text}\n") };
    let stream = if to_stderr || STDOUT_IS_DOCUMENT.load(Ordering::SeqCst) {
        CommandStream::Stderr
    } else {
        CommandStream::Stdout
    };
    write_to(stream, text.as_bytes());
}

/// Sends a rendered report where the user asked; a `--format github` report on stdout is our
/// own workflow commands, so it goes after the fence.
pub fn emit_report(content: &str, format: crate::report::Format, output: Option<&Path>) -> Result<(), AppError> {
    match (format, output) {
        (crate::report::Format::Github, None) => {
            workflow_commands(content, false);
            Ok(())
        }
        _ => emit(content, output),
    }
}

/// The secrets found in the environment: each MongoDB connection string with user info, as a
/// whole, with its password both as written and decoded (valid or not: an invalid one is still
/// a secret); each line of a private key given as PEM text (a `client_cert_env`); and the Atlas
/// API's private key and client secret (`MONGODB_ATLAS_PRIVATE_KEY`, `…_CLIENT_SECRET`). Masking
/// more than the run reads costs nothing.
pub fn secrets_to_mask(vars: &[(String, String)]) -> Vec<String> {
    let mut secrets = Vec::new();
    for (name, value) in vars {
        let value = value.trim();
        // Atlas private keys and service-account secrets, whatever they look like.
        if crate::atlas::SECRET_VARS.contains(&name.as_str()) && !value.is_empty() {
            secrets.push(value.to_string());
            continue;
        }
        let lower = value.get(..14).unwrap_or(value).to_ascii_lowercase();
        if lower.starts_with("mongodb://") || lower.starts_with("mongodb+srv://") {
            let after_scheme = value.split_once("://").map_or("", |(_, rest)| rest);
            let Some(at) = crate::redact::userinfo_end(after_scheme) else { continue };
            secrets.push(value.to_string());
            if let Some((_, password)) = after_scheme[..at].split_once(':')
                && !password.is_empty()
            {
                secrets.push(password.to_string());
                secrets.push(percent_encoding::percent_decode_str(password).decode_utf8_lossy().into_owned());
            }
        } else if value.contains("-----BEGIN") && value.contains("PRIVATE KEY") {
            secrets.extend(
                value.lines().map(str::trim).filter(|l| l.len() >= 16 && !l.starts_with("-----")).map(str::to_string),
            );
        }
    }
    secrets.sort();
    secrets.dedup();
    // A secret with a line break is masked line by line, as the runner matches lines.
    secrets.iter().flat_map(|s| s.lines().map(str::to_string).collect::<Vec<_>>()).filter(|s| !s.is_empty()).collect()
}

fn random_token() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // Without randomness, a token from the clock and process is still unguessable for a
        // file written before the run.
        let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let mixed = seed ^ (u128::from(std::process::id()) << 64);
        bytes = mixed.to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
