//! Every command in every format, over files written the way real projects write them
//! (tests/fixtures/realworld), run twice: in a clean shell, and as a step of a GitHub Actions
//! pull-request job whose output the runner reads (tests/support/runner.rs). Whatever the
//! command prints or writes must parse (JSON, SARIF 2.1.0, `GITHUB_OUTPUT`), show none of the
//! planted passwords, and let the runner see no workflow command but the tool's own masks and
//! annotations.
//!
//! Each run happens once per test binary; the tests named `..._parses` and
//! `..._shows_no_password` read the same run, so that each can fail (or wait for a fix) alone.

mod support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use support::runner::{self, CommandParser, Job, parse_env_file};

/// Every planted password ends in this: a redaction that stops early still leaves it.
const CANARY: &str = "Kq7Canary";

/// A valid connection string whose password holds `/ ? # ] @ :` (percent-encoded, as a URI
/// must), quotes, a backslash and `::`; the port is closed, so the probe ends at once.
const VALID_URI: &str = "mongodb://app:Pa%2Fss%3Fw%23rd%5D%40%3A%22q%27%5C%3A%3AKq7Canary@127.0.0.1:1/?tls=true";
/// The same password written raw, as generated passwords are pasted: an invalid URI.
const RAW_URI: &str = "mongodb://app:Pa/ss?w#rd]@:\"q'\\::Kq7Canary@127.0.0.1:1/?tls=true";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Env {
    Clean,
    Runner,
}

/// What one run left behind, read once.
struct Outcome {
    args: Vec<String>,
    code: Option<i32>,
    stdout: String,
    stderr: String,
    /// The runner's reading of the streams (under `Env::Runner` only).
    parser: Option<CommandParser>,
    /// `GITHUB_OUTPUT`, `GITHUB_ENV` and the step summary (under `Env::Runner` only).
    output_file: String,
    outputs: Result<Vec<(String, String)>, String>,
    env_file: Result<Vec<(String, String)>, String>,
    summary: String,
    /// Files the command wrote (SARIF, a policy, a lock, anything left in RUNNER_TEMP).
    files: Vec<(PathBuf, String)>,
    /// The format asked for, and whether the report is on stdout.
    format: Option<&'static str>,
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read fixtures") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy fixture");
        }
    }
}

