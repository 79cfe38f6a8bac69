//! Removing secrets from any text before it can reach output, logs or errors.
//!
//! Where a URI's user info ends is decided by one rule, [`userinfo_end`], the one the connection
//! string parser uses: everything up to the last `@` before the query. No character class
//! decides where a password stops, so a password holding `]`, `"`, `{`, `<`, a space or the
//! `\:` escapes of Java `.properties` files is hidden whole. Where the parser would see no user
//! info but an `@` follows the query in the same word, the redactor hides up to that `@` too, so
//! a password holding an unescaped `?` or `#` is hidden. When in doubt, more is hidden, never
//! less.
//!
//! The passes are idempotent (redacted text redacts to itself), so a value may be redacted where
//! it is produced and again where it is shown.

use std::borrow::Cow;
use std::sync::RwLock;

/// What user info is replaced with.
pub const MASK: &str = "****";

/// Names whose values are secrets (lowercased): in URI query options, `key=value` settings,
/// `key: value` and `"key": "value"` forms, and `--key VALUE` flags.
const SECRET_NAMES: &[&str] = &[
    "tlscertificatekeyfilepassword",
    "sslpemkeypassword",
    "password",
    "passwd",
    "pwd",
    "authmechanismproperties",
    "secret",
    "private_key",
    "privatekey",
];

/// Secrets the run read from its environment (passwords of `uri_env` connection strings, the
/// Atlas API's keys): hidden wherever they appear, whatever surrounds them.
static KNOWN_SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Shorter strings are not remembered: hiding every `abc` in a report would garble it, and the
/// structural rules above already hide a short password where it is written as one.
const MIN_KNOWN_SECRET_LEN: usize = 4;

/// Remembers secrets so that [`text`] hides them everywhere from now on.
pub fn remember_secrets<I: IntoIterator<Item = String>>(secrets: I) {
    let mut known = match KNOWN_SECRETS.write() {
        Ok(known) => known,
        Err(poisoned) => poisoned.into_inner(),
    };
    known.extend(secrets.into_iter().filter(|s| s.len() >= MIN_KNOWN_SECRET_LEN && s != MASK));
    // Longest first, so that a secret containing another is hidden whole.
    known.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    known.dedup();
}

/// In the part of a URI after `scheme://`, the byte offset of the `@` that ends the user info:
/// the last `@` before the query (`?`). `None`: there is no user info.
pub fn userinfo_end(after_scheme: &str) -> Option<usize> {
    let query = after_scheme.find('?').unwrap_or(after_scheme.len());
    after_scheme[..query].rfind('@')
}

/// Hides user info of every URI in `s`, the values of secret settings, and every remembered
/// secret.
pub fn text(s: &str) -> Cow<'_, str> {
    let hidden = hide_userinfo(s);
    let hidden = match hide_secret_values(&hidden) {
        Cow::Borrowed(_) => hidden,
        Cow::Owned(o) => Cow::Owned(o),
    };
    match hide_known_secrets(&hidden) {
        Cow::Borrowed(_) => hidden,
        Cow::Owned(o) => Cow::Owned(o),
    }
}

/// Whether `s` would show something [`text`] hides.
pub fn holds_secret(s: &str) -> bool {
    matches!(text(s), Cow::Owned(ref o) if o != s)
}

fn hide_known_secrets(s: &str) -> Cow<'_, str> {
    let known = match KNOWN_SECRETS.read() {
        Ok(known) => known,
        Err(poisoned) => poisoned.into_inner(),
    };
    if known.is_empty() || !known.iter().any(|secret| s.contains(secret.as_str())) {
        return Cow::Borrowed(s);
    }
    let mut out = s.to_string();
    for secret in known.iter() {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), MASK);
        }
    }
    Cow::Owned(out)
}

