//! MongoDB connection strings, parsed per MongoDB's Connection String spec.
//!
//! The parsed value never shows its credentials: `Debug` and [`ConnectionString::redacted`]
//! print user info as `****`, and parse errors describe the problem without quoting secrets.

use std::fmt;

use percent_encoding::percent_decode_str;

use crate::redact::MASK;

pub const DEFAULT_PORT: u16 = 27017;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Standard,
    Srv,
}

impl Scheme {
    pub fn prefix(self) -> &'static str {
        match self {
            Scheme::Standard => "mongodb://",
            Scheme::Srv => "mongodb+srv://",
        }
    }
}

/// A password that never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    /// Host name or IP literal, without IPv6 brackets.
    pub host: String,
    pub port: u16,
}

impl HostPort {
    pub fn is_ipv6_literal(&self) -> bool {
        self.host.contains(':')
    }
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_ipv6_literal() {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// One `name=value` option, decoded. `name` keeps the user's spelling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriOption {
    pub name: String,
    pub value: String,
}

#[derive(Clone, PartialEq, Eq)]
pub struct ConnectionString {
    pub scheme: Scheme,
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// For `mongodb+srv`, exactly one host whose port is not used.
    pub hosts: Vec<HostPort>,
    pub database: Option<String>,
    pub options: Vec<UriOption>,
}

impl fmt::Debug for ConnectionString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Why a connection string is invalid. The message never contains the credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid connection string {redacted}: {problem}")]
pub struct UriError {
    /// The input with user info masked (best effort even for malformed input).
    pub redacted: String,
    /// What is wrong and where.
    pub problem: String,
}

/// Option names whose values are booleans, lowercased.
const BOOLEAN_OPTIONS: &[&str] = &[
    "tls",
    "ssl",
    "directconnection",
    "tlsinsecure",
    "tlsallowinvalidcertificates",
    "sslallowinvalidcertificates",
    "tlsallowinvalidhostnames",
    "sslallowinvalidhostnames",
    "tlsdisableocspendpointcheck",
    "tlsdisablecertificaterevocationcheck",
    "retrywrites",
    "retryreads",
    "loadbalanced",
];

/// Legacy `ssl*` spellings and their `tls*` names.
const ALIASES: &[(&str, &str)] = &[
    ("ssl", "tls"),
    ("sslallowinvalidcertificates", "tlsallowinvalidcertificates"),
    ("sslallowinvalidhostnames", "tlsallowinvalidhostnames"),
    ("sslcafile", "tlscafile"),
    ("sslpemkeyfile", "tlscertificatekeyfile"),
    ("sslpemkeypassword", "tlscertificatekeyfilepassword"),
];

/// Options whose values are secrets and never printed.
const SECRET_OPTIONS: &[&str] = &["tlscertificatekeyfilepassword", "authmechanismproperties"];

fn canonical(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    ALIASES.iter().find(|(alias, _)| *alias == lower).map(|(_, canon)| canon.to_string()).unwrap_or(lower)
}

fn decode(s: &str, what: &str) -> Result<String, String> {
    percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| format!("{what} is not valid UTF-8 after percent-decoding"))
}

