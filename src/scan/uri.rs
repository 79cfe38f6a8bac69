//! Connection strings anywhere: the URI option names every driver shares, where
//! `mongodb://` / `mongodb+srv://` strings (plain or URL-encoded) sit in a file, and
//! `tls=false` towards a host that is not local.

use std::sync::LazyLock;

use regex::Regex;

use super::bytes::{is_ident_byte, skip_blanks};
use super::family::{FileCtx, Hit, Insecure, Reach, Spec, UriSpan};
use super::lang::Lang;
use super::literal::{Sep, is_falsy, parse_value};
use super::reach::handed_to_mongo;
use crate::catalog::rules::Rule;

/// The connection-string options of the MongoDB URI spec. Their names are MongoDB's own, so
/// they count in any file, any language, and as environment variables.
pub static SPECS: &[Spec] = &[
    Spec {
        words: &["tls", "allow", "invalid", "certificates"],
        rule: Rule::AllowInvalidCertificates,
        insecure: Insecure::WhenTrue,
        reach: Reach::Anywhere,
        separated_reach: Reach::Anywhere,
        langs: &[],
    },
    Spec {
        words: &["ssl", "allow", "invalid", "certificates"],
        rule: Rule::AllowInvalidCertificates,
        insecure: Insecure::WhenTrue,
        reach: Reach::Anywhere,
        separated_reach: Reach::Anywhere,
        langs: &[],
    },
    Spec {
        words: &["tls", "allow", "invalid", "hostnames"],
        rule: Rule::AllowInvalidHostnames,
        insecure: Insecure::WhenTrue,
        reach: Reach::Anywhere,
        separated_reach: Reach::Anywhere,
        langs: &[],
    },
    Spec {
        words: &["ssl", "allow", "invalid", "hostnames"],
        rule: Rule::AllowInvalidHostnames,
        insecure: Insecure::WhenTrue,
        reach: Reach::Anywhere,
        separated_reach: Reach::Anywhere,
        langs: &[],
    },
    // `tlsInsecure` is MongoDB's; `TLS_INSECURE` / `tls_insecure` is also other tools' toggle.
    Spec {
        words: &["tls", "insecure"],
        rule: Rule::TlsInsecure,
        insecure: Insecure::WhenTrue,
        reach: Reach::Anywhere,
        separated_reach: Reach::MongoFile,
        langs: &[],
    },
    // The legacy alias the Go driver still accepts. Older and rarer than `tlsInsecure`, and a
    // plausible field name elsewhere, so it needs a MongoDB file in every spelling.
    Spec {
        words: &["ssl", "insecure"],
        rule: Rule::TlsInsecure,
        insecure: Insecure::WhenTrue,
        reach: Reach::MongoFile,
        separated_reach: Reach::MongoFile,
        langs: &[],
    },
    Spec {
        words: &["tls", "disable", "ocsp", "endpoint", "check"],
        rule: Rule::OcspCheckDisabled,
        insecure: Insecure::WhenTrue,
        reach: Reach::Anywhere,
        separated_reach: Reach::Anywhere,
        langs: &[],
    },
    Spec {
        words: &["tls", "disable", "certificate", "revocation", "check"],
        rule: Rule::RevocationCheckDisabled,
        insecure: Insecure::WhenTrue,
        reach: Reach::Anywhere,
        separated_reach: Reach::Anywhere,
        langs: &[],
    },
];