/// A repository whose `main` has only a README, and whose pull request adds the real-world
/// files and a policy: every finding is new. Returns the base commit.
fn workspace(dir: &Path, home: &Path, policy: &str) -> String {
    support::git(dir, home, &["init", "-q", "-b", "main"]);
    std::fs::write(dir.join("README.md"), "# app\n").expect("readme");
    support::git(dir, home, &["add", "-A"]);
    support::git(dir, home, &["commit", "-q", "-m", "base"]);
    let base = support::git(dir, home, &["rev-parse", "HEAD"]);
    support::git(dir, home, &["checkout", "-q", "-b", "pr"]);
    copy_tree(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/realworld"), dir);
    std::fs::write(dir.join("mongo-preflight.yml"), policy).expect("policy");
    support::git(dir, home, &["add", "-A"]);
    support::git(dir, home, &["commit", "-q", "-m", "pr"]);
    base
}

const POLICY: &str = "version: 1\ntimeout: 2\nclusters:\n  - name: orders\n    uri_env: ORDERS_URI\n";
/// A policy whose `uri:` is written with Java properties escapes and a password.
const ESCAPED_POLICY: &str = "version: 1\ntimeout: 2\nclusters:\n  - name: orders\n    uri: \"mongodb\\\\://app\\\\:pr0p\\\\:Kq7Canary@127.0.0.1\\\\:1/\"\n";

/// Runs `scenario` in `format` once per test binary.
fn outcome(scenario: &'static str, format: Option<&'static str>, env: Env) -> Arc<Outcome> {
    type Slot = Arc<OnceLock<Arc<Outcome>>>;
    type Key = (&'static str, Option<&'static str>, Env);
    static RUNS: OnceLock<Mutex<HashMap<Key, Slot>>> = OnceLock::new();
    let slot = {
        let mut runs = RUNS.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
        runs.entry((scenario, format, env)).or_default().clone()
    };
    slot.get_or_init(|| Arc::new(run(scenario, format, env))).clone()
}

fn run(scenario: &'static str, format: Option<&'static str>, env: Env) -> Outcome {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("app");
    let home = root.path().join("home");
    std::fs::create_dir_all(&dir).expect("workspace");
    std::fs::create_dir_all(&home).expect("home");
    let policy = if scenario == "check-escaped-policy" { ESCAPED_POLICY } else { POLICY };
    let base = workspace(&dir, &home, policy);
    let sarif_file = root.path().join("out/check.sarif");
    let init_file = root.path().join("out/new-policy.yml");
    std::fs::create_dir_all(root.path().join("out")).expect("out dir");
    let format_args = |args: &mut Vec<String>| {
        if let Some(f) = format {
            args.extend(["--format".to_string(), f.to_string()]);
        }
    };
    let mut args: Vec<String> = Vec::new();
    let s = |v: &str| v.to_string();
    match scenario {
        "probe" | "probe-raw-uri" => {
            args.extend([s("probe"), s("--timeout"), s("2")]);
            format_args(&mut args);
            args.push(s(if scenario == "probe" { VALID_URI } else { RAW_URI }));
        }
        "scan" => {
            args.push(s("scan"));
            format_args(&mut args);
        }
        "check" | "check-escaped-policy" => {
            args.push(s("check"));
            format_args(&mut args);
            args.extend([s("--sarif"), sarif_file.to_string_lossy().into_owned()]);
        }
        "lock" => args.extend([s("lock"), s("--timeout"), s("2")]),
        "explain" => {
            args.extend([s("explain"), s("--all")]);
            format_args(&mut args);
        }
        "why" => {
            // A CI log as people paste it: the failure, and the connection string echoed above it.
            let log = root.path().join("out/test.log");
            let text = format!(
                "2026-12-07T10:00:00Z connecting with MONGODB_URI={RAW_URI}\n\
                 2026-12-07T10:00:30Z pymongo.errors.ServerSelectionTimeoutError: \
                 ac-dj55aef-shard-00-00.hctrhus.mongodb.net:27017: SSL handshake failed: \
                 [SSL: TLSV1_ALERT_INTERNAL_ERROR] tlsv1 alert internal error (_ssl.c:1006)\n"
            );
            std::fs::write(&log, text).expect("write the log");
            args.extend([s("why"), s("--file"), log.to_string_lossy().into_owned()]);
            format_args(&mut args);
        }
        "schema" => args.push(s("schema")),
        "init" => args.extend([s("init"), s("--path"), init_file.to_string_lossy().into_owned()]),
        other => panic!("no scenario {other}"),
    }
    let job = Job::pull_request(&dir, &base);
    let mut cmd = match env {
        Env::Runner => job.command(),
        Env::Clean => {
            let mut cmd = support::mongo_preflight();
            cmd.current_dir(&dir);
            cmd
        }
    };
    cmd.env("HOME", &home).env("GIT_CONFIG_NOSYSTEM", "1").env("GIT_CONFIG_GLOBAL", "/dev/null");
    cmd.env("ORDERS_URI", VALID_URI).args(&args);
    let (code, stdout, stderr, parser, output_file, outputs, env_file, summary) = match env {
        Env::Runner => {
            let step = job.run(cmd);
            (
                step.out.status.code(),
                step.out.stdout,
                step.out.stderr,
                Some(step.parser),
                step.output_text,
                step.outputs,
                step.env,
                step.summary,
            )
        }
        Env::Clean => {
            let out = support::run(cmd);
            let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
            (
                out.status.code(),
                text(&out.stdout),
                text(&out.stderr),
                None,
                String::new(),
                Ok(vec![]),
                Ok(vec![]),
                String::new(),
            )
        }
    };
    let mut files = Vec::new();
    let mut collect = |path: &Path| {
        if path.is_file() {
            files.push((path.to_path_buf(), String::from_utf8_lossy(&std::fs::read(path).expect("read")).into_owned()));
        }
    };
    collect(&sarif_file);
    collect(&init_file);
    collect(&dir.join("mongo-preflight.lock"));
    fn walk(dir: &Path, collect: &mut dyn FnMut(&Path)) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if entry.path().is_dir() {
                walk(&entry.path(), collect);
            } else {
                collect(&entry.path());
            }
        }
    }
    // Whatever the run left in RUNNER_TEMP besides the runner's own file commands.
    for entry in std::fs::read_dir(&job.runner_temp).into_iter().flatten().flatten() {
        if entry.file_name() != "_runner_file_commands" {
            walk(&entry.path(), &mut collect);
            collect(&entry.path());
        }
    }
    Outcome { args, code, stdout, stderr, parser, output_file, outputs, env_file, summary, files, format }
}