impl ConnectionString {
    pub fn parse(input: &str) -> Result<ConnectionString, UriError> {
        let input = input.trim();
        let redacted = shown_in_errors(input);
        // An `@` after the user info the parser reads (after a `?`) most often ends a password
        // holding an unescaped `?`, `#` or `/`: then no part of the string is quoted back, as
        // any part before that `@` may be the password.
        let stray_at = [Scheme::Srv, Scheme::Standard]
            .iter()
            .find_map(|s| strip_prefix_ci(input, s.prefix()))
            .is_some_and(|rest| rest[crate::redact::userinfo_end(rest).map_or(0, |at| at + 1)..].contains('@'));
        let fail = |problem: String| UriError {
            redacted: redacted.clone(),
            problem: if stray_at {
                "it does not parse, and its user info seems to hold an unescaped `?`, `#` or `/`: \
                 percent-encode them in the password (`%3F`, `%23`, `%2F`)"
                    .to_string()
            } else {
                problem
            },
        };
        let (scheme, rest) = if let Some(rest) = strip_prefix_ci(input, "mongodb+srv://") {
            (Scheme::Srv, rest)
        } else if let Some(rest) = strip_prefix_ci(input, "mongodb://") {
            (Scheme::Standard, rest)
        } else {
            let shown = input.split("://").next().unwrap_or("");
            let problem = if input.contains("\\:") {
                "it holds the `\\:` escapes of a Java properties file; write it unescaped".to_string()
            } else if input.contains("://") {
                format!("the scheme `{shown}` is not `mongodb://` or `mongodb+srv://`")
            } else {
                "it must start with `mongodb://` or `mongodb+srv://`".to_string()
            };
            return Err(fail(problem));
        };
        // A raw line break would end the URI for `redact::text`, which works line by line, and
        // show the rest of a password or secret option; no valid URI holds control characters.
        if let Some(c) = rest.chars().find(|c| c.is_control()) {
            return Err(fail(format!("it contains the control character {}; percent-encode it", c.escape_unicode())));
        }

        // User info ends where the redactor says it does (the last `@` before the query), so
        // an unescaped `@` or `/` in a password stays secret user info rather than leaking as a
        // host, and every message about this string hides exactly what the parser calls secret.
        let (userinfo, after_user) = match crate::redact::userinfo_end(rest) {
            Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
            None => (None, rest),
        };
        let (username, password) = match userinfo {
            None => (None, None),
            Some(ui) => {
                let (user, pass) = match ui.split_once(':') {
                    Some((u, p)) => (u, Some(p)),
                    None => (ui, None),
                };
                for (part, what) in [(Some(user), "the user name"), (pass, "the password")] {
                    let Some(part) = part else { continue };
                    if let Some(c) = part.chars().find(|c| matches!(c, '@' | '/' | ':' | '?' | '#' | '[' | ']')) {
                        return Err(fail(format!(
                            "{what} contains an unescaped `{c}`; percent-encode it (`{}`)",
                            percent_encoding::utf8_percent_encode(&c.to_string(), percent_encoding::NON_ALPHANUMERIC)
                        )));
                    }
                }
                if user.is_empty() {
                    return Err(fail("the user info has an empty user name".to_string()));
                }
                let username = decode(user, "the user name").map_err(&fail)?;
                let password = pass.map(|p| decode(p, "the password").map(Secret)).transpose().map_err(&fail)?;
                (Some(username), password)
            }
        };

        let (hostlist, path_and_query) = match after_user.find(['/', '?']) {
            Some(i) => (&after_user[..i], &after_user[i..]),
            None => (after_user, ""),
        };
        if path_and_query.starts_with('?') {
            return Err(fail("options must follow a `/` after the host list (`host/?opt=...`)".to_string()));
        }
        let path_and_query = path_and_query.strip_prefix('/').unwrap_or(path_and_query);
        let (db, query) = match path_and_query.split_once('?') {
            Some((d, q)) => (d, q),
            None => (path_and_query, ""),
        };

        if hostlist.is_empty() {
            return Err(fail("no host is given".to_string()));
        }
        if scheme == Scheme::Srv && !hostlist.contains(',') && hostlist.contains(':') {
            return Err(fail("`mongodb+srv` host names cannot have a port".to_string()));
        }
        let mut hosts = Vec::new();
        for (i, raw) in hostlist.split(',').enumerate() {
            hosts.push(parse_host(raw).map_err(|p| fail(format!("host {} (`{raw}`): {p}", i + 1)))?);
        }

        let database = if db.is_empty() {
            None
        } else {
            let d = decode(db, "the database name").map_err(&fail)?;
            if d.contains(['/', '\\', ' ', '"', '$']) {
                return Err(fail(format!("the database name `{d}` contains a character MongoDB does not allow")));
            }
            Some(d)
        };

        let mut options = Vec::new();
        for pair in query.split(['&', ';']).filter(|p| !p.is_empty()) {
            let Some((name, value)) = pair.split_once('=') else {
                return Err(fail(format!("option `{pair}` has no `=value`")));
            };
            if name.is_empty() {
                return Err(fail("an option has an empty name".to_string()));
            }
            let name = decode(name, "an option name").map_err(&fail)?;
            let value = decode(value, &format!("the value of `{name}`")).map_err(&fail)?;
            let key = canonical(&name);
            if BOOLEAN_OPTIONS.contains(&key.as_str()) && parse_bool(&value).is_none() {
                let shown = if SECRET_OPTIONS.contains(&key.as_str()) { MASK } else { value.as_str() };
                return Err(fail(format!("option `{name}` must be `true` or `false`, not `{shown}`")));
            }
            options.push(UriOption { name, value });
        }

        let cs = ConnectionString { scheme, username, password, hosts, database, options };
        cs.validate().map_err(fail)?;
        Ok(cs)
    }

