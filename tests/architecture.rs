//! The layering ARCHITECTURE.md promises, checked on the source: no import cycle between the
//! modules of `src/`, none between the files of one folder, and probes that never judge.
//!
//! Imports are read from the text (`crate::a::…`, `super::…`, `super::{…}`, and a folder's
//! `mod.rs` naming its children); test modules and comments do not count.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use regex::Regex;

type Graph = BTreeMap<String, BTreeSet<String>>;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// A file's code without its test module and its comment lines.
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("read source");
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The strongly connected components with more than one member.
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    // Kosaraju: order by finish time, then walk the reversed graph.
    fn visit(node: &str, graph: &Graph, seen: &mut BTreeSet<String>, order: &mut Vec<String>) {
        if !seen.insert(node.to_string()) {
            return;
        }
        for next in graph.get(node).into_iter().flatten() {
            visit(next, graph, seen, order);
        }
        order.push(node.to_string());
    }
    let mut seen = BTreeSet::new();
    let mut order = Vec::new();
    for node in graph.keys() {
        visit(node, graph, &mut seen, &mut order);
    }
    let mut reversed: Graph = graph.keys().map(|k| (k.clone(), BTreeSet::new())).collect();
    for (from, tos) in graph {
        for to in tos {
            reversed.entry(to.clone()).or_default().insert(from.clone());
        }
    }
    let mut assigned = BTreeSet::new();
    let mut found = Vec::new();
    for node in order.iter().rev() {
        let mut component = Vec::new();
        visit(node, &reversed, &mut assigned, &mut component);
        if component.len() > 1 {
            component.sort();
            found.push(component);
        }
    }
    found
}

/// The module path of a file under `src/` (`probe/tls.rs` → `[probe, tls]`, `probe/mod.rs` →
/// `[probe]`).
fn module_path(file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src()).expect("under src");
    let mut parts: Vec<String> = relative.iter().map(|c| c.to_string_lossy().into_owned()).collect();
    let last = parts.pop().unwrap_or_default();
    if last != "mod.rs" {
        parts.push(last.trim_end_matches(".rs").to_string());
    }
    parts
}

/// The top-level modules of the crate that `code` (in the module at `path`) names: through
/// `crate::a::…`, `crate::{a, b::{…}}`, and `super::` chains that climb to the crate root
/// (`super::super::a`) or stay within the file's own top-level module.
fn crate_imports(code: &str, path: &[String]) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    // The first segment of each item of a `{…}` group, nested groups skipped.
    fn group_heads(text: &str) -> Vec<String> {
        let mut heads = Vec::new();
        let (mut depth, mut item) = (0, String::new());
        for c in text.chars() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    heads.push(std::mem::take(&mut item));
                    continue;
                }
                _ => {}
            }
            if depth == 0 {
                item.push(c);
            }
        }
        heads.push(item);
        heads
            .iter()
            // `a::b`, `a as b`, `a`: the first word.
            .filter_map(|i| i.trim().split("::").next().and_then(|s| s.split_whitespace().next()).map(str::to_string))
            .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .collect()
    }
    // The text of a `{…}` group starting at `open`.
    fn group_at(code: &str, open: usize) -> &str {
        let mut depth = 0;
        for (i, c) in code[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        return &code[open + 1..open + i];
                    }
                }
                _ => {}
            }
        }
        &code[open + 1..]
    }
    let anchor = Regex::new(r"\b(crate|(?:super::)*super)::\s*(\{|[A-Za-z_]\w*)").expect("regex");
    for m in anchor.captures_iter(code) {
        let base = &m[1];
        // The module the path starts from.
        let start: Vec<String> = if base == "crate" {
            Vec::new()
        } else {
            let climbs = base.matches("super").count();
            path[..path.len().saturating_sub(climbs)].to_vec()
        };
        let heads = if &m[2] == "{" {
            group_heads(group_at(code, m.get(2).expect("group").start()))
        } else {
            vec![m[2].to_string()]
        };
        for head in heads {
            match start.first() {
                // From the crate root the first segment is the top-level module.
                None => {
                    if head != "self" {
                        found.insert(head);
                    }
                }
                Some(top) => {
                    found.insert(top.clone());
                }
            }
        }
    }
    found
}

