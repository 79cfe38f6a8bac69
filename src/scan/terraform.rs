//! Terraform's data flow, across the files of a repository: the weak values of
//! `server-old-tls-enabled` (Atlas's `minimum_enabled_tls_protocol`) and
//! `access-list-open-to-world` (`cidr_block`) rarely sit on the resource itself. They arrive
//! through a variable's `default`, a `*.tfvars` or `*.tfvars.json` file, a `locals` value, a
//! `for_each` map, or a module input. This pass reads the repository's Terraform files, follows
//! each reference on those attributes to the literal that feeds it, and reports the finding on
//! the line holding that literal, in whatever file it is. A reference it cannot resolve within
//! the repository (a remote module, a conditional, a value from outside) is not a finding.
//!
//! Which values reach a module's variable:
//! - a root module (a directory no module block calls): every `.tfvars` / `.tfvars.json` file in
//!   its directory, below it, or in a directory without `.tf` files next to it
//!   (`environments/prod.tfvars`), and the variable's `default` when no such file sets it;
//! - a child module (called with a local `source = "./…"`): each caller's input, resolved in
//!   the caller's directory, and the `default` for a caller that does not pass it.
//!
//! The same-file literal (`minimum_enabled_tls_protocol = "TLS1_0"` on the resource) is the
//! per-file rules' finding; this pass only adds what a reference brings.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use crate::catalog::rules::Rule;
use crate::error::AppError;

use super::config::HCL_SYNTAX;
use super::file::{Located, fingerprint, scan_text};
use super::ignore_files::{IGNORE_FILE_NAME, IgnoreFile, IgnoreFiles, IgnoreMatcher};
use super::options::ScanOptions;
use super::{git::git, server_tls, strip, uri};

/// Resource types whose `minimum_enabled_tls_protocol` is Atlas's minimum TLS version.
const CLUSTERS: &[&str] = &["mongodbatlas_advanced_cluster", "mongodbatlas_cluster"];
/// Resource types whose `cidr_block` is an Atlas access-list entry.
const ACCESS_LISTS: &[&str] =
    &["mongodbatlas_project_ip_access_list", "mongodbatlas_access_list_api_key", "mongodbatlas_project_ip_whitelist"];
/// How deep references are followed (a cycle ends here too).
const DEPTH: usize = 12;

pub fn is_terraform(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower.ends_with(".tf") || lower.ends_with(".tfvars") || lower.ends_with(".tfvars.json")
}

// ---------------------------------------------------------------------------------------------
// A small HCL reader: blocks, attributes and the expressions the data flow needs.

#[derive(Debug, Clone)]
enum Expr {
    /// A string literal without interpolation; `at` is the offset of its first character.
    Str {
        value: String,
        at: usize,
    },
    /// `var.x`, `local.a.b`, `each.value["k"]`.
    Ref(Vec<String>),
    /// An object or map; each key with its offset.
    Map(Vec<(String, usize, Expr)>),
    List(Vec<Expr>),
    Call(String, Vec<Expr>),
    /// Anything else: numbers, conditionals, operators, templates, for expressions.
    Other,
}

#[derive(Debug, Default)]
struct Body {
    attrs: Vec<(String, Expr)>,
    blocks: Vec<Block>,
}

#[derive(Debug)]
struct Block {
    kind: String,
    labels: Vec<String>,
    body: Body,
}

struct Parser<'a> {
    b: &'a [u8],
    p: usize,
    /// How many blocks, objects, lists and calls enclose the parser: past [`MAX_NESTING`] a
    /// nested value is skipped instead of read, so that no file can exhaust the stack.
    nesting: usize,
}

