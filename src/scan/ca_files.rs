//! CA files the repository's MongoDB settings point at (`tlsCAFile`, `sslCAFile`, PyMongo 3's
//! `ssl_ca_certs`, `MONGODB_TLS_CA_FILE`, mongosh's `--tlsCAFile`), so `check` can judge the
//! bundles an application ships, not only the ones this run uses.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

/// What `git grep` looks for: the option names, in any spelling (case-insensitive).
pub const GREP_PATTERN: &str = "(tls|ssl)[_-]?ca[_-]?(file|certs)";

/// The option and the value it is given: `=`, `:`, `=>`, `,` or a space, quoted or not.
static SETTING: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::unwrap_used)] // constant pattern
    Regex::new(r#"(?i)(?:tls|ssl)[_-]?ca[_-]?(?:file|certs)["']?\s*(?:=>|[=:,]|\s)\s*["']?([^"'\s&,;)}\]<>$]+)"#)
        .unwrap()
});

/// A CA file in the repository, and where the settings name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaFileReference {
    /// The CA file, relative to the repository root, `/`-separated.
    pub path: String,
    /// `file:line` of each setting that names it.
    pub named_at: Vec<String>,
    /// A file that names it also names an Atlas host (`*.mongodb.net`).
    pub atlas: bool,
}

/// The values a line gives the CA-file options, URL-decoded.
pub fn values(line: &str) -> Vec<String> {
    SETTING
        .captures_iter(line)
        .filter_map(|c| c.get(1))
        .map(|m| percent_encoding::percent_decode_str(m.as_str()).decode_utf8_lossy().into_owned())
        .collect()
}

/// The repository file a value names: relative to the root, else to the naming file's
/// directory; only an existing file inside the repository counts.
fn resolve(root: &Path, naming_file: &str, value: &str) -> Option<String> {
    let value = value.strip_prefix("file://").unwrap_or(value);
    let dir = Path::new(naming_file).parent().unwrap_or(Path::new(""));
    let candidates: [PathBuf; 2] = [root.join(value), root.join(dir).join(value)];
    let root = std::fs::canonicalize(root).ok()?;
    candidates.iter().find_map(|c| {
        let real = std::fs::canonicalize(c).ok()?;
        if !real.is_file() {
            return None;
        }
        let rel = real.strip_prefix(&root).ok()?;
        Some(rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/"))
    })
}

/// The CA files named by `lines` (`(file, line number, text)` as `git grep` gives them).
pub fn references(root: &Path, lines: &[(String, u32, String)]) -> Vec<CaFileReference> {
    let mut found: BTreeMap<String, CaFileReference> = BTreeMap::new();
    let mut atlas_files: BTreeMap<&str, bool> = BTreeMap::new();
    for (file, number, text) in lines {
        for value in values(text) {
            let Some(path) = resolve(root, file, &value) else { continue };
            let atlas = *atlas_files.entry(file.as_str()).or_insert_with(|| names_atlas(&root.join(file)));
            let entry = found.entry(path.clone()).or_insert(CaFileReference { path, named_at: vec![], atlas: false });
            entry.named_at.push(format!("{file}:{number}"));
            entry.atlas |= atlas;
        }
    }
    found.into_values().collect()
}

/// Whether a file names an Atlas host; read up to 1 MiB.
fn names_atlas(path: &Path) -> bool {
    use std::io::Read;
    let mut text = Vec::new();
    let read = std::fs::File::open(path).and_then(|f| f.take(1024 * 1024).read_to_end(&mut text));
    read.is_ok() && String::from_utf8_lossy(&text).to_ascii_lowercase().contains(".mongodb.net")
}

/// Parses `git grep -n -z` output: `file NUL line NUL text`, one match a line.
pub fn parse_grep(output: &[u8]) -> Vec<(String, u32, String)> {
    output
        .split(|b| *b == b'\n')
        .filter_map(|record| {
            let mut parts = record.splitn(3, |b| *b == 0);
            let file = std::str::from_utf8(parts.next()?).ok()?.to_string();
            let line = std::str::from_utf8(parts.next()?).ok()?.parse().ok()?;
            let text = String::from_utf8_lossy(parts.next()?).into_owned();
            Some((file, line, text))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_in_every_setting_style() {
        assert_eq!(values("mongodb+srv://c.abc.mongodb.net/?tls=true&tlsCAFile=certs%2Fca.pem&w=1"), ["certs/ca.pem"]);
        assert_eq!(values("  tlsCAFile: \"certs/ca.pem\""), ["certs/ca.pem"]);
        assert_eq!(values("MongoClient(uri, tlsCAFile='ca.pem')"), ["ca.pem"]);
        assert_eq!(values("client = MongoClient(uri, ssl_ca_certs=\"/etc/x.pem\")"), ["/etc/x.pem"]);
        assert_eq!(values("MONGODB_TLS_CA_FILE=certs/bundle.pem"), ["certs/bundle.pem"]);
        assert_eq!(values("mongosh \"$URI\" --tlsCAFile ./ca.pem"), ["./ca.pem"]);
        assert_eq!(values("{ 'tlsCAFile' => 'ca.pem' }"), ["ca.pem"]);
        assert!(values("tlsCAFile=$CA_FILE").is_empty());
        assert!(values("the tlsCAFile option").iter().all(|v| v == "option"));
    }

    #[test]
    fn grep_output_is_split_into_file_line_text() {
        let out = b"app/db.py\x003\x00c = MongoClient(u, tlsCAFile='ca.pem')\nREADME.md\x0010\x00tlsCAFile\n";
        let lines = parse_grep(out);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0], ("app/db.py".to_string(), 3, "c = MongoClient(u, tlsCAFile='ca.pem')".to_string()));
    }
}
