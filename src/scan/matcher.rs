//! The option matcher every language shares.
//!
//! An option is a name from one of the families' [`Spec`] tables, matched case-insensitively
//! in camelCase, snake_case, kebab-case or as an environment variable, and only as a whole
//! identifier (`tlsAllowInvalidCertificatesBanner` is not the option). It counts when a
//! separator (`=`, `:`, `=>`, `:=`, `(`, `%3D`, an XML element) hands it a literal that makes
//! it insecure, when it is a command-line flag, or when it is the `name` of a name/value pair
//! whose `value` is such a literal. Comparisons, reads and non-literal values never count.

use regex::Regex;

use super::bytes::{callee_before, enclosing_opener, is_ident_byte, skip_blanks};
use super::family::{FileCtx, Hit, Insecure, Reach, Spec};
use super::lang::Lang;
use super::literal::{Sep, insecure_literal, pair_value, parse_value};
use super::reach::{handed_to_mongo, in_guard_literal, in_search_command, section_keys};

pub struct OptionTable {
    names: Regex,
    /// Normalised name (lowercase, no separators) → the specs spelled so, in table order.
    by_name: std::collections::HashMap<String, Vec<&'static Spec>>,
    /// Every spec, longest name first.
    specs: Vec<&'static Spec>,
}

impl OptionTable {
    /// Builds the matcher from every family's specs (and the connection-string options).
    pub fn new(all: impl Iterator<Item = &'static Spec>) -> OptionTable {
        let mut specs: Vec<&'static Spec> = all.collect();
        // Longest first, so that `ssl_verify_certificate` is not taken for `ssl_verify`.
        specs.sort_by_key(|s| std::cmp::Reverse(s.words.iter().map(|w| w.len()).sum::<usize>()));
        let alternation: Vec<String> = specs.iter().map(|s| s.words.join("[_-]?")).collect();
        #[allow(clippy::unwrap_used)] // built from constant words, covered by every test
        let names = Regex::new(&format!("(?i)(?:{})", alternation.join("|"))).unwrap();
        let mut by_name: std::collections::HashMap<String, Vec<&'static Spec>> = std::collections::HashMap::new();
        for spec in &specs {
            by_name.entry(spec.words.concat()).or_default().push(spec);
        }
        OptionTable { names, by_name, specs }
    }

    /// Every spec of the table: what the prefilter derives its keywords from.
    pub fn specs(&self) -> &[&'static Spec] {
        &self.specs
    }
}

