//! The input as the matcher reads it: JSON `\n` escapes and colour codes undone, log prefixes
//! (timestamps, levels, `service |`) cut from every line, then a compact copy with every space
//! and line break removed, so a message that a terminal or a log viewer wrapped still matches.

use std::sync::LazyLock;

use regex::Regex;

/// What is cut from the start of each line, repeatedly: ISO timestamps (GitHub Actions, most
/// loggers), times, `[LEVEL]`, `LEVEL:`, `##[error]` and a compose service name `web-1  | `.
static PREFIX: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"^(?:\s*(?:\[?\d{4}[-/]\d{2}[-/]\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\]?|\[?\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\]?|\[(?i:trace|debug|info|warn|warning|error|fatal|critical)\]|(?:TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL|CRITICAL):|##\[\w+\]|[\w.-]+\s+\|(?:\s|$)))+\s*",
    )
    .ok()
});

/// The input, cleaned, and its compact form.
pub struct Clean {
    /// Lines without their log prefixes, escapes undone, joined by `\n`.
    pub text: String,
    /// Byte offset in `text` where each line starts.
    pub line_starts: Vec<usize>,
    /// `text` lowercased, without ASCII whitespace.
    pub compact: Vec<u8>,
    /// For each byte of `compact`, its offset in `text`.
    pub origin: Vec<u32>,
}

impl Clean {
    /// The line (0-based) holding byte `offset` of `text`.
    pub fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= offset).saturating_sub(1)
    }

    /// Lines `from..=to` (clamped) of `text`, as one slice.
    pub fn lines(&self, from: usize, to: usize) -> &str {
        let last = self.line_starts.len().saturating_sub(1);
        let (from, to) = (from.min(last), to.min(last));
        let start = self.line_starts.get(from).copied().unwrap_or(0);
        let end = self.line_starts.get(to + 1).map_or(self.text.len(), |next| next.saturating_sub(1));
        self.text.get(start..end.max(start)).unwrap_or_default()
    }

    /// The compact range covering lines `from..=to` of `text`.
    pub fn compact_range(&self, from: usize, to: usize) -> std::ops::Range<usize> {
        let last = self.line_starts.len().saturating_sub(1);
        let start = self.line_starts.get(from.min(last)).copied().unwrap_or(0);
        let end = self.line_starts.get(to.saturating_add(1).min(last + 1)).copied().unwrap_or(self.text.len());
        let lo = self.origin.partition_point(|&o| (o as usize) < start);
        let hi = self.origin.partition_point(|&o| (o as usize) < end);
        lo..hi
    }

    /// How many lines hold something other than spaces.
    pub fn non_empty_lines(&self) -> usize {
        self.text.lines().filter(|l| !l.trim().is_empty()).count()
    }
}

/// JSON escapes (`\n`, `\t`, `\"`, `\\`), carriage returns and ANSI colour codes undone.
fn unescape(input: &str) -> String {
    if !input.bytes().any(|b| matches!(b, b'\\' | b'\r' | 0x1b)) {
        return input.to_string();
    }
    let mut out = String::with_capacity(input.len());
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some('n') => {
                    chars.next();
                    out.push('\n');
                }
                Some('t') | Some('r') => {
                    chars.next();
                    out.push(' ');
                }
                Some('"') => {
                    chars.next();
                    out.push('"');
                }
                Some('\\') => {
                    chars.next();
                    out.push('\\');
                }
                _ => out.push('\\'),
            },
            '\r' => {}
            '\u{1b}' if chars.peek() == Some(&'[') => {
                chars.next();
                for next in chars.by_ref() {
                    if next.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            _ => out.push(c),
        }
    }
    out
}

pub fn clean(input: &str) -> Clean {
    let unescaped = unescape(input);
    let mut text = String::with_capacity(unescaped.len());
    let mut line_starts = Vec::new();
    for line in unescaped.split('\n') {
        line_starts.push(text.len());
        let rest = match PREFIX.as_ref().and_then(|re| re.find(line)) {
            Some(m) => &line[m.end()..],
            None => line,
        };
        text.push_str(rest);
        text.push('\n');
    }
    text.pop();
    let mut compact = Vec::with_capacity(text.len());
    let mut origin = Vec::with_capacity(text.len());
    for (i, b) in text.bytes().enumerate() {
        if !b.is_ascii_whitespace() {
            compact.push(b.to_ascii_lowercase());
            origin.push(u32::try_from(i).unwrap_or(u32::MAX));
        }
    }
    Clean { text, line_starts, compact, origin }
}

/// A catalogue text or marker in the compact form: lowercase, no whitespace.
pub fn compact(s: &str) -> Vec<u8> {
    s.bytes().filter(|b| !b.is_ascii_whitespace()).map(|b| b.to_ascii_lowercase()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_escapes_and_wraps() {
        let c =
            clean("2024-05-01T10:00:00.123Z [ERROR] tlsv1 alert inter\n2024-05-01T10:00:00.124Z nal error\\n  at x");
        assert!(String::from_utf8_lossy(&c.compact).contains("tlsv1alertinternalerror"));
        assert_eq!(c.text.lines().nth(1), Some("nal error"));
        assert_eq!(c.line_of(c.text.find("at x").unwrap_or(0)), 2);
        let c = clean("web-1  | \u{1b}[31mMongoServerSelectionError\u{1b}[0m: boom");
        assert_eq!(c.text, "MongoServerSelectionError: boom");
    }
}
