//! Literal values: what follows a separator, whether it is a literal at all (not a variable,
//! call or expression), and whether it makes an option insecure.

use std::sync::LazyLock;

use regex::Regex;

use super::bytes::skip_blanks;
use super::family::{Insecure, Spec};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sep {
    Assign,
    Call,
    Comma,
    Element,
    None,
}

/// A literal value, unquoted; `defaulted` when it is the default of `${VAR:-default}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Literal {
    pub text: String,
    pub defaulted: bool,
}

pub fn insecure_literal(spec: &Spec, value: &Literal) -> bool {
    let v = value.text.trim().to_ascii_lowercase();
    match spec.insecure {
        Insecure::WhenTrue => is_truthy(&v),
        Insecure::WhenFalse => is_falsy(&v),
        Insecure::WhenCertNone => {
            let bare = v.rsplit('.').next().unwrap_or(&v);
            bare == "cert_none" || v == "0"
        }
    }
}

pub fn is_truthy(v: &str) -> bool {
    let v = v.trim().to_ascii_lowercase();
    let v = v.strip_prefix("boolean.").unwrap_or(&v);
    matches!(v, "true" | "1" | "yes" | "y" | "t")
}

pub fn is_falsy(v: &str) -> bool {
    let v = v.trim().to_ascii_lowercase();
    let v = v.strip_prefix("boolean.").unwrap_or(&v);
    matches!(v, "false" | "0" | "no" | "n" | "f")
}

/// Reads the value after a separator at `p`. `None` when there is no literal there: a variable,
/// a call, an expression, a template.
pub fn parse_value(b: &[u8], mut p: usize, sep: Sep) -> Option<Literal> {
    // Options split over lines: the value may follow on the next line or two.
    let mut newlines = 0;
    while p < b.len() && b[p].is_ascii_whitespace() {
        if b[p] == b'\n' {
            newlines += 1;
            if newlines > 2 {
                return None;
            }
        }
        p += 1;
    }
    for wrapper in [&b"Some("[..], b"Optional.of(", b"Boolean.valueOf(", b"bool(", b"new Boolean("] {
        if b[p.min(b.len())..].starts_with(wrapper) {
            p = skip_blanks(b, p + wrapper.len());
        }
    }
    let c = *b.get(p)?;
    let (text, after) = if b"\"'`".contains(&c) {
        let close = b[p + 1..].iter().position(|&x| x == c || x == b'\n').map(|i| i + p + 1)?;
        if b[close] != c {
            return None;
        }
        (String::from_utf8_lossy(&b[p + 1..close]).into_owned(), close + 1)
    } else if b[p..].starts_with(b"${") {
        let close = b[p..].iter().position(|&x| x == b'}' || x == b'\n').map(|i| i + p)?;
        (String::from_utf8_lossy(&b[p..=close]).into_owned(), close + 1)
    } else {
        let len =
            b[p..].iter().position(|&x| !(x.is_ascii_alphanumeric() || b"_.%+-".contains(&x))).unwrap_or(b.len() - p);
        if len == 0 {
            return None;
        }
        let raw = String::from_utf8_lossy(&b[p..p + len]).into_owned();
        let decoded = percent_encoding::percent_decode_str(&raw).decode_utf8_lossy().into_owned();
        (decoded, p + len)
    };
    if continues_expression(b, after, sep) {
        return None;
    }
    let trimmed = text.trim();
    if let Some(inner) = trimmed.strip_prefix("${").and_then(|t| t.strip_suffix('}')) {
        // ${VAR:-default}, ${VAR-default}, ${VAR:=default}, Spring's ${VAR:default}.
        let default =
            inner.split_once(":-").or_else(|| inner.split_once(":=")).or_else(|| inner.split_once([':', '-']))?.1;
        return Some(Literal { text: default.trim().to_string(), defaulted: true });
    }
    if trimmed.contains("{{") || trimmed.contains("#{") || trimmed.starts_with('$') || trimmed.starts_with('%') {
        return None;
    }
    Some(Literal { text: trimmed.to_string(), defaulted: false })
}

/// A literal followed by an operator is part of an expression (`'true' === env.X`,
/// `True if debug else False`), not a value of its own.
fn continues_expression(b: &[u8], after: usize, sep: Sep) -> bool {
    let p = skip_blanks(b, after);
    let rest = &b[p.min(b.len())..];
    if rest.is_empty() {
        return false;
    }
    if (sep == Sep::Element && rest[0] == b'<') || rest.starts_with(b"</") {
        return false;
    }
    if rest[0] == b'.' && rest.get(1).is_some_and(|c| c.is_ascii_alphabetic()) {
        return true;
    }
    // A single `&` or `;` separates URI options and `>` closes an XML tag: not operators.
    for op in [&b"=="[..], b"!=", b"&&", b"||", b"?", b"<=", b">=", b"+", b"*", b"=~", b"is "] {
        if rest.starts_with(op) {
            return true;
        }
    }
    if rest[0] == b'/' && !rest.starts_with(b"/>") {
        return true;
    }
    for word in [&b"if "[..], b"and ", b"or ", b"else "] {
        if rest.starts_with(word) {
            return true;
        }
    }
    false
}

/// The `value` of a `name`/`key` pair whose name is at `start..end`:
/// Kubernetes `- name: X` / `value: "true"`, ECS JSON, `<add key="X" value="true"/>`, HCL.
pub fn pair_value(b: &[u8], start: usize, end: usize) -> Option<Literal> {
    static NAME_KEY: LazyLock<Regex> = LazyLock::new(|| {
        #[allow(clippy::unwrap_used)] // constant pattern
        Regex::new(r#"(?i)(?:^|[\s{,\[(<-])["']?(?:name|key)["']?\s*(?:=>|[:=])\s*["']?$"#).unwrap()
    });
    static VALUE_KEY: LazyLock<Regex> = LazyLock::new(|| {
        #[allow(clippy::unwrap_used)] // constant pattern
        Regex::new(r#"(?i)(?:^|[\s{,\[(<-])["']?(value|name|key)["']?\s*(?:=>|[:=])\s*"#).unwrap()
    });
    let line_start = b[..start].iter().rposition(|&c| c == b'\n').map(|i| i + 1).unwrap_or(0);
    let before = std::str::from_utf8(&b[line_start..start]).ok()?;
    if !NAME_KEY.is_match(before) {
        return None;
    }
    let mut window_end = end;
    let mut lines = 0;
    while window_end < b.len() && window_end - end < 400 {
        if b[window_end] == b'\n' {
            lines += 1;
            if lines > 4 {
                break;
            }
        }
        window_end += 1;
    }
    let window = String::from_utf8_lossy(&b[end..window_end]);
    let caps = VALUE_KEY.captures(&window)?;
    let key = caps.get(1)?;
    if !key.as_str().eq_ignore_ascii_case("value") {
        return None;
    }
    parse_value(b, end + caps.get(0)?.end(), Sep::Assign)
}
