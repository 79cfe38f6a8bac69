//! Settings that weaken the server's own TLS: rules `server-tls-optional` (mongod or mongos
//! accepts plaintext next to TLS) and `server-old-tls-enabled` (TLS 1.0 or 1.1 accepted, by
//! mongod or by an Atlas cluster).
//!
//! Every tool spells these settings as a key or a flag followed by a literal, so one matcher
//! serves them all: the weak literal (`preferTLS`, `TLS1_0`, a `disabledProtocols` list) is
//! found first, and the key written before it decides whether it is the setting. What counts:
//! an assignment (`:`, `=`, `=>`, `:=`), a setter call (`.minimumEnabledTlsProtocol("TLS1_0")`,
//! a Pulumi or SDK wrapper such as `pulumi.String(…)` around the literal), or a command-line
//! flag followed by its value (`--tlsMode preferTLS`, `"--tlsMode", "preferTLS"`, a YAML list
//! item on the next line). Comparisons, membership tests, validation lists, reads of a
//! variable (`$TLS_MODE`) and prose never count. The finding sits on the weak literal.
//!
//! Terraform values that arrive through variables, `.tfvars`, `locals`, `for_each` maps and
//! module inputs are followed across files by [`super::terraform`].

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder};

use crate::catalog::rules::Rule;

use super::family::{Family, FileCtx, Hit, Insecure, Reach, Spec};
use super::lang::Lang;
use super::reach::{in_guard_literal, in_search_command, section_keys};
use super::strip::NO_COMMENTS;

/// The safe spelling per tool for `server-tls-optional`, for `explain` and each message.
pub const OPTIONAL_ALTERNATIVES: &[(&str, &str)] = &[
    ("mongod / mongos configuration", "`net.tls.mode: requireTLS` (legacy format: `tlsMode = requireTLS`)"),
    ("command line", "`--tlsMode requireTLS` (`--sslMode requireSSL` on old releases)"),
    ("Percona operator and psmdb-db chart", "`spec.tls.mode: requireTLS` (chart values `tls.mode: requireTLS`)"),
    (
        "MongoDB Community operator",
        "remove `spec.security.tls.optional: true` (or set it to `false`), which makes the operator write `requireTLS`",
    ),
    ("KubeDB", "`spec.sslMode: requireSSL`"),
    ("Bitnami chart", "`tls.mode: requireTLS` in the chart values"),
];

/// The safe spelling per tool for `server-old-tls-enabled`.
pub const OLD_TLS_ALTERNATIVES: &[(&str, &str)] = &[
    (
        "Terraform",
        "`minimum_enabled_tls_protocol = \"TLS1_2\"` in `advanced_configuration` (and in the variable, tfvars or module input that feeds it)",
    ),
    ("Admin API", "`\"minimumEnabledTlsProtocol\": \"TLS1_2\"` in the `processArgs` body (or `advancedConfiguration`)"),
    ("Atlas CLI", "`atlas clusters advancedSettings update <clusterName> --tlsProtocol TLS1_2`"),
    ("CloudFormation", "`AdvancedSettings: { MinimumEnabledTLSProtocol: TLS1_2 }`"),
    ("Kubernetes Operator", "`spec.processArgs.minimumEnabledTlsProtocol: TLS1_2`"),
    (
        "Pulumi",
        "TypeScript/YAML `minimumEnabledTlsProtocol: \"TLS1_2\"`, Python `minimum_enabled_tls_protocol=\"TLS1_2\"`, Go `MinimumEnabledTlsProtocol: pulumi.String(\"TLS1_2\")`",
    ),
    ("atlas-sdk-go", "`MinimumEnabledTlsProtocol: admin.PtrString(\"TLS1_2\")`"),
    (
        "mongod / mongos",
        "`net.tls.disabledProtocols: TLS1_0,TLS1_1` (`--tlsDisabledProtocols TLS1_0,TLS1_1`), or leave it out on 4.0+ where TLS 1.0 is off by default",
    ),
];

/// The safe alternatives of one of this module's rules.
pub fn alternatives(rule: Rule) -> Vec<(&'static str, &'static str)> {
    match rule {
        Rule::ServerTlsOptional => OPTIONAL_ALTERNATIVES.to_vec(),
        Rule::ServerOldTlsEnabled => OLD_TLS_ALTERNATIVES.to_vec(),
        _ => Vec::new(),
    }
}

