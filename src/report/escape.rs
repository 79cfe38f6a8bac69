//! Escaping untrusted text (certificate subjects, server errors, file names and snippets) for
//! the places it is shown: GitHub-flavoured Markdown, HTML, the terminal and workflow commands.
//!
//! Every escaper here shows invisible characters the same way, through [`hidden`]: control
//! characters (Cc) and format characters (Cf: bidi overrides, zero-width spaces and joiners,
//! the BOM) become a visible `\u{…}`, so text cannot reorder what a reviewer reads, hide a
//! word, or break a line where it should not.

use serde_json::ser::PrettyFormatter;

/// Unicode format characters (general category Cf), from the Unicode Character Database.
/// Kept as a table: the set is small and changes only with new scripts.
const FORMAT_CHARACTERS: &[(u32, u32)] = &[
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
];

/// `\u{…}` for a control or format character, which must never reach a reader as itself.
pub fn hidden(c: char) -> Option<String> {
    let code = u32::from(c);
    let format = FORMAT_CHARACTERS.iter().any(|(from, to)| (*from..=*to).contains(&code));
    (c.is_control() || format).then(|| format!("\\u{{{code:x}}}"))
}

/// Text for a terminal or a log: secrets hidden, line breaks kept, every other invisible
/// character shown.
pub fn terminal(s: &str) -> String {
    let redacted = crate::redact::text(s);
    let s = redacted.as_ref();
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match hidden(c) {
            Some(shown) if c != '\n' => out.push_str(&shown),
            _ => out.push(c),
        }
    }
    out
}

/// Escapes text for Markdown prose and table cells: no HTML, no @mentions, no formatting, no
/// code spans, no table breaks. Newlines become `<br>` so a cell stays one row.
pub fn markdown(s: &str) -> String {
    // Redacted before escaping: once `://` is split for GitHub, the final redaction pass over
    // the whole report would no longer see a URI here.
    let redacted = crate::redact::text(s);
    let s = redacted.as_ref();
    let mut out = String::with_capacity(s.len() + 8);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // A zero-width space after `@` keeps GitHub from turning `@octocat` into a mention
            // (or `@org/team` into a team ping) while it still reads as `@octocat`.
            '@' => out.push_str("@&#8203;"),
            '|' => out.push_str("\\|"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '~' | '!' => {
                // Characters that open emphasis, code, links, images or headings. Callers never
                // start a line with escaped text, so list markers need no escaping.
                out.push('\\');
                out.push(c);
            }
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push_str("<br>");
                }
            }
            '\n' => out.push_str("<br>"),
            ':' => push_colon(&mut out, &mut chars),
            c => push_visible(&mut out, c),
        }
    }
    out
}

/// Text the tool wrote for Markdown prose, which may quote outside text: its code spans render
/// as code, whatever they hold, and everything else is escaped as prose ([`markdown`]). A code
/// span is read as CommonMark reads one (a run of N backticks up to the next run of exactly N),
/// and its content is written as `<code>` with every character inert ([`html`]), so neither the
/// tool's own spans nor a backtick from outside can open live Markdown.
pub fn markdown_with_code(s: &str) -> String {
    with_code_spans(s, markdown)
}

/// The same for raw HTML contexts such as `<summary>`, where Markdown is not read.
pub fn html_with_code(s: &str) -> String {
    with_code_spans(s, html)
}

/// Outside text that is code (a file's line, a connection string): one code span.
pub fn code(s: &str) -> String {
    format!("<code>{}</code>", html(s))
}

fn with_code_spans(s: &str, prose: fn(&str) -> String) -> String {
    // Redacted whole first: a URI must not escape redaction by straddling a span's edge.
    let redacted = crate::redact::text(s);
    let mut rest = redacted.as_ref();
    let mut out = String::with_capacity(rest.len() + 16);
    while let Some(open) = rest.find('`') {
        let run = rest[open..].bytes().take_while(|b| *b == b'`').count();
        let after = &rest[open + run..];
        match closing_run(after, run) {
            Some(close) => {
                out.push_str(&prose(&rest[..open]));
                out.push_str(&code(span_content(&after[..close])));
                rest = &after[close + run..];
            }
            None => {
                // No closing run: the backticks are literal text.
                out.push_str(&prose(&rest[..open + run]));
                rest = after;
            }
        }
    }
    out.push_str(&prose(rest));
    out
}

