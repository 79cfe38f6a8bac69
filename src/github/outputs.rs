//! Step outputs through the `GITHUB_OUTPUT` file.

use std::io::Write;
use std::path::Path;

/// Appends `name=value` lines to the `GITHUB_OUTPUT` file at `path`.
///
/// A value holding a line break is written in the heredoc form (`name<<DELIM`) with a random
/// delimiter that the value does not contain, so no value can end the block early and smuggle
/// in another output.
pub fn append(path: &Path, outputs: &[(&str, String)]) -> std::io::Result<()> {
    let mut text = String::new();
    for (name, value) in outputs {
        if name.is_empty() || name.contains(['=', '<', '\n', '\r']) {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("invalid output name {name:?}")));
        }
        if value.contains(['\n', '\r']) {
            let delimiter = heredoc_delimiter(value)?;
            text.push_str(&format!("{name}<<{delimiter}\n{value}\n{delimiter}\n"));
        } else {
            text.push_str(&format!("{name}={value}\n"));
        }
    }
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    file.write_all(text.as_bytes())?;
    file.flush()
}

/// `ghadelimiter_` and 32 random hex digits, as the Actions toolkit does it.
fn heredoc_delimiter(value: &str) -> std::io::Result<String> {
    loop {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(std::io::Error::other)?;
        let delimiter: String = "ghadelimiter_"
            .chars()
            .chain(bytes.iter().flat_map(|b| format!("{b:02x}").chars().collect::<Vec<_>>()))
            .collect();
        if !value.contains(&delimiter) {
            return Ok(delimiter);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters_are_random() {
        let a = heredoc_delimiter("x").ok();
        let b = heredoc_delimiter("x").ok();
        assert!(a.is_some());
        assert_ne!(a, b);
    }

    #[test]
    fn names_that_would_break_the_format_are_refused() {
        let dir = std::env::temp_dir().join(format!("mp-outputs-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("out");
        assert!(append(&path, &[("a=b", "1".to_string())]).is_err());
        assert!(append(&path, &[("a\nb", "1".to_string())]).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
