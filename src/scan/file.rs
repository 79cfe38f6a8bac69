//! One file's text in, its findings out: language by name, comments stripped, escapes decoded,
//! then the shared option matcher, the connection-string rules and the family's own rules.

use crate::catalog::Documented;
use crate::catalog::rules::Rule;

use super::decode::{decode, is_utf16};
use super::family::{FileCtx, Hit};
use super::lang::Lang;
use super::{config, families, infrastructure, matcher, prefilter, strip, uri};

/// One finding in one file, before it gets its path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub rule: Rule,
    pub line: u32,
    pub column: u32,
    pub snippet: String,
    pub message: String,
    pub fingerprint: String,
}

/// Scans one file's text; `path` (relative, `/`-separated) decides its language.
pub fn scan_text(path: &str, text: &str) -> Vec<Located> {
    let sighting = prefilter::sight(text.as_bytes());
    if !sighting.any() && !path_mentions_mongo(path) {
        return Vec::new();
    }
    scan_sighted(path, text, sighting)
}

/// [`scan_text`] of the file's [`decode`]d bytes, decoding only the files the prefilter lets
/// through. The prefilter looks at the raw bytes (see [`prefilter`]), except for UTF-16, whose
/// text only decoding shows; binary files are searched the same way, whole.
pub fn scan_bytes(path: &str, bytes: &[u8]) -> Vec<Located> {
    if is_utf16(bytes) {
        return scan_text(path, &decode(bytes));
    }
    let sighting = prefilter::sight(bytes);
    if !sighting.any() && !path_mentions_mongo(path) {
        return Vec::new();
    }
    scan_sighted(path, &decode(bytes), sighting)
}

/// Whether the path names MongoDB: every file under such a path is scanned whole.
pub fn path_mentions_mongo(path: &str) -> bool {
    path.as_bytes().windows(5).any(|w| w.eq_ignore_ascii_case(b"mongo"))
}

/// Rule and line of every hit in one file's text: what the per-language unit tests compare.
#[cfg(test)]
pub(crate) fn rule_lines(path: &str, text: &str) -> Vec<(Rule, u32)> {
    scan_text(path, text).into_iter().map(|h| (h.rule, h.line)).collect()
}

/// [`scan_text`] after the prefilter has looked at the file.
pub fn scan_sighted(path: &str, text: &str, sighting: prefilter::Sighting) -> Vec<Located> {
    let lang = families::detect(path);
    if lang == Lang::Docs {
        return Vec::new();
    }
    let mut stripped = strip::strip(text, families::of(lang).syntax);
    // Text that talks about options without setting them: schema descriptions and help texts,
    // and the server's own log lines.
    config::blank_prose(&mut stripped, lang);
    config::blank_server_log(&mut stripped);
    let decoded = match lang {
        Lang::Xml => Some(config::decode_xml(&stripped)),
        Lang::Properties => Some(config::decode_properties(&stripped)),
        _ => None,
    };
    let scanned: &str = decoded.as_ref().map(|d| d.text.as_str()).unwrap_or(&stripped);
    let ctx = FileCtx {
        lang,
        text: scanned,
        // Judged on the stripped text: a comment that mentions MongoDB does not make a
        // generic name in the code below it MongoDB's.
        mongo: path_mentions_mongo(path) || sighting.mongo && prefilter::sight(scanned.as_bytes()).mongo,
        uris: uri::find_uris(scanned),
    };
    let mut hits: Vec<Hit> = Vec::new();
    matcher::scan_options(&families::OPTIONS, &ctx, &mut hits);
    uri::scan_tls_disabled(&ctx, &mut hits);
    if let Some(own_rules) = families::of(lang).scan {
        own_rules(&ctx, &mut hits);
    }
    // Infrastructure (Terraform, CloudFormation, Kubernetes, the Atlas CLI and API) is written
    // in any of the formats above: its rules look at every file.
    infrastructure::scan(&ctx, &mut hits);
    if hits.is_empty() {
        return Vec::new();
    }
    let lines = LineIndex::new(text);
    let mut located: Vec<Located> = hits
        .into_iter()
        .map(|hit| {
            let offset = decoded.as_ref().and_then(|d| d.origin.get(hit.offset).copied()).unwrap_or(hit.offset);
            let (line, column, line_text) = lines.locate(text, offset);
            let normalized: String = uri::redact(line_text).chars().filter(|c| !c.is_whitespace()).collect();
            let message = match families::safe_alternative(lang, hit.rule) {
                Some(alt) => format!("{}; instead: {alt}", hit.message),
                None => hit.message,
            };
            Located {
                rule: hit.rule,
                line,
                column,
                snippet: snippet(line_text, column),
                message: uri::redact(&message),
                fingerprint: fingerprint(hit.rule, path, &normalized),
            }
        })
        .collect();
    located.sort_by_key(|a| (a.line, a.column, a.rule));
    located.dedup_by(|a, b| a.line == b.line && a.column == b.column && a.rule == b.rule);
    located
}