/// Where the next run of exactly `run` backticks starts in `s`.
fn closing_run(s: &str, run: usize) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'`' {
            let len = bytes[i..].iter().take_while(|b| **b == b'`').count();
            if len == run {
                return Some(i);
            }
            i += len;
        } else {
            i += 1;
        }
    }
    None
}

/// A code span's content as CommonMark shows it: one leading and trailing space dropped when
/// both are there (so `` ` `x` ` `` shows `` `x` ``).
fn span_content(s: &str) -> &str {
    match s.strip_prefix(' ').and_then(|t| t.strip_suffix(' ')) {
        Some(inner) if !inner.trim().is_empty() => inner,
        _ => s,
    }
}

/// Escapes text for raw HTML contexts such as `<summary>` and `<code>`. GitHub still reads
/// Markdown between HTML tags (`<code>[x](https://evil)</code>` is a live link), so Markdown's
/// characters become entities too; backslash escapes would show literally here.
pub fn html(s: &str) -> String {
    let redacted = crate::redact::text(s);
    let s = redacted.as_ref();
    let mut out = String::with_capacity(s.len() + 8);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '@' => out.push_str("@&#8203;"),
            '`' => out.push_str("&#96;"),
            '|' => out.push_str("&#124;"),
            '[' => out.push_str("&#91;"),
            ']' => out.push_str("&#93;"),
            '(' => out.push_str("&#40;"),
            ')' => out.push_str("&#41;"),
            '*' => out.push_str("&#42;"),
            '_' => out.push_str("&#95;"),
            '~' => out.push_str("&#126;"),
            '\\' => out.push_str("&#92;"),
            '!' => out.push_str("&#33;"),
            '#' => out.push_str("&#35;"),
            '\r' | '\n' => out.push(' '),
            ':' => push_colon(&mut out, &mut chars),
            c => push_visible(&mut out, c),
        }
    }
    out
}

/// `://` gets a zero-width space after the colon so that GitHub does not turn a URL from a
/// peer or a file into a live link; the text still reads the same.
fn push_colon(out: &mut String, chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    out.push(':');
    if chars.peek() == Some(&'/') {
        out.push_str("&#8203;");
    }
}

fn push_visible(out: &mut String, c: char) {
    match hidden(c) {
        Some(shown) => out.push_str(&shown),
        None => out.push(c),
    }
}

/// Escapes a workflow command's message: `%`, CR and LF as the runner expects, and every
/// other invisible character shown.
pub fn workflow_message(s: &str) -> String {
    let redacted = crate::redact::text(s);
    let s = redacted.as_ref();
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => push_visible(&mut out, c),
        }
    }
    out
}

/// Escapes a workflow command's property value (`file=`, `title=`): also `:` and `,`.
pub fn workflow_property(s: &str) -> String {
    // The message escapes never produce `:` or `,`, so these can follow them.
    workflow_message(s).replace(':', "%3A").replace(',', "%2C")
}

/// A JSON document (the JSON report, SARIF) from a value: every string redacted before it is
/// serialized, so the document stays valid whatever its strings held; nothing edits the text
/// afterwards except one equivalent spelling. The runner's legacy command syntax `##[cmd]` is
/// recognised anywhere in a line, and in JSON `##[` can only stand inside a string, where
/// `#\u0023[` means the same. (A line of pretty JSON never starts with `::`, the other syntax.)
pub fn json_document(mut value: serde_json::Value) -> String {
    redact_strings(&mut value);
    let mut bytes = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut bytes, RunnerSafe(PrettyFormatter::new()));
    if let Err(e) = serde::Serialize::serialize(&value, &mut serializer) {
        let error = serde_json::json!({ "error": e.to_string() });
        bytes = serde_json::to_vec_pretty(&error).unwrap_or_default();
    }
    let mut out = String::from_utf8(bytes).unwrap_or_default();
    out.push('\n');
    out
}

/// Pretty JSON whose strings spell `##[` as `#\u0023[` while they are written.
struct RunnerSafe<'a>(PrettyFormatter<'a>);

impl serde_json::ser::Formatter for RunnerSafe<'_> {
    fn write_string_fragment<W: ?Sized + std::io::Write>(&mut self, w: &mut W, fragment: &str) -> std::io::Result<()> {
        let mut parts = fragment.split("##[");
        if let Some(first) = parts.next() {
            w.write_all(first.as_bytes())?;
        }
        for part in parts {
            w.write_all(b"#\\u0023[")?;
            w.write_all(part.as_bytes())?;
        }
        Ok(())
    }
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(&mut self, w: &mut W, first: bool) -> std::io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(w)
    }
}