const MAX_NESTING: usize = 48;

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.p).copied()
    }

    fn blanks(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r')) {
            self.p += 1;
        }
    }

    fn space(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            self.p += 1;
        }
    }

    fn ident(&mut self) -> String {
        let start = self.p;
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-') {
            self.p += 1;
        }
        String::from_utf8_lossy(&self.b[start..self.p]).into_owned()
    }

    /// A quoted string at `p` (on its `"`): its raw content and the offset of that content.
    fn string(&mut self) -> (String, usize) {
        self.p += 1;
        let start = self.p;
        while let Some(c) = self.peek() {
            match c {
                b'\\' => self.p += 2,
                b'"' => break,
                b'\n' => break,
                _ => self.p += 1,
            }
        }
        let end = self.p.min(self.b.len());
        if self.peek() == Some(b'"') {
            self.p += 1;
        }
        (String::from_utf8_lossy(&self.b[start..end]).into_owned(), start)
    }

    /// Skips to the end of the current expression: a newline, `,` or closing bracket at depth 0.
    fn skip_expression(&mut self) {
        let mut depth = 0usize;
        while let Some(c) = self.peek() {
            match c {
                b'"' => {
                    self.string();
                    continue;
                }
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => {
                    if depth == 0 {
                        return;
                    }
                    depth -= 1;
                }
                b'\n' | b',' if depth == 0 => return,
                _ => {}
            }
            self.p += 1;
        }
    }

    fn skip_balanced(&mut self) {
        // On an opening bracket.
        let mut depth = 0usize;
        while let Some(c) = self.peek() {
            match c {
                b'"' => {
                    self.string();
                    continue;
                }
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        self.p += 1;
                        return;
                    }
                }
                _ => {}
            }
            self.p += 1;
        }
    }

    fn starts_for(&self) -> bool {
        let mut q = self.p + 1;
        while self.b.get(q).is_some_and(|c| c.is_ascii_whitespace()) {
            q += 1;
        }
        self.b[q.min(self.b.len())..].starts_with(b"for ")
    }

    /// Comma-separated expressions up to `close` (a list's `]`, a call's `)`), which is
    /// consumed; an expression that does not advance is stepped over, so any input ends.
    fn items(&mut self, close: u8) -> Vec<Expr> {
        let mut items = Vec::new();
        loop {
            self.space();
            match self.peek() {
                None => break,
                Some(c) if c == close => {
                    self.p += 1;
                    break;
                }
                Some(b',') => self.p += 1,
                _ => {
                    let before = self.p;
                    items.push(self.expr());
                    if self.p == before {
                        self.p += 1;
                    }
                }
            }
        }
        items
    }

    fn expr(&mut self) -> Expr {
        self.blanks();
        if self.nesting > MAX_NESTING {
            if matches!(self.peek(), Some(b'{' | b'[' | b'(')) {
                self.skip_balanced();
            } else {
                self.skip_expression();
            }
            return Expr::Other;
        }
        self.nesting += 1;
        let value = self.nested_expr();
        self.nesting -= 1;
        value
    }

    fn nested_expr(&mut self) -> Expr {
        let primary = match self.peek() {
            Some(b'"') => {
                let (value, at) = self.string();
                if value.contains("${") || value.contains("%{") {
                    let inner = value.trim();
                    match inner.strip_prefix("${").and_then(|s| s.strip_suffix('}')) {
                        Some(r) if !r.contains(['$', '{', '}', ' ', '(']) => reference(r),
                        _ => Expr::Other,
                    }
                } else {
                    Expr::Str { value, at }
                }
            }
            Some(b'{') if self.starts_for() => {
                self.skip_balanced();
                Expr::Other
            }
            Some(b'[') if self.starts_for() => {
                self.skip_balanced();
                Expr::Other
            }
            Some(b'{') => self.map(),
            Some(b'[') => {
                self.p += 1;
                Expr::List(self.items(b']'))
            }
            Some(b'<') if self.b[self.p..].starts_with(b"<<") => {
                // A heredoc: never a plain literal here.
                let line_end = self.b[self.p..].iter().position(|&c| c == b'\n').map_or(self.b.len(), |i| self.p + i);
                let tag =
                    String::from_utf8_lossy(&self.b[self.p + 2..line_end]).trim().trim_start_matches('-').to_string();
                self.p = line_end;
                while self.p < self.b.len() {
                    let end =
                        self.b[self.p + 1..].iter().position(|&c| c == b'\n').map_or(self.b.len(), |i| self.p + 1 + i);
                    let line = String::from_utf8_lossy(&self.b[(self.p + 1).min(end)..end]).trim().to_string();
                    self.p = end;
                    if line == tag {
                        break;
                    }
                }
                return Expr::Other;
            }
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                let start = self.p;
                while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || b"_-.".contains(&c)) {
                    self.p += 1;
                }
                // Index expressions: `each.value["tls"]`, `var.m["k"].x`.
                while self.peek() == Some(b'[') {
                    let close = self.b[self.p..].iter().position(|&c| c == b']' || c == b'\n');
                    match close {
                        Some(i) if self.b[self.p + i] == b']' => self.p += i + 1,
                        _ => break,
                    }
                    while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || b"_-.".contains(&c)) {
                        self.p += 1;
                    }
                }
                let name = String::from_utf8_lossy(&self.b[start..self.p]).into_owned();
                if self.peek() == Some(b'(') {
                    self.p += 1;
                    Expr::Call(name, self.items(b')'))
                } else if matches!(name.as_str(), "true" | "false" | "null") {
                    Expr::Other
                } else {
                    reference(&name)
                }
            }
            _ => {
                self.skip_expression();
                return Expr::Other;
            }
        };
        self.blanks();
        match self.peek() {
            None | Some(b'\n' | b',' | b'}' | b']' | b')' | b'#') => primary,
            _ => {
                self.skip_expression();
                Expr::Other
            }
        }
    }

    fn map(&mut self) -> Expr {
        self.p += 1;
        let mut entries = Vec::new();
        loop {
            self.space();
            match self.peek() {
                None => break,
                Some(b'}') => {
                    self.p += 1;
                    break;
                }
                Some(b',') => {
                    self.p += 1;
                    continue;
                }
                _ => {}
            }
            let (key, at) = match self.peek() {
                Some(b'"') => self.string(),
                Some(c) if c.is_ascii_alphanumeric() || c == b'_' => {
                    let at = self.p;
                    (self.ident(), at)
                }
                _ => {
                    let before = self.p;
                    self.skip_expression();
                    if self.p == before || self.peek().is_some_and(|c| c == b',' || c == b'\n') {
                        self.p += 1;
                    }
                    continue;
                }
            };
            self.blanks();
            if matches!(self.peek(), Some(b'=' | b':')) {
                self.p += 1;
                let value = self.expr();
                entries.push((key, at, value));
            } else {
                let before = self.p;
                self.skip_expression();
                if self.p == before && self.peek().is_some_and(|c| c != b'}') {
                    self.p += 1;
                }
            }
        }
        Expr::Map(entries)
    }

    fn body(&mut self) -> Body {
        let mut body = Body::default();
        loop {
            self.space();
            let Some(c) = self.peek() else { break };
            if c == b'}' {
                self.p += 1;
                break;
            }
            let name = match c {
                b'"' => self.string().0,
                c if c.is_ascii_alphabetic() || c == b'_' => self.ident(),
                _ => {
                    let before = self.p;
                    self.skip_expression();
                    // The `}` that closes this body ends it on the next turn.
                    if self.p == before || self.peek() != Some(b'}') {
                        self.p += 1;
                    }
                    continue;
                }
            };
            self.blanks();
            match self.peek() {
                Some(b'=' | b':') if self.b.get(self.p + 1) != Some(&b'=') => {
                    self.p += 1;
                    let value = self.expr();
                    body.attrs.push((name, value));
                }
                _ => {
                    let mut labels = Vec::new();
                    loop {
                        self.blanks();
                        match self.peek() {
                            Some(b'"') => labels.push(self.string().0),
                            Some(c) if c.is_ascii_alphabetic() || c == b'_' => labels.push(self.ident()),
                            _ => break,
                        }
                    }
                    if self.peek() == Some(b'{') && self.nesting > MAX_NESTING {
                        self.skip_balanced();
                    } else if self.peek() == Some(b'{') {
                        self.p += 1;
                        self.nesting += 1;
                        let inner = self.body();
                        self.nesting -= 1;
                        body.blocks.push(Block { kind: name, labels, body: inner });
                    } else {
                        self.skip_expression();
                    }
                }
            }
        }
        body
    }
}

