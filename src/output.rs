//! Writing results: to stdout, or atomically to a file so nothing is ever half-written.

use std::io::Write;
use std::path::Path;

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