fn redact_strings(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::String(s) => {
            if let std::borrow::Cow::Owned(hidden) = crate::redact::text(s) {
                *s = hidden;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_strings),
        Value::Object(map) => map.values_mut().for_each(redact_strings),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_documents_stay_valid_whatever_their_strings_hold() {
        let value = serde_json::json!({
            "snippet": "run: ./seed-db.sh user=app password='s3cret' options='tls=true,retryWrites=true'",
            "uri": "mongodb://app:Pa/ss?w#rd@host/",
            "message": "##[add-mask]x ::error::y",
        });
        let doc = json_document(value);
        let parsed: serde_json::Value = serde_json::from_str(&doc).expect(&doc);
        assert!(!doc.contains("s3cret") && !doc.contains("w#rd") && !doc.contains("##["), "{doc}");
        assert_eq!(parsed["snippet"], "run: ./seed-db.sh user=app password='****' options='tls=true,retryWrites=true'");
        assert_eq!(parsed["message"], "##[add-mask]x ::error::y", "the same text, spelled safely");
    }

    #[test]
    fn workflow_escapes_follow_the_runner() {
        assert_eq!(workflow_message("100% done\r\nnext: a,b"), "100%25 done%0D%0Anext: a,b");
        assert_eq!(workflow_property("C:\\x,y%\n"), "C%3A\\x%2Cy%25%0A");
    }

    #[test]
    fn invisible_characters_are_shown_in_every_escaper() {
        let sneaky = "ok\u{202e}txt.exe\u{200b}\u{feff}\u{7}";
        for escaped in [markdown(sneaky), html(sneaky), terminal(sneaky), workflow_message(sneaky)] {
            assert!(escaped.contains("\\u{202e}") && escaped.contains("\\u{200b}"), "{escaped}");
            assert!(escaped.contains("\\u{feff}") && escaped.contains("\\u{7}"), "{escaped}");
            assert!(!escaped.contains(['\u{202e}', '\u{200b}', '\u{feff}', '\u{7}']), "{escaped}");
        }
    }

    #[test]
    fn user_info_is_hidden_before_escaping() {
        for escaped in [markdown("mongodb://u:s3cret@h/"), html("mongodb://u:s3cret@h/")] {
            assert!(!escaped.contains("s3cret"), "{escaped}");
        }
    }

    #[test]
    fn code_spans_carry_no_live_markdown_links() {
        let uri = "mongodb://h/?appName=[Approve](https://evil.example/login)";
        let got = html(uri);
        assert!(!got.contains("[Approve]") && !got.contains("](") && !got.contains("https://"), "{got}");
        assert!(got.contains("&#91;Approve&#93;&#40;https:&#8203;//evil.example/login&#41;"), "{got}");
        assert!(!markdown(uri).contains("https://"), "no autolink in prose either");
    }

    #[test]
    fn the_tools_code_spans_stay_code_and_outside_text_stays_inert() {
        assert_eq!(
            markdown_with_code("app/db.py:3 adds `tlsAllowInvalidCertificates`"),
            "app/db.py:3 adds <code>tlsAllowInvalidCertificates</code>"
        );
        assert_eq!(
            html_with_code("refused the TLS ClientHello with `internal_error`"),
            "refused the TLS ClientHello with <code>internal&#95;error</code>"
        );
        // A quoted subject holding backticks and Markdown: a longer fence keeps it one span.
        let got = markdown_with_code("issued by `` CN=`evil` @octocat [x](https://e.example) <b>|</b> ``.");
        assert_eq!(
            got,
            "issued by <code>CN=&#96;evil&#96; @&#8203;octocat &#91;x&#93;&#40;https:&#8203;//e.example&#41; &lt;b&gt;&#124;&lt;/b&gt;</code>."
        );
        // An unmatched backtick from outside is literal, and the rest is still escaped.
        assert_eq!(markdown_with_code("a ` b_c"), "a \\` b\\_c");
        assert!(!markdown_with_code("`mongodb://u:s3cret@h/`").contains("s3cret"));
    }

    #[test]
    fn markdown_neutralises_mentions_html_and_tables() {
        let got = markdown("CN=@octocat <img src=x onerror=alert(1)> `rm` a|b\nline2");
        assert_eq!(got, "CN=@&#8203;octocat &lt;img src=x onerror=alert(1)&gt; \\`rm\\` a\\|b<br>line2");
    }
}