/// The rare literals these rules start from, exposed as option names of the shared table so
/// that the prefilter sees them. `Reach::Never` keeps the option matcher itself from judging
/// them: [`scan`] does.
const fn keyword(words: &'static [&'static str], rule: Rule) -> Spec {
    Spec { words, rule, insecure: Insecure::WhenTrue, reach: Reach::Never, separated_reach: Reach::Never, langs: &[] }
}

pub static KEYWORDS: &[Spec] = &[
    keyword(&["tls", "mode"], Rule::ServerTlsOptional),
    keyword(&["ssl", "mode"], Rule::ServerTlsOptional),
    keyword(&["disabled", "protocols"], Rule::ServerOldTlsEnabled),
    keyword(&["minimum", "enabled", "tls", "protocol"], Rule::ServerOldTlsEnabled),
    keyword(&["tls", "protocol"], Rule::ServerOldTlsEnabled),
];

/// What every rule of this module starts from: the weak modes, the old protocols,
/// `disabledProtocols` and the Community operator's kind. [`scan`] passes over a file without
/// any before anything is copied.
const STARTS: &[&str] =
    &["allowTLS", "preferTLS", "allowSSL", "preferSSL", "TLS1_", "disabledProtocols", "MongoDBCommunity"];

fn no_alternative(_: Rule) -> Option<&'static str> {
    None
}

/// Server-side TLS settings are written in every format; this family adds no language. It
/// carries the rules' keywords (see [`KEYWORDS`]); its rules run for every file from
/// `infrastructure::scan`, as the access-list rule does.
pub static FAMILY: Family = Family {
    title: None,
    lang: Lang::Plain,
    extensions: &[],
    syntax: &NO_COMMENTS,
    specs: KEYWORDS,
    scan: None,
    safe_alternative: no_alternative,
};

const WEAK_MODES: &[&str] = &["allowTLS", "preferTLS", "allowSSL", "preferSSL"];
const WEAK_PROTOCOLS: &[&str] = &["TLS1_0", "TLS1_1"];

/// How a key hands a literal to its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum How {
    /// `key: v`, `key = v`, `key => v`, `key := v`.
    Assign,
    /// `.key("v")`, `SetKey("v")`.
    Call,
    /// `--flag v`, `--flag=v`, `"--flag", "v"`.
    Flag,
}

/// The key that the literal at `at` is assigned to.
#[derive(Debug, Clone)]
struct Assigned {
    /// The key's last segment, lower case, without `-` and `_` (`net.tls.mode` → `mode`,
    /// `--tlsMode` → `tlsmode`, `MINIMUM_ENABLED_TLS_PROTOCOL` → `minimumenabledtlsprotocol`).
    key: String,
    how: How,
    key_start: usize,
}

fn is_key_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.'
}

fn normalize(key: &str) -> String {
    let last = key.trim_start_matches('-').rsplit('.').next().unwrap_or("");
    last.bytes().filter(|c| *c != b'_' && *c != b'-').map(|c| c.to_ascii_lowercase() as char).collect()
}

/// Wrappers that hand a literal on unchanged: Pulumi's, atlas-sdk-go's pointer helpers.
fn is_wrapper(callee: &str) -> bool {
    let last = callee.rsplit(['.', ':']).next().unwrap_or("");
    matches!(
        last,
        "String" | "StringPtr" | "PtrString" | "Ptr" | "ToPtr" | "of" | "output" | "Output" | "Input" | "StringInput"
    ) || callee.ends_with("pointer.Get")
}

/// The dotted identifier that ends at `end`.
fn ident_before(b: &[u8], end: usize) -> usize {
    let mut i = end;
    while i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_' || b[i - 1] == b'.') {
        i -= 1;
    }
    i
}

