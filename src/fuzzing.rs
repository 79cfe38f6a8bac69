//! The bodies of the fuzz targets in `fuzz/`, kept here so that the fuzzer and the stable
//! smoke test (`tests/fuzz_smoke.rs`) check the same invariants. Each function takes arbitrary
//! bytes and panics when an invariant breaks; returning is success.

use std::path::Path;

use rustls::pki_types::CertificateDer;

use crate::error::AppError;
use crate::policy::{ParseContext, Policy};
use crate::redact::{self, MASK};
use crate::uri::{ConnectionString, Secret};

/// A secret this short is not checked: it can occur anywhere by chance.
const MIN_SECRET_CHARS: usize = 4;

/// `ConnectionString::parse` on arbitrary UTF-8, and `redact::text` on the same text.
///
/// Invariants: nothing panics; `redact::text` grows the text by at most a mask per URI;
/// a parsed password shows neither in `redacted()`/`Debug` (which do not depend on the
/// credentials at all) nor in `redact::text(input)`; a password-looking part of an unparsable
/// string does not show in the error.
pub fn uri(data: &[u8]) {
    let input = String::from_utf8_lossy(data);
    let input: &str = &input;

    let shown = redact::text(input);
    assert!(
        shown.len() <= 2 * input.len() + MASK.len(),
        "redact::text grew {} bytes into {} bytes",
        input.len(),
        shown.len()
    );

    let password_span = raw_password_span(input);
    // The same text with the raw password swapped for a placeholder: what is left of the
    // output when the password is taken out. A secret showing in the real output but not in
    // this one came from the password.
    let without_password = password_span.map(|(start, end)| {
        let placeholder = "Z".repeat(input[start..end].chars().count().max(1));
        format!("{}{placeholder}{}", &input[..start], &input[end..])
    });

    match ConnectionString::parse(input) {
        Ok(cs) => {
            let mut other = cs.clone();
            other.username = cs.username.as_ref().map(|_| "fuzz-user".to_string());
            other.password = cs.password.as_ref().map(|_| Secret::new("fuzz-password"));
            assert_eq!(cs.redacted(), other.redacted(), "redacted() depends on the credentials");
            assert_eq!(format!("{cs:?}"), format!("{other:?}"), "Debug depends on the credentials");
            let Some(password) = &cs.password else { return };
            let Some(rest) = &without_password else {
                panic!("parsed a password the user-info rule does not see: {input:?}")
            };
            let shown_rest = redact::text(rest);
            let (start, end) = password_span.unwrap_or_default();
            for secret in [password.expose(), &input[start..end]] {
                assert_hidden(&shown, &shown_rest, secret, "redact::text", input);
            }
        }
        Err(err) => {
            let (Some((start, end)), Some(rest)) = (password_span, &without_password) else { return };
            let raw = &input[start..end];
            // Only plain passwords: with delimiters inside, the placeholder changes which
            // problem is reported, and the message may then quote other parts by chance.
            if !raw.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '%')) {
                return;
            }
            let shown_rest = match ConnectionString::parse(rest) {
                Ok(_) => return,
                Err(e) => e.to_string(),
            };
            assert_hidden(&err.to_string(), &shown_rest, raw, "the parse error", input);
        }
    }
}

/// The byte range of the password in `input` as the parser splits user info, if any.
fn raw_password_span(input: &str) -> Option<(usize, usize)> {
    let lead = input.len() - input.trim_start().len();
    let trimmed = input.trim();
    let scheme_len = ["mongodb+srv://", "mongodb://"].iter().find_map(|prefix| {
        trimmed.get(..prefix.len()).filter(|head| head.eq_ignore_ascii_case(prefix)).map(|_| prefix.len())
    })?;
    let rest = &trimmed[scheme_len..];
    let at = redact::userinfo_end(rest)?;
    let colon = rest[..at].find(':')?;
    Some((lead + scheme_len + colon + 1, lead + scheme_len + at))
}

fn assert_hidden(shown: &str, shown_rest: &str, secret: &str, what: &str, input: &str) {
    if secret.chars().count() < MIN_SECRET_CHARS || MASK.contains(secret) {
        return;
    }
    assert!(
        !shown.contains(secret) || shown_rest.contains(secret),
        "{what} shows the password {secret:?}\n  input: {input:?}\n  shown: {shown:?}"
    );
}

