//! Escaping untrusted text (certificate subjects, server errors, file names and snippets) for
//! the places it is shown: GitHub-flavoured Markdown, HTML, the terminal and workflow commands.
//!
//! Every escaper here shows invisible characters the same way, through [`hidden`]: control
//! characters (Cc) and format characters (Cf: bidi overrides, zero-width spaces and joiners,
//! the BOM) become a visible `\u{…}`, so text cannot reorder what a reviewer reads, hide a
//! word, or break a line where it should not.

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

/// Text for a terminal or a log: line breaks kept, every other invisible character shown.
pub fn terminal(s: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn markdown_neutralises_mentions_html_and_tables() {
        let got = markdown("CN=@octocat <img src=x onerror=alert(1)> `rm` a|b\nline2");
        assert_eq!(got, "CN=@&#8203;octocat &lt;img src=x onerror=alert(1)&gt; \\`rm\\` a\\|b<br>line2");
    }
}