/// Stable across line moves and credential changes: rule, path, and the line's redacted text
/// without whitespace. FNV-1a, written out so that it never changes with a dependency.
pub fn fingerprint(rule: Rule, path: &str, normalized_line: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [rule.id(), path, normalized_line] {
        for byte in part.bytes().chain(std::iter::once(0)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

/// The trimmed line, redacted; a very long line is cut around the column.
fn snippet(line: &str, column: u32) -> String {
    const MAX: usize = 200;
    let trimmed = line.trim();
    let redacted = uri::redact(trimmed);
    let chars: Vec<char> = redacted.chars().collect();
    if chars.len() <= MAX {
        return redacted;
    }
    let lead = line.chars().count() - line.trim_start().chars().count();
    let at = (column as usize).saturating_sub(1 + lead).min(chars.len());
    let start = at.saturating_sub(MAX / 4);
    let end = (start + MAX).min(chars.len());
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.extend(&chars[start..end]);
    if end < chars.len() {
        out.push('…');
    }
    out
}

/// Byte offsets of line starts, for 1-based line and character-column numbers.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(text.bytes().enumerate().filter(|(_, c)| *c == b'\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    fn locate<'t>(&self, text: &'t str, offset: usize) -> (u32, u32, &'t str) {
        let offset = offset.min(text.len());
        let idx = self.starts.partition_point(|&s| s <= offset).saturating_sub(1);
        let start = self.starts[idx];
        let end = self.starts.get(idx + 1).map(|e| e - 1).unwrap_or(text.len());
        let line_text = text.get(start..end).unwrap_or("").trim_end_matches('\r');
        let column = text.get(start..offset).map(|s| s.chars().count()).unwrap_or(0) + 1;
        (idx as u32 + 1, column as u32, line_text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_ignores_line_moves_whitespace_and_credentials() {
        let a = scan_text("a.env", "MONGODB_URI=mongodb://u:one@h.example.net/?tlsInsecure=true\n");
        let b = scan_text("a.env", "\n\n  MONGODB_URI=mongodb://u:two@h.example.net/?tlsInsecure=true  \n");
        assert_eq!(a.len(), 1);
        assert_eq!(b.len(), 1);
        assert_eq!(a[0].fingerprint, b[0].fingerprint);
        assert_eq!(b[0].line, 3);
        assert!(!a[0].snippet.contains("one"));
        let c = scan_text("b.env", "MONGODB_URI=mongodb://u:one@h.example.net/?tlsInsecure=true\n");
        assert_ne!(a[0].fingerprint, c[0].fingerprint);
    }

    #[test]
    fn raw_bytes_give_what_the_decoded_text_gives() {
        let line = "MONGODB_URI=mongodb://h.example.net/?tlsAllowInvalidCertificates=true\n";
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend(line.encode_utf16().flat_map(u16::to_le_bytes));
        let samples: Vec<(&str, Vec<u8>)> = vec![
            ("a.env", line.as_bytes().to_vec()),
            ("a.env", [b"\xEF\xBB\xBF".as_slice(), line.as_bytes()].concat()),
            ("a.env", utf16),
            // Binary: NUL and invalid UTF-8 before and inside the line.
            ("blob.bin", [b"\0\x01\xFF\xC3(".as_slice(), line.as_bytes(), b"\0\xFE"].concat()),
            ("x.yaml", b"\xFFtls_insecure: true\n\xC3\xA9 mongo: {tlsInsecure: true}\n".to_vec()),
            ("mongo/a.env", b"\xFF\0SSL_INSECURE=true\n".to_vec()),
        ];
        for (path, bytes) in samples {
            let want = scan_text(path, &decode(&bytes));
            assert!(!want.is_empty(), "{path}: {bytes:?}");
            assert_eq!(scan_bytes(path, &bytes), want, "{path}: {bytes:?}");
        }
    }

    #[test]
    fn columns_count_characters() {
        let hits = scan_text("a.yaml", "é: x\nnäme: {tlsInsecure: true}\n");
        assert_eq!((hits[0].line, hits[0].column), (2, 8));
    }

    #[test]
    fn every_rule_catches_its_examples_and_nothing_else() {
        for rule in Rule::ALL {
            let examples = rule.examples();
            assert!(examples.iter().any(|e| e.flagged), "{rule} has no positive example");
            for example in examples {
                let found: Vec<(Rule, u32)> =
                    scan_text(example.path, example.text).into_iter().map(|h| (h.rule, h.line)).collect();
                let want = if example.flagged { vec![(*rule, 1)] } else { vec![] };
                assert_eq!(found, want, "{rule}: {} in {}", example.text, example.path);
            }
        }
    }
}