/// Top-level module of each file under `src/` → the top-level modules it names.
fn module_graph() -> Graph {
    let mut graph = Graph::new();
    for file in rust_files(&src()) {
        let path = module_path(&file);
        let top = path.first().cloned().unwrap_or_default();
        if top == "main" || top == "lib" {
            continue;
        }
        let deps = graph.entry(top.clone()).or_default();
        for m in crate_imports(&code_of(&file), &path) {
            if m != top {
                deps.insert(m);
            }
        }
    }
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for deps in graph.values_mut() {
        deps.retain(|d| modules.contains(d));
    }
    graph
}

/// For one folder with a `mod.rs`: each file (or child folder) → the siblings it names. An item
/// reached through `super::` that is not a sibling module is `mod.rs`'s.
fn folder_graph(dir: &Path) -> Graph {
    let folder = dir.strip_prefix(src()).expect("under src").to_string_lossy().replace('/', "::");
    let mut names: BTreeSet<String> = BTreeSet::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "rs") {
            names.insert(path.file_stem().and_then(|s| s.to_str()).expect("stem").to_string());
        } else if path.join("mod.rs").exists() {
            names.insert(path.file_name().and_then(|s| s.to_str()).expect("name").to_string());
        }
    }
    let single = Regex::new(r"super::(\w+)").expect("regex");
    let group = Regex::new(r"super::\{([^}]*)\}").expect("regex");
    let first_word = Regex::new(r"(?:^|,)\s*(\w+)").expect("regex");
    let own = Regex::new(&format!(r"crate::{folder}::(\w+)")).expect("regex");
    let child_use = |name: &str| Regex::new(&format!(r"(?:^|[^\w:]){name}::")).expect("regex");
    let sibling = |name: &str| if names.contains(name) { name.to_string() } else { "mod".to_string() };

    let mut graph = Graph::new();
    for name in &names {
        let path = if dir.join(format!("{name}.rs")).exists() {
            dir.join(format!("{name}.rs"))
        } else {
            dir.join(name).join("mod.rs")
        };
        let code = code_of(&path);
        let mut deps = BTreeSet::new();
        if name == "mod" {
            for other in names.iter().filter(|n| *n != "mod") {
                if child_use(other).is_match(&code) {
                    deps.insert(other.clone());
                }
            }
        } else {
            for m in single.captures_iter(&code) {
                deps.insert(sibling(&m[1]));
            }
            for m in group.captures_iter(&code) {
                for word in first_word.captures_iter(&m[1]) {
                    deps.insert(sibling(&word[1]));
                }
            }
            for m in own.captures_iter(&code) {
                deps.insert(sibling(&m[1]));
            }
        }
        deps.remove(name);
        graph.insert(name.clone(), deps);
    }
    graph
}

#[test]
fn no_import_cycle_between_the_modules_of_src() {
    let graph = module_graph();
    assert!(graph.contains_key("probe") && graph["probe"].contains("model"), "the graph reads imports: {graph:?}");
    assert_eq!(cycles(&graph), Vec::<Vec<String>>::new());
}