    fn validate(&self) -> Result<(), String> {
        if self.scheme == Scheme::Srv {
            if self.hosts.len() != 1 {
                return Err("`mongodb+srv` takes exactly one host name".to_string());
            }
            if self.hosts[0].host.parse::<std::net::IpAddr>().is_ok() {
                return Err("`mongodb+srv` needs a DNS name, not an IP address".to_string());
            }
            if self.option("directConnection").and_then(parse_bool) == Some(true) {
                return Err("`directConnection=true` cannot be used with `mongodb+srv`".to_string());
            }
        } else if self.hosts.len() > 1 && self.option("directConnection").and_then(parse_bool) == Some(true) {
            return Err("`directConnection=true` cannot be used with several hosts".to_string());
        }
        // `tls` and `ssl` are aliases; conflicting values are an error per the spec.
        let tls_values: Vec<bool> =
            self.options.iter().filter(|o| canonical(&o.name) == "tls").filter_map(|o| parse_bool(&o.value)).collect();
        if tls_values.windows(2).any(|w| w[0] != w[1]) {
            return Err("`tls` and `ssl` are given with conflicting values".to_string());
        }
        if self.tls_insecure()
            && (self.option("tlsAllowInvalidCertificates").is_some()
                || self.option("tlsAllowInvalidHostnames").is_some())
        {
            return Err(
                "`tlsInsecure` cannot be combined with `tlsAllowInvalidCertificates` or `tlsAllowInvalidHostnames`"
                    .to_string(),
            );
        }
        Ok(())
    }

    /// The last value of an option, by case-insensitive name; `ssl*` aliases count.
    pub fn option(&self, name: &str) -> Option<&str> {
        let want = canonical(name);
        self.options.iter().rev().find(|o| canonical(&o.name) == want).map(|o| o.value.as_str())
    }

    /// Whether the client would use TLS: explicit `tls`/`ssl`, else implied by `+srv`.
    /// TXT-record options are applied by the caller after SRV resolution.
    pub fn tls_enabled(&self) -> bool {
        self.option("tls").and_then(parse_bool).unwrap_or(self.scheme == Scheme::Srv)
    }

    pub fn tls_insecure(&self) -> bool {
        self.option("tlsInsecure").and_then(parse_bool).unwrap_or(false)
    }

    pub fn ca_file(&self) -> Option<&str> {
        self.option("tlsCAFile")
    }

    pub fn certificate_key_file(&self) -> Option<&str> {
        self.option("tlsCertificateKeyFile")
    }

    pub fn auth_source(&self) -> Option<&str> {
        self.option("authSource")
    }

    pub fn replica_set(&self) -> Option<&str> {
        self.option("replicaSet")
    }

    pub fn direct_connection(&self) -> Option<bool> {
        self.option("directConnection").and_then(parse_bool)
    }

    pub fn has_credentials(&self) -> bool {
        self.username.is_some()
    }

    /// The SRV name for a `mongodb+srv` string.
    pub fn srv_name(&self) -> Option<&str> {
        (self.scheme == Scheme::Srv).then(|| self.hosts[0].host.as_str())
    }

