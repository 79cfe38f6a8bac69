//! The option matcher every language shares.
//!
//! An option is a name from one of the families' [`Spec`] tables, matched case-insensitively
//! in camelCase, snake_case, kebab-case or as an environment variable, and only as a whole
//! identifier (`tlsAllowInvalidCertificatesBanner` is not the option). It counts when a
//! separator (`=`, `:`, `=>`, `:=`, `(`, `%3D`, an XML element) hands it a literal that makes
//! it insecure, when it is a command-line flag, or when it is the `name` of a name/value pair
//! whose `value` is such a literal. Comparisons, reads and non-literal values never count.

use std::sync::LazyLock;

use regex::Regex;

use super::lang::Lang;
use super::rules::Rule;
use super::uri::UriSpan;

/// Which literal makes an option insecure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insecure {
    WhenTrue,
    WhenFalse,
    /// PyMongo 3's `ssl_cert_reqs`: `CERT_NONE` in any spelling, or `0`.
    WhenCertNone,
}

/// How specific a name is to MongoDB, and so what else must hold before it counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reach {
    /// Only MongoDB uses this name: it counts anywhere.
    Anywhere,
    /// A generic name: it counts in a file that mentions MongoDB, or when its identifier does
    /// (`MONGODB_TLS_INSECURE`).
    MongoFile,
    /// A name many TLS clients share: it counts only when the setting is handed to a MongoDB
    /// client (inside a MongoDB connection string, a MongoDB client call, or an options object
    /// passed to one).
    HandedToMongo,
    /// A .NET configuration key (`AllowInsecureTls`) that other .NET clients share once it leaves
    /// C#: in YAML an enclosing key must name MongoDB (`mongodb:` → `AllowInsecureTls: true`); in
    /// flat formats (dotenv, shell, HCL) only the name's own prefix can (`MongoDB__AllowInsecureTls`);
    /// in code, JSON and XML it counts in a file that mentions MongoDB.
    MongoSection,
    /// This spelling is not this spec's: another spec with the same words owns it
    /// (`sslVerifyCertificate` is .NET's, `ssl_verify_certificate` Ruby's).
    Never,
}

/// One option name and what makes it insecure.
#[derive(Debug)]
pub struct Spec {
    /// The name's words; matched with an optional `_` or `-` between them.
    pub words: &'static [&'static str],
    pub rule: Rule,
    pub insecure: Insecure,
    /// Reach when spelled without separators, as the drivers spell their options.
    pub reach: Reach,
    /// Reach when spelled with `_`/`-` (snake_case, kebab-case, environment variables).
    pub separated_reach: Reach,
    /// Languages where the name has this meaning; empty means all.
    pub langs: &'static [Lang],
}

/// Every spec of every family.
fn all_specs() -> impl Iterator<Item = &'static Spec> {
    super::uri::SPECS
        .iter()
        .chain(super::python::SPECS)
        .chain(super::javascript::SPECS)
        .chain(super::jvm::SPECS)
        .chain(super::dotnet::SPECS)
        .chain(super::ruby::SPECS)
        .chain(super::php::SPECS)
        .chain(super::c_cpp::SPECS)
        .chain(super::rust_lang::SPECS)
}

struct Table {
    names: Regex,
    /// Normalised name (lowercase, no separators) → the specs spelled so, in table order.
    by_name: std::collections::HashMap<String, Vec<&'static Spec>>,
}

static TABLE: LazyLock<Table> = LazyLock::new(|| {
    let mut specs: Vec<&'static Spec> = all_specs().collect();
    // Longest first, so that `ssl_verify_certificate` is not taken for `ssl_verify`.
    specs.sort_by_key(|s| std::cmp::Reverse(s.words.iter().map(|w| w.len()).sum::<usize>()));
    let alternation: Vec<String> = specs.iter().map(|s| s.words.join("[_-]?")).collect();
    #[allow(clippy::unwrap_used)] // built from constant words, covered by every test
    let names = Regex::new(&format!("(?i)(?:{})", alternation.join("|"))).unwrap();
    let mut by_name: std::collections::HashMap<String, Vec<&'static Spec>> = std::collections::HashMap::new();
    for spec in &specs {
        by_name.entry(spec.words.concat()).or_default().push(spec);
    }
    Table { names, by_name }
});