#[test]
fn no_import_cycle_between_the_files_of_one_folder() {
    let mut found = Vec::new();
    let mut folders = 0;
    for file in rust_files(&src()) {
        if file.file_name().is_some_and(|n| n == "mod.rs") {
            let dir = file.parent().expect("folder");
            folders += 1;
            for cycle in cycles(&folder_graph(dir)) {
                found.push(format!("{}: {}", dir.display(), cycle.join(" ↔ ")));
            }
        }
    }
    assert!(folders >= 8, "found only {folders} folders");
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn the_checker_finds_a_cycle() {
    let graph: Graph = [("a", vec!["b"]), ("b", vec!["c"]), ("c", vec!["a"]), ("d", vec!["a"])]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
        .collect();
    assert_eq!(cycles(&graph), vec![vec!["a".to_string(), "b".to_string(), "c".to_string()]]);
}

#[test]
fn probes_only_observe() {
    // The import graph the cycle check uses: grouped imports (`use crate::{diagnose, …}`) and
    // `super::super::` chains count as well as `crate::diagnose::…`.
    let graph = module_graph();
    let probe = graph.get("probe").expect("src/probe is in the graph");
    assert!(probe.contains("model"), "the graph reads the probe's imports: {probe:?}");
    for judge in ["diagnose", "report", "policy"] {
        assert!(!probe.contains(judge), "src/probe imports {judge}: {probe:?}");
    }
}

#[test]
fn the_import_reader_sees_every_way_to_name_a_module() {
    let at = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let read = |code: &str, path: &[&str]| crate_imports(code, &at(path)).into_iter().collect::<Vec<_>>();
    assert_eq!(read("use crate::diagnose::Finding;", &["probe", "tls"]), ["diagnose"]);
    assert_eq!(read("use crate::{diagnose, model::{Host, Stage}};", &["probe", "tls"]), ["diagnose", "model"]);
    assert_eq!(read("use crate::{diagnose as judge, model as _};", &["probe"]), ["diagnose", "model"]);
    assert_eq!(read("use crate::{\n    report::render,\n    self,\n};", &["probe"]), ["report"]);
    assert_eq!(read("let x = crate::policy::apply(y);", &["probe", "a", "b"]), ["policy"]);
    // From src/probe/tls.rs, `super::` is probe; two climb to the root.
    assert_eq!(read("use super::super::diagnose;", &["probe", "tls"]), ["diagnose"]);
    assert_eq!(read("use super::super::{diagnose, model};", &["probe", "tls"]), ["diagnose", "model"]);
    assert_eq!(read("use super::dns;", &["probe", "tls"]), ["probe"]);
    assert_eq!(read("use super::{dns, tcp};", &["probe", "sub", "x"]), ["probe"]);
}

// One way to start the binary in tests (issues 18 and 23): through tests/support, whose
// command is scrubbed of the caller's environment and whose runs have a watchdog.

/// The receiver a method chain starts from: `support::mongo_preflight().args(..).output()` →
/// a call of `support::mongo_preflight`; `cmd.arg(x).output()` → the variable `cmd`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Root {
    Call(String),
    Var(String),
    Unknown(String),
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The index just after the last non-blank byte before `end`.
fn skip_blank_back(code: &[u8], mut end: usize) -> usize {
    while end > 0 && code[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    end
}

/// The index of the bracket that opens the group closing at `close`.
fn open_of(code: &[u8], close: usize) -> Option<usize> {
    let (open, shut) = match code[close] {
        b')' => (b'(', b')'),
        b']' => (b'[', b']'),
        _ => return None,
    };
    let mut depth = 0;
    let mut i = close + 1;
    while i > 0 {
        i -= 1;
        if code[i] == shut {
            depth += 1;
        } else if code[i] == open {
            depth -= 1;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

/// Where the chain ending with the `.` at `dot` starts.
fn chain_root(code: &[u8], dot: usize) -> Root {
    let mut end = dot;
    loop {
        end = skip_blank_back(code, end);
        while end > 0 && code[end - 1] == b'?' {
            end = skip_blank_back(code, end - 1);
        }
        // A call's arguments or an index, then a name.
        let mut called = false;
        if end > 0 && (code[end - 1] == b')' || code[end - 1] == b']') {
            let Some(open) = open_of(code, end - 1) else { return Root::Unknown("unbalanced".into()) };
            called = code[end - 1] == b')';
            end = skip_blank_back(code, open);
        }
        let name_end = end;
        while end > 0 && is_ident(code[end - 1]) {
            end -= 1;
        }
        if end == name_end {
            // `(expr).output()` and the like: nothing to name.
            return Root::Unknown(String::from_utf8_lossy(&code[end.saturating_sub(20)..dot]).into_owned());
        }
        let mut path = String::from_utf8_lossy(&code[end..name_end]).into_owned();
        let before = skip_blank_back(code, end);
        if before > 0 && code[before - 1] == b'.' {
            end = before - 1;
            continue;
        }
        // A path: `a::b::c(…)`.
        let mut start = before;
        while start >= 2 && &code[start - 2..start] == b"::" {
            let seg_end = start - 2;
            let mut seg_start = seg_end;
            while seg_start > 0 && is_ident(code[seg_start - 1]) {
                seg_start -= 1;
            }
            path = format!("{}::{path}", String::from_utf8_lossy(&code[seg_start..seg_end]));
            start = seg_start;
        }
        return if called { Root::Call(path) } else { Root::Var(path) };
    }
}

/// The body of `fn name` in `code`, if the file defines it.
fn fn_body<'a>(code: &'a str, name: &str) -> Option<&'a str> {
    let at = Regex::new(&format!(r"\bfn\s+{name}\b")).expect("regex").find(code)?.end();
    let open = at + code[at..].find('{')?;
    let mut depth = 0;
    for (i, c) in code[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&code[open..=open + i]);
                }
            }
            _ => {}
        }
    }
    None
}