/// Finds the key written before the literal at `at`, or `None` when the literal is not
/// assigned (compared, listed, read, quoted in prose).
fn assigned_before(b: &[u8], at: usize) -> Option<Assigned> {
    let mut p = at;
    while p > 0 && b"\"'`".contains(&b[p - 1]) {
        p -= 1;
    }
    // Wrappers around the literal, and setter calls.
    loop {
        if p == 0 || b[p - 1] != b'(' {
            break;
        }
        let open = p - 1;
        let start = ident_before(b, open);
        if start == open {
            return None;
        }
        let callee = std::str::from_utf8(&b[start..open]).ok()?;
        if is_wrapper(callee) {
            p = start;
            while p > 0 && b"\"'` \t".contains(&b[p - 1]) {
                p -= 1;
            }
            continue;
        }
        if start > 0 && b[start - 1] == b'$' {
            return None;
        }
        let last = callee.rsplit('.').next().unwrap_or("");
        let key = normalize(last.strip_prefix("Set").or_else(|| last.strip_prefix("set")).unwrap_or(last));
        return Some(Assigned { key, how: How::Call, key_start: start });
    }
    // The separator between key and value.
    let region_end = p;
    let mut newlines = 0;
    while p > 0 {
        let c = b[p - 1];
        let bullet = c == b'-' && p >= 2 && b[p - 2].is_ascii_whitespace() && b.get(p).is_some_and(|n| *n == b' ');
        if c == b'\n' {
            newlines += 1;
        }
        if b" \t\r\n\"'`,=:>\\".contains(&c) || bullet {
            p -= 1;
        } else {
            break;
        }
    }
    let region = &b[p..region_end];
    let key_end = p;
    while p > 0 && is_key_byte(b[p - 1]) {
        p -= 1;
    }
    let key_start = p;
    if key_start == key_end {
        return None;
    }
    // `$TLS_MODE`, `${TLS_MODE}`, `%TLS_MODE%`: a read of a variable.
    if key_start > 0 && (b"$%".contains(&b[key_start - 1]) || b[..key_start].ends_with(b"${")) {
        return None;
    }
    let raw = std::str::from_utf8(&b[key_start..key_end]).ok()?;
    let flag = raw.starts_with("--");
    let has = |s: &[u8]| region.windows(s.len()).any(|w| w == s);
    if has(b"==") || has(b"=~") || (region.contains(&b'>') && !has(b"=>")) {
        return None;
    }
    let assigns = region.iter().any(|c| matches!(c, b'=' | b':'));
    let how = if flag {
        if region.iter().filter(|c| **c == b',').count() > 1 || newlines > 2 {
            return None;
        }
        How::Flag
    } else {
        if !assigns || region.contains(&b',') || newlines > 1 {
            return None;
        }
        How::Assign
    };
    Some(Assigned { key: normalize(raw), how, key_start })
}

/// Whether the literal `at..end` ends its value: a closing quote right after a quoted one, the
/// end of the line (or a comment, a separator) after a bare one.
fn ends_value(b: &[u8], at: usize, end: usize, how: How) -> bool {
    let quoted = at > 0 && b"\"'`".contains(&b[at - 1]);
    let next = b.get(end).copied();
    if quoted {
        return next == Some(b[at - 1]);
    }
    match next {
        None => true,
        Some(c) if b",;}])&|\r\n#\\\"'`".contains(&c) => true,
        Some(b' ' | b'\t') => {
            if how == How::Flag {
                return true;
            }
            let line_end = b[end..].iter().position(|&c| c == b'\n').map_or(b.len(), |i| end + i);
            let rest = b[end..line_end].trim_ascii();
            rest.is_empty() || b"#,;}]&|\\".contains(&rest[0]) || rest.starts_with(b"--") || rest.starts_with(b"//")
        }
        _ => false,
    }
}

/// Whole-word occurrences of `word` (ASCII case-insensitive when `fold`).
fn occurrences<'t>(text: &'t str, lower: &'t str, word: &'t str, fold: bool) -> impl Iterator<Item = usize> + 't {
    let hay = if fold { lower } else { text };
    let needle = if fold { word.to_ascii_lowercase() } else { word.to_string() };
    let b = text.as_bytes();
    let mut from = 0;
    std::iter::from_fn(move || {
        while let Some(i) = hay[from..].find(&needle) {
            let at = from + i;
            let end = at + needle.len();
            from = end;
            let before_ok = at == 0 || !(b[at - 1].is_ascii_alphanumeric() || b[at - 1] == b'_');
            let after_ok = end >= b.len() || !(b[end].is_ascii_alphanumeric() || b[end] == b'_');
            if before_ok && after_ok {
                return Some(at);
            }
        }
        None
    })
}