fn reference(name: &str) -> Expr {
    let mut parts = Vec::new();
    for segment in name.split(['.', '[']) {
        let s = segment.trim_end_matches(']').trim_matches('"');
        if !s.is_empty() {
            parts.push(s.to_string());
        }
    }
    Expr::Ref(parts)
}

fn parse(text: &str) -> Body {
    let mut parser = Parser { b: text.as_bytes(), p: 0, nesting: 0 };
    parser.space();
    if parser.peek() == Some(b'{') {
        // `*.tfvars.json`: one object whose members are the variables.
        return match parser.map() {
            Expr::Map(entries) => {
                Body { attrs: entries.into_iter().map(|(k, _, v)| (k, v)).collect(), blocks: Vec::new() }
            }
            _ => Body::default(),
        };
    }
    parser.body()
}

// ---------------------------------------------------------------------------------------------
// The repository's modules.

struct File {
    path: String,
    dir: String,
    text: String,
    body: Body,
    tfvars: bool,
}

/// A value found by resolution: the file it sits in and its expression there.
type Found<'a> = (usize, &'a Expr);

struct Repo {
    files: Vec<File>,
    /// Directories called as child modules → the (file, module block) that call them.
    callers: HashMap<String, Vec<(usize, usize)>>,
    /// Directories holding `.tf` files.
    module_dirs: BTreeSet<String>,
}

fn parent(dir: &str) -> Option<&str> {
    if dir.is_empty() { None } else { Some(dir.rsplit_once('/').map_or("", |(p, _)| p)) }
}

fn under(dir: &str, root: &str) -> bool {
    root.is_empty() || dir == root || dir.strip_prefix(root).is_some_and(|r| r.starts_with('/'))
}