fn context(o: &Outcome) -> String {
    format!("mongo-preflight {:?}\nexit {:?}\nstdout:\n{}\nstderr:\n{}", o.args, o.code, o.stdout, o.stderr)
}

/// Lines of stdout and stderr other than the masks the runner consumed (the secret must reach
/// the runner in those, and only those).
fn shown_lines(o: &Outcome) -> Vec<String> {
    let consumed: Vec<&str> = o
        .parser
        .as_ref()
        .map(|p| p.commands.iter().filter(|c| c.name == "add-mask").map(|c| c.line.as_str()).collect())
        .unwrap_or_default();
    o.stdout
        .lines()
        .chain(o.stderr.lines())
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .filter(|l| !consumed.contains(l))
        .map(str::to_string)
        .collect()
}

/// Every structured output parses, and the runner sees only the tool's own commands.
fn assert_parses(scenario: &'static str, format: Option<&'static str>, env: Env) {
    let o = outcome(scenario, format, env);
    let ctx = context(&o);
    assert!(matches!(o.code, Some(0..=2)), "exit code: {ctx}");
    assert!(!o.stderr.contains("panicked"), "{ctx}");
    match (env, &o.parser) {
        (Env::Runner, Some(parser)) => assert_runner_view(&o, parser, &ctx),
        _ => {
            // Snippets may quote such text; the tool's own fence and masks start a line.
            let own = |l: &str| l.starts_with("::stop-commands::") || l.starts_with("::add-mask::");
            assert!(!o.stdout.lines().chain(o.stderr.lines()).any(own), "fenced or masked outside Actions: {ctx}");
        }
    }
    // A refused argument (exit 2) prints only an error, on stderr: no report to parse then.
    let refused = o.code == Some(2) && o.stdout.is_empty();
    match (scenario, o.format) {
        _ if refused => {}
        ("schema", _) | (_, Some("json")) => {
            serde_json::from_str::<serde_json::Value>(&o.stdout)
                .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {ctx}"));
        }
        (_, Some("sarif")) => {
            runner::validate_sarif(&o.stdout).unwrap_or_else(|e| panic!("stdout is not SARIF 2.1.0 ({e}): {ctx}"));
        }
        _ => {}
    }
    for (path, text) in &o.files {
        if path.extension().is_some_and(|e| e == "sarif") {
            runner::validate_sarif(text)
                .unwrap_or_else(|e| panic!("{} is not SARIF 2.1.0 ({e}): {ctx}", path.display()));
        }
    }
}

/// What the runner makes of the step: no error, only the tool's own commands, annotations
/// that reach it, and file commands it can read.
fn assert_runner_view(o: &Outcome, parser: &CommandParser, ctx: &str) {
    assert!(parser.errors.is_empty(), "the runner fails the step: {:?}\n{ctx}", parser.errors);
    assert!(!parser.still_stopped(), "commands stay stopped after the run (its annotations are lost): {ctx}");
    let (mut stops, mut resumes) = (0, 0);
    for command in &parser.commands {
        match command.name.as_str() {
            "add-mask" => {}
            "stop-commands" => stops += 1,
            "error" | "warning" | "notice" => {
                for key in command.properties.keys() {
                    assert!(
                        ["file", "line", "endline", "col", "endcolumn", "title"].contains(&key.as_str()),
                        "annotation property {key} in {:?}\n{ctx}",
                        command.line
                    );
                }
            }
            name if parser.tokens.iter().any(|t| t.eq_ignore_ascii_case(name)) => resumes += 1,
            other => panic!("the runner acted on `{other}` ({:?}): {ctx}", command.line),
        }
        assert!(!command.line.contains("pwned"), "a planted command reached the runner: {:?}\n{ctx}", command.line);
    }
    assert_eq!(stops, resumes, "every stop is resumed: {ctx}");
    let outputs = o.outputs.as_ref().unwrap_or_else(|e| panic!("GITHUB_OUTPUT: {e}\n{}\n{ctx}", o.output_file));
    o.env_file.as_ref().unwrap_or_else(|e| panic!("GITHUB_ENV: {e}\n{ctx}"));
    let findings_reach_the_runner = match o.args[0].as_str() {
        "scan" => o.format == Some("github"),
        // `check` annotates in Actions whatever its format, once it has run.
        "check" => o.code == Some(1),
        _ => false,
    };
    if findings_reach_the_runner {
        assert!(
            parser.commands.iter().any(|c| c.name == "error" && c.properties.contains_key("file")),
            "the findings reach the runner as annotations: {ctx}"
        );
    }
    if o.args[0] == "check" && o.code == Some(1) {
        let get = |key: &str| outputs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        assert_eq!(get("verdict"), Some("fail"), "{outputs:?}\n{ctx}");
        assert!(get("errors").and_then(|e| e.parse::<u32>().ok()).is_some_and(|e| e > 0), "{outputs:?}");
        assert!(get("sarif-file").is_some_and(|f| f.ends_with("check.sarif")), "{outputs:?}");
        assert!(!o.summary.trim().is_empty(), "the job summary is written: {ctx}");
    }
    assert!(o.summary.len() <= runner::STEP_SUMMARY_LIMIT, "step summary of {} bytes", o.summary.len());
}