/// Applies every spec of `table` to the file.
pub fn scan_options(table: &OptionTable, ctx: &FileCtx<'_>, out: &mut Vec<Hit>) {
    let b = ctx.bytes();
    for m in table.names.find_iter(ctx.text) {
        let (start, end) = (m.start(), m.end());
        // Whole identifiers only: a letter or digit right before or after makes it another name.
        // (`%3FtlsInsecure` is an encoded `?tlsInsecure`, not a longer name.)
        let encoded_delimiter = start >= 3 && b[start - 3] == b'%' && b[start - 2].is_ascii_hexdigit();
        if start > 0 && b[start - 1].is_ascii_alphanumeric() && !encoded_delimiter {
            continue;
        }
        if let Some(&next) = b.get(end)
            && (is_ident_byte(next)
                || ((next == b'-' || next == b'.') && b.get(end + 1).is_some_and(|c| c.is_ascii_alphanumeric())))
        {
            continue;
        }
        let key: String =
            m.as_str().bytes().filter(|c| *c != b'_' && *c != b'-').map(|c| c.to_ascii_lowercase() as char).collect();
        let separated = m.as_str().contains(['_', '-']);
        let Some(spec) = table.by_name.get(&key).and_then(|specs| {
            specs.iter().copied().find(|s| {
                (s.langs.is_empty() || s.langs.contains(&ctx.lang))
                    && (if separated { s.separated_reach } else { s.reach }) != Reach::Never
            })
        }) else {
            continue;
        };
        let ident_start = identifier_start(b, start);
        // Where the name starts for the report: `MONGODB_TLS_INSECURE`, not `TLS_INSECURE`, but
        // `tlsInsecure` in `options.tlsInsecure`.
        let mut name_start = start;
        while !encoded_delimiter && name_start > 0 && is_ident_byte(b[name_start - 1]) {
            name_start -= 1;
        }
        // `$NAME`, `${NAME…}`, `%NAME%`: a read of a variable, not a setting.
        if name_start > 0
            && (matches!(b[name_start - 1], b'$' | b'%')
                || b[name_start - 1] == b'{' && name_start > 1 && b[name_start - 2] == b'$')
        {
            continue;
        }
        let identifier = &ctx.text[ident_start..end];
        let names_mongo = identifier.to_ascii_lowercase().contains("mongo");
        let mut reach = if separated { spec.separated_reach } else { spec.reach };
        // A prefix names whose toggle it is: `SMTP_TLS_INSECURE` is the mail client's,
        // `DB_TLS_INSECURE` may be MongoDB's, `MONGODB_TLS_INSECURE` is. (In code, a dotted
        // prefix is just the object holding the option.)
        let dotted = if ctx.lang.is_code() { "" } else { &ctx.text[ident_start..name_start] };
        let prefix = format!("{dotted}{}", &ctx.text[name_start..start]).to_ascii_lowercase();
        if !prefix.is_empty() && !names_mongo {
            let database = ["db", "database", "atlas"].iter().any(|w| prefix.contains(w));
            reach = match reach {
                Reach::Anywhere => Reach::MongoFile,
                _ if database => reach.max(Reach::MongoFile),
                _ => continue,
            };
        }
        let reaches = names_mongo
            || match reach {
                Reach::Anywhere => true,
                Reach::MongoFile => ctx.mongo,
                Reach::MongoSection => match ctx.lang {
                    Lang::Yaml => section_keys(ctx, start).iter().any(|k| k.to_ascii_lowercase().contains("mongo")),
                    Lang::Dotenv | Lang::Conf | Lang::Shell | Lang::Hcl | Lang::Properties | Lang::Plain => false,
                    _ => ctx.mongo,
                },
                Reach::HandedToMongo => ctx.in_mongo_uri(start) || handed_to_mongo(ctx, start),
                Reach::Never => false,
            };
        if !reaches {
            continue;
        }
        // A pattern handed to grep or rg, or a string a guard compares a URI against, names the
        // option in order to find or refuse it.
        if in_search_command(b, name_start) || in_guard_literal(b, name_start) {
            continue;
        }
        let cli = is_cli_flag(b, name_start);
        // `` `tlsInsecure=true` `` quoted in prose (a description, an error message, a doc
        // string) names the option; it does not set it.
        if !cli && name_start > 0 && b[name_start - 1] == b'`' {
            continue;
        }
        if let Some(message) = judge(ctx, spec, &ctx.text[name_start..end], name_start, end, cli) {
            out.push(Hit { rule: spec.rule, offset: name_start, message });
        }
    }
}

fn identifier_start(b: &[u8], start: usize) -> usize {
    let mut i = start;
    while i > 0 && (is_ident_byte(b[i - 1]) || b[i - 1] == b'.' || b[i - 1] == b'-') {
        i -= 1;
    }
    // Leading dashes belong to a flag, not to the identifier.
    while i < start && b[i] == b'-' {
        i += 1;
    }
    i
}

/// `--name` as a word of its own: a command-line flag.
fn is_cli_flag(b: &[u8], start: usize) -> bool {
    start >= 2
        && &b[start - 2..start] == b"--"
        && (start == 2 || b[start - 3].is_ascii_whitespace() || b"\"'[(,=`".contains(&b[start - 3]))
}