/// `./modules/cluster` from `infra` → `infra/modules/cluster`; remote sources → `None`.
fn local_source(dir: &str, source: &str) -> Option<String> {
    if !(source.starts_with("./") || source.starts_with("../")) {
        return None;
    }
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in source.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

impl Repo {
    fn new(files: Vec<(String, String)>) -> Repo {
        let files: Vec<File> = files
            .into_iter()
            .map(|(path, text)| {
                let stripped = strip::strip(&text, &HCL_SYNTAX);
                let body = parse(&stripped);
                let dir = path.rsplit_once('/').map_or(String::new(), |(d, _)| d.to_string());
                let tfvars = !path.to_ascii_lowercase().ends_with(".tf");
                File { path, dir, text, body, tfvars }
            })
            .collect();
        let module_dirs = files.iter().filter(|f| !f.tfvars).map(|f| f.dir.clone()).collect();
        let mut callers: HashMap<String, Vec<(usize, usize)>> = HashMap::new();
        for (i, file) in files.iter().enumerate() {
            for (j, block) in file.body.blocks.iter().enumerate() {
                if block.kind != "module" {
                    continue;
                }
                let source = block.body.attrs.iter().find(|(k, _)| k == "source");
                if let Some((_, Expr::Str { value, .. })) = source
                    && let Some(dir) = local_source(&file.dir, value)
                {
                    callers.entry(dir).or_default().push((i, j));
                }
            }
        }
        Repo { files, callers, module_dirs }
    }

    /// The `.tfvars` files that apply to root module `dir`: those below it (and not below a
    /// deeper module), and those in a directory without a module above it that sits next to it
    /// (`environments/prod.tfvars` beside `terraform/`).
    fn tfvars_for(&self, dir: &str) -> impl Iterator<Item = usize> + '_ {
        let dir = dir.to_string();
        self.files
            .iter()
            .enumerate()
            .filter(move |(_, f)| {
                f.tfvars
                    && match self.owner(&f.dir) {
                        Some(owner) => owner == dir,
                        None => parent(&f.dir).is_some_and(|p| under(&dir, p)),
                    }
            })
            .map(|(i, _)| i)
    }

    /// The deepest directory holding `.tf` files at or above `dir`.
    fn owner(&self, dir: &str) -> Option<&str> {
        let mut at = Some(dir);
        while let Some(d) = at {
            if let Some(found) = self.module_dirs.get(d) {
                return Some(found.as_str());
            }
            at = parent(d);
        }
        None
    }

    /// The values variable `name` of module `dir` can take.
    fn variable<'a>(&'a self, dir: &str, name: &str, depth: usize, out: &mut Vec<Found<'a>>) {
        let default = self.files.iter().enumerate().filter(|(_, f)| !f.tfvars && f.dir == dir).find_map(|(i, f)| {
            f.body
                .blocks
                .iter()
                .find(|b| b.kind == "variable" && b.labels.first().is_some_and(|l| l == name))
                .map(|b| (i, b.body.attrs.iter().find(|(k, _)| k == "default").map(|(_, v)| v)))
        });
        let Some((declared_in, default)) = default else { return };
        let mut default_used = false;
        match self.callers.get(dir) {
            Some(callers) => {
                for &(file, block) in callers {
                    let call = &self.files[file].body.blocks[block];
                    match call.body.attrs.iter().find(|(k, _)| k == name) {
                        Some((_, input)) => {
                            // A module called with `for_each` hands each entry's values on.
                            let each = self.each_values(file, &call.body);
                            self.resolve(file, input, &each, depth + 1, out)
                        }
                        None => default_used = true,
                    }
                }
            }
            None => {
                let mut set = false;
                for file in self.tfvars_for(dir) {
                    if let Some((_, value)) = self.files[file].body.attrs.iter().find(|(k, _)| k == name) {
                        set = true;
                        self.resolve(file, value, &[], depth + 1, out);
                    }
                }
                default_used = !set;
            }
        }
        if default_used && let Some(default) = default {
            self.resolve(declared_in, default, &[], depth + 1, out);
        }
    }

    /// Resolves `expr` (written in file `file`) to literals, maps and lists.
    fn resolve<'a>(&'a self, file: usize, expr: &'a Expr, each: &[Found<'a>], depth: usize, out: &mut Vec<Found<'a>>) {
        if depth > DEPTH {
            return;
        }
        match expr {
            Expr::Str { .. } | Expr::Map(_) | Expr::List(_) => out.push((file, expr)),
            Expr::Ref(parts) => {
                let dir = self.files[file].dir.clone();
                let mut roots = Vec::new();
                let rest: &[String] = match parts.as_slice() {
                    [first, name, rest @ ..] if first == "var" => {
                        self.variable(&dir, name, depth, &mut roots);
                        rest
                    }
                    [first, name, rest @ ..] if first == "local" => {
                        for (i, f) in self.files.iter().enumerate().filter(|(_, f)| !f.tfvars && f.dir == dir) {
                            for block in f.body.blocks.iter().filter(|b| b.kind == "locals") {
                                if let Some((_, v)) = block.body.attrs.iter().find(|(k, _)| k == name) {
                                    self.resolve(i, v, each, depth + 1, &mut roots);
                                }
                            }
                        }
                        rest
                    }
                    [first, second, rest @ ..] if first == "each" && second == "value" => {
                        roots.extend(each.iter().copied());
                        rest
                    }
                    _ => return,
                };
                for root in roots {
                    self.index(root, rest, each, depth + 1, out);
                }
            }
            Expr::Call(name, args) => match (name.as_str(), args.as_slice()) {
                ("toset" | "tolist" | "tomap" | "flatten" | "distinct" | "compact" | "nonsensitive", [arg]) => {
                    self.resolve(file, arg, each, depth + 1, out)
                }
                ("lookup", [map, Expr::Str { value: key, .. }, rest @ ..]) => {
                    let mut maps = Vec::new();
                    self.resolve(file, map, each, depth + 1, &mut maps);
                    let before = out.len();
                    for m in maps {
                        self.index(m, std::slice::from_ref(key), each, depth + 1, out);
                    }
                    if out.len() == before
                        && let Some(default) = rest.first()
                    {
                        self.resolve(file, default, each, depth + 1, out);
                    }
                }
                ("try" | "coalesce", [first, ..]) => self.resolve(file, first, each, depth + 1, out),
                _ => {}
            },
            Expr::Other => {}
        }
    }

    /// Follows `.key` steps into maps.
    fn index<'a>(
        &'a self,
        found: Found<'a>,
        path: &[String],
        each: &[Found<'a>],
        depth: usize,
        out: &mut Vec<Found<'a>>,
    ) {
        let Some((key, rest)) = path.split_first() else {
            // The value itself may still be a reference in its own file.
            match found.1 {
                Expr::Ref(_) | Expr::Call(..) => self.resolve(found.0, found.1, each, depth + 1, out),
                _ => out.push(found),
            }
            return;
        };
        let mut resolved = Vec::new();
        self.resolve(found.0, found.1, each, depth + 1, &mut resolved);
        for (file, expr) in resolved {
            if let Expr::Map(entries) = expr
                && let Some((_, _, v)) = entries.iter().find(|(k, _, _)| k == key)
            {
                self.index((file, v), rest, each, depth + 1, out);
            }
        }
    }

    /// The values `each.value` takes for a resource's `for_each`.
    fn each_values<'a>(&'a self, file: usize, body: &'a Body) -> Vec<Found<'a>> {
        let Some((_, for_each)) = body.attrs.iter().find(|(k, _)| k == "for_each") else { return Vec::new() };
        let mut collections = Vec::new();
        self.resolve(file, for_each, &[], 1, &mut collections);
        let mut values = Vec::new();
        for (f, expr) in collections {
            match expr {
                Expr::Map(entries) => values.extend(entries.iter().map(|(_, _, v)| (f, v))),
                Expr::List(items) => values.extend(items.iter().map(|v| (f, v))),
                _ => {}
            }
        }
        values
    }
}

