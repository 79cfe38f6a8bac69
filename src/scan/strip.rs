//! Blanking comments and docstrings so that no rule ever sees them.
//!
//! Comments are replaced by spaces byte for byte (newlines kept), so every offset, line and
//! column in the stripped text is the same as in the original. String literals are skipped
//! over, never blanked: a `//` inside `"mongodb://…"` is not a comment.

/// How a language writes comments and strings.
#[derive(Debug)]
pub struct Syntax {
    pub line_comments: &'static [&'static str],
    /// A line comment starts only at the start of a line or after whitespace (YAML, shell, dotenv),
    /// so `key: a#b` or `$#` is not a comment.
    pub comment_needs_space: bool,
    /// A line comment counts only as the first non-blank thing on a line (`.properties`, INI).
    pub comment_at_line_start_only: bool,
    pub block_comments: &'static [(&'static str, &'static str)],
    pub quotes: &'static [u8],
    /// Quotes that may span lines; any other string ends at the end of its line at the latest.
    pub multiline_quotes: &'static [u8],
    pub backslash_escapes: bool,
    /// A quote opens a string only where a value starts, so an apostrophe inside a word does not.
    pub quote_needs_boundary: bool,
    /// `"""` and `'''` strings.
    pub triple_quotes: bool,
    /// A triple-quoted string that stands alone as a statement is a docstring and is blanked.
    pub docstrings: bool,
    /// Variables whose triple-quoted value is documentation (an Ansible module's
    /// `DOCUMENTATION`, `EXAMPLES`, `RETURN`): blanked like docstrings when `docstrings` is set.
    pub doc_variables: &'static [&'static str],
    /// `'` opens a character literal only when it closes a few characters later (Rust lifetimes).
    pub short_char_literals: bool,
    /// Ruby's `=begin` … `=end`.
    pub begin_end_blocks: bool,
}

impl Syntax {
    pub const fn new() -> Syntax {
        Syntax {
            line_comments: &[],
            comment_needs_space: false,
            comment_at_line_start_only: false,
            block_comments: &[],
            quotes: &[],
            multiline_quotes: &[],
            backslash_escapes: true,
            quote_needs_boundary: false,
            triple_quotes: false,
            docstrings: false,
            doc_variables: &[],
            short_char_literals: false,
            begin_end_blocks: false,
        }
    }
}

impl Default for Syntax {
    fn default() -> Self {
        Syntax::new()
    }
}

/// C-family comments and strings, the most common shape.
pub const C_LIKE: Syntax =
    Syntax { line_comments: &["//"], block_comments: &[("/*", "*/")], quotes: b"\"'", ..Syntax::new() };

/// Text that has no comment syntax.
pub static NO_COMMENTS: Syntax = Syntax::new();

/// Returns `text` with every comment (and docstring) replaced by spaces.
pub fn strip(text: &str, syntax: &Syntax) -> String {
    let b = text.as_bytes();
    let n = b.len();
    let mut out = b.to_vec();
    let mut i = 0;
    // Whether only blanks precede `i` on its line.
    let mut at_line_start = true;
    while i < n {
        let c = b[i];
        if c == b'\n' {
            at_line_start = true;
            i += 1;
            continue;
        }
        if syntax.begin_end_blocks && (i == 0 || b[i - 1] == b'\n') && b[i..].starts_with(b"=begin") {
            let end = find(b, i, b"\n=end").map(|e| line_end(b, e + 1)).unwrap_or(n);
            blank(&mut out, i, end);
            i = end;
            continue;
        }
        if syntax.triple_quotes && (b[i..].starts_with(b"\"\"\"") || b[i..].starts_with(b"'''")) {
            let quote = &b[i..i + 3];
            let mut j = i + 3;
            let end = loop {
                if j >= n {
                    break n;
                }
                if b[j] == b'\\' {
                    j += 2;
                    continue;
                }
                if b[j..].starts_with(quote) {
                    break j + 3;
                }
                j += 1;
            };
            if syntax.docstrings && (stands_alone(b, i) || assigned_to_doc_variable(b, i, syntax.doc_variables)) {
                blank(&mut out, i, end);
            }
            at_line_start = false;
            i = end;
            continue;
        }
        if let Some((open, close)) = syntax.block_comments.iter().find(|(open, _)| b[i..].starts_with(open.as_bytes()))
        {
            let end = find(b, i + open.len(), close.as_bytes()).map(|e| e + close.len()).unwrap_or(n);
            blank(&mut out, i, end);
            i = end;
            continue;
        }
        if let Some(marker) = syntax.line_comments.iter().find(|m| b[i..].starts_with(m.as_bytes())) {
            let spaced = !syntax.comment_needs_space || i == 0 || b[i - 1].is_ascii_whitespace();
            let placed = !syntax.comment_at_line_start_only || at_line_start;
            if spaced && placed {
                let end = line_end(b, i);
                blank(&mut out, i, end);
                i = end;
                continue;
            }
            i += marker.len();
            at_line_start = false;
            continue;
        }
        if syntax.quotes.contains(&c) && opens_string(b, i, syntax) {
            i = string_end(b, i, syntax);
            at_line_start = false;
            continue;
        }
        if !c.is_ascii_whitespace() {
            at_line_start = false;
        }
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn opens_string(b: &[u8], i: usize, syntax: &Syntax) -> bool {
    if syntax.quote_needs_boundary && i > 0 {
        let prev = b[i - 1];
        if !(prev.is_ascii_whitespace() || b":[{,-=(>|".contains(&prev)) {
            return false;
        }
    }
    if syntax.short_char_literals && b[i] == b'\'' {
        // 'x', '\n', '\u{1F600}' are characters; 'a in `&'a str` is a lifetime.
        return match b.get(i + 1) {
            Some(b'\\') => true,
            Some(_) => {
                let width = std::str::from_utf8(&b[i + 1..(i + 5).min(b.len())])
                    .ok()
                    .or_else(|| std::str::from_utf8(&b[i + 1..(i + 2).min(b.len())]).ok())
                    .and_then(|s| s.chars().next())
                    .map(char::len_utf8)
                    .unwrap_or(1);
                b.get(i + 1 + width) == Some(&b'\'')
            }
            None => false,
        };
    }
    true
}

fn string_end(b: &[u8], i: usize, syntax: &Syntax) -> usize {
    let quote = b[i];
    let multiline = syntax.multiline_quotes.contains(&quote);
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' if syntax.backslash_escapes => {
                j += 2;
                continue;
            }
            b'\n' if !multiline => return j,
            c if c == quote => return j + 1,
            _ => {}
        }
        j += 1;
    }
    b.len()
}

