//! The job summary and PR comment as people read them: rendered by cmark-gfm (GitHub's own GFM
//! renderer, from Debian's `cmark-gfm`), then judged on what a reader sees, not on the source.
//! Each representative run keeps one rendered snapshot (tests/snapshots/report_rendered__*.snap),
//! so a change in what people see shows up in review.
//!
//! The runs are real: the binary scans a repository whose files hold hostile snippets and probes
//! lab servers whose certificate subject is hostile and which refuse the ClientHello as Atlas
//! does for an IP that is not on the access list.

mod lab;
mod support;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// What a hostile repository writes on lines the scanner reports.
const HOSTILE_FILES: &[(&str, &str)] = &[
    (
        "app/db.py",
        "client = MongoClient(\"mongodb://app:Canary-Pw1@db.example.com/?tlsAllowInvalidCertificates=true\")  # @octocat <img src=x onerror=alert(1)> | [Approve](https://evil.example/login) `x`\n",
    ),
    (
        "scripts/seed.sh",
        "./seed-db.sh user=app password='Canary-Pw2' options='tls=true,tlsAllowInvalidHostnames=true' # **bold** _it_ ~~s~~ <!-- c -->\n",
    ),
];

/// Elements GitHub's sanitizer keeps that our reports use; anything else in the rendered HTML
/// came from outside.
const OUR_ELEMENTS: &[&str] = &[
    "h2", "h3", "p", "ul", "li", "strong", "code", "table", "thead", "tbody", "tr", "th", "td", "details", "summary",
    "br", "sub", "hr", "a", "del",
];