/// No planted password anywhere: the streams (but the runner's masks), the step's files, the
/// files written.
fn assert_no_password(scenario: &'static str, format: Option<&'static str>, env: Env) {
    let o = outcome(scenario, format, env);
    let ctx = context(&o);
    let leaks: Vec<String> = shown_lines(&o).into_iter().filter(|l| l.contains(CANARY)).collect();
    assert!(leaks.is_empty(), "printed a password:\n{}\n\n{ctx}", leaks.join("\n"));
    for (name, text) in [("GITHUB_OUTPUT", &o.output_file), ("GITHUB_STEP_SUMMARY", &o.summary)] {
        let leaks: Vec<&str> = text.lines().filter(|l| l.contains(CANARY)).collect();
        assert!(leaks.is_empty(), "{name} holds a password:\n{}", leaks.join("\n"));
    }
    for (path, text) in &o.files {
        let leaks: Vec<&str> = text.lines().filter(|l| l.contains(CANARY)).collect();
        assert!(leaks.is_empty(), "{} holds a password:\n{}", path.display(), leaks.join("\n"));
    }
}

macro_rules! runs {
    ($($scenario:literal, $format:expr, $env:ident =>
        $(#[$parses_attr:meta])* $parses:ident, $(#[$secret_attr:meta])* $secret:ident;)*) => {$(
        #[test]
        $(#[$parses_attr])*
        fn $parses() {
            assert_parses($scenario, $format, Env::$env);
        }
        #[test]
        $(#[$secret_attr])*
        fn $secret() {
            assert_no_password($scenario, $format, Env::$env);
        }
    )*};
}

runs! {
    "schema", None, Clean => schema_clean_parses, schema_clean_shows_no_password;
    "schema", None, Runner => schema_runner_parses, schema_runner_shows_no_password;
    "init", None, Clean => init_clean_parses, init_clean_shows_no_password;
    "init", None, Runner => init_runner_parses, init_runner_shows_no_password;
    "explain", Some("text"), Clean => explain_text_clean_parses, explain_text_clean_shows_no_password;
    "explain", Some("text"), Runner => explain_text_runner_parses, explain_text_runner_shows_no_password;
    "explain", Some("markdown"), Clean => explain_markdown_clean_parses, explain_markdown_clean_shows_no_password;
    "explain", Some("markdown"), Runner => explain_markdown_runner_parses, explain_markdown_runner_shows_no_password;
    "why", Some("text"), Clean => why_text_clean_parses, why_text_clean_shows_no_password;
    "why", Some("text"), Runner => why_text_runner_parses, why_text_runner_shows_no_password;
    "why", Some("json"), Clean => why_json_clean_parses, why_json_clean_shows_no_password;
    "why", Some("json"), Runner => why_json_runner_parses, why_json_runner_shows_no_password;
    "why", Some("markdown"), Clean => why_markdown_clean_parses, why_markdown_clean_shows_no_password;
    "why", Some("markdown"), Runner => why_markdown_runner_parses, why_markdown_runner_shows_no_password;
    "lock", None, Clean => lock_clean_parses, lock_clean_shows_no_password;
    "lock", None, Runner => lock_runner_parses, lock_runner_shows_no_password;

    "probe", Some("text"), Clean => probe_text_clean_parses, probe_text_clean_shows_no_password;
    "probe", Some("text"), Runner => probe_text_runner_parses, probe_text_runner_shows_no_password;
    "probe", Some("json"), Clean => probe_json_clean_parses, probe_json_clean_shows_no_password;
    "probe", Some("json"), Runner =>
        probe_json_runner_parses,
        probe_json_runner_shows_no_password;
    "probe", Some("markdown"), Clean => probe_markdown_clean_parses, probe_markdown_clean_shows_no_password;
    "probe", Some("markdown"), Runner => probe_markdown_runner_parses, probe_markdown_runner_shows_no_password;
    "probe", Some("sarif"), Clean => probe_sarif_clean_parses, probe_sarif_clean_shows_no_password;
    "probe", Some("sarif"), Runner =>
        probe_sarif_runner_parses,
        probe_sarif_runner_shows_no_password;
    "probe", Some("github"), Clean => probe_github_clean_parses, probe_github_clean_shows_no_password;
    "probe", Some("github"), Runner => probe_github_runner_parses, probe_github_runner_shows_no_password;

    "probe-raw-uri", Some("text"), Clean =>
        probe_raw_uri_text_clean_parses,
        probe_raw_uri_text_clean_shows_no_password;
    "probe-raw-uri", Some("text"), Runner =>
        probe_raw_uri_text_runner_parses,
        probe_raw_uri_text_runner_shows_no_password;
    "probe-raw-uri", Some("json"), Clean =>
        probe_raw_uri_json_clean_parses,
        probe_raw_uri_json_clean_shows_no_password;
    "probe-raw-uri", Some("json"), Runner =>
        probe_raw_uri_json_runner_parses,
        probe_raw_uri_json_runner_shows_no_password;
    "probe-raw-uri", Some("github"), Runner =>
        probe_raw_uri_github_runner_parses,
        probe_raw_uri_github_runner_shows_no_password;

    "scan", Some("text"), Clean =>
        scan_text_clean_parses,
        scan_text_clean_shows_no_password;
    "scan", Some("text"), Runner =>
        scan_text_runner_parses,
        scan_text_runner_shows_no_password;
    "scan", Some("json"), Clean =>
        scan_json_clean_parses,
        scan_json_clean_shows_no_password;
    "scan", Some("json"), Runner =>
        scan_json_runner_parses,
        scan_json_runner_shows_no_password;
    "scan", Some("markdown"), Clean =>
        scan_markdown_clean_parses,
        scan_markdown_clean_shows_no_password;
    "scan", Some("markdown"), Runner =>
        scan_markdown_runner_parses,
        scan_markdown_runner_shows_no_password;
    "scan", Some("sarif"), Clean =>
        scan_sarif_clean_parses,
        scan_sarif_clean_shows_no_password;
    "scan", Some("sarif"), Runner =>
        scan_sarif_runner_parses,
        scan_sarif_runner_shows_no_password;
    "scan", Some("github"), Clean =>
        scan_github_clean_parses,
        scan_github_clean_shows_no_password;
    "scan", Some("github"), Runner =>
        scan_github_runner_parses,
        scan_github_runner_shows_no_password;

    "check", Some("text"), Clean =>
        check_text_clean_parses,
        check_text_clean_shows_no_password;
    "check", Some("text"), Runner =>
        check_text_runner_parses,
        check_text_runner_shows_no_password;
    "check", Some("json"), Clean =>
        check_json_clean_parses,
        check_json_clean_shows_no_password;
    "check", Some("json"), Runner =>
        check_json_runner_parses,
        check_json_runner_shows_no_password;
    "check", Some("markdown"), Clean =>
        check_markdown_clean_parses,
        check_markdown_clean_shows_no_password;
    "check", Some("markdown"), Runner =>
        check_markdown_runner_parses,
        check_markdown_runner_shows_no_password;
    "check", Some("sarif"), Clean =>
        check_sarif_clean_parses,
        check_sarif_clean_shows_no_password;
    "check", Some("sarif"), Runner =>
        check_sarif_runner_parses,
        check_sarif_runner_shows_no_password;
    "check", Some("github"), Clean =>
        check_github_clean_parses,
        check_github_clean_shows_no_password;
    "check", Some("github"), Runner =>
        check_github_runner_parses,
        check_github_runner_shows_no_password;

    "check-escaped-policy", Some("text"), Clean =>
        check_escaped_policy_text_clean_parses,
        check_escaped_policy_text_clean_shows_no_password;
    "check-escaped-policy", Some("json"), Runner =>
        check_escaped_policy_json_runner_parses,
        check_escaped_policy_json_runner_shows_no_password;
}

// The parser itself, against what the runner's code does (see tests/support/runner.rs).

fn parse(lines: &[&str]) -> CommandParser {
    let mut parser = CommandParser::default();
    for line in lines {
        parser.line(line);
    }
    parser
}

#[test]
fn the_parser_reads_commands_as_the_runner_does() {
    let p = parse(&[
        "  ::warning file=a%2Cb.yml,line=3,title=x%3Ay::msg%0Anext %3A stays",
        "::ERROR::upper-case names are registered",
        "::made-up::not a command",
        "text ##[set-output name=k;x=1%3B2]v%5Dw",
        "::set-output name=k::v",
        "::debug::",
    ]);
    let names: Vec<&str> = p.commands.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["warning", "error", "set-output", "set-output", "debug"]);
    let w = &p.commands[0];
    assert_eq!(w.properties.get("file").map(String::as_str), Some("a,b.yml"));
    assert_eq!(w.properties.get("title").map(String::as_str), Some("x:y"));
    // Data unescapes only %0D %0A %25.
    assert_eq!(w.data, "msg\nnext %3A stays");
    let legacy = &p.commands[2];
    assert_eq!(legacy.properties.get("x").map(String::as_str), Some("1;2"));
    assert_eq!(legacy.data, "v]w");
    assert!(p.log.contains(&"::made-up::not a command".to_string()));
}

#[test]
fn the_parser_stops_and_resumes_as_the_runner_does() {
    let p = parse(&[
        "::add-mask::s3cret",
        "::stop-commands::tok1234567",
        "::add-mask::ignored",
        "::error::ignored while stopped s3cret",
        "##[set-output name=a]ignored",
        "::TOK1234567::",
        "::error::after",
    ]);
    let names: Vec<&str> = p.commands.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["add-mask", "stop-commands", "tok1234567", "error"]);
    assert_eq!(p.masks, ["s3cret", "s3cret", "tok1234567"]);
    assert!(p.log.contains(&"::error::ignored while stopped ***".to_string()), "{:?}", p.log);
    assert!(!p.still_stopped());
    let refused = parse(&["::stop-commands::pause-logging", "::stop-commands::error"]);
    assert_eq!(refused.errors.len(), 2);
    assert!(parse(&["::stop-commands::abc"]).still_stopped());
}

#[test]
fn the_env_file_reader_is_the_runners() {
    let text = "a=1\r\nb<<EOF\r\nline one\nline=two\r\nEOF\n\nc=x<<y\nd<<E\nE\n";
    let pairs = parse_env_file(text).expect("parses");
    let want = [("a", "1"), ("b", "line one\nline=two"), ("c", "x<<y"), ("d", "")];
    assert_eq!(pairs, want.map(|(k, v)| (k.to_string(), v.to_string())));
    assert!(parse_env_file("no separator\n").is_err());
    assert!(parse_env_file("k<<EOF\nvalue\n").is_err());
    // A last delimiter without its line end is accepted; a value line without one is not.
    assert_eq!(parse_env_file("k<<EOF\nvalue\nEOF").expect("parses"), [("k".to_string(), "value".to_string())]);
    assert!(parse_env_file("<<EOF\nEOF\n").is_err());
}

#[test]
fn sarif_validation_rejects_what_code_scanning_rejects() {
    assert!(runner::validate_sarif("{\"version\":\"2.1.0\",\"runs\":[]}").is_ok());
    assert!(runner::validate_sarif("{\"version\":\"2.1.0\"}").is_err());
    assert!(runner::validate_sarif("{\"version\":\"2.1.0\",\"runs\":[{\"tool\":{}}]}").is_err());
    assert!(runner::validate_sarif("not json").is_err());
}