/// Every attribute named `key` in a body: its own, in nested blocks, and inside object values.
fn attributes<'a>(body: &'a Body, key: &str, out: &mut Vec<&'a Expr>) {
    for (k, v) in &body.attrs {
        if k == key {
            out.push(v);
        } else if let Expr::Map(entries) = v {
            out.extend(entries.iter().filter(|(k, _, _)| k == key).map(|(_, _, v)| v));
        }
    }
    for block in &body.blocks {
        attributes(&block.body, key, out);
    }
}

/// One finding of the data flow, before it is located.
struct Flow {
    file: usize,
    at: usize,
    rule: Rule,
    message: String,
}

fn flows(repo: &Repo) -> Vec<Flow> {
    let mut found = Vec::new();
    for (i, file) in repo.files.iter().enumerate() {
        for block in file.body.blocks.iter().filter(|b| b.kind == "resource") {
            let Some(kind) = block.labels.first() else { continue };
            let (key, rule) = if CLUSTERS.contains(&kind.as_str()) {
                ("minimum_enabled_tls_protocol", Rule::ServerOldTlsEnabled)
            } else if ACCESS_LISTS.contains(&kind.as_str()) {
                ("cidr_block", Rule::AccessListOpenToWorld)
            } else {
                continue;
            };
            let each = repo.each_values(i, &block.body);
            let mut targets = Vec::new();
            attributes(&block.body, key, &mut targets);
            // `advanced_configuration = var.advanced`: the whole object from elsewhere.
            let mut objects = Vec::new();
            for (k, v) in &block.body.attrs {
                if k == "advanced_configuration" && !matches!(v, Expr::Map(_)) {
                    objects.push(v);
                }
            }
            let mut values = Vec::new();
            for target in targets {
                // A literal on the resource itself is the per-file rules' finding.
                if !matches!(target, Expr::Str { .. }) {
                    repo.resolve(i, target, &each, 0, &mut values);
                }
            }
            for object in objects {
                let mut maps = Vec::new();
                repo.resolve(i, object, &each, 0, &mut maps);
                for m in maps {
                    repo.index(m, &[key.to_string()], &each, 0, &mut values);
                }
            }
            for (f, value) in values {
                let Expr::Str { value, at } = value else { continue };
                let weak = match rule {
                    Rule::ServerOldTlsEnabled => matches!(value.as_str(), "TLS1_0" | "TLS1_1"),
                    _ => matches!(value.as_str(), "0.0.0.0/0" | "::/0"),
                };
                if !weak {
                    continue;
                }
                let name = block.labels.get(1).map_or("", String::as_str);
                let message = match rule {
                    Rule::ServerOldTlsEnabled => format!(
                        "`{value}` reaches `minimum_enabled_tls_protocol` of `{kind}.{name}` (in `{}`), so the Atlas cluster accepts TLS 1.0/1.1; instead: {}",
                        file.path,
                        server_tls::OLD_TLS_ALTERNATIVES[0].1
                    ),
                    _ => format!(
                        "`{value}` reaches `cidr_block` of `{kind}.{name}` (in `{}`) and opens the Atlas project to every address; instead: {}",
                        file.path,
                        super::infrastructure::ALTERNATIVES[0].1
                    ),
                };
                found.push(Flow { file: f, at: *at, rule, message });
            }
        }
    }
    found
}