/// Hides the user info of URL-encoded connection strings (`mongodb%3A%2F%2Fuser%3Apass%40host`),
/// which [`crate::redact::text`] cannot see; everything else goes through it as well.
pub fn redact(text: &str) -> String {
    let plain = mask_split_userinfo(&crate::redact::text(text));
    let lower = plain.to_ascii_lowercase();
    let mut out = String::with_capacity(plain.len());
    let mut copied = 0;
    let mut from = 0;
    while let Some(p) = lower[from..].find("%3a%2f%2f").map(|p| p + from) {
        let authority_start = p + "%3a%2f%2f".len();
        let rest = &lower[authority_start..];
        let authority_len =
            [rest.find("%2f"), rest.find("%3f"), rest.find(|c: char| c.is_whitespace() || "\"'`<>/?".contains(c))]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(rest.len());
        if let Some(at) = rest[..authority_len].rfind("%40") {
            out.push_str(&plain[copied..authority_start]);
            out.push_str(crate::redact::MASK);
            copied = authority_start + at;
        }
        from = authority_start + authority_len;
    }
    out.push_str(&plain[copied..]);
    out
}

static SCHEME: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::unwrap_used)] // constant pattern
    Regex::new(r"(?i)mongodb(?:\+srv|%2bsrv)?(?:://|%3a%2f%2f)").unwrap()
});

/// Every `mongodb://` and `mongodb+srv://` string, URL-encoded or not.
pub fn find_uris(text: &str) -> Vec<UriSpan> {
    let b = text.as_bytes();
    let mut spans = Vec::new();
    let mut line = 0;
    let mut counted = 0;
    for m in SCHEME.find_iter(text) {
        if m.start() > 0 && is_ident_byte(b[m.start() - 1]) {
            continue;
        }
        let (end, gaps) = uri_end(b, m.end());
        line += b[counted..m.start()].iter().filter(|&&c| c == b'\n').count();
        counted = m.start();
        let raw = joined(text, m.start(), end, &gaps);
        let decoded = if raw.to_ascii_lowercase().contains("%3a%2f%2f") {
            percent_encoding::percent_decode_str(&raw).decode_utf8_lossy().into_owned()
        } else {
            raw
        };
        spans.push(UriSpan { start: m.start(), end, line, remote_host: remote_host(&decoded), gaps });
    }
    spans
}

/// Where a connection string that starts at `from` ends, following it through concatenation
/// (`"mongodb://u:" + quote(p) + "@h/?…"`, PHP's `.`) and interpolation (`{quote(p)}`,
/// `${ user }`), so that options after a credential still belong to it. Also returns the
/// code between the joined literals, which is not part of the string.
fn uri_end(b: &[u8], from: usize) -> (usize, Vec<(usize, usize)>) {
    let mut gaps = Vec::new();
    let mut i = from;
    loop {
        while i < b.len() {
            let c = b[i];
            if c == b'{'
                && let Some(close) = closing_brace(b, i)
            {
                i = close + 1;
                continue;
            }
            if c.is_ascii_whitespace() || b"\"'`<>|^\\".contains(&c) {
                break;
            }
            i += 1;
        }
        // A handful of joins covers `scheme + user + ":" + password + "@" + hosts + options`.
        if gaps.len() >= 8 {
            return (i, gaps);
        }
        match next_literal(b, i) {
            Some(next) => {
                gaps.push((i, next));
                i = next;
            }
            None => return (i, gaps),
        }
    }
}

/// The `}` that closes the `{` at `open` on the same line, within a short interpolation.
fn closing_brace(b: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (k, &c) in b[open..].iter().enumerate().take(200) {
        match c {
            b'\n' => return None,
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + k);
                }
            }
            _ => {}
        }
    }
    None
}

/// When the literal closing at `close` is joined to another literal (directly, or around one
/// expression), the offset where that literal's text starts.
fn next_literal(b: &[u8], close: usize) -> Option<usize> {
    if !b.get(close).is_some_and(|c| b"\"'`".contains(c)) {
        return None;
    }
    let p = join_operator(b, close + 1)?;
    if let Some(start) = literal_start(b, p) {
        return Some(start);
    }
    let p = expression_end(b, p)?;
    literal_start(b, join_operator(b, p)?)
}