/// Decides whether the option at `start..end` is set to an insecure literal; returns the message.
fn judge(ctx: &FileCtx<'_>, spec: &Spec, name: &str, start: usize, end: usize, cli: bool) -> Option<String> {
    let b = ctx.bytes();
    let mut p = end;
    if p < b.len() && b"\"'`".contains(&b[p]) {
        p += 1;
    }
    if p < b.len() && b[p] == b']' {
        p += 1;
    }
    p = skip_blanks(b, p);
    let rest = &b[p.min(b.len())..];
    let (sep, len) = if rest.starts_with(b"==") || rest.starts_with(b"!=") || rest.starts_with(b"::") {
        return None;
    } else if rest.starts_with(b"=>") || rest.starts_with(b":=") {
        (Sep::Assign, 2)
    } else if rest.starts_with(b"=") || rest.starts_with(b":") {
        (Sep::Assign, 1)
    } else if rest.len() >= 3 && rest[..3].eq_ignore_ascii_case(b"%3d") {
        (Sep::Assign, 3)
    } else if rest.starts_with(b"(") {
        (Sep::Call, 1)
    } else if rest.starts_with(b",") {
        (Sep::Comma, 1)
    } else if rest.starts_with(b">") && start > 0 && b[start - 1] == b'<' {
        (Sep::Element, 1)
    } else {
        (Sep::None, 0)
    };
    // `"NAME", …` outside a setter's arguments may still be the name of a name/value pair.
    let sep = if sep == Sep::Comma && !comma_setter(b, start) { Sep::None } else { sep };
    let shown_name = if cli { format!("--{name}") } else { name.to_string() };
    match sep {
        Sep::None if cli => {
            return (spec.insecure == Insecure::WhenTrue && !defines_flag(b, start))
                .then(|| format!("command-line flag `{shown_name}`"));
        }
        Sep::None => {
            let value = pair_value(b, start, end)?;
            return insecure_literal(spec, &value)
                .then(|| format!("`{shown_name}` set to `{}` (name/value pair)", value.text));
        }
        _ => {}
    }
    let value = parse_value(b, p + len, sep)?;
    // Tools that turn an option map into a command line render an empty value as the bare
    // flag, which switches it on: `tlsAllowInvalidHostnames: ""` → `--tlsAllowInvalidHostnames`.
    if value.text.is_empty()
        && spec.insecure == Insecure::WhenTrue
        && sep == Sep::Assign
        && (cli || section_keys(ctx, start).iter().any(|k| k.to_ascii_lowercase().contains("mongo")))
    {
        return Some(format!("`{shown_name}` set to an empty value, which renders as the bare flag `--{name}`"));
    }
    insecure_literal(spec, &value).then(|| {
        if value.defaulted {
            format!("`{shown_name}` defaults to `{}`", value.text)
        } else {
            format!("`{shown_name}` set to `{}`", value.text)
        }
    })
}

/// `flag.Bool("tlsInsecure", …)`-style definitions, and argument parsers, declare a flag
/// rather than use it.
fn defines_flag(b: &[u8], start: usize) -> bool {
    let line_start = b[..start].iter().rposition(|&c| c == b'\n').map(|i| i + 1).unwrap_or(0);
    let line = String::from_utf8_lossy(&b[line_start..start]).to_ascii_lowercase();
    ["add_argument", "add_option", ".option(", "option(", "flag.", "argument(", "opt(", "usage"]
        .iter()
        .any(|w| line.contains(w))
}