/// Where each URI's authority starts: just after `scheme://`, or after `scheme\:\/\/` and the
/// other backslash-escaped spellings that `.properties` files allow.
fn authority_starts(s: &str) -> Vec<usize> {
    let bytes = s.as_bytes();
    let mut starts = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b':' {
            // `\:` in a properties file, `\\:` once that is quoted again (YAML, JSON).
            let scheme_end = i - bytes[..i].iter().rev().take_while(|b| **b == b'\\').count();
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

/// The length of `//` at the start of `rest`, each slash possibly preceded by backslashes
/// (`\/\/`, `\\/\\/`).
fn slashes(rest: &[u8]) -> Option<usize> {
    let mut at = 0;
    for _ in 0..2 {
        while rest.get(at) == Some(&b'\\') {
            at += 1;
        }
        if rest.get(at) != Some(&b'/') {
            return None;
        }
        at += 1;
    }
    Some(at)
}

/// Where the hidden user info ends in a stretch of text after `scheme://`: the parser's end
/// ([`userinfo_end`]), or, when the parser would see none, an `@` after the query within the
/// same word, which most often ends a password holding an unescaped `?` or `#`
/// (`mongodb://app:Pa?ss@host/`). A reader loses the host then, never the password.
fn hidden_userinfo_end(stretch: &str) -> Option<usize> {
    userinfo_end(stretch).or_else(|| {
        let query = stretch.find('?')?;
        let word_end = stretch[query..]
            .find(|c: char| c.is_whitespace() || "\"'`<>".contains(c))
            .map_or(stretch.len(), |i| query + i);
        stretch[..word_end].rfind('@')
    })
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
        if let Some(at) = hidden_userinfo_end(&s[start..end]) {
            out.push_str(&s[copied..start]);
            out.push_str(MASK);
            copied = start + at;
        }
    }
    out.push_str(&s[copied..]);
    Cow::Owned(out)
}

/// The values of secret settings, in every form they are written: `password=VALUE` (URI
/// options, shell and Ansible one-liners, `.properties` with `password\=VALUE`),
/// `password: VALUE` and `"password": "VALUE"`, `--password VALUE`, and `-p VALUE` on a line
/// that mentions MongoDB (mongosh, mongodump). A quoted value is hidden up to its closing quote,
/// so the rest of the line (and of a JSON string holding it) stays as it was; an unquoted one up
/// to the next `&`, `;` or line end, or for a command-line word, the next blank.
fn hide_secret_values(s: &str) -> Cow<'_, str> {
    let lower = s.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    for name in SECRET_NAMES {
        let mut from = 0;
        while let Some(found) = lower[from..].find(name).map(|i| i + from) {
            from = found + name.len();
            let preceded_ok = found == 0 || !bytes[found - 1].is_ascii_alphanumeric();
            if !preceded_ok {
                continue;
            }
            let flag = found >= 1 && bytes[found - 1] == b'-';
            // In a URI's query (or an ODBC-style `k=v;k=v` string) `&` and `;` end a value;
            // anywhere else they may be part of it.
            let in_query = found >= 1 && matches!(bytes[found - 1], b'?' | b'&' | b';');
            if let Some(value) = value_after_name(s, from, flag, in_query) {
                cuts.push(value);
            }
        }
    }
    if lower.contains("mongo") {
        cuts.extend(short_password_flags(s));
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

/// Where the value after a secret name starts and ends, if a separator follows the name.
fn value_after_name(s: &str, name_end: usize, flag: bool, in_query: bool) -> Option<(usize, usize)> {
    let bytes = s.as_bytes();
    let mut at = name_end;
    // The key's own closing quote: `"password": "…"`.
    if matches!(bytes.get(at), Some(b'"' | b'\'')) {
        at += 1;
    }
    let blanks = |mut i: usize| {
        while matches!(bytes.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        i
    };
    let after_blanks = blanks(at);
    let (value_start, end) = match (bytes.get(after_blanks), bytes.get(after_blanks + 1)) {
        (Some(b'='), _) => (blanks(after_blanks + 1), if in_query { ValueEnd::Option } else { ValueEnd::Line }),
        // `password\=…` in a `.properties` file: the value runs to the line's end.
        (Some(b'\\'), Some(b'=')) => (blanks(after_blanks + 2), ValueEnd::Line),
        (Some(b':'), Some(b' ' | b'\t' | b'"' | b'\'')) => (blanks(after_blanks + 1), ValueEnd::Line),
        // `--password VALUE`: the next word, unless it is another flag.
        _ if flag && after_blanks > at && !matches!(bytes.get(after_blanks), None | Some(b'-' | b'\n' | b'\r')) => {
            (after_blanks, ValueEnd::Word)
        }
        _ => return None,
    };
    value_span(s, value_start, end)
}

/// Where an unquoted value ends.
#[derive(Clone, Copy)]
enum ValueEnd {
    /// At the line's end.
    Line,
    /// At the next `&` or `;` (a URI option), or the line's end.
    Option,
    /// At the next blank (a command-line word), `&` or `;`.
    Word,
}

/// What to hide of a value starting at `start`: between its quotes when quoted (the quotes
/// stay; a backslash escapes the next character, `"q\"uote"`; no closing quote, the rest of the
/// line), else up to where `end` says. `None` when that is empty.
fn value_span(s: &str, start: usize, end: ValueEnd) -> Option<(usize, usize)> {
    let line_end = s[start..].find(['\n', '\r']).map_or(s.len(), |i| start + i);
    let bytes = s.as_bytes();
    let (from, to) = if let Some(quote @ (b'"' | b'\'')) = bytes.get(start) {
        let inner = start + 1;
        let mut i = inner;
        while i < line_end && bytes[i] != *quote {
            i += if bytes[i] == b'\\' { 2 } else { 1 };
        }
        (inner, i.min(line_end))
    } else {
        let stops: &[char] = match end {
            ValueEnd::Line => &[],
            ValueEnd::Option => &['&', ';'],
            ValueEnd::Word => &['&', ';', ' ', '\t'],
        };
        (start, s[start..line_end].find(stops).map_or(line_end, |i| start + i))
    };
    (to > from).then_some((from, to))
}

/// `-p VALUE` (mongosh, mongodump and mongorestore spell the password so).
fn short_password_flags(s: &str) -> Vec<(usize, usize)> {
    let bytes = s.as_bytes();
    let mut cuts = Vec::new();
    let mut from = 0;
    while let Some(found) = s[from..].find("-p").map(|i| i + from) {
        from = found + 2;
        let standalone = (found == 0 || matches!(bytes[found - 1], b' ' | b'\t' | b'"' | b'\''))
            && matches!(bytes.get(found + 2), Some(b' ' | b'\t'));
        if !standalone {
            continue;
        }
        let mut start = found + 2;
        while matches!(bytes.get(start), Some(b' ' | b'\t')) {
            start += 1;
        }
        if matches!(bytes.get(start), None | Some(b'-' | b'\n' | b'\r')) {
            continue;
        }
        cuts.extend(value_span(s, start, ValueEnd::Word));
    }
    cuts
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
        let line = r#"uri: "mongodb\\://app\\:s3cret@db.example.com\\:27017/orders""#;
        assert_eq!(text(line), r#"uri: "mongodb\\://****@db.example.com\\:27017/orders""#);
        let line = r"spring.data.mongodb.password\=hunter 2";
        assert_eq!(text(line), r"spring.data.mongodb.password\=****");
    }

    #[test]
    fn two_uris_on_a_line_are_each_hidden_and_lines_stay_apart() {
        let text_in = "a=mongodb://u:one@h1/ b=mongodb://v:two@h2/\nmail me@example.com";
        assert_eq!(text(text_in), "a=mongodb://****@h1/ b=mongodb://****@h2/\nmail me@example.com");
    }
    #[test]
    fn passwords_with_query_characters_are_hidden_to_the_last_at() {
        for password in ["Pa/ss?w#rd", "a?b", "x#y", "p]@q", "p:q@r"] {
            let line = format!("invalid connection string mongodb://app:{password}@host/: bad");
            let shown = text(&line);
            assert_eq!(shown, "invalid connection string mongodb://****@host/: bad", "{password}");
        }
    }

    #[test]
    fn secret_settings_are_hidden_in_every_form_real_projects_write() {
        let cases = [
            (
                "run: ./seed-db.sh user=app password='s3cret' options='tls=true,retryWrites=true'",
                "run: ./seed-db.sh user=app password='****' options='tls=true,retryWrites=true'",
            ),
            ("mongo_pwd=s3cret tls=true", "mongo_pwd=****"),
            ("mongosh --password s3cret --tls", "mongosh --password **** --tls"),
            ("mongodump -u app -p 's3 cret' --ssl", "mongodump -u app -p '****' --ssl"),
            (r#"{"password": "s3cret", "tls": true}"#, r#"{"password": "****", "tls": true}"#),
            ("  password: \"s3cret\"  # retryWrites: true", "  password: \"****\"  # retryWrites: true"),
            ("MONGO_PASSWORD=s3cret", "MONGO_PASSWORD=****"),
            ("ansible: mongodb_user: login_password={{ pw }} ssl=true", "ansible: mongodb_user: login_password=****"),
            ("passwordless=true pwdx=1 mkdir -p dir", "passwordless=true pwdx=1 mkdir -p dir"),
            (r#"mongorestore --password "q\"uo'te::x" --tls"#, r#"mongorestore --password "****" --tls"#),
            (r"mongo.client.options=tls\=true;password\=semi;colon", r"mongo.client.options=tls\=true;password\=****"),
            ("Server=db;Uid=app;Pwd=Odbc]x;tls=true", "Server=db;Uid=app;Pwd=****;tls=true"),
            ("mongodb://h/?tls=true&password=a;b&x=1", "mongodb://h/?tls=true&password=****;b&x=1"),
        ];
        for (input, want) in cases {
            assert_eq!(text(input), want, "{input}");
        }
    }

    #[test]
    fn redaction_is_idempotent() {
        for input in [
            "mongodb://u:p?w@h/ and password='x' and --password y and mongosh -p z",
            r"spring.data.mongodb.uri=mongodb\://app\:s3cr\:et@db.example.com\:27017/orders",
            "pwd=\"a b\" secret: c",
        ] {
            let once = text(input).into_owned();
            assert_eq!(text(&once), once, "{input}");
            assert!(!holds_secret(&once), "{once}");
            assert!(holds_secret(input), "{input}");
        }
    }

    #[test]
    fn remembered_secrets_are_hidden_wherever_they_appear() {
        remember_secrets(["Zq9-canary-Remembered".to_string(), "ab".to_string()]);
        assert_eq!(text("the server said Zq9-canary-Remembered!"), "the server said ****!");
        assert_eq!(text("ab stays: too short to remember"), "ab stays: too short to remember");
    }
}