    /// The connection string as text with user info shown as `****` and secret option values masked.
    pub fn redacted(&self) -> String {
        self.render(true)
    }

    /// The full connection string including credentials. Only for handing to the driver.
    pub fn to_secret_string(&self) -> Secret {
        Secret(self.render(false))
    }

    fn render(&self, redact: bool) -> String {
        use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
        let mut s = String::from(self.scheme.prefix());
        if let Some(user) = &self.username {
            if redact {
                s.push_str(MASK);
            } else {
                s.push_str(&utf8_percent_encode(user, NON_ALPHANUMERIC).to_string());
                if let Some(p) = &self.password {
                    s.push(':');
                    s.push_str(&utf8_percent_encode(p.expose(), NON_ALPHANUMERIC).to_string());
                }
            }
            s.push('@');
        }
        let hosts: Vec<String> = self
            .hosts
            .iter()
            .map(|h| match self.scheme {
                Scheme::Srv => h.host.clone(),
                Scheme::Standard => h.to_string(),
            })
            .collect();
        s.push_str(&hosts.join(","));
        s.push('/');
        if let Some(db) = &self.database {
            s.push_str(&utf8_percent_encode(db, NON_ALPHANUMERIC).to_string());
        }
        if !self.options.is_empty() {
            s.push('?');
            let opts: Vec<String> = self
                .options
                .iter()
                .map(|o| {
                    let value = if redact && SECRET_OPTIONS.contains(&canonical(&o.name).as_str()) {
                        MASK.to_string()
                    } else {
                        utf8_percent_encode(&o.value, crate::uri::OPTION_VALUE).to_string()
                    };
                    format!("{}={}", o.name, value)
                })
                .collect();
            s.push_str(&opts.join("&"));
        }
        s
    }
}

/// Characters escaped in option values when a connection string is rendered.
const OPTION_VALUE: &percent_encoding::AsciiSet =
    &percent_encoding::CONTROLS.add(b' ').add(b'&').add(b'=').add(b'#').add(b'%').add(b'?').add(b'+');

/// `true/false` as MongoDB's spec reads booleans (also `1/0`, `yes/no`, `y/n`, `t/f`, any case).
pub fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "y" | "t" => Some(true),
        "false" | "0" | "no" | "n" | "f" => Some(false),
        _ => None,
    }
}

/// The input as errors show it: the user info the parser would read hidden by the parser's own
/// rule (which does not stop at a line break, unlike `redact::text`'s), then `redact::text`.
fn shown_in_errors(input: &str) -> String {
    let masked = [Scheme::Srv, Scheme::Standard].iter().find_map(|scheme| {
        let prefix = scheme.prefix();
        let rest = strip_prefix_ci(input, prefix)?;
        // The last `@` anywhere, not only before the query: errors hide more, never less.
        let at = rest.rfind('@')?;
        Some(format!("{}{MASK}{}", &input[..prefix.len()], &rest[at..]))
    });
    crate::redact::text(masked.as_deref().unwrap_or(input)).into_owned()
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    // `get`: the prefix length may fall inside a multi-byte character of `s`.
    s.get(..prefix.len()).filter(|head| head.eq_ignore_ascii_case(prefix)).map(|_| &s[prefix.len()..])
}

