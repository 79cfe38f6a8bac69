//! Escaping untrusted text (certificate subjects, server errors, file snippets) for the places
//! it is shown: GitHub-flavoured Markdown and workflow commands.

/// Escapes text for Markdown prose and table cells: no HTML, no @mentions, no formatting, no
/// code spans, no table breaks. Newlines become `<br>` so a cell stays one row.
pub fn markdown(s: &str) -> String {
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
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for raw HTML contexts such as `<summary>` and `<code>`, where Markdown
/// backslash escapes would show literally.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '@' => out.push_str("@&#8203;"),
            '`' => out.push_str("&#96;"),
            '|' => out.push_str("&#124;"),
            '\r' | '\n' => out.push(' '),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Escapes a workflow command's message: `%`, CR and LF.
pub fn workflow_message(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
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
    fn markdown_neutralises_mentions_html_and_tables() {
        let got = markdown("CN=@octocat <img src=x onerror=alert(1)> `rm` a|b\nline2");
        assert!(!got.contains("@octocat"), "{got}");
        assert!(!got.contains('<') || got.contains("<br>"), "{got}");
        assert!(!got.contains("<img"), "{got}");
        assert!(got.contains("\\`rm\\`"), "{got}");
        assert!(got.contains("a\\|b"), "{got}");
        assert!(got.ends_with("<br>line2"), "{got}");
    }
}