/// The data-flow findings over a set of Terraform files (path, text), each on the line holding
/// its weak literal. Findings the per-file rules already report on the same spot are left out.
pub fn scan_files(files: Vec<(String, String)>) -> Vec<(String, Located)> {
    let repo = Repo::new(files);
    let mut out: Vec<(String, Located)> = Vec::new();
    let mut per_file: HashMap<usize, Vec<Located>> = HashMap::new();
    for flow in flows(&repo) {
        let file = &repo.files[flow.file];
        let located = locate(&file.path, &file.text, flow.at, flow.rule, &flow.message);
        let own = per_file.entry(flow.file).or_insert_with(|| scan_text(&file.path, &file.text));
        if own.iter().any(|h| h.rule == located.rule && h.line == located.line && h.column == located.column) {
            continue;
        }
        if !out.iter().any(|(p, h)| {
            p == &file.path && h.line == located.line && h.column == located.column && h.rule == located.rule
        }) {
            out.push((file.path.clone(), located));
        }
    }
    out
}

fn locate(path: &str, text: &str, at: usize, rule: Rule, message: &str) -> Located {
    let at = at.min(text.len());
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    let line_text = text[line_start..line_end].trim_end_matches('\r');
    let line = text[..line_start].matches('\n').count() as u32 + 1;
    let column = text[line_start..at].chars().count() as u32 + 1;
    let normalized: String = uri::redact(line_text).chars().filter(|c| !c.is_whitespace()).collect();
    let mut snippet: String = uri::redact(line_text.trim());
    if snippet.chars().count() > 200 {
        snippet = snippet.chars().take(200).collect::<String>() + "…";
    }
    Located {
        rule,
        line,
        column,
        snippet,
        message: uri::redact(message),
        fingerprint: fingerprint(rule, path, &normalized),
    }
}

// ---------------------------------------------------------------------------------------------
// Which Terraform files a scan covers.

/// The scan's Terraform files as they are in the working tree, with the same selection as the
/// walk: git's list (or the tree outside git), `--exclude`, `.mongo-preflight-ignore`. Values
/// are resolved over all of them; findings are kept in the selected paths only.
pub fn scan_repository(options: &ScanOptions) -> Result<Vec<(String, Located)>, AppError> {
    let root = std::fs::canonicalize(&options.root)
        .map_err(|e| AppError::io(format!("cannot scan `{}`", options.root.display()), e))?;
    let selected: Vec<String> = options
        .paths
        .iter()
        .filter_map(|p| {
            let joined = if p.is_absolute() { p.clone() } else { options.root.join(p) };
            let canonical = std::fs::canonicalize(joined).ok()?;
            canonical.strip_prefix(&root).ok().map(|r| r.to_string_lossy().replace('\\', "/"))
        })
        .collect();
    if !options.paths.is_empty() && selected.is_empty() {
        return Ok(Vec::new());
    }
    let (listed, prefix) = list(&root);
    if !listed.iter().any(|p| is_terraform(p)) {
        return Ok(Vec::new());
    }
    let ignores = match &options.ignore_files {
        IgnoreFiles::Given(files) => IgnoreMatcher::new(files)?,
        IgnoreFiles::WorkingTree => {
            let files: Vec<IgnoreFile> = listed
                .iter()
                .filter(|p| p.rsplit('/').next() == Some(IGNORE_FILE_NAME))
                .filter_map(|p| {
                    let content = std::fs::read_to_string(root.join(p)).ok()?;
                    let dir = p.rsplit_once('/').map_or("", |(d, _)| d);
                    Some(IgnoreFile { dir: format!("{prefix}{dir}").trim_matches('/').to_string(), content })
                })
                .collect();
            IgnoreMatcher::new(&files)?
        }
    };
    let excludes = excludes(&options.exclude)?;
    let kept = |rel: &str| {
        !ignores.is_ignored(&format!("{prefix}{rel}"))
            && !excluded(&excludes, rel)
            && (selected.is_empty() || selected.iter().any(|s| s.is_empty() || under(rel, s)))
    };
    let files: Vec<(String, String)> = listed
        .iter()
        .filter(|p| is_terraform(p) && !ignores.is_ignored(&format!("{prefix}{p}")) && !excluded(&excludes, p))
        .filter_map(|p| {
            let bytes = std::fs::read(root.join(p)).ok()?;
            Some((p.clone(), super::decode::decode(&bytes).into_owned()))
        })
        .collect();
    Ok(scan_files(files).into_iter().filter(|(path, _)| kept(path)).collect())
}