fn cmark_gfm(markdown: &str) -> String {
    let mut child = Command::new("cmark-gfm")
        // As GitHub: raw HTML passes to its sanitizer (here: the assertions), GFM extensions on.
        .args(["--unsafe", "-e", "table", "-e", "autolink", "-e", "tagfilter", "-e", "strikethrough"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("cmark-gfm runs (scripts/test installs Debian's cmark-gfm)");
    child.stdin.take().expect("stdin").write_all(markdown.as_bytes()).expect("write markdown");
    let out = child.wait_with_output().expect("cmark-gfm output");
    assert!(out.status.success());
    String::from_utf8(out.stdout).expect("utf-8 HTML")
}

/// The text a reader sees: tags removed, character references decoded.
fn visible_text(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    let mut in_comment = false;
    let mut i = 0;
    while i < html.len() {
        let rest = &html[i..];
        if in_comment {
            if rest.starts_with("-->") {
                in_comment = false;
                i += 3;
            } else {
                i += rest.chars().next().map_or(1, char::len_utf8);
            }
            continue;
        }
        if rest.starts_with("<!--") {
            in_comment = true;
            i += 4;
            continue;
        }
        let c = rest.chars().next().expect("a char");
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if in_tag => {}
            c => text.push(c),
        }
        i += c.len_utf8();
    }
    decode_entities(&text)
}

fn decode_entities(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let Some(semi) = after.find(';').filter(|i| *i <= 10) else {
            out.push('&');
            rest = after;
            continue;
        };
        let name = &after[..semi];
        let decoded = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            _ if name.starts_with("#x") || name.starts_with("#X") => {
                u32::from_str_radix(&name[2..], 16).ok().and_then(char::from_u32)
            }
            _ if name.starts_with('#') => name[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The element names that open in `html`.
fn elements(html: &str) -> BTreeSet<String> {
    html.split('<')
        .skip(1)
        .filter(|t| !t.starts_with('/') && !t.starts_with('!'))
        .map(|t| t.chars().take_while(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

/// What every rendered report must be, whatever came from outside.
fn assert_reads_as_written(html: &str, run_url: Option<&str>) {
    let text = visible_text(html);
    for element in elements(html) {
        assert!(OUR_ELEMENTS.contains(&element.as_str()), "<{element}> from outside reached the page:\n{html}");
    }
    for (i, _) in html.match_indices("<a ") {
        let href = html[i..].split('"').nth(1).unwrap_or_default();
        assert_eq!(Some(href), run_url, "only our own run link is live:\n{html}");
    }
    assert!(!text.contains("@octocat"), "a mention reached the page:\n{text}");
    assert!(!text.contains("Canary-Pw"), "a planted password reached the page:\n{text}");
    // Backslash escapes exist to be invisible; one that shows is escaping gone wrong.
    for (i, _) in text.match_indices('\\') {
        let next = text[i + 1..].chars().next().unwrap_or(' ');
        assert!(
            !next.is_ascii_punctuation() || next == '\\',
            "a visible backslash escape near {:?}",
            &text[i.saturating_sub(30)..]
        );
    }
}

/// Every table row of the source has its header's number of cells: GFM splits a row at each
/// unescaped `|` (code spans included) and silently drops the cells past the header's count,
/// so a pipe from outside would cut a row without a trace in the HTML.
fn assert_tables_hold(markdown: &str) {
    let cells = |line: &str| {
        let bytes = line.as_bytes();
        (0..bytes.len()).filter(|&i| bytes[i] == b'|' && (i == 0 || bytes[i - 1] != b'\\')).count()
    };
    let mut header: Option<usize> = None;
    for line in markdown.lines() {
        if !line.starts_with('|') {
            header = None;
            continue;
        }
        match header {
            None => header = Some(cells(line)),
            Some(want) => assert_eq!(cells(line), want, "a broken table row: {line}"),
        }
    }
}

struct Repo {
    dir: tempfile::TempDir,
    home: tempfile::TempDir,
}

fn hostile_repo(policy: &str) -> Repo {
    let repo = Repo { dir: tempfile::tempdir().expect("repo"), home: tempfile::tempdir().expect("home") };
    let root = repo.dir.path();
    for (path, text) in HOSTILE_FILES {
        let file = root.join(path);
        std::fs::create_dir_all(file.parent().expect("parent")).expect("dirs");
        std::fs::write(file, text).expect("write");
    }
    std::fs::write(root.join("mongo-preflight.yml"), policy).expect("policy");
    support::git(root, repo.home.path(), &["init", "-q"]);
    support::git(root, repo.home.path(), &["add", "-A"]);
    support::git(root, repo.home.path(), &["commit", "-qm", "hostile"]);
    repo
}

fn run_markdown(dir: &Path, args: &[&str]) -> String {
    let mut cmd = support::mongo_preflight();
    cmd.current_dir(dir).args(args).args(["--format", "markdown"]);
    let out = support::output_within(cmd, Duration::from_secs(60));
    assert_ne!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Lab ports change from run to run; the snapshot keeps the page, not the ports.
fn without_ports(text: &str, lab: &lab::Lab) -> String {
    let mut out = text.to_string();
    for endpoint in lab.endpoints() {
        out = out.replace(&format!(":{}", endpoint.port), ":PORT");
    }
    out.lines()
        .map(|l| {
            // Elapsed times vary too.
            let mut l = l.to_string();
            while let Some(i) = l.find(" ms") {
                let start = l[..i].rfind(|c: char| !c.is_ascii_digit()).map_or(0, |j| j + 1);
                l.replace_range(start..i + 3, "N\u{2009}ms");
            }
            l
        })
        .map(|l| match l.find("<sub>") {
            // The run's time in the footer.
            Some(i) if l[i..].contains(" · ") => {
                format!("{}<sub>TIME · {}", &l[..i], l.rsplit(" · ").next().unwrap_or_default())
            }
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_failing_check_reads_as_written_and_everything_from_outside_stays_inert() {
    let lab = lab::shared();
    let hostile = lab.endpoint("hostile-subject").uri_via("127.0.0.1");
    let rejected = lab.endpoint("rejected").uri_via("127.0.0.1");
    let policy = format!(
        "version: 1\nclusters:\n  - name: \"orders|prod @octocat\"\n    uri: \"{hostile}\"\n  - name: atlas-like\n    uri: \"{rejected}\"\n"
    );
    let repo = hostile_repo(&policy);
    let markdown = run_markdown(repo.dir.path(), &["check", "--timeout", "5"]);
    let html = cmark_gfm(&markdown);
    assert_tables_hold(&markdown);
    assert_reads_as_written(&html, None);

    // The tool's own code spans are code, as written.
    assert!(html.contains("adds <code>tlsAllowInvalidCertificates</code>"), "{html}");
    assert!(html.contains("<code>mongo-preflight explain ip-access-list-rejected</code>"), "{html}");
    assert!(html.contains("<code>internal_error</code>"), "{html}");
    // Outside text that is code shows whole, as code, and inert (a zero-width space after
    // `https:` keeps GitHub from making a link of it).
    let text = visible_text(&html).replace('\u{200b}', "");
    assert!(text.contains("mongodb://****@db.example.com/?tlsAllowInvalidCertificates=true"), "{text}");
    assert!(text.contains("[Approve](https://evil.example/login)"), "the snippet reads as written:\n{text}");
    assert!(text.contains("password='****'"), "{text}");
    assert!(text.contains("<img src=x onerror=alert(1)>"), "the subject reads as written:\n{text}");
    insta::assert_snapshot!("failing_check", without_ports(&html, lab));
}

#[test]
fn a_scan_summary_reads_as_written() {
    let repo = hostile_repo("version: 1\n");
    let markdown = run_markdown(repo.dir.path(), &["scan"]);
    let html = cmark_gfm(&markdown);
    assert_tables_hold(&markdown);
    assert_reads_as_written(&html, None);
    assert!(html.contains("<code>allow-invalid-certificates</code>"), "{html}");
    insta::assert_snapshot!("scan_summary", html);
}

#[test]
fn the_checks_themselves_catch_what_they_guard_against() {
    // A guard that cannot fail is no guard: each hostile form, rendered raw, is caught.
    for hostile in ["@octocat hi", "<img src=x>", "[x](https://evil.example)", "`a\\_b`", "Canary-Pw1"] {
        let html = cmark_gfm(&format!("text {hostile}\n"));
        let caught = std::panic::catch_unwind(|| assert_reads_as_written(&html, None));
        assert!(caught.is_err(), "not caught: {hostile} -> {html}");
    }
    let cut = "| a | b |\n| --- | --- |\n| x | y <code>a|b</code> |\n";
    assert!(std::panic::catch_unwind(|| assert_tables_hold(cut)).is_err());
    assert_tables_hold("| a | b |\n| --- | --- |\n| x | y <code>a&#124;b</code> a\\|b |\n");
}
