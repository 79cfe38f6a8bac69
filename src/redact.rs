//! Removing secrets from any text before it can reach output, logs or errors.
//!
//! Where user info ends is decided by one rule, [`userinfo_end`], the same one the connection
//! string parser uses: everything up to the last `@` before the query. No character class
//! decides where a password stops, so a password holding `]`, `"`, `{`, `<`, a space or the
//! `\:` escapes of Java `.properties` files is hidden whole. In free text the rule is applied
//! within one line and up to the next URI: when in doubt, more is hidden, never less.

use std::borrow::Cow;

/// What user info is replaced with.
pub const MASK: &str = "****";

/// Query options whose values are secrets, lowercased.
const SECRET_OPTIONS: &[&str] =
    &["tlscertificatekeyfilepassword", "sslpemkeypassword", "password", "authmechanismproperties"];

/// In the part of a URI after `scheme://`, the byte offset of the `@` that ends the user info:
/// the last `@` before the query (`?`). `None`: there is no user info.
pub fn userinfo_end(after_scheme: &str) -> Option<usize> {
    let query = after_scheme.find('?').unwrap_or(after_scheme.len());
    after_scheme[..query].rfind('@')
}

/// Hides user info of every URI in `s`, and the values of secret options.
pub fn text(s: &str) -> Cow<'_, str> {
    let hidden = hide_userinfo(s);
    match hide_secret_options(&hidden) {
        Cow::Borrowed(_) => hidden,
        Cow::Owned(o) => Cow::Owned(o),
    }
}

/// Where each URI's authority starts: just after `scheme://`, or after `scheme\:\/\/` and the
/// other backslash-escaped spellings that `.properties` files allow.
fn authority_starts(s: &str) -> Vec<usize> {
    let bytes = s.as_bytes();
    let mut starts = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b':' {
            let scheme_end = if i > 0 && bytes[i - 1] == b'\\' { i - 1 } else { i };
            let scheme_len = bytes[..scheme_end]
                .iter()
                .rev()
                .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'-'))
                .count();
            let scheme_ok = scheme_len > 0 && bytes[scheme_end - scheme_len].is_ascii_alphabetic();
            if scheme_ok && let Some(len) = slashes(&bytes[i + 1..]) {
                starts.push(i + 1 + len);
                i += 1 + len;
                continue;
            }
        }
        i += 1;
    }
    starts
}

/// The length of `//`, `\/\/`, `/\/` or `\//` at the start of `rest`.
fn slashes(rest: &[u8]) -> Option<usize> {
    let mut at = 0;
    for _ in 0..2 {
        if rest.get(at) == Some(&b'\\') {
            at += 1;
        }
        if rest.get(at) != Some(&b'/') {
            return None;
        }
        at += 1;
    }
    Some(at)
}

fn hide_userinfo(s: &str) -> Cow<'_, str> {
    let starts = authority_starts(s);
    if starts.is_empty() {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut copied = 0;
    for (n, &start) in starts.iter().enumerate() {
        if start < copied {
            continue;
        }
        // One URI never spans lines, and never runs into the next URI's scheme.
        let line_end = s[start..].find(['\n', '\r']).map_or(s.len(), |i| start + i);
        let next_uri = starts.get(n + 1).map_or(s.len(), |next| {
            let scheme =
                s[..*next].char_indices().rev().find(|&(_, c)| !(c.is_ascii_alphanumeric() || "+.-:/\\".contains(c)));
            // Just after that character, which may take more than one byte.
            scheme.map_or(*next, |(i, c)| i + c.len_utf8())
        });
        // A segment without `@` may be a password that itself looks like a URI (`a://b`):
        // then the user info can only end further on the line.
        let segment_end = line_end.min(next_uri).max(start);
        let end = if s[start..segment_end].contains('@') { segment_end } else { line_end };
        if let Some(at) = userinfo_end(&s[start..end]) {
            out.push_str(&s[copied..start]);
            out.push_str(MASK);
            copied = start + at;
        }
    }
    out.push_str(&s[copied..]);
    Cow::Owned(out)
}

