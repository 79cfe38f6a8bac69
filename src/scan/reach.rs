//! Reach analysis: whether a setting is handed to a MongoDB client (a client call, an options
//! object passed to one, a variable that reaches one), the sections that enclose it, and the
//! text that names an option without configuring anything (search commands, guards).

use std::sync::LazyLock;

use regex::Regex;

use super::bytes::{callee_before, enclosing_opener, enclosing_openers, find_bytes, is_ident_byte};
use super::family::FileCtx;
use super::lang::Lang;

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
pub fn in_search_command(b: &[u8], start: usize) -> bool {
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
    let is_searcher = |token: &str| {
        let word = token.trim_matches(|c: char| "\"'[](),!".contains(c)).to_ascii_lowercase();
        let base = word.rsplit(['/', '\\']).next().unwrap_or("");
        let base = base.strip_suffix(".exe").unwrap_or(base);
        SEARCHERS.contains(&base)
    };
    // Only the command that holds the name: not `grep x | mongosh --tlsInsecure`. A `|` inside
    // a quoted pattern (`grep -E "tlsInsecure=true|tlsAllowInvalidCertificates=true"`) is the
    // pattern's alternation, not a pipe.
    let segment = &before[command_start(&before)..];
    if segment.split_ascii_whitespace().any(is_searcher) {
        return true;
    }
    // The message a search step prints about what it found (`grep -q … || echo "tlsInsecure=true
    // found"`) names the option too.
    let words: Vec<&str> = segment.split_ascii_whitespace().collect();
    let line_end = b[start..].iter().position(|&c| c == b'\n').map_or(b.len(), |i| start + i);
    let line = String::from_utf8_lossy(&b[from..line_end]);
    words.first().is_some_and(|w| matches!(w.trim_start_matches(['(', '{']), "echo" | "printf"))
        && line.split_ascii_whitespace().any(is_searcher)
}

/// Where the last command of a shell line starts: after the last `|`, `;`, `&&`, `$(` or
/// backtick outside quotes.
fn command_start(line: &str) -> usize {
    let b = line.as_bytes();
    let (mut single, mut double, mut start) = (false, false, 0);
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\'' if !double => single = !single,
            b'"' if !single => double = !double,
            // Command substitution also runs inside double quotes.
            b'$' if !single && b.get(i + 1) == Some(&b'(') => {
                start = i + 2;
                double = false;
                i += 1;
            }
            b'`' if !single => {
                start = i + 1;
                double = false;
            }
            _ if single || double => {}
            b'|' | b';' => start = i + 1,
            b'&' if b.get(i + 1) == Some(&b'&') => {
                start = i + 2;
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    start
}

/// Whether the name at `start` sits in a string literal that code searches for or compares
/// against rather than uses: `"tlsInsecure=true" in uri`, `uri.includes('tlsInsecure=true')`,
/// `strings.Contains(uri, "tlsInsecure=true")`, `x == "tlsInsecure=true"`.
pub fn in_guard_literal(b: &[u8], start: usize) -> bool {
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