fn parse_host(raw: &str) -> Result<HostPort, String> {
    if raw.is_empty() {
        return Err("empty host".to_string());
    }
    let (host, port) = if let Some(rest) = raw.strip_prefix('[') {
        let Some(end) = rest.find(']') else {
            return Err("an IPv6 literal is missing its closing `]`".to_string());
        };
        let host = &rest[..end];
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("`{host}` is not an IPv6 address"));
        }
        let after = &rest[end + 1..];
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or_else(|| format!("unexpected `{p}` after the IPv6 literal"))?),
        };
        (host.to_string(), port)
    } else {
        if raw.matches(':').count() > 1 {
            return Err("an IPv6 address must be written in brackets, like `[::1]:27017`".to_string());
        }
        let (h, p) = match raw.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (raw, None),
        };
        let host = decode(h, "the host").map_err(|e| e.to_string())?;
        if host.ends_with(".sock") || host.contains('/') {
            return Err("Unix domain sockets cannot be probed over the network".to_string());
        }
        if host.is_empty() {
            return Err("empty host name".to_string());
        }
        if let Some(c) = host.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))) {
            return Err(format!("the host name contains `{c}`"));
        }
        (host.to_ascii_lowercase(), p)
    };
    let port = match port {
        None => DEFAULT_PORT,
        Some(p) => match p.parse::<u16>() {
            Ok(0) | Err(_) => return Err(format!("port `{p}` is not a number between 1 and 65535")),
            Ok(n) => n,
        },
    };
    Ok(HostPort { host, port })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> ConnectionString {
        ConnectionString::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn parses_credentials_hosts_and_options() {
        let cs = parse(
            "mongodb://us%40er:p%3Ass%2Fw@h1.example.com,[::1]:27018,h3:1/db?SSL=TRUE&authSource=admin&replicaSet=rs0",
        );
        assert_eq!(cs.username.as_deref(), Some("us@er"));
        assert_eq!(cs.password.as_ref().map(Secret::expose), Some("p:ss/w"));
        assert_eq!(cs.hosts.len(), 3);
        assert_eq!(cs.hosts[0], HostPort { host: "h1.example.com".into(), port: 27017 });
        assert_eq!(cs.hosts[1], HostPort { host: "::1".into(), port: 27018 });
        assert_eq!(cs.hosts[2].port, 1);
        assert_eq!(cs.database.as_deref(), Some("db"));
        assert!(cs.tls_enabled());
        assert_eq!(cs.auth_source(), Some("admin"));
        assert_eq!(cs.replica_set(), Some("rs0"));
        assert_eq!(
            cs.redacted(),
            "mongodb://****@h1.example.com:27017,[::1]:27018,h3:1/db?SSL=TRUE&authSource=admin&replicaSet=rs0"
        );
        assert!(!format!("{cs:?}").contains("p:ss"));
    }

    #[test]
    fn srv_implies_tls_unless_disabled() {
        assert!(parse("mongodb+srv://cluster0.example.net/").tls_enabled());
        assert!(!parse("mongodb+srv://cluster0.example.net/?tls=false").tls_enabled());
        assert!(!parse("mongodb://localhost").tls_enabled());
    }

    #[test]
    fn errors_say_where_and_never_show_the_password() {
        let cases = [
            ("http://u:canary@h", "scheme"),
            ("mongodb://u:canary@h:99999/", "port `99999`"),
            ("mongodb+srv://u:canary@a.b.c:27017/", "cannot have a port"),
            ("mongodb+srv://u:canary@a.b.c,d.e.f/", "exactly one host"),
            ("mongodb://u:canary@h/?tls=maybe", "`true` or `false`"),
            ("mongodb://u:canary@h/?tls=true&ssl=false", "conflicting"),
            ("mongodb://u:canary@h1,h2/?directConnection=true", "several hosts"),
            ("mongodb://u:canary@h?x=1", "must follow a `/`"),
            ("mongodb://u:can:ary@h/", "unescaped `:`"),
            ("mongodb://u:canary@::1/", "brackets"),
            ("mongodb://u:canary@/", "no host"),
            ("mongodb://app:can/ary?w#rd@host/", "percent-encode"),
            ("mongodb://app:c?anary@host:1/?tls=true", "percent-encode"),
            ("mongodb://app:ca#nary]@host/", "percent-encode"),
            (r"mongodb\://app\:canary@host\:1/", "Java properties"),
        ];
        for (input, want) in cases {
            let err = ConnectionString::parse(input).expect_err(input);
            let msg = err.to_string();
            assert!(msg.contains(want), "{input}: {msg}");
            for part in ["canary", "ary@", "can/", "c?a", "ca#", "nary", "w#rd", "anary"] {
                assert!(!msg.contains(part), "{input}: {msg}");
            }
        }
    }
}