/// One insecure setting at a byte offset of the scanned text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub rule: Rule,
    pub offset: usize,
    pub message: String,
}

/// What the rules know about one file.
pub struct FileCtx<'a> {
    pub lang: Lang,
    /// The text with comments blanked (and entities or escapes undone).
    pub text: &'a str,
    /// The path or the content mentions MongoDB.
    pub mongo: bool,
    pub uris: Vec<UriSpan>,
}

impl FileCtx<'_> {
    pub fn in_mongo_uri(&self, offset: usize) -> bool {
        self.uris.iter().any(|u| u.start <= offset && offset < u.end)
    }

    pub fn bytes(&self) -> &[u8] {
        self.text.as_bytes()
    }
}

pub fn is_ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Applies every spec to the file.
pub fn scan_options(ctx: &FileCtx<'_>, out: &mut Vec<Hit>) {
    let b = ctx.bytes();
    for m in TABLE.names.find_iter(ctx.text) {
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
        let Some(spec) = TABLE.by_name.get(&key).and_then(|specs| {
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sep {
    Assign,
    Call,
    Comma,
    Element,
    None,
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

/// A literal value, unquoted; `defaulted` when it is the default of `${VAR:-default}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Literal {
    pub text: String,
    pub defaulted: bool,
}

fn insecure_literal(spec: &Spec, value: &Literal) -> bool {
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

pub fn skip_blanks(b: &[u8], mut p: usize) -> usize {
    while p < b.len() && (b[p] == b' ' || b[p] == b'\t') {
        p += 1;
    }
    p
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

/// `flag.Bool("tlsInsecure", …)`-style definitions, and argument parsers, declare a flag
/// rather than use it.
fn defines_flag(b: &[u8], start: usize) -> bool {
    let line_start = b[..start].iter().rposition(|&c| c == b'\n').map(|i| i + 1).unwrap_or(0);
    let line = String::from_utf8_lossy(&b[line_start..start]).to_ascii_lowercase();
    ["add_argument", "add_option", ".option(", "option(", "flag.", "argument(", "opt(", "usage"]
        .iter()
        .any(|w| line.contains(w))
}

/// The keys of the mappings that enclose `offset`, innermost first: YAML by indentation, JSON
/// by braces. Other formats have no sections the scanner can see.
pub fn section_keys(ctx: &FileCtx<'_>, offset: usize) -> Vec<String> {
    let b = ctx.bytes();
    match ctx.lang {
        Lang::Yaml => yaml_section_keys(b, offset),
        Lang::Json => enclosing_openers(b, offset, 8000)
            .filter(|&open| b[open] == b'{')
            .take(16)
            .filter_map(|open| {
                let before = std::str::from_utf8(&b[offset.saturating_sub(8000).min(open)..open]).ok()?;
                let key = before.trim_end().strip_suffix(':')?.trim_end().strip_suffix('"')?;
                Some(key.rsplit('"').next()?.to_string())
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Walks up from the line of `offset` to each less indented `key:` line. A list item's `- `
/// counts as indentation, so `- name:` sits inside the key above the list.
fn yaml_section_keys(b: &[u8], offset: usize) -> Vec<String> {
    let indent_of = |line: &[u8]| line.iter().take_while(|&&c| c == b' ' || c == b'-').count();
    let mut keys = Vec::new();
    let mut line_start = b[..offset.min(b.len())].iter().rposition(|&c| c == b'\n').map(|i| i + 1).unwrap_or(0);
    let mut indent = indent_of(&b[line_start..]);
    let mut lines = 0;
    while indent > 0 && line_start > 0 && lines < 2000 {
        let end = line_start - 1;
        line_start = b[..end].iter().rposition(|&c| c == b'\n').map(|i| i + 1).unwrap_or(0);
        lines += 1;
        let line = &b[line_start..end];
        if line.iter().all(|c| c.is_ascii_whitespace()) {
            continue;
        }
        let this = indent_of(line);
        if this >= indent {
            continue;
        }
        indent = this;
        let text = String::from_utf8_lossy(&line[this..]);
        if let Some((key, _)) = text.split_once(':') {
            keys.push(key.trim().trim_matches(['"', '\'']).to_string());
        }
    }
    keys
}

/// Whether the name at `start` is an argument of a text search: `grep -r tlsInsecure`,
/// `rg 'tlsInsecure=true'`, `git grep`, `findstr`, in a script line, a workflow's `run:` or a
/// Makefile recipe (continuation lines included).
fn in_search_command(b: &[u8], start: usize) -> bool {
    const SEARCHERS: &[&str] =
        &["grep", "egrep", "fgrep", "zgrep", "rg", "ag", "ack", "findstr", "select-string", "sls"];
    let mut from = b[..start].iter().rposition(|&c| c == b'\n').map(|i| i + 1).unwrap_or(0);
    // A command continued with `\` from the lines above it.
    for _ in 0..3 {
        if from < 2 {
            break;
        }
        let prev_end = from - 1;
        let prev = b[..prev_end].trim_ascii_end();
        if !prev.ends_with(b"\\") {
            break;
        }
        from = b[..prev_end].iter().rposition(|&c| c == b'\n').map(|i| i + 1).unwrap_or(0);
    }
    let before = String::from_utf8_lossy(&b[from..start]);
    // Only the command that holds the name: not `grep x | mongosh --tlsInsecure`.
    let segment = ["|", ";", "&&", "$(", "`"]
        .iter()
        .filter_map(|sep| before.rfind(sep).map(|p| p + sep.len()))
        .max()
        .map(|p| &before[p..])
        .unwrap_or(&before);
    segment.split_ascii_whitespace().any(|token| {
        let word = token.trim_matches(|c: char| "\"'[](),".contains(c)).to_ascii_lowercase();
        let base = word.rsplit(['/', '\\']).next().unwrap_or("");
        let base = base.strip_suffix(".exe").unwrap_or(base);
        SEARCHERS.contains(&base)
    })
}

/// Whether the name at `start` sits in a string literal that code searches for or compares
/// against rather than uses: `"tlsInsecure=true" in uri`, `uri.includes('tlsInsecure=true')`,
/// `strings.Contains(uri, "tlsInsecure=true")`, `x == "tlsInsecure=true"`.
fn in_guard_literal(b: &[u8], start: usize) -> bool {
    const SEARCHES: &[&str] = &[
        "contains",
        "includes",
        "include?",
        "indexof",
        "index",
        "find",
        "search",
        "match",
        "matches",
        "fullmatch",
        "startswith",
        "endswith",
        "starts_with",
        "ends_with",
        "hasprefix",
        "hassuffix",
        "count",
        "test",
        "assertin",
        "assertnotin",
        "assert_in",
        "assert_not_in",
        "assertcontains",
        "assertnotcontains",
        "assert_includes",
        "refute_includes",
        "assert_not_includes",
        "tocontain",
        "tomatch",
        "str_contains",
        "strpos",
        "stripos",
        "preg_match",
        "compile",
        "mustcompile",
    ];
    let line_start = b[..start].iter().rposition(|&c| c == b'\n').map(|i| i + 1).unwrap_or(0);
    let line_end = b[start..].iter().position(|&c| c == b'\n').map(|i| i + start).unwrap_or(b.len());
    let mut open: Option<(usize, u8)> = None;
    let mut i = line_start;
    while i < start {
        let c = b[i];
        match open {
            None if b"\"'`".contains(&c) => open = Some((i, c)),
            Some(_) if c == b'\\' => i += 1,
            Some((_, q)) if c == q => open = None,
            _ => {}
        }
        i += 1;
    }
    let Some((quote_start, quote)) = open else { return false };
    let Some(quote_end) = b[start..line_end].iter().position(|&c| c == quote).map(|p| p + start) else {
        return false;
    };
    let before = String::from_utf8_lossy(&b[line_start..quote_start]);
    let before = before.trim_end();
    let after = String::from_utf8_lossy(&b[quote_end + 1..line_end]);
    let after = after.trim_start();
    let compared = ["==", "!=", "==="].iter().any(|op| before.ends_with(op) || after.starts_with(op))
        || after.starts_with("in ")
        || after.starts_with("not in ");
    if compared {
        return true;
    }
    let Some(open_paren) = enclosing_opener(b, quote_start, b'(') else { return false };
    let callee = String::from_utf8_lossy(&b[line_start..open_paren]);
    let word: String = callee
        .trim_end()
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '?')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let word = word.to_ascii_lowercase();
    // Messages name an option to explain a refusal: `throw new Error("refusing tlsInsecure=true")`.
    const MESSAGES: &[&str] = &[
        "warn",
        "warning",
        "log",
        "info",
        "debug",
        "fatal",
        "fail",
        "fail_json",
        "panic",
        "print",
        "println",
        "puts",
        "die",
        "abort",
        "errorf",
    ];
    SEARCHES.contains(&word.as_str())
        || MESSAGES.contains(&word.as_str())
        || word.ends_with("error")
        || word.ends_with("exception")
        || callee.trim_end().to_ascii_lowercase().ends_with("errors.new")
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

/// The `value` of a `name`/`key` pair whose name is at `start..end`:
/// Kubernetes `- name: X` / `value: "true"`, ECS JSON, `<add key="X" value="true"/>`, HCL.
fn pair_value(b: &[u8], start: usize, end: usize) -> Option<Literal> {
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

/// The unmatched `open` bracket enclosing `offset` on its line, if any.
fn enclosing_opener(b: &[u8], offset: usize, open: u8) -> Option<usize> {
    let close = match open {
        b'(' => b')',
        b'[' => b']',
        _ => b'}',
    };
    let mut depth = 0usize;
    let mut i = offset;
    while i > 0 {
        i -= 1;
        match b[i] {
            b'\n' => return None,
            c if c == close => depth += 1,
            c if c == open => {
                if depth == 0 {
                    return Some(i);
                }
                depth -= 1;
            }
            _ => {}
        }
    }
    None
}

/// The expression called or constructed by the bracket at `open`: `new MongoClient`,
/// `mongoose.connect`, `Mongo::Client.new`, `$manager->executeCommand`.
pub fn callee_before(b: &[u8], open: usize) -> String {
    let mut i = open;
    while i > 0 && (b[i - 1] == b' ' || b[i - 1] == b'\t') {
        i -= 1;
    }
    let end = i;
    while i > 0 && (is_ident_byte(b[i - 1]) || b".:$\\>-".contains(&b[i - 1])) {
        // `->` only as a whole; a lone `-` or `>` ends the callee.
        if (b[i - 1] == b'>' && (i < 2 || b[i - 2] != b'-')) || (b[i - 1] == b'-' && b.get(i) != Some(&b'>')) {
            break;
        }
        i -= 1;
    }
    let mut callee = String::from_utf8_lossy(&b[i..end]).into_owned();
    if b[..i].ends_with(b"new ") {
        callee.insert_str(0, "new ");
    }
    callee
}

/// Whether a call or constructor creates or configures a MongoDB client.
pub fn is_mongo_callee(callee: &str) -> bool {
    let lower = callee.to_ascii_lowercase();
    let last = lower.rsplit(['.', ':', '>', ' ', '\\']).next().unwrap_or("");
    // A bare `connect(` / `createConnection(` is MongoEngine's or Mongoose's import in a file
    // that mentions MongoDB; `tls.connect(`, `mysql.createConnection(` are other clients'.
    let bare = !lower.contains(['.', ':', '>', '\\']);
    lower.contains("mongo")
        || lower.contains("motor")
        || (bare && matches!(last, "connect" | "createconnection" | "register_connection"))
}

/// Whether the setting at `offset` is handed to a MongoDB client: it sits (through nested
/// objects) in the arguments of a MongoDB call, or in an object or variable passed to one.
pub fn handed_to_mongo(ctx: &FileCtx<'_>, offset: usize) -> bool {
    if !ctx.mongo {
        return false;
    }
    let b = ctx.bytes();
    for open in enclosing_openers(b, offset, 8000).take(8) {
        if b[open] == b'(' && is_mongo_callee(&callee_before(b, open)) {
            return true;
        }
        if let Some(var) = assigned_variable(b, open)
            && (var.to_ascii_lowercase().contains("mongo") || variable_reaches_mongo(ctx, &var, open))
        {
            return true;
        }
    }
    false
}

/// The unmatched opening brackets (`(`, `[`, `{`) that enclose `offset`, innermost first,
/// looking back at most `window` bytes.
fn enclosing_openers(b: &[u8], offset: usize, window: usize) -> impl Iterator<Item = usize> + '_ {
    let floor = offset.saturating_sub(window);
    let mut depth = [0usize; 3];
    let mut i = offset;
    std::iter::from_fn(move || {
        while i > floor {
            i -= 1;
            let kind = match b[i] {
                b')' | b'(' => 0,
                b']' | b'[' => 1,
                b'}' | b'{' => 2,
                _ => continue,
            };
            if matches!(b[i], b')' | b']' | b'}') {
                depth[kind] += 1;
            } else if depth[kind] > 0 {
                depth[kind] -= 1;
            } else {
                return Some(i);
            }
        }
        None
    })
}

/// `opts = {`, `const opts: Options = {`, `$ctx = stream_context_create(`: the variable that
/// receives the bracket at `open` (or the call it belongs to).
fn assigned_variable(b: &[u8], open: usize) -> Option<String> {
    static ASSIGN: LazyLock<Regex> = LazyLock::new(|| {
        #[allow(clippy::unwrap_used)] // constant pattern
        Regex::new(r"([A-Za-z_$@][\w$]*)\s*(?::\s*[\w<>\[\]., ?]+)?\s*(?::=|=)\s*(?:new\s+)?[\w.:\\$>-]*\s*$").unwrap()
    });
    let line_start = b[..open].iter().rposition(|&c| c == b'\n').map(|i| i + 1).unwrap_or(0);
    let before = std::str::from_utf8(&b[line_start..open]).ok()?;
    if before.trim_end().ends_with("==") || before.trim_end().ends_with("=>") {
        return None;
    }
    let caps = ASSIGN.captures(before)?;
    Some(caps.get(1)?.as_str().to_string())
}

/// Whether `var` appears, elsewhere than at `defined_at`, inside a MongoDB call's arguments.
fn variable_reaches_mongo(ctx: &FileCtx<'_>, var: &str, defined_at: usize) -> bool {
    let b = ctx.bytes();
    let needle = var.as_bytes();
    let mut from = 0;
    while let Some(pos) = find_bytes(&b[from..], needle).map(|p| p + from) {
        from = pos + needle.len();
        let whole = (pos == 0 || !(is_ident_byte(b[pos - 1]) || b[pos - 1] == b'$'))
            && b.get(pos + needle.len()).is_none_or(|c| !is_ident_byte(*c));
        if !whole || pos.abs_diff(defined_at) < needle.len() + 40 && pos < defined_at {
            continue;
        }
        if enclosing_mongo_call(b, pos) {
            return true;
        }
    }
    false
}

/// Whether some call enclosing `offset` (within a few levels) is a MongoDB call.
fn enclosing_mongo_call(b: &[u8], offset: usize) -> bool {
    enclosing_openers(b, offset, 4000).take(6).any(|open| b[open] == b'(' && is_mongo_callee(&callee_before(b, open)))
}

pub fn find_bytes(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(lang: Lang, text: &str) -> Vec<(Rule, usize)> {
        let ctx = FileCtx {
            lang,
            text,
            mongo: text.to_ascii_lowercase().contains("mongo"),
            uris: super::super::uri::find_uris(text),
        };
        let mut out = Vec::new();
        scan_options(&ctx, &mut out);
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