/// The nearest `let [mut] name … =` before `pos`: where the `let` starts, and its initializer
/// up to its `;`.
fn binding_before<'a>(code: &'a str, name: &str, pos: usize) -> Option<(usize, &'a str)> {
    let re = Regex::new(&format!(r"\blet\s+(?:mut\s+)?{name}\b[^=;]*=[^=>]")).expect("regex");
    let m = re.find_iter(&code[..pos]).last()?;
    let start = m.end() - 1;
    let mut depth = 0i32;
    for (i, c) in code[start..].char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            ';' if depth <= 0 => return Some((m.start(), &code[start..start + i])),
            _ => {}
        }
    }
    None
}

/// Whether the chain whose root is `root` (at `pos` in `code`) starts the binary's command.
/// `None`: another program. `Some(why)`: the binary, or a command the file cannot show is not.
fn starts_the_binary(code: &str, root: &Root, pos: usize, depth: u32) -> Option<String> {
    if depth > 8 {
        return Some(format!("{root:?}: too deep to follow"));
    }
    match root {
        Root::Call(path) => {
            let name = path.rsplit("::").next().unwrap_or(path);
            if path.ends_with("Command::new") {
                return None;
            }
            if name.starts_with("mongo_preflight") || path.starts_with("support::") {
                return Some(format!("{path}() is the binary's command"));
            }
            // A helper of this file: what its body returns.
            let body = fn_body(code, name)?;
            let tail = body.trim_end_matches('}').trim_end();
            let last = tail.rsplit([';', '{']).next().unwrap_or_default().trim();
            if last.is_empty() {
                return None;
            }
            let body_end = code.find(body).unwrap_or(0) + body.len() - 1;
            starts_the_binary(code, &expression_root(last), body_end, depth + 1)
                .or_else(|| body.contains("mongo_preflight").then(|| format!("{name}() builds the binary's command")))
        }
        Root::Var(name) => match binding_before(code, name, pos) {
            // Followed from the `let`: `let s = s.lock()` looks further back.
            Some((at, init)) => starts_the_binary(code, &expression_root(init.trim()), at, depth + 1),
            None => {
                // A parameter: only a `Command` one can be the binary's.
                let declared = Regex::new(&format!(r"\b{name}\s*:\s*([^,)|{{]+)")).expect("regex");
                match declared.captures_iter(&code[..pos]).last() {
                    Some(c) if !c[1].contains("Command") => None,
                    Some(_) => Some(format!("`{name}` is a Command given from outside: run it through tests/support")),
                    None => Some(format!("`{name}`: cannot tell what it is")),
                }
            }
        },
        Root::Unknown(text) => Some(format!("cannot tell what `{text}` is")),
    }
}

/// The root of an expression written forward (`support::mongo_preflight().arg(x)`).
fn expression_root(expr: &str) -> Root {
    let expr = expr.trim_start_matches(['&', '*', ' ']).trim_start_matches("mut ").trim();
    let path: String = expr.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':').collect();
    let rest = expr[path.len()..].trim_start();
    if path.is_empty() {
        Root::Unknown(expr.chars().take(40).collect())
    } else if rest.starts_with('(') {
        Root::Call(path)
    } else {
        Root::Var(path)
    }
}