/// `name=value` for a secret option name: the value is hidden up to the next `&`, `;` or line
/// end, whatever it holds.
fn hide_secret_options(s: &str) -> Cow<'_, str> {
    let lower = s.to_ascii_lowercase();
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    for name in SECRET_OPTIONS {
        let mut from = 0;
        while let Some(found) = lower[from..].find(name).map(|i| i + from) {
            from = found + name.len();
            let preceded_ok = found == 0 || !lower.as_bytes()[found - 1].is_ascii_alphanumeric();
            // `password=`, or `password\=` in a properties file.
            let value_start = match &lower.as_bytes()[from..] {
                [b'=', ..] => from + 1,
                [b'\\', b'=', ..] => from + 2,
                _ => continue,
            };
            if !preceded_ok {
                continue;
            }
            let value_end = s[value_start..].find(['&', ';', '\n', '\r']).map_or(s.len(), |i| value_start + i);
            if value_end > value_start {
                cuts.push((value_start, value_end));
            }
        }
    }
    if cuts.is_empty() {
        return Cow::Borrowed(s);
    }
    cuts.sort_unstable();
    let mut out = String::with_capacity(s.len());
    let mut copied = 0;
    for (start, end) in cuts {
        if start < copied {
            continue;
        }
        out.push_str(&s[copied..start]);
        out.push_str(MASK);
        copied = end;
    }
    out.push_str(&s[copied..]);
    Cow::Owned(out)
}

/// Text from a peer (certificate names, server error messages) with control characters shown
/// as escapes, so it cannot move a terminal's cursor, forge lines in a log, or hide in output.
pub fn printable(s: &str) -> String {
    s.chars().flat_map(|c| if c.is_control() { c.escape_default().collect::<Vec<_>>() } else { vec![c] }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_from_peers_are_escaped() {
        assert_eq!(printable("CN=a\u{1b}[2Jb\nc"), "CN=a\\u{1b}[2Jb\\nc");
        assert_eq!(printable("@octocat <img> | `x`"), "@octocat <img> | `x`");
    }

    #[test]
    fn hides_userinfo_in_every_uri_form() {
        let cases = [
            ("mongodb://u:canary@h/", "mongodb://****@h/"),
            ("x mongodb+srv://user:p%40ss@c.example.net/db?x=1 y", "x mongodb+srv://****@c.example.net/db?x=1 y"),
            ("mongodb://u:pa@ss@h1,h2/", "mongodb://****@h1,h2/"),
            ("mongodb://u:pa/ss@h/", "mongodb://****@h/"),
            ("postgres://a:b@db", "postgres://****@db"),
            ("\"mongodb://u:c@h\"", "\"mongodb://****@h\""),
            ("no uri here", "no uri here"),
            (
                "mongodb://h/?tlsCertificateKeyFilePassword=canary&x=1",
                "mongodb://h/?tlsCertificateKeyFilePassword=****&x=1",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(text(input), want, "{input}");
        }
    }

    #[test]
    fn passwords_with_delimiters_are_hidden_whole() {
        for password in ["p]w", "p\"w", "p{w}", "p<w>", "p w", "p'w", "p`w", "p(w)", "p]\"{< w", "a://b"] {
            let line = format!("error: mongodb://app:{password}@db.example.com/?tls=true failed");
            let shown = text(&line);
            assert_eq!(shown, "error: mongodb://****@db.example.com/?tls=true failed", "{password}");
        }
    }

    #[test]
    fn java_properties_escapes_are_understood() {
        let line = r"spring.data.mongodb.uri=mongodb\://app\:s3cr\:et@db.example.com\:27017/orders";
        assert_eq!(text(line), r"spring.data.mongodb.uri=mongodb\://****@db.example.com\:27017/orders");
        let line = r"spring.data.mongodb.password\=hunter 2";
        assert_eq!(text(line), r"spring.data.mongodb.password\=****");
    }

    #[test]
    fn two_uris_on_a_line_are_each_hidden_and_lines_stay_apart() {
        let text_in = "a=mongodb://u:one@h1/ b=mongodb://v:two@h2/\nmail me@example.com";
        assert_eq!(text(text_in), "a=mongodb://****@h1/ b=mongodb://****@h2/\nmail me@example.com");
    }
}
