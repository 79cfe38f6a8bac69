//! Removing secrets from any text before it can reach output, logs or errors.
//!
//! Every string that may carry a connection string passes through [`text`]. It is
//! deliberately greedy: when in doubt, more is hidden, never less.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

/// What user info is replaced with.
pub const MASK: &str = "****";

/// `scheme://userinfo@` in any URI, greedy to the last `@` of the token so that an
/// unescaped `@` or `/` inside a password is still covered.
static USERINFO: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::unwrap_used)] // a constant pattern, covered by tests
    Regex::new(r#"(?i)\b([a-z][a-z0-9+.\-]*://)[^\s"'`<>()\[\]{}@]*(?:@[^\s"'`<>()\[\]{}@/?#]*)*@"#).unwrap()
});

/// Query options whose values are secrets.
static SECRET_OPTIONS: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::unwrap_used)] // a constant pattern, covered by tests
    Regex::new(
        r#"(?i)\b((?:tlsCertificateKeyFilePassword|sslPEMKeyPassword|password|authMechanismProperties)=)[^&\s"'`<>]*"#,
    )
    .unwrap()
});

/// Hides user info of every URI in `s`, and the values of secret options.
pub fn text(s: &str) -> Cow<'_, str> {
    let step = USERINFO.replace_all(s, |caps: &regex::Captures<'_>| format!("{}{MASK}@", &caps[1]));
    match SECRET_OPTIONS.replace_all(&step, |caps: &regex::Captures<'_>| format!("{}{MASK}", &caps[1])) {
        Cow::Borrowed(_) => step,
        Cow::Owned(o) => Cow::Owned(o),
    }
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
}