/// The key of a `name`/`value` pair whose value is at `at`: Helm's `set { name = "tls.mode"
/// value = "preferTLS" }`, Kubernetes `env`.
fn paired_name(text: &str, at: usize) -> Option<String> {
    let from = at.saturating_sub(300);
    let mut from = from;
    while !text.is_char_boundary(from) {
        from -= 1;
    }
    let before = &text[from..at];
    let i = before.rfind("name")?;
    let rest = before[i + 4..].trim_start_matches(['"', '\'', ' ', '\t']);
    let rest = rest.strip_prefix(['=', ':'])?.trim_start_matches([' ', '\t', '"', '\'']);
    let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')).collect();
    (!name.is_empty()).then(|| normalize(&name))
}

fn silenced(b: &[u8], at: usize) -> bool {
    in_search_command(b, at) || in_guard_literal(b, at)
}

fn is_mode_key(key: &str) -> bool {
    key == "mode" || key.ends_with("tlsmode") || key.ends_with("sslmode")
}

fn is_min_protocol_key(key: &str) -> bool {
    key.ends_with("minimumenabledtlsprotocol")
}

/// `tlsMode` / `sslMode` / `mode` set to `allowTLS`, `preferTLS`, `allowSSL`, `preferSSL`.
fn optional_modes(ctx: &FileCtx<'_>, lower: &str, out: &mut Vec<Hit>) {
    let (text, b) = (ctx.text, ctx.bytes());
    for weak in WEAK_MODES {
        for at in occurrences(text, lower, weak, true) {
            let end = at + weak.len();
            let Some(mut a) = assigned_before(b, at) else { continue };
            if a.how == How::Assign && a.key == "value" {
                match paired_name(text, a.key_start) {
                    Some(name) => a.key = name,
                    None => continue,
                }
            }
            if !is_mode_key(&a.key) || !ends_value(b, at, end, a.how) || silenced(b, at) {
                continue;
            }
            let written = &text[at..end];
            let what = match a.how {
                How::Flag => "on the server's command line",
                _ if ctx.lang == Lang::Yaml && lower.contains("perconaservermongodb") => {
                    "in the Percona operator's TLS mode"
                }
                _ if a.key == "sslmode" && lower.contains("kubedb") => "as KubeDB's `sslMode`",
                _ => "as the server's TLS mode",
            };
            let instead = match a.how {
                How::Flag => OPTIONAL_ALTERNATIVES[1].1,
                _ if a.key == "sslmode" && lower.contains("kubedb") => OPTIONAL_ALTERNATIVES[4].1,
                _ if lower.contains("perconaservermongodb") => OPTIONAL_ALTERNATIVES[2].1,
                _ if a.key == "mode" => "`mode: requireTLS`",
                _ => OPTIONAL_ALTERNATIVES[0].1,
            };
            out.push(Hit {
                rule: Rule::ServerTlsOptional,
                offset: at,
                message: format!(
                    "`{written}` {what} lets mongod/mongos accept plaintext connections next to TLS ones; instead: {instead}"
                ),
            });
        }
    }
}

/// The Community operator's `spec.security.tls.optional: true`.
fn community_optional(ctx: &FileCtx<'_>, lower: &str, out: &mut Vec<Hit>) {
    if !matches!(ctx.lang, Lang::Yaml | Lang::Json) || !lower.contains("mongodbcommunity") {
        return;
    }
    let (text, b) = (ctx.text, ctx.bytes());
    for at in occurrences(text, lower, "true", false) {
        let Some(a) = assigned_before(b, at) else { continue };
        if a.how != How::Assign || a.key != "optional" || !ends_value(b, at, at + 4, a.how) {
            continue;
        }
        let keys = section_keys(ctx, a.key_start);
        if keys.first().map(String::as_str) != Some("tls") || keys.get(1).map(String::as_str) != Some("security") {
            continue;
        }
        out.push(Hit {
            rule: Rule::ServerTlsOptional,
            offset: at,
            message: format!(
                "`tls.optional: true` makes the MongoDB Community operator run mongod with `net.tls.mode: preferTLS`, which accepts plaintext connections; instead: {}",
                OPTIONAL_ALTERNATIVES[3].1
            ),
        });
    }
}