/// Skips blanks (a line break or two), a `+` or a spaced `.`, and blanks again.
fn join_operator(b: &[u8], mut p: usize) -> Option<usize> {
    let skip = |mut p: usize| {
        let mut lines = 0;
        while p < b.len() && b[p].is_ascii_whitespace() && lines <= 2 {
            lines += usize::from(b[p] == b'\n');
            p += 1;
        }
        p
    };
    let before = p;
    p = skip(p);
    match b.get(p) {
        Some(b'+') if b.get(p + 1) != Some(&b'+') && b.get(p + 1) != Some(&b'=') => {}
        Some(b'.') if p > before && b.get(p + 1).is_some_and(|c| c.is_ascii_whitespace()) => {}
        _ => return None,
    }
    Some(skip(p + 1))
}

/// The start of the text of a string literal opening at `p` (with a prefix such as Python's
/// `f` or C#'s `$`).
fn literal_start(b: &[u8], p: usize) -> Option<usize> {
    let mut q = p;
    while q < p + 2 && b.get(q).is_some_and(|c| b"fFrRbBuU$@".contains(c)) {
        q += 1;
    }
    b.get(q).is_some_and(|c| b"\"'`".contains(c)).then_some(q + 1)
}

/// The end of a simple expression at `p`: a name, a member path, calls and indexing with
/// their arguments (`urllib.parse.quote_plus(pw, safe='')`, `$p`, `cfg["user"]`).
fn expression_end(b: &[u8], p: usize) -> Option<usize> {
    let mut q = p;
    let mut depth = 0usize;
    while q < b.len() && q < p + 300 {
        let c = b[q];
        match c {
            b'(' | b'[' => depth += 1,
            b')' | b']' if depth == 0 => break,
            b')' | b']' => depth -= 1,
            b'"' | b'\'' | b'`' if depth > 0 => {
                q = b[q + 1..].iter().position(|&x| x == c || x == b'\n').map(|k| q + 1 + k)?;
            }
            b'\n' if depth > 0 => return None,
            _ if depth > 0 => {}
            _ if c.is_ascii_alphanumeric() || b"_.$:>-".contains(&c) => {
                // `->` (PHP) belongs to the expression; a lone `-` or `>` does not.
                if (c == b'-' && b.get(q + 1) != Some(&b'>')) || (c == b'>' && (q == 0 || b[q - 1] != b'-')) {
                    break;
                }
            }
            _ => break,
        }
        q += 1;
    }
    (q > p && depth == 0).then_some(q)
}

/// The connection string with the code between joined literals replaced by a placeholder
/// that no host name can contain, so that a non-literal host is never judged.
fn joined(text: &str, start: usize, end: usize, gaps: &[(usize, usize)]) -> String {
    let mut out = String::new();
    let mut at = start;
    for &(gap_start, gap_end) in gaps {
        out.push_str(text.get(at..gap_start).unwrap_or(""));
        out.push_str("${}");
        at = gap_end;
    }
    out.push_str(text.get(at..end).unwrap_or(""));
    out
}

/// Hides what sits between `mongodb://` and the next `@` on the line when the user info is not
/// one literal (`"mongodb://u:" + quote(p) + "@h"`, `f"mongodb://{user}:{pw}@h"`), which
/// [`crate::redact::text`] cannot see as one URI. Greedy, like it.
fn mask_split_userinfo(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut from = 0;
    while let Some(p) = lower[from..].find("://").map(|p| p + from) {
        let authority_start = p + 3;
        from = authority_start;
        if !(lower[..p].ends_with("mongodb") || lower[..p].ends_with("mongodb+srv")) {
            continue;
        }
        let rest = &text[authority_start..];
        let Some(stop) = rest.find(|c: char| c.is_whitespace() || "\"'`{}$+@/?".contains(c)) else { continue };
        if matches!(rest.as_bytes()[stop], b'@' | b'/' | b'?') || rest[..stop].contains(crate::redact::MASK) {
            continue;
        }
        let line = &rest[..rest.find('\n').unwrap_or(rest.len())];
        let Some(at) = line.find('@') else { continue };
        out.push_str(&text[copied..authority_start]);
        out.push_str(crate::redact::MASK);
        copied = authority_start + at;
        from = copied;
    }
    out.push_str(&text[copied..]);
    out
}