/// The run's day for policy fuzzing: fixed, so that waiver expiry is reproducible.
const POLICY_TODAY: time::Date = time::macros::date!(2026 - 01 - 15);

/// `Policy::parse_with` on arbitrary UTF-8: never panics, and every error is a policy error.
pub fn policy(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let context =
        ParseContext { base_dir: Path::new("."), env: &|_| None, today: POLICY_TODAY, secrets_withheld: false };
    match Policy::parse_with(&text, "mongo-preflight.yml", &context) {
        Ok(_) => {}
        Err(AppError::Policy(_)) => {}
        Err(other) => panic!("a policy error that is not AppError::Policy: {other:?}"),
    }
}

/// File names that pick every language family of the scanner.
const SCAN_NAMES: &[&str] = &[
    "app.py",
    "db.js",
    "db.ts",
    "client.go",
    "Config.java",
    "Config.kt",
    "Setup.cs",
    "db.rb",
    "db.php",
    "db.rs",
    "client.c",
    "deploy.sh",
    "config.yml",
    "appsettings.json",
    "config.toml",
    "Web.config.xml",
    "application.properties",
    ".env",
    "Dockerfile",
    "main.tf",
];

/// `scan::scan_text` on arbitrary bytes, decoded as the scanner decodes files, under a file
/// name chosen by the first byte: never panics, and every finding lies inside the text.
///
/// First byte: the low 5 bits pick a name from [`SCAN_NAMES`] (beyond the list: the next byte
/// is a length, and that many bytes are the raw name); bit 5 puts the file under `mongo/`,
/// which makes the scanner read it even when the prefilter sees nothing.
pub fn scan(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else { return };
    let index = usize::from(selector & 0x1f);
    let (name, body) = match SCAN_NAMES.get(index) {
        Some(name) => (name.to_string(), rest),
        None => {
            let Some((&len, rest)) = rest.split_first() else { return };
            let len = usize::from(len).min(rest.len());
            (String::from_utf8_lossy(&rest[..len]).into_owned(), &rest[len..])
        }
    };
    let path = if selector & 0x20 != 0 { format!("mongo/{name}") } else { name };
    let text = crate::scan::decode(body);
    let lines: Vec<&str> = text.split('\n').collect();
    for found in crate::scan::scan_text(&path, &text) {
        let line = found.line as usize;
        assert!(line >= 1 && line <= lines.len(), "{path}: line {line} of {} lines", lines.len());
        let chars = lines[line - 1].chars().count();
        let column = found.column as usize;
        assert!(column >= 1 && column <= chars + 1, "{path}:{line}: column {column} of a {chars}-character line");
    }
}

/// The time certificate facts are judged against: fixed, so that runs are reproducible.
const CERTS_NOW_UNIX: i64 = 1_768_435_200;

/// At most this many certificates in one chain.
const MAX_CHAIN: usize = 8;

/// `probe::certs::analyse` on arbitrary bytes read as a chain of DER certificates (split where
/// each DER element ends; what does not parse as an element is the last certificate), and
/// `probe::certs::name_matches` on every result: never panics.
pub fn certs(data: &[u8]) {
    let mut chain = Vec::new();
    let mut rest = data;
    while !rest.is_empty() && chain.len() < MAX_CHAIN {
        let len = der_element_len(rest).unwrap_or(rest.len());
        let (one, after) = rest.split_at(len);
        chain.push(CertificateDer::from(one.to_vec()));
        rest = after;
    }
    let facts = crate::probe::certs::analyse(&chain, CERTS_NOW_UNIX);
    assert_eq!(facts.len(), chain.len(), "one result per certificate");
    for f in facts.iter().flatten() {
        for host in ["db.example.com", "a.b.example.net", "127.0.0.1", "[::1]", ""] {
            crate::probe::certs::name_matches(f, host);
        }
        for san in &f.sans {
            crate::probe::certs::name_matches(f, san.split_once(':').map_or(san.as_str(), |(_, v)| v));
        }
    }
}

/// The length of the DER element (tag, length, contents) at the start of `data`, when it has
/// a single-byte tag and a definite length that fits.
fn der_element_len(data: &[u8]) -> Option<usize> {
    let first = *data.get(1)?;
    let (header, contents) = if first < 0x80 {
        (2, usize::from(first))
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let bytes = data.get(2..2 + n)?;
        (2 + n, bytes.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b)))
    };
    let total = header.checked_add(contents)?;
    (total <= data.len()).then_some(total)
}