/// Which tool writes Atlas's minimum TLS protocol, from the key's spelling and the file.
fn min_protocol_tool(ctx: &FileCtx<'_>, lower: &str, raw_key: &str, how: How) -> usize {
    if how == How::Flag {
        return 2;
    }
    if raw_key.contains("MinimumEnabledTLSProtocol") || lower.contains("mongodb::atlas::") {
        return 3;
    }
    match ctx.lang {
        Lang::Hcl => 0,
        Lang::Yaml if lower.contains("atlas.mongodb.com/") => 4,
        Lang::Yaml if lower.contains("mongodbatlas:") => 5,
        Lang::Go if lower.contains("pulumi") => 5,
        Lang::Go => 6,
        Lang::Python | Lang::JavaScript if lower.contains("pulumi") => 5,
        _ => 1,
    }
}

/// Atlas's minimum TLS protocol set to `TLS1_0` or `TLS1_1`.
fn atlas_minimum(ctx: &FileCtx<'_>, lower: &str, out: &mut Vec<Hit>) {
    let (text, b) = (ctx.text, ctx.bytes());
    for weak in WEAK_PROTOCOLS {
        for at in occurrences(text, lower, weak, false) {
            let end = at + weak.len();
            let Some(a) = assigned_before(b, at) else { continue };
            let raw_key = text[a.key_start..]
                .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
                .next()
                .unwrap_or("");
            let cli = a.how == How::Flag && a.key == "tlsprotocol" && atlas_cli_line(lower, a.key_start);
            if !(cli || (a.how != How::Flag && is_min_protocol_key(&a.key))) {
                continue;
            }
            if !ends_value(b, at, end, a.how) || silenced(b, at) {
                continue;
            }
            let tool = min_protocol_tool(ctx, lower, raw_key, a.how);
            let (name, instead) = OLD_TLS_ALTERNATIVES[tool];
            out.push(Hit {
                rule: Rule::ServerOldTlsEnabled,
                offset: at,
                message: format!(
                    "`{weak}` as Atlas's minimum TLS protocol ({name}) lets clients connect with TLS 1.0/1.1; instead: {instead}"
                ),
            });
        }
    }
}

/// Whether the logical line holding `at` is an Atlas CLI command.
fn atlas_cli_line(lower: &str, at: usize) -> bool {
    let mut start = lower[..at].rfind('\n').map_or(0, |i| i + 1);
    // Continuation lines.
    for _ in 0..4 {
        if start < 2 || !lower[..start - 1].trim_end().ends_with('\\') {
            break;
        }
        start = lower[..start - 1].rfind('\n').map_or(0, |i| i + 1);
    }
    let line = &lower[start..at];
    line.contains("atlas ") || line.contains("advancedsettings")
}

/// Tokens mongod accepts in a `disabledProtocols` list.
fn protocol_token(t: &str) -> Option<&'static str> {
    let t = t.strip_prefix("no").unwrap_or(t);
    ["TLS1_0", "TLS1_1", "TLS1_2", "TLS1_3"].into_iter().find(|p| *p == t)
}

