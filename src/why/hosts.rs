//! The hosts, SRV names and connection strings an error text names. Drivers write hosts their
//! own way: `h:p` (most), `('h', p)` (PyMongo's topology), `Unspecified/h:p` (C#),
//! `'h:p' =>` (Node), `address=h:p` (Java). Names may end with a dot or hold placeholders
//! (`<cluster>`); file positions (`topology.js:278:31`, `_ssl.c:1006`) are not hosts.

use std::sync::LazyLock;

use regex::Regex;

use crate::uri::ConnectionString;

static HOST_PORT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?:^|[^A-Za-z0-9_.\-/\\@<>])(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9<_-](?:[A-Za-z0-9<>_.-]*[A-Za-z0-9>_])?\.?):(\d{1,5})").ok()
});
static CSHARP: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"Unspecified/([A-Za-z0-9<>_.-]+):(\d{1,5})").ok());
static PY_TUPLE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"\('([A-Za-z0-9<>_.:-]+)',\s*(\d{1,5})\)").ok());
static SRV: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"_mongodb\._tcp\.([A-Za-z0-9<>_-][A-Za-z0-9<>_.-]*[A-Za-z0-9>_])").ok());
/// Ruby's and Java's SRV errors name the SRV name without `_mongodb._tcp.`.
static SRV_NAMED: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?:no SRV records at hostname \(|SRV record for host )([A-Za-z0-9<>_-][A-Za-z0-9<>_.-]*[A-Za-z0-9>_])")
        .ok()
});
static URI: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r#"mongodb(?:\+srv)?://[^\s'"`<>]+"#).ok());

/// Extensions of source files: `name.ext:LINE` is a position in a file, not a host.
const FILE_EXTENSIONS: &[&str] = &[
    "js", "mjs", "cjs", "ts", "py", "pyx", "pyi", "rb", "go", "java", "kt", "scala", "c", "h", "cc", "cpp", "cs",
    "php", "rs", "json", "log", "txt", "yml", "yaml", "xml", "html", "sh", "exe", "dll", "so", "jar", "class",
];

fn is_ipv4(host: &str) -> bool {
    let parts: Vec<&str> = host.split('.').collect();
    parts.len() == 4 && parts.iter().all(|p| !p.is_empty() && p.len() <= 3 && p.parse::<u8>().is_ok())
}

/// `host` as it is kept (lowercase, no trailing dot), or `None` when it is not a host.
fn host_name(raw: &str) -> Option<String> {
    let host = raw.trim_end_matches('.').to_ascii_lowercase();
    if host.starts_with('[') {
        return Some(host);
    }
    if host == "localhost" || is_ipv4(&host) {
        return Some(host);
    }
    let last = host.rsplit('.').next()?;
    if !host.contains('.') || FILE_EXTENSIONS.contains(&last) || last.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if !host.chars().any(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    Some(host)
}

/// A port a MongoDB host may listen on: not 0, and not 53 (`lookup NAME on 10.0.0.2:53` names
/// the resolver).
fn port(raw: &str) -> Option<u16> {
    raw.parse::<u16>().ok().filter(|p| *p > 0 && *p != 53)
}

pub fn is_ip(host: &str) -> bool {
    host.starts_with('[') || is_ipv4(host)
}

/// Every `host:port` in `text`, in order of appearance, without repeats.
pub fn hosts(text: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut push = |host: Option<String>, port: Option<u16>| {
        if let (Some(h), Some(p)) = (host, port) {
            let hp = format!("{h}:{p}");
            if !found.contains(&hp) {
                found.push(hp);
            }
        }
    };
    if let Some(re) = HOST_PORT.as_ref() {
        for c in re.captures_iter(text) {
            let (Some(h), Some(p)) = (c.get(1), c.get(2)) else { continue };
            // `file.js:278:31` and `1.2.3:4.5` are positions and versions.
            let after = &text[p.end()..];
            if after.starts_with(':') && after[1..].starts_with(|ch: char| ch.is_ascii_digit()) {
                continue;
            }
            if after.starts_with('.') && after[1..].starts_with(|ch: char| ch.is_ascii_digit()) {
                continue;
            }
            if after.starts_with(|ch: char| ch.is_ascii_alphanumeric()) {
                continue;
            }
            push(host_name(h.as_str()), port(p.as_str()));
        }
    }
    for re in [CSHARP.as_ref(), PY_TUPLE.as_ref()].into_iter().flatten() {
        for c in re.captures_iter(text) {
            let (Some(h), Some(p)) = (c.get(1), c.get(2)) else { continue };
            push(host_name(h.as_str()), port(p.as_str()));
        }
    }
    found
}

/// SRV names (`_mongodb._tcp.NAME`), without repeats.
pub fn srv_names(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for re in [SRV.as_ref(), SRV_NAMED.as_ref()].into_iter().flatten() {
        for c in re.captures_iter(text) {
            if let Some(name) = c.get(1).map(|m| m.as_str().trim_end_matches('.').to_ascii_lowercase())
                && !out.contains(&name)
            {
                out.push(name);
            }
        }
    }
    out
}

/// Connection strings in `text` that parse, with their credentials and secret options
/// removed: the probe needs none of them.
pub fn connection_strings(text: &str) -> Vec<ConnectionString> {
    let mut out: Vec<ConnectionString> = Vec::new();
    let Some(re) = URI.as_ref() else { return out };
    for m in re.find_iter(text) {
        let raw = m.as_str().trim_end_matches(['.', ',', ';', ')', ']', '}']);
        let Ok(mut uri) = ConnectionString::parse(raw) else { continue };
        uri.username = None;
        uri.password = None;
        uri.options.retain(|o| {
            let name = o.name.to_ascii_lowercase();
            !matches!(
                name.as_str(),
                "tlscertificatekeyfilepassword" | "sslpemkeypassword" | "authmechanismproperties" | "password"
            )
        });
        if !out.contains(&uri) {
            out.push(uri);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn driver_spellings() {
        let text = "ServerDescription ('ac-x-shard-00-00.abc.mongodb.net.', 27017) EndPoint: \"Unspecified/h2.example.com:27018\" \
                    at /app/node_modules/mongodb/lib/sdam/topology.js:278:31 (_ssl.c:1006) 'db-3.<cluster>.mongodb.net:27017' => 12:30:45";
        assert_eq!(
            hosts(text),
            ["db-3.<cluster>.mongodb.net:27017", "h2.example.com:27018", "ac-x-shard-00-00.abc.mongodb.net:27017"]
        );
        assert_eq!(
            srv_names("querySrv ENOTFOUND _mongodb._tcp.cluster0.abcde.mongodb.net"),
            ["cluster0.abcde.mongodb.net"]
        );
        let uris = connection_strings("uri=mongodb://u:Secret1@h1:27017,h2:27017/db?replicaSet=rs0&tls=true.");
        assert_eq!(uris[0].redacted(), "mongodb://h1:27017,h2:27017/db?replicaSet=rs0&tls=true");
    }
}