/// `NAME, true` counts only as the arguments of a setter (`mongoc_uri_set_option_as_bool(uri,
/// MONGOC_URI_TLSINSECURE, true)`, `.append("tlsInsecure", true)`), never of a getter with a
/// default (`os.getenv("TLS_INSECURE", "true")`).
fn comma_setter(b: &[u8], start: usize) -> bool {
    let Some(open) = enclosing_opener(b, start, b'(') else { return false };
    let callee = callee_before(b, open).to_ascii_lowercase();
    let last = callee.rsplit(['.', ':', '>', ' ']).next().unwrap_or("");
    matches!(
        last,
        "mongoc_uri_set_option_as_bool"
            | "append"
            | "put"
            | "set"
            | "add"
            | "kvp"
            | "document"
            | "setoption"
            | "set_option"
            | "option"
            | "with"
            | "insert"
            | "of"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::rules::Rule;
    use crate::scan::lang::Lang;

    fn hits(lang: Lang, text: &str) -> Vec<(Rule, usize)> {
        let ctx = FileCtx {
            lang,
            text,
            mongo: text.to_ascii_lowercase().contains("mongo"),
            uris: crate::scan::uri::find_uris(text),
        };
        let mut out = Vec::new();
        scan_options(&crate::scan::families::OPTIONS, &ctx, &mut out);
        out.into_iter().map(|h| (h.rule, h.offset)).collect()
    }

    #[test]
    fn separators_and_values() {
        use Rule::*;
        let cases: &[(Lang, &str, Option<Rule>)] = &[
            (Lang::Python, "MongoClient(u, tlsAllowInvalidCertificates=True)", Some(AllowInvalidCertificates)),
            (Lang::JavaScript, "{ tlsInsecure: true }", Some(TlsInsecure)),
            (Lang::Json, "{\"tlsAllowInvalidHostnames\": \"TRUE\"}", Some(AllowInvalidHostnames)),
            (Lang::Dotenv, "MONGODB_TLS_ALLOW_INVALID_CERTIFICATES=yes", Some(AllowInvalidCertificates)),
            (Lang::Xml, "<tlsInsecure>true</tlsInsecure>", Some(TlsInsecure)),
            (Lang::Shell, "mongosh \"$URI\" --tlsAllowInvalidCertificates", Some(AllowInvalidCertificates)),
            (Lang::Shell, "mongosh --tlsAllowInvalidCertificates=false", None),
            (Lang::Python, "x = tlsAllowInvalidCertificates == True", None),
            (Lang::Python, "tlsAllowInvalidCertificates=settings.INSECURE", None),
            (Lang::JavaScript, "tlsInsecure: process.env.X === 'true'", None),
            (Lang::JavaScript, "tlsInsecure: 'true' === process.env.X", None),
            (Lang::Yaml, "tlsInsecure: ${TLS_INSECURE:-false}", None),
            (Lang::Yaml, "tlsInsecure: ${TLS_INSECURE:-true}", Some(TlsInsecure)),
            (Lang::Yaml, "showTlsAllowInvalidCertificates: true", None),
            (Lang::Yaml, "tlsAllowInvalidCertificatesBanner: true", None),
            (Lang::Python, "os.getenv(\"MONGODB_TLS_INSECURE\", \"true\")", None),
            (Lang::Python, "tlsInsecure=True if DEBUG else False", None),
            (Lang::Rust, "let u = \"mongodb://localhost?tlsInsecure=true&tls=false\";", Some(TlsInsecure)),
            (Lang::Xml, "<add key=\"a\" tlsInsecure=\"true\">", Some(TlsInsecure)),
            (Lang::Ruby, "ssl_verify = false || other # mongo", None),
            (
                Lang::Rust,
                "// mongodb\nTlsOptions { allow_invalid_certificates: Some(true) }",
                Some(AllowInvalidCertificates),
            ),
            (Lang::Rust, "TlsOptions { allow_invalid_certificates: Some(true) }", None),
            (
                Lang::CCpp,
                "/* mongoc */ mongoc_uri_set_option_as_bool (uri, MONGOC_URI_TLSINSECURE, true);",
                Some(TlsInsecure),
            ),
            (Lang::Properties, "quarkus.mongodb.tls-insecure=true", Some(TlsInsecure)),
            (Lang::Yaml, "tls_insecure: true", None),
            (Lang::Dotenv, "MONGODB_URI=mongodb://h/\nSMTP_TLS_INSECURE=true", None),
            (Lang::Dotenv, "MONGODB_URI=mongodb://h/\nDB_TLS_INSECURE=true", Some(TlsInsecure)),
            (Lang::Dotenv, "ORDERS_TLS_ALLOW_INVALID_CERTIFICATES=true", None),
            (
                Lang::Dotenv,
                "MONGODB_URI=mongodb://h/\nORDERS_TLS_ALLOW_INVALID_CERTIFICATES=true",
                Some(AllowInvalidCertificates),
            ),
            (Lang::Properties, "smtp.tls-insecure=true\nx=mongodb://h/", None),
            (Lang::Shell, "grep -rn 'tlsAllowInvalidCertificates=true' src/", None),
            (Lang::Shell, "git grep -n \\\n  tlsInsecure=true", None),
            (Lang::Shell, "mongosh --tlsInsecure | grep ok", Some(TlsInsecure)),
            (Lang::Python, "if \"tlsInsecure=true\" in uri: raise ValueError(uri)", None),
            (Lang::JavaScript, "if (uri.includes('tlsInsecure=true')) throw new Error('no');", None),
            (Lang::JavaScript, "throw new TypeError('refusing tlsInsecure=true');", None),
            (Lang::Go, "if strings.Contains(uri, \"tlsInsecure=true\") { return nil }", None),
            (Lang::Ruby, "raise 'no' if uri.include?('tlsInsecure=true')", None),
            (Lang::Yaml, "mongodump:\n  flags:\n    tlsAllowInvalidHostnames: \"\"", Some(AllowInvalidHostnames)),
            (Lang::Yaml, "nats:\n  flags:\n    tlsAllowInvalidHostnames: \"\"", None),
            (Lang::Json, "{\"--tlsAllowInvalidCertificates\": \"\"}", Some(AllowInvalidCertificates)),
            (Lang::Dotenv, "MongoDB__AllowInsecureTls=true", Some(TlsInsecure)),
            (Lang::Dotenv, "Redis__AllowInsecureTls=true\nMONGODB_URI=mongodb://h/", None),
            (Lang::Dotenv, "AllowInsecureTls=true\nMONGODB_URI=mongodb://h/", None),
            (Lang::Yaml, "mongodb:\n  settings:\n    AllowInsecureTls: true", Some(TlsInsecure)),
            (Lang::Yaml, "redis:\n  AllowInsecureTls: true\nmongodb: {}", None),
            (Lang::Yaml, "uri: mongodb://h.example.net/?sslInsecure=true", Some(TlsInsecure)),
            (Lang::Yaml, "uri: mongodb://h.example.net/?sslInsecure=false", None),
        ];
        for (lang, text, want) in cases {
            let got: Vec<Rule> = hits(*lang, text).into_iter().map(|h| h.0).collect();
            assert_eq!(got, want.iter().copied().collect::<Vec<_>>(), "{text}");
        }
    }

    #[test]
    fn kubernetes_name_value_pairs() {
        let yaml = "env:\n  - name: MONGODB_TLS_ALLOW_INVALID_CERTIFICATES\n    value: \"true\"\n  - name: MONGODB_TLS_INSECURE\n    value: \"false\"\n";
        let got = hits(Lang::Yaml, yaml);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, Rule::AllowInvalidCertificates);
        assert_eq!(&yaml[got[0].1..got[0].1 + 8], "MONGODB_");
    }

    #[test]
    fn handed_to_mongo_follows_objects_and_variables() {
        let js = "const opts = { ssl: { rejectUnauthorized: false } };\nconst c = new MongoClient(uri, opts);\n";
        assert_eq!(hits(Lang::JavaScript, js).len(), 1);
        let pg = "// mongodb elsewhere\nconst pool = new Pool({ ssl: { rejectUnauthorized: false } });\n";
        assert!(hits(Lang::JavaScript, pg).is_empty());
        let mysql = "// mongodb elsewhere\nconst c = mysql.createConnection({ ssl: { rejectUnauthorized: false } });\n";
        assert!(hits(Lang::JavaScript, mysql).is_empty());
        let bare = "import { connect } from 'mongoose';\nawait connect(uri, { ssl: { rejectUnauthorized: false } });\n";
        assert_eq!(hits(Lang::JavaScript, bare).len(), 1);
    }
}