/// The first host of a connection string that is not local; `None` when all are local or when
/// a host is not a literal (a template, a variable).
fn remote_host(uri: &str) -> Option<String> {
    let (scheme, rest) = uri.split_once("://")?;
    let srv = scheme.to_ascii_lowercase().ends_with("+srv");
    let authority_end = rest.find(['?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let after_user = authority.rfind('@').map(|a| &authority[a + 1..]).unwrap_or(authority);
    let hostlist = after_user.split('/').next().unwrap_or("");
    if hostlist.is_empty() || hostlist.contains(['{', '}', '$', '%', '<', '>', '(', ')', '*', '`']) {
        return None;
    }
    for raw in hostlist.split(',') {
        let host = if let Some(v6) = raw.strip_prefix('[') {
            v6.split(']').next().unwrap_or("")
        } else {
            raw.split(':').next().unwrap_or("")
        };
        if host.is_empty() || !host.bytes().all(|c| c.is_ascii_alphanumeric() || b".-_:".contains(&c)) {
            return None;
        }
        if !is_local(host) || (srv && !host.eq_ignore_ascii_case("localhost")) {
            return Some(host.to_string());
        }
    }
    None
}

/// Loopback, and single-label names (a Docker Compose or Kubernetes service on the same
/// network, such as `mongo`): a plaintext connection to them does not leave the machine or
/// the pod network the way a connection to Atlas does.
pub fn is_local(host: &str) -> bool {
    let h = host.to_ascii_lowercase();
    h == "localhost"
        || h.ends_with(".localhost")
        || h == "::1"
        || h == "0.0.0.0"
        || h == "host.docker.internal"
        || h.starts_with("127.") && h.split('.').count() == 4
        || (!h.contains('.') && !h.contains(':'))
}

/// `tls=false` / `ssl=false`, inside a connection string or as a client option next to one,
/// when the connection string's host is remote.
pub fn scan_tls_disabled(ctx: &FileCtx<'_>, out: &mut Vec<Hit>) {
    if ctx.uris.is_empty() {
        return;
    }
    let b = ctx.bytes();
    for span in &ctx.uris {
        let Some(host) = &span.remote_host else { continue };
        let raw = &ctx.text[span.start..span.end];
        let lower = raw.to_ascii_lowercase();
        let Some(q) = lower.find(['?']).or_else(|| lower.find("%3f")) else { continue };
        let mut i = q;
        while i < lower.len() {
            let at = &lower.as_bytes()[i..];
            let boundary = matches!(at[0], b'?' | b'&' | b';')
                || at.starts_with(b"%3f")
                || at.starts_with(b"%26")
                || at.starts_with(b"&amp;");
            if boundary {
                let skip = if at.starts_with(b"&amp;") {
                    5
                } else if at.starts_with(b"%") {
                    3
                } else {
                    1
                };
                let mut name_at = i + skip;
                // `"…/?" + "tls=false"`: the option starts the literal after the join.
                if let Some(&(_, gap_end)) = span.gaps.iter().find(|(gap_start, _)| *gap_start == span.start + name_at)
                {
                    name_at = gap_end - span.start;
                }
                for name in ["tls", "ssl"] {
                    if lower[name_at..].starts_with(name) {
                        let after = &lower[name_at + name.len()..];
                        let value = after.strip_prefix('=').or_else(|| after.strip_prefix("%3d"));
                        if let Some(value) = value {
                            let v: String = value.split(['&', ';', '%', '#']).next().unwrap_or("").to_string();
                            if is_falsy(&v) {
                                out.push(Hit {
                                    rule: Rule::TlsDisabledForRemoteHost,
                                    offset: span.start + name_at,
                                    message: format!(
                                        "`{name}=false` in a connection string to the remote host `{host}`"
                                    ),
                                });
                            }
                        }
                    }
                }
                i = name_at;
            } else {
                i += 1;
            }
        }
    }
    // As a client option next to the connection string: `MongoClient(uri, tls=False)`,
    // `tls: false` beside `uri:`, `MONGODB_TLS=false` beside `MONGODB_URI=`.
    static OPTION: LazyLock<Regex> = LazyLock::new(|| {
        #[allow(clippy::unwrap_used)] // constant pattern
        Regex::new(
            r#"(?i)(?:^|[^A-Za-z0-9_$.-])["']?((?:[A-Za-z0-9_.-]*mongo[A-Za-z0-9_.-]*?[._-])?(?:use[_-]?)?(?:tls|ssl)(?:[._-]?enabled)?)["']?[ \t]*(?:=>|:=|:|=)"#,
        )
        .unwrap()
    });
    for caps in OPTION.captures_iter(ctx.text) {
        let (Some(whole), Some(name)) = (caps.get(0), caps.get(1)) else { continue };
        let start = name.start();
        if ctx.in_mongo_uri(start) || b.get(whole.end()) == Some(&b'=') {
            continue;
        }
        let Some(value) = parse_value(b, skip_blanks(b, whole.end()), Sep::Assign) else { continue };
        if !is_falsy(&value.text) {
            continue;
        }
        let line = b[..start].iter().filter(|&&c| c == b'\n').count();
        let nearest = ctx
            .uris
            .iter()
            .filter(|u| u.line.abs_diff(line) <= 3)
            .min_by_key(|u| (u.line.abs_diff(line), u.line > line));
        let Some(uri @ UriSpan { remote_host: Some(host), .. }) = nearest else { continue };
        if belongs_to(ctx, start, uri) {
            out.push(Hit {
                rule: Rule::TlsDisabledForRemoteHost,
                offset: start,
                message: format!("`{}` set to `{}` for the remote host `{host}`", name.as_str(), value.text),
            });
        }
    }
}

/// Whether the option at `offset` configures the client of the connection string `uri`, and
/// not a neighbour (a Redis block in the same YAML file, another call on the next line).
fn belongs_to(ctx: &FileCtx<'_>, offset: usize, uri: &UriSpan) -> bool {
    let b = ctx.bytes();
    match ctx.lang {
        // The same mapping: the same indentation, and nothing less indented in between.
        Lang::Yaml => {
            let (from, to) = if uri.start < offset { (uri.start, offset) } else { (offset, uri.start) };
            let indent = |at: usize| {
                let line_start = b[..at].iter().rposition(|&c| c == b'\n').map(|p| p + 1).unwrap_or(0);
                b[line_start..].iter().take_while(|&&c| c == b' ' || c == b'-').count()
            };
            let option_indent = indent(offset);
            if indent(uri.start) != option_indent {
                return false;
            }
            let mut i = from;
            while let Some(p) = b[i..to].iter().position(|&c| c == b'\n') {
                i += p + 1;
                let line = &b[i..];
                let blank = line.iter().take_while(|&&c| c != b'\n').all(|c| c.is_ascii_whitespace());
                if !blank && indent(i) < option_indent {
                    return false;
                }
            }
            true
        }
        // Flat keys: neighbouring lines are the same client's settings.
        Lang::Dotenv | Lang::Properties | Lang::Conf | Lang::Shell | Lang::Plain | Lang::Docs => true,
        // Brackets: the same object or call, or an object handed to a MongoDB client.
        _ => innermost_opener(b, offset) == innermost_opener(b, uri.start) || handed_to_mongo(ctx, offset),
    }
}

/// The unmatched `(`, `[` or `{` that encloses `offset`.
fn innermost_opener(b: &[u8], offset: usize) -> Option<usize> {
    let mut depth = 0usize;
    let floor = offset.saturating_sub(8000);
    let mut i = offset;
    while i > floor {
        i -= 1;
        match b[i] {
            b')' | b']' | b'}' => depth += 1,
            b'(' | b'[' | b'{' if depth == 0 => return Some(i),
            b'(' | b'[' | b'{' => depth -= 1,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disabled(lang: Lang, text: &str) -> Vec<usize> {
        let ctx = FileCtx { lang, text, mongo: true, uris: find_uris(text) };
        let mut out = Vec::new();
        scan_tls_disabled(&ctx, &mut out);
        out.into_iter().map(|h| h.offset).collect()
    }

    #[test]
    fn encoded_user_info_is_hidden() {
        assert_eq!(
            redact("u = mongodb%2Bsrv%3A%2F%2Fapp%3Ap%40ss%40c.example.net%2F%3FtlsInsecure%3Dtrue x"),
            "u = mongodb%2Bsrv%3A%2F%2F****%40c.example.net%2F%3FtlsInsecure%3Dtrue x"
        );
        assert_eq!(redact("mongodb://u:p@h/ and mongodb%3A%2F%2Fh%2F"), "mongodb://****@h/ and mongodb%3A%2F%2Fh%2F");
    }

    #[test]
    fn remote_and_local_hosts() {
        assert_eq!(remote_host("mongodb+srv://u:p@cluster0.example.net/db"), Some("cluster0.example.net".into()));
        assert_eq!(remote_host("mongodb://localhost:27017,127.0.0.1/?tls=false"), None);
        assert_eq!(remote_host("mongodb://mongo:27017/"), None);
        assert_eq!(remote_host("mongodb://[::1]:27017/"), None);
        assert_eq!(remote_host("mongodb://${HOST}/"), None);
        assert_eq!(remote_host("mongodb://db.internal.example.com:27017/"), Some("db.internal.example.com".into()));
    }

    #[test]
    fn tls_false_in_and_next_to_uris() {
        let text = "a = \"mongodb+srv://c.example.net/?retryWrites=true&tls=false\"";
        assert_eq!(disabled(Lang::Python, text), vec![text.find("tls=false").unwrap_or(0)]);
        assert!(disabled(Lang::Python, "a = \"mongodb://localhost/?tls=false\"").is_empty());
        let kw = "MongoClient(\n  \"mongodb+srv://c.example.net/\",\n  tls=False,\n)";
        assert_eq!(disabled(Lang::Python, kw), vec![kw.find("tls=").unwrap_or(0)]);
        let encoded = "URI=mongodb%2Bsrv%3A%2F%2Fc.example.net%2F%3Ftls%3Dfalse";
        assert_eq!(disabled(Lang::Dotenv, encoded).len(), 1);
        assert!(disabled(Lang::Python, "MongoClient(\"mongodb+srv://c.example.net/\", tls=True)").is_empty());
        let neighbours =
            "c = MongoClient(\"mongodb+srv://c.example.net/\")\nr = redis.Redis(host=\"cache\", ssl=False)\n";
        assert!(disabled(Lang::Python, neighbours).is_empty());
        let yaml = "mongodb:\n  uri: mongodb+srv://c.example.net/\nredis:\n  tls: false\n";
        assert!(disabled(Lang::Yaml, yaml).is_empty());
        let same = "mongodb:\n  uri: mongodb+srv://c.example.net/\n  # no TLS\n  tls: false\n";
        assert_eq!(disabled(Lang::Yaml, same).len(), 1);
        let json = "{\"mongo\": {\"uri\": \"mongodb+srv://c.example.net\"},\n \"redis\": {\"tls\": false}}";
        assert!(disabled(Lang::Json, json).is_empty());
        let split = "uri = (\"mongodb+srv://c.example.net/?\"\n       \"tls=false\")\n";
        assert_eq!(disabled(Lang::Python, split).len(), 1);
    }
}