/// The files under `root` (relative, `/`-separated) and `root`'s place in its repository.
fn list(root: &Path) -> (Vec<String>, String) {
    let prefix = git(root).args(["rev-parse", "--show-prefix"]).output().ok().filter(|o| o.status.success());
    if let Some(prefix) = prefix {
        let out = git(root).args(["ls-files", "-z", "--cached", "--others", "--exclude-standard"]).output();
        if let Ok(out) = out
            && out.status.success()
        {
            let mut files: Vec<String> = out
                .stdout
                .split(|&c| c == 0)
                .filter(|n| !n.is_empty())
                .map(|n| String::from_utf8_lossy(n).into_owned())
                .filter(|n| is_terraform(n) || n.ends_with(IGNORE_FILE_NAME))
                .collect();
            files.sort_unstable();
            files.dedup();
            return (files, String::from_utf8_lossy(&prefix.stdout).trim().to_string());
        }
    }
    let mut files = Vec::new();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .parents(true)
        .ignore(false)
        .git_ignore(true)
        .git_global(false)
        .git_exclude(true)
        .require_git(false)
        .follow_links(false)
        .build();
    for entry in walker.flatten() {
        if entry.file_type().is_some_and(|t| t.is_file()) {
            let rel = entry.path().strip_prefix(root).map(|r| r.to_string_lossy().replace('\\', "/"));
            if let Ok(rel) = rel
                && (is_terraform(&rel) || rel.ends_with(IGNORE_FILE_NAME))
                && !rel.starts_with(".git/")
            {
                files.push(rel);
            }
        }
    }
    files.sort_unstable();
    (files, String::new())
}

fn excludes(patterns: &[String]) -> Result<globset::GlobSet, AppError> {
    let mut builder = globset::GlobSetBuilder::new();
    for pattern in patterns {
        let glob = globset::GlobBuilder::new(pattern.trim_start_matches("./").trim_end_matches('/'))
            .literal_separator(true)
            .build()
            .map_err(|e| AppError::Usage(format!("--exclude `{pattern}`: {e}")))?;
        builder.add(glob);
    }
    builder.build().map_err(|e| AppError::Usage(format!("--exclude: {e}")))
}

/// A path is excluded when a pattern matches it or one of its directories.
fn excluded(set: &globset::GlobSet, rel: &str) -> bool {
    if set.is_empty() {
        return false;
    }
    let mut path = rel;
    loop {
        if set.is_match(path) {
            return true;
        }
        match path.rsplit_once('/') {
            Some((dir, _)) => path = dir,
            None => return false,
        }
    }
}