/// mongod's `disabledProtocols` set to `none` or to a list that leaves TLS 1.0 or 1.1 on.
fn disabled_protocols(ctx: &FileCtx<'_>, lower: &str, out: &mut Vec<Hit>) {
    let (text, b) = (ctx.text, ctx.bytes());
    let mut from = 0;
    while let Some(i) = lower[from..].find("disabledprotocols") {
        let key_at = from + i;
        from = key_at + "disabledprotocols".len();
        if b.get(from).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_') {
            continue;
        }
        // The value: after the separator, up to the end of the word or the quotes.
        let mut p = from;
        let mut newlines = 0;
        while p < b.len() && (b" \t\r\n\"'=:\\".contains(&b[p]) || (b[p] == b'-' && b.get(p + 1) == Some(&b' '))) {
            if b[p] == b'\n' {
                newlines += 1;
            }
            if b[p] == b'=' && b.get(p + 1) == Some(&b'=') {
                break;
            }
            p += 1;
        }
        if newlines > 1 || p >= b.len() {
            continue;
        }
        let value_at = p;
        while p < b.len() && (b[p].is_ascii_alphanumeric() || b[p] == b'_' || b[p] == b',') {
            p += 1;
        }
        let value = &text[value_at..p];
        if value.is_empty() {
            continue;
        }
        // The literal must be assigned to this key: the same check as for the other settings.
        let Some(a) = assigned_before(b, value_at) else { continue };
        if !a.key.ends_with("disabledprotocols") || a.key_start > key_at {
            continue;
        }
        if !ends_value(b, value_at, p, a.how) || silenced(b, value_at) {
            continue;
        }
        let weak = if value == "none" {
            Some("re-enables TLS 1.0 and 1.1".to_string())
        } else {
            let tokens: Option<Vec<&str>> = value.split(',').map(|t| protocol_token(t.trim())).collect();
            let Some(tokens) = tokens else { continue };
            let missing: Vec<&str> = ["TLS1_0", "TLS1_1"].into_iter().filter(|t| !tokens.contains(t)).collect();
            (!missing.is_empty()).then(|| format!("leaves {} enabled", missing.join(" and ")))
        };
        if let Some(weak) = weak {
            out.push(Hit {
                rule: Rule::ServerOldTlsEnabled,
                offset: value_at,
                message: format!(
                    "`disabledProtocols` set to `{value}` {weak} on mongod/mongos; instead: {}",
                    OLD_TLS_ALTERNATIVES[7].1
                ),
            });
        }
    }
}

static TRIGGER_SEARCH: LazyLock<Option<AhoCorasick>> =
    LazyLock::new(|| AhoCorasickBuilder::new().ascii_case_insensitive(true).build(STARTS).ok());

/// This module's rules on one file.
pub fn scan(ctx: &FileCtx<'_>, out: &mut Vec<Hit>) {
    if TRIGGER_SEARCH.as_ref().is_some_and(|t| !t.is_match(ctx.text)) {
        return;
    }
    let lower = ctx.text.to_ascii_lowercase();
    let has = |w: &str| lower.contains(w);
    if has("tls") || has("ssl") {
        if has("allowtls") || has("prefertls") || has("allowssl") || has("preferssl") {
            optional_modes(ctx, &lower, out);
        }
        if has("optional") {
            community_optional(ctx, &lower, out);
        }
        if has("tls1_") {
            atlas_minimum(ctx, &lower, out);
        }
    }
    if has("disabledprotocols") {
        disabled_protocols(ctx, &lower, out);
    }
}

#[cfg(test)]
mod tests {
    use crate::catalog::rules::Rule;
    use crate::scan::family::FileCtx;
    use crate::scan::file::rule_lines;
    use crate::scan::lang::Lang;

    /// The rules of this module alone, before the prefilter (which does not know their
    /// keywords yet, see the module's `KEYWORDS`).
    fn direct(lang: Lang, text: &str) -> Vec<(Rule, u32)> {
        let ctx = FileCtx { lang, text, mongo: false, uris: Vec::new() };
        let mut hits = Vec::new();
        super::scan(&ctx, &mut hits);
        hits.into_iter().map(|h| (h.rule, text[..h.offset].matches('\n').count() as u32 + 1)).collect()
    }

    fn lines(path: &str, text: &str, rule: Rule) -> Vec<u32> {
        rule_lines(path, text).into_iter().filter(|(r, _)| *r == rule).map(|(_, l)| l).collect()
    }

