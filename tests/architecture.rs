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

/// Top-level module of each file under `src/` → the top-level modules it names.
fn module_graph() -> Graph {
    let crate_path = Regex::new(r"crate::([a-z_]+)").expect("regex");
    let mut graph = Graph::new();
    for file in rust_files(&src()) {
        let relative = file.strip_prefix(src()).expect("under src");
        let top = relative.iter().next().and_then(|c| c.to_str()).expect("name").trim_end_matches(".rs").to_string();
        if top == "main" || top == "lib" {
            continue;
        }
        let deps = graph.entry(top.clone()).or_default();
        for m in crate_path.captures_iter(&code_of(&file)) {
            if m[1] != top {
                deps.insert(m[1].to_string());
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
    let probe = src().join("probe");
    for file in rust_files(&probe) {
        let code = code_of(&file);
        for judged in ["crate::diagnose", "crate::report", "crate::policy"] {
            assert!(!code.contains(judged), "{} names {judged}", file.display());
        }
    }
}