/// The fingerprints of the data-flow findings at the base commit, for `--base`.
pub fn fingerprints_at(base: &super::baseline::Baseline) -> Result<HashMap<String, usize>, AppError> {
    let files = base.files_matching(is_terraform)?;
    let mut counts = HashMap::new();
    for (_, hit) in scan_files(files) {
        *counts.entry(hit.fingerprint).or_insert(0) += 1;
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flows_of(files: &[(&str, &str)]) -> Vec<(String, u32, Rule)> {
        let files = files.iter().map(|(p, t)| (p.to_string(), t.to_string())).collect();
        let mut got: Vec<(String, u32, Rule)> =
            scan_files(files).into_iter().map(|(p, h)| (p, h.line, h.rule)).collect();
        got.sort();
        got
    }

    #[test]
    fn hostile_text_ends_without_a_finding_or_a_panic() {
        let deep = format!("locals {{ a = {}\n", "{ b = [".repeat(20_000));
        let blocks = format!("{}\n", "x {".repeat(20_000));
        for text in [
            deep.as_str(),
            blocks.as_str(),
            "locals { a = { ) } }\n",
            "locals { a = { b ) = 1 ] } }\n",
            "x = <<EOT",
            "x = <<",
            "x = \"unterminated",
            "resource \"mongodbatlas_cluster\" \"c\" { advanced_configuration { minimum_enabled_tls_protocol = local.x[ } }",
            "}}}}]]]))) = = :",
            "{\"a\": [1, {\"b\": }",
        ] {
            let files =
                vec![("main.tf".to_string(), text.to_string()), ("x.tfvars.json".to_string(), text.to_string())];
            assert!(scan_files(files).is_empty(), "{text}");
        }
    }

    #[test]
    fn variables_tfvars_locals_for_each_and_modules() {
        let main = r#"
resource "mongodbatlas_advanced_cluster" "db" {
  project_id = var.project_id
  advanced_configuration {
    minimum_enabled_tls_protocol = var.min_tls
  }
}
resource "mongodbatlas_project_ip_access_list" "ci" {
  for_each   = local.ranges
  project_id = var.project_id
  cidr_block = each.value.cidr
}
locals {
  ranges = {
    office = { cidr = "203.0.113.0/24" }
    ci     = { cidr = "0.0.0.0/0" }
  }
}
"#;
        let vars =
            "variable \"min_tls\" {\n  type    = string\n  default = \"TLS1_2\"\n}\nvariable \"project_id\" {}\n";
        let prod = "project_id = \"abc\"\nmin_tls    = \"TLS1_1\"\n";
        let got = flows_of(&[("atlas/main.tf", main), ("atlas/variables.tf", vars), ("atlas/envs/prod.tfvars", prod)]);
        assert_eq!(
            got,
            vec![
                ("atlas/envs/prod.tfvars".into(), 2, Rule::ServerOldTlsEnabled),
                ("atlas/main.tf".into(), 16, Rule::AccessListOpenToWorld),
            ]
        );
        // Without the tfvars, the default decides: TLS1_2 is fine.
        assert_eq!(
            flows_of(&[("atlas/main.tf", main), ("atlas/variables.tf", vars)]),
            vec![("atlas/main.tf".into(), 16, Rule::AccessListOpenToWorld)]
        );
    }

    #[test]
    fn module_inputs_json_tfvars_and_unresolvable_values() {
        let module = "variable \"tls\" {\n  default = \"TLS1_0\"\n}\nresource \"mongodbatlas_advanced_cluster\" \"c\" {\n  advanced_configuration = {\n    minimum_enabled_tls_protocol = var.tls\n  }\n}\n";
        let root = "module \"db\" {\n  source = \"./modules/cluster\"\n  tls    = var.legacy_tls\n}\nvariable \"legacy_tls\" {}\nmodule \"other\" {\n  source = \"git::https://example.com/x.git\"\n}\n";
        let json = "{\n  \"legacy_tls\": \"TLS1_1\"\n}\n";
        let got = flows_of(&[("modules/cluster/main.tf", module), ("main.tf", root), ("prod.tfvars.json", json)]);
        assert_eq!(got, vec![("prod.tfvars.json".into(), 2, Rule::ServerOldTlsEnabled)]);
        // A caller that leaves the input out gets the default.
        let lazy = "module \"db\" {\n  source = \"./modules/cluster\"\n}\n";
        assert_eq!(
            flows_of(&[("modules/cluster/main.tf", module), ("main.tf", lazy)]),
            vec![("modules/cluster/main.tf".into(), 2, Rule::ServerOldTlsEnabled)]
        );
        let fanned = "module \"clusters\" {\n  for_each    = var.clusters\n  source      = \"./modules/cluster\"\n  tls         = each.value.tls\n}\nvariable \"clusters\" {\n  default = {\n    orders  = { tls = \"TLS1_2\" }\n    reports = { tls = \"TLS1_1\" }\n  }\n}\n";
        assert_eq!(
            flows_of(&[("modules/cluster/main.tf", module), ("main.tf", fanned)]),
            vec![("main.tf".into(), 9, Rule::ServerOldTlsEnabled)]
        );
        // A tfvars file below another root module is that module's.
        let other = "variable \"legacy_tls\" {}\n";
        assert_eq!(
            flows_of(&[
                ("modules/cluster/main.tf", module),
                ("main.tf", root),
                ("other/main.tf", other),
                ("other/prod.tfvars", "legacy_tls = \"TLS1_0\"\n"),
                ("prod.tfvars", "legacy_tls = \"TLS1_2\"\n"),
            ]),
            Vec::<(String, u32, Rule)>::new()
        );
        let conditional = "resource \"mongodbatlas_advanced_cluster\" \"c\" {\n  advanced_configuration {\n    minimum_enabled_tls_protocol = var.legacy ? \"TLS1_0\" : \"TLS1_2\"\n    javascript_enabled = false\n  }\n}\nvariable \"x\" { default = data.external.tls.result }\n";
        assert!(flows_of(&[("main.tf", conditional)]).is_empty());
    }
}