    #[test]
    fn modes_in_every_format() {
        use Rule::ServerTlsOptional as O;
        let conf =
            "# mongod\nnet:\n  port: 27017\n  tls:\n    mode: preferTLS\n    certificateKeyFile: /etc/ssl/m.pem\n";
        assert_eq!(lines("mongod.conf", conf, O), vec![5]);
        assert_eq!(lines("mongod.conf", "sslMode = allowSSL\nsslPEMKeyFile = /etc/ssl/m.pem\n", O), vec![1]);
        let k8s = "containers:\n  - name: mongod\n    args:\n      - --tlsMode\n      - preferTLS\n      - \"--tlsMode=allowTLS\"\n";
        assert_eq!(lines("sts.yaml", k8s, O), vec![5, 6]);
        let sh = "exec mongod --bind_ip_all \\\n  --tlsMode preferTLS \\\n  --tlsCertificateKeyFile /x.pem\n";
        assert_eq!(lines("run.sh", sh, O), vec![2]);
        let not = "if [ \"$TLS_MODE\" = \"preferTLS\" ]; then echo mongod; fi\nWEAK = {\"allowTLS\", \"preferTLS\"}  # mongo\nif cfg[\"net\"][\"tls\"][\"mode\"] == \"preferTLS\": pass\nmode: requireTLS\n";
        assert!(lines("audit.py", not, O).is_empty(), "{:?}", rule_lines("audit.py", not));
        let err = "raise ValueError(\"mongod net.tls.mode: preferTLS is not allowed\")\n";
        assert!(lines("audit.py", err, O).is_empty());
        let prose = "REFUSED = [\"net.tls.mode: preferTLS is not allowed\"]  # mongo\n";
        assert!(lines("audit.py", prose, O).is_empty());
        let helm = "resource \"helm_release\" \"mongodb\" {\n  chart = \"bitnami/mongodb\"\n  set {\n    name  = \"tls.mode\"\n    value = \"preferTLS\"\n  }\n  set {\n    name  = \"image.tag\"\n    value = \"allowTLS\"\n  }\n}\n";
        assert_eq!(lines("mongodb.tf", helm, O), vec![5]);
        let env = "env:\n  - name: MONGODB_EXTRA_FLAGS\n    value: \"--tlsMode=preferTLS --wiredTigerCacheSizeGB=1\"\n";
        assert_eq!(lines("mongo.yaml", env, O), vec![3]);
    }

    #[test]
    fn disabled_protocols_lists() {
        use Rule::ServerOldTlsEnabled as W;
        let conf = "net:\n  tls:\n    disabledProtocols: TLS1_1\n";
        assert_eq!(lines("mongod.conf", conf, W), vec![3]);
        assert_eq!(
            lines("mongod.conf", "net:\n  tls:\n    disabledProtocols: \"TLS1_0,TLS1_1\"\n", W),
            Vec::<u32>::new()
        );
        assert_eq!(lines("run.sh", "mongod --tlsDisabledProtocols none --port 1\n", W), vec![1]);
        assert_eq!(lines("mongod.conf", "sslDisabledProtocols = noTLS1_0,noTLS1_1\n", W), Vec::<u32>::new());
        assert_eq!(lines("mongod.conf", "net.tls.disabledProtocols: TLS1_0,TLS1_2\n", W), vec![1]);
        assert!(lines("x.sh", "test \"$(mongod-conf disabledProtocols)\" == none\n", W).is_empty());
    }

    #[test]
    fn atlas_minimum_protocol() {
        use Rule::ServerOldTlsEnabled as W;
        let setter = "args := admin.NewClusterDescriptionProcessArgs20240805()\nargs.SetMinimumEnabledTlsProtocol(\"TLS1_1\") // mongo\n";
        assert_eq!(lines("tls.go", setter, W), vec![2]);
        let tf2 = "resource \"mongodbatlas_advanced_cluster\" \"c\" {\n  advanced_configuration = {\n    minimum_enabled_tls_protocol = \"TLS1_1\"\n  }\n}\n";
        assert_eq!(lines("main.tf", tf2, W), vec![3]);
        let go = "args := admin.ClusterDescriptionProcessArgs20240805{\n\tMinimumEnabledTlsProtocol: admin.PtrString(\"TLS1_0\"),\n}\n// mongo\n";
        assert_eq!(lines("main.go", go, W), vec![2]);
        let cli = "atlas clusters advancedSettings update \"$CLUSTER\" \\\n  --tlsProtocol TLS1_0 --projectId \"$P\"\n";
        assert_eq!(direct(Lang::Shell, cli), vec![(W, 2)]);
        assert!(direct(Lang::Shell, "openssl s_client --tlsProtocol TLS1_0\n").is_empty());
        let check = "validation {\n  condition = var.min_tls != \"TLS1_0\" && !contains([\"TLS1_0\", \"TLS1_1\"], var.minimum_enabled_tls_protocol)\n}\n# mongodbatlas\n";
        assert!(lines("variables.tf", check, W).is_empty());
        assert!(
            lines(
                "storage.tf",
                "resource \"azurerm_storage_account\" \"a\" { min_tls_version = \"TLS1_0\" } # mongo\n",
                W
            )
            .is_empty()
        );
    }
}