/// Whether the triple quote at `i` starts a statement of its own: only blanks (and a string
/// prefix such as `r`) precede it on its line.
fn stands_alone(b: &[u8], i: usize) -> bool {
    let mut j = i;
    let mut prefix = 0;
    while j > 0 && prefix < 2 && b"rRbBuUfF".contains(&b[j - 1]) {
        j -= 1;
        prefix += 1;
    }
    while j > 0 && (b[j - 1] == b' ' || b[j - 1] == b'\t') {
        j -= 1;
    }
    j == 0 || b[j - 1] == b'\n'
}

/// Whether the triple quote at `i` is the value of `NAME = ` at the start of its line, with
/// NAME one of `names` (in any case).
fn assigned_to_doc_variable(b: &[u8], i: usize, names: &[&str]) -> bool {
    if names.is_empty() {
        return false;
    }
    let line_start = b[..i].iter().rposition(|&c| c == b'\n').map(|p| p + 1).unwrap_or(0);
    let Ok(before) = std::str::from_utf8(&b[line_start..i]) else { return false };
    let before = before.trim_end_matches(|c: char| "rRbBuUfF".contains(c));
    let Some(target) = before.trim_end().strip_suffix('=') else { return false };
    if target.ends_with(['=', '!', '<', '>']) {
        return false;
    }
    let target = target.trim();
    names.iter().any(|n| n.eq_ignore_ascii_case(target))
}

fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    if from >= b.len() {
        return None;
    }
    b[from..].windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}

fn line_end(b: &[u8], from: usize) -> usize {
    b[from.min(b.len())..].iter().position(|&c| c == b'\n').map(|p| p + from).unwrap_or(b.len())
}

fn blank(out: &mut [u8], from: usize, to: usize) {
    let to = to.min(out.len());
    for byte in &mut out[from..to] {
        if *byte != b'\n' {
            *byte = b' ';
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::lang::Lang;

    fn stripped(lang: Lang, text: &str) -> String {
        let out = strip(text, crate::scan::families::of(lang).syntax);
        assert_eq!(out.len(), text.len(), "offsets must be preserved");
        out
    }

    #[test]
    fn blanks_comments_but_not_strings() {
        let js = "const u = \"mongodb://h/?tlsInsecure=true\"; // tlsInsecure=true\n/* tlsInsecure: true */ x";
        let out = stripped(Lang::JavaScript, js);
        assert!(out.contains("\"mongodb://h/?tlsInsecure=true\""));
        assert_eq!(out.matches("tlsInsecure").count(), 1);
        assert!(out.ends_with(" x"));
    }

    #[test]
    fn python_docstrings_go_but_string_values_stay() {
        let py = "def f():\n    \"\"\"Never use tlsInsecure=True.\"\"\"\n    x = \"\"\"tlsInsecure=True\"\"\"\n# tlsInsecure=True\n";
        let out = stripped(Lang::Python, py);
        assert_eq!(out.matches("tlsInsecure").count(), 1);
        assert!(out.contains("x = \"\"\"tlsInsecure=True\"\"\""));
        let ansible = "EXAMPLES = r'''\n- mongodb_user:\n    ssl_cert_reqs: CERT_NONE\n'''\nexamples_x = '''tlsInsecure=true'''\n";
        let out = stripped(Lang::Python, ansible);
        assert!(!out.contains("ssl_cert_reqs"));
        assert!(out.contains("examples_x = '''tlsInsecure=true'''"));
    }

    #[test]
    fn yaml_hash_needs_space_and_quotes_keep_hashes() {
        let yaml = "a: b#c\nurl: \"mongodb://h/#x\" # tlsInsecure: true\nit's: fine # tlsInsecure: true\n";
        let out = stripped(Lang::Yaml, yaml);
        assert!(out.contains("a: b#c"));
        assert!(out.contains("\"mongodb://h/#x\""));
        assert!(!out.contains("tlsInsecure"));
    }

    #[test]
    fn rust_lifetimes_are_not_strings() {
        let rs = "fn f<'a>(x: &'a str) { let c = '\"'; } // tlsInsecure=true\nlet s = \"a\";";
        let out = stripped(Lang::Rust, rs);
        assert!(!out.contains("tlsInsecure"));
        assert!(out.contains("let s = \"a\";"));
    }

    #[test]
    fn ruby_begin_end_blocks() {
        let rb = "=begin\nssl_verify: false\n=end\nx = 1\n";
        let out = stripped(Lang::Ruby, rb);
        assert!(!out.contains("ssl_verify"));
        assert!(out.contains("x = 1"));
    }
}