/// Every way a test file starts the binary other than through tests/support's watchdog. A
/// receiver the file cannot show the origin of counts only in a file that handles commands
/// (names `Command` or `mongo_preflight`): elsewhere `.status()` is an HTTP response's or a
/// stand-in's own.
fn ways_around_support(code: &str) -> Vec<String> {
    let handles_commands = code.contains("Command") || code.contains("mongo_preflight");
    let mut found = Vec::new();
    for banned in ["CARGO_BIN_EXE", "support::BIN", "get_program()"] {
        if code.contains(banned) {
            found.push(format!("names {banned}"));
        }
    }
    let call = Regex::new(r"\.\s*(output|status|spawn)\s*\(\s*\)").expect("regex");
    for m in call.find_iter(code) {
        let root = chain_root(code.as_bytes(), m.start());
        if let Some(why) = starts_the_binary(code, &root, m.start(), 0) {
            let unresolved = !why.contains("the binary's command");
            if unresolved && !handles_commands {
                continue;
            }
            let line = code[..m.start()].matches('\n').count() + 1;
            found.push(format!("line {line}: {} without the watchdog: {why}", m.as_str().trim_start_matches('.')));
        }
    }
    found
}

/// A test file's code without its comment lines (strings may hold `//`).
fn test_code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("read test");
    text.lines().map(|l| if l.trim_start().starts_with("//") { "" } else { l }).collect::<Vec<_>>().join("\n")
}

#[test]
fn tests_start_the_binary_only_through_support() {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut found = Vec::new();
    let mut files = 0;
    for file in rust_files(&tests) {
        // tests/support is the one way; this file holds the checker's own examples.
        if file.starts_with(tests.join("support")) || file.ends_with("architecture.rs") {
            continue;
        }
        files += 1;
        let name = file.strip_prefix(&tests).expect("under tests").display().to_string();
        let ways = ways_around_support(&test_code(&file));
        found.extend(ways.into_iter().map(|way| format!("{name}: {way}")));
    }
    assert!(files > 20, "read only {files} test files");
    assert_eq!(
        found,
        Vec::<String>::new(),
        "start the binary with support::mongo_preflight() and support::run, output_within, spawn_within or .watched()"
    );
}

#[test]
fn the_binary_check_sees_each_way_around_support() {
    let caught = |code: &str| !ways_around_support(code).is_empty();
    // The ways this project's tests used to start the binary.
    assert!(caught("const BIN: &str = env!(\"CARGO_BIN_EXE_mongo-preflight\");"));
    assert!(caught("let out = std::process::Command::new(support::BIN).output();"));
    assert!(caught("let out = support::mongo_preflight().args([\"scan\"]).output().expect(\"run\");"));
    assert!(caught("let mut cmd = support::mongo_preflight();\ncmd.arg(\"scan\");\nlet out = cmd.output().unwrap();"));
    assert!(caught(
        "fn command(dir: &Path) -> Command {\n    let mut cmd = support::mongo_preflight();\n    cmd.current_dir(dir);\n    cmd\n}\nfn t() { let out = command(d).args(a).output().expect(\"x\"); }"
    ));
    assert!(caught("fn bin() -> Command { support::mongo_preflight() }\nfn t() { let c = bin().spawn(); }"));
    assert!(caught(
        "fn run(cmd: &mut Command) -> Output {\n    support::remove_caller_env(cmd);\n    cmd.output().expect(\"runs\")\n}"
    ));
    assert!(caught(
        "let mut child = support::mongo_preflight()\n    .arg(\"check\")\n    .spawn()\n    .expect(\"spawn\");"
    ));
    assert!(caught("let mut cmd = support::mongo_preflight();\nlet child = cmd.spawn()?;"));
    // Other programs and the watchdog's own ways are fine.
    assert!(!caught("let out = Command::new(\"git\").args(a).output().expect(\"git\");"));
    assert!(!caught(
        "let mut c = std::process::Command::new(\"openssl\");\nc.arg(\"x\");\nlet o = c.output().unwrap();"
    ));
    assert!(!caught("let out = support::run(cmd);\nlet s = out.status.code();"));
    assert!(!caught("let out = support::mongo_preflight().args([\"scan\"]).watched();"));
    assert!(!caught(
        "let client = reqwest::Client::new();\nlet response = client.get(url).send().await.unwrap();\nassert_eq!(response.status(), 200);"
    ));
    assert!(!caught("fn f(response: reqwest::Response) { let s = response.status(); }"));
    assert!(!caught("let s = state.lock();\nlet s = s.entries[0].status();"));
    assert!(!caught("entries.iter().any(|e| e.status() == \"ACTIVE\")"));
}
