//! The binary as a GitHub Actions job runs it, and its output read as the runner reads it.
//!
//! `Job` holds what every Actions job has: the variables the runner sets (`GITHUB_ACTIONS`,
//! `CI`, the event, the refs, the files behind `GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY`,
//! `GITHUB_ENV`, `RUNNER_TEMP`, ...), a `pull_request` event payload, and `RUST_LOG=debug` as a
//! user debugging a run sets it. `Job::run` starts the binary with them (from the scrubbed
//! command of `super::mongo_preflight`, under the watchdog), reads stdout and stderr in the order
//! their lines arrive, as the runner does, and passes every line through `CommandParser`.
//!
//! `CommandParser` re-implements the runner's workflow-command parsing, written from its
//! source (actions/runner, read, not copied):
//! - `src/Runner.Common/ActionCommand.cs`: `TryParseV2` (`::name k=v,k=v::data`, after
//!   trimming leading white space; properties split on `,` then on the first `=`, empty parts
//!   dropped; property values unescape `%0D %0A %3A %2C %25`, data `%0D %0A %25`, in that
//!   order) and the legacy `TryParse` (`##[name k=v;k=v]data` anywhere in the line, `;`
//!   between properties, values and data unescape `%3B %0D %0A %5D %25`);
//! - `src/Runner.Worker/ActionCommandManager.cs`: `TryProcessCommand` (V2 first, then
//!   legacy; only registered command names, compared without case; `stop-commands` registers
//!   its data as the only command that resumes, and while stopped every other command is plain
//!   output; a stop token that is empty, `pause-logging` or a registered command is refused),
//!   the registered extensions (`add-mask`, `add-path`, `add-matcher`, `remove-matcher`,
//!   `debug`, `warning`, `error`, `notice`, `group`, `endgroup`, `echo`, `set-env`,
//!   `set-output`, `save-state`), and `AddMaskCommandExtension` (the value and each of its
//!   lines become secrets masked in everything printed later);
//! - `src/Runner.Worker/FileCommandManager.cs`: `EnvFileKeyValuePairs`, the reader of
//!   `GITHUB_OUTPUT` and `GITHUB_ENV` (`NAME=VALUE`, or `NAME<<DELIMITER` then lines up to a
//!   line equal to the delimiter, `\n` or `\r\n`; anything else fails the step), and
//!   `CreateStepSummaryCommand` (a summary over 1 MiB is refused).
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The commands the runner registers (ActionCommandManager.cs; `internal-set-repo-path` only
/// for the runner's own plugins).
const REGISTERED: [&str; 15] = [
    "stop-commands",
    "set-env",
    "set-output",
    "save-state",
    "add-mask",
    "add-path",
    "add-matcher",
    "remove-matcher",
    "debug",
    "warning",
    "error",
    "notice",
    "group",
    "endgroup",
    "echo",
];

/// One workflow command the runner acted on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowCommand {
    /// As the runner names it, lower case.
    pub name: String,
    /// Property names lower-cased (the runner's dictionary ignores case), values unescaped.
    pub properties: BTreeMap<String, String>,
    pub data: String,
    /// The line as written.
    pub line: String,
}

/// The runner's command processing for one step: what it acted on, what it would print.
#[derive(Debug, Default)]
pub struct CommandParser {
    stop_token: Option<String>,
    /// Every command processed (stop-commands and its resume included).
    pub commands: Vec<WorkflowCommand>,
    /// Every token `stop-commands` was given (each is the name of the command that resumes).
    pub tokens: Vec<String>,
    /// Values registered with `add-mask` (and each of their lines).
    pub masks: Vec<String>,
    /// Problems the runner reports for the step (an invalid stop token, an empty mask).
    pub errors: Vec<String>,
    /// The step's log as the runner shows it: plain lines and echoed commands, masks applied.
    pub log: Vec<String>,
}

fn unescape(text: &str, mappings: &[(&str, &str)]) -> String {
    let mut out = text.to_string();
    for (escaped, plain) in mappings {
        out = out.replace(escaped, plain);
    }
    out
}

const PROPERTY_V2: [(&str, &str); 5] = [("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")];
const DATA_V2: [(&str, &str); 3] = [("%0D", "\r"), ("%0A", "\n"), ("%25", "%")];
const LEGACY: [(&str, &str); 5] = [("%3B", ";"), ("%0D", "\r"), ("%0A", "\n"), ("%5D", "]"), ("%25", "%")];

fn properties(text: &str, separator: char, mappings: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for part in text.split(separator).filter(|p| !p.is_empty()) {
        // `Split('=', 2, RemoveEmptyEntries)`: `=v` and `k=` give one part and are dropped.
        let pair: Vec<&str> = part.splitn(2, '=').filter(|p| !p.is_empty()).collect();
        if let [key, value] = pair[..] {
            out.insert(key.to_ascii_lowercase(), unescape(value, mappings));
        }
    }
    out
}

impl CommandParser {
    fn registered(&self, name: &str) -> bool {
        REGISTERED.iter().any(|r| r.eq_ignore_ascii_case(name))
            || self.stop_token.as_deref().is_some_and(|t| t.eq_ignore_ascii_case(name))
    }

    /// `ActionCommand.TryParseV2`.
    fn parse_v2(&self, line: &str) -> Option<WorkflowCommand> {
        let message = line.trim_start();
        let rest = message.strip_prefix("::")?;
        let end = rest.find("::")?;
        let info = &rest[..end];
        let (name, props) = match info.find(' ') {
            Some(space) => (&info[..space], Some(info[space + 1..].trim())),
            None => (info, None),
        };
        if !self.registered(name) {
            return None;
        }
        Some(WorkflowCommand {
            name: name.to_ascii_lowercase(),
            // `spaceIndex > 0`: a name that is empty takes no properties.
            properties: props
                .filter(|_| !name.is_empty())
                .map(|p| properties(p, ',', &PROPERTY_V2))
                .unwrap_or_default(),
            data: unescape(&rest[end + 2..], &DATA_V2),
            line: line.to_string(),
        })
    }

    /// `ActionCommand.TryParse`, the legacy `##[name k=v;k=v]data`, found anywhere in a line.
    fn parse_legacy(&self, line: &str) -> Option<WorkflowCommand> {
        let start = line.find("##[")?;
        let close = start + line[start..].find(']')?;
        let info = &line[start + 3..close];
        let (name, props) = match info.find(' ') {
            Some(space) => (&info[..space], Some(&info[space + 1..])),
            None => (info, None),
        };
        if !self.registered(name) {
            return None;
        }
        Some(WorkflowCommand {
            name: name.to_ascii_lowercase(),
            properties: props.filter(|_| !name.is_empty()).map(|p| properties(p, ';', &LEGACY)).unwrap_or_default(),
            data: unescape(&line[close + 1..], &LEGACY),
            line: line.to_string(),
        })
    }

    fn masked(&self, line: &str) -> String {
        let mut out = line.to_string();
        let mut masks: Vec<&String> = self.masks.iter().collect();
        masks.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for mask in masks {
            out = out.replace(mask.as_str(), "***");
        }
        out
    }

    /// `ActionCommandManager.TryProcessCommand` for one line of output (without its line end).
    pub fn line(&mut self, line: &str) {
        let Some(command) = self.parse_v2(line).or_else(|| self.parse_legacy(line)) else {
            self.log.push(self.masked(line));
            return;
        };
        if let Some(token) = self.stop_token.clone() {
            if command.name.eq_ignore_ascii_case(&token) {
                self.log.push(self.masked(line));
                self.stop_token = None;
                self.commands.push(command);
            } else {
                self.log.push(self.masked(line));
            }
            return;
        }
        match command.name.as_str() {
            "stop-commands" => {
                let token = command.data.clone();
                if token.is_empty()
                    || token.eq_ignore_ascii_case("pause-logging")
                    || REGISTERED.iter().any(|r| r.eq_ignore_ascii_case(&token))
                {
                    // `ValidateStopToken` throws: the step fails.
                    self.errors.push(format!("invalid stop-commands token `{token}`"));
                    return;
                }
                if token.len() > 6 {
                    self.masks.push(token.clone());
                }
                self.log.push(self.masked(line));
                self.tokens.push(token.clone());
                self.stop_token = Some(token);
            }
            "add-mask" => {
                if command.data.trim().is_empty() {
                    self.errors.push("add-mask with an empty value".to_string());
                } else {
                    self.masks.push(command.data.clone());
                    self.masks.extend(
                        command.data.split(['\r', '\n']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string),
                    );
                }
            }
            // Extensions with `OmitEcho`: the annotation or debug line replaces the command.
            "warning" | "error" | "notice" | "debug" => {
                self.log.push(format!("##[{}]{}", command.name, self.masked(&command.data)))
            }
            _ => self.log.push(self.masked(line)),
        }
        self.commands.push(command);
    }

    /// Whether commands are still stopped when the output ends (the runner then ignores every
    /// command for the rest of the step, the tool's own annotations included).
    pub fn still_stopped(&self) -> bool {
        self.stop_token.is_some()
    }
}

/// The runner's reader of `GITHUB_OUTPUT` and `GITHUB_ENV` (`EnvFileKeyValuePairs`):
/// the pairs in order, or why the runner would fail the step.
pub fn parse_env_file(text: &str) -> Result<Vec<(String, String)>, String> {
    // `ReadLine`: up to `\n`, without a `\r` just before it; the line end is kept apart.
    fn read_line<'a>(text: &'a str, index: &mut usize) -> Option<(&'a str, &'a str)> {
        if *index >= text.len() {
            return None;
        }
        let rest = &text[*index..];
        let (line, newline) = match rest.find('\n') {
            Some(n) if n > 0 && rest.as_bytes()[n - 1] == b'\r' => (&rest[..n - 1], "\r\n"),
            Some(n) => (&rest[..n], "\n"),
            None => (rest, ""),
        };
        *index += line.len() + newline.len();
        Some((line, newline))
    }
    let mut pairs = Vec::new();
    let mut index = 0;
    while let Some((line, _)) = read_line(text, &mut index) {
        if line.is_empty() {
            continue;
        }
        let equals = line.find('=');
        let heredoc = line.find("<<");
        match (equals, heredoc) {
            (Some(e), h) if h.is_none_or(|h| e < h) => {
                pairs.push((line[..e].to_string(), line[e + 1..].to_string()));
            }
            (_, Some(h)) => {
                let (key, delimiter) = (&line[..h], &line[h + 2..]);
                if key.is_empty() || delimiter.is_empty() {
                    return Err(format!("invalid format `{line}`: empty name or delimiter"));
                }
                let start = index;
                let mut end = index;
                loop {
                    match read_line(text, &mut index) {
                        None => return Err(format!("no closing delimiter `{delimiter}`")),
                        Some((l, _)) if l == delimiter => break,
                        Some((_, "")) => return Err("the delimiter misses its line end".to_string()),
                        Some((_, newline)) => end = index - newline.len(),
                    }
                }
                pairs.push((key.to_string(), if end > start { text[start..end].to_string() } else { String::new() }));
            }
            _ => return Err(format!("invalid format `{line}`")),
        }
    }
    Ok(pairs)
}

/// The runner refuses a step summary over 1 MiB (`CreateStepSummaryCommand.AttachmentSizeLimit`).
pub const STEP_SUMMARY_LIMIT: usize = 1024 * 1024;

/// A GitHub Actions job's environment for one step, in its own directories.
pub struct Job {
    pub dir: tempfile::TempDir,
    pub workspace: PathBuf,
    pub runner_temp: PathBuf,
    pub output_file: PathBuf,
    pub summary_file: PathBuf,
    pub env_file: PathBuf,
    pub path_file: PathBuf,
    pub state_file: PathBuf,
    pub event_file: PathBuf,
    pub vars: Vec<(String, String)>,
}

impl Job {
    /// A `pull_request` job of `octo/app` on the merge of `head_ref` into `main` (whose commit is
    /// `base_sha`), checked out in `workspace`.
    pub fn pull_request(workspace: &Path, base_sha: &str) -> Job {
        let dir = tempfile::tempdir().expect("job dir");
        let runner_temp = dir.path().join("_temp");
        let commands = runner_temp.join("_runner_file_commands");
        std::fs::create_dir_all(&commands).expect("runner dirs");
        let file = |name: &str| {
            let path = commands.join(name);
            std::fs::write(&path, "").expect("file command");
            path
        };
        let output_file = file("set_output_1");
        let summary_file = file("step_summary_1");
        let env_file = file("set_env_1");
        let path_file = file("add_path_1");
        let state_file = file("save_state_1");
        let event_file = dir.path().join("_github_workflow/event.json");
        std::fs::create_dir_all(event_file.parent().expect("parent")).expect("event dir");
        let event = super::pull_request_event(base_sha, "octo/app");
        std::fs::write(&event_file, serde_json::to_vec_pretty(&event).expect("event")).expect("event file");
        let s = |p: &Path| p.to_string_lossy().into_owned();
        let vars: Vec<(String, String)> = [
            ("CI", "true".to_string()),
            ("GITHUB_ACTIONS", "true".to_string()),
            ("GITHUB_EVENT_NAME", "pull_request".to_string()),
            ("GITHUB_EVENT_PATH", s(&event_file)),
            ("GITHUB_BASE_REF", "main".to_string()),
            ("GITHUB_HEAD_REF", "pr".to_string()),
            ("GITHUB_REF", "refs/pull/7/merge".to_string()),
            ("GITHUB_REF_NAME", "7/merge".to_string()),
            ("GITHUB_REF_TYPE", "branch".to_string()),
            ("GITHUB_REPOSITORY", "octo/app".to_string()),
            ("GITHUB_REPOSITORY_OWNER", "octo".to_string()),
            ("GITHUB_REPOSITORY_ID", "1296269".to_string()),
            ("GITHUB_SHA", "6dcb09b5b57875f334f61aebed695e2e4193db5e".to_string()),
            ("GITHUB_WORKSPACE", s(workspace)),
            ("GITHUB_OUTPUT", s(&output_file)),
            ("GITHUB_STEP_SUMMARY", s(&summary_file)),
            ("GITHUB_ENV", s(&env_file)),
            ("GITHUB_PATH", s(&path_file)),
            ("GITHUB_STATE", s(&state_file)),
            ("GITHUB_RUN_ID", "1658821493".to_string()),
            ("GITHUB_RUN_NUMBER", "42".to_string()),
            ("GITHUB_RUN_ATTEMPT", "1".to_string()),
            ("GITHUB_ACTOR", "mona".to_string()),
            ("GITHUB_TRIGGERING_ACTOR", "mona".to_string()),
            ("GITHUB_WORKFLOW", "CI".to_string()),
            ("GITHUB_WORKFLOW_REF", "octo/app/.github/workflows/ci.yml@refs/pull/7/merge".to_string()),
            ("GITHUB_JOB", "preflight".to_string()),
            ("GITHUB_ACTION", "__run".to_string()),
            ("GITHUB_SERVER_URL", "https://github.com".to_string()),
            // Nothing in these runs may reach GitHub: a closed local port.
            ("GITHUB_API_URL", "http://127.0.0.1:9".to_string()),
            ("GITHUB_GRAPHQL_URL", "http://127.0.0.1:9/graphql".to_string()),
            ("GITHUB_RETENTION_DAYS", "90".to_string()),
            ("RUNNER_TEMP", s(&runner_temp)),
            ("RUNNER_TOOL_CACHE", s(&dir.path().join("_tool"))),
            ("RUNNER_OS", "Linux".to_string()),
            ("RUNNER_ARCH", "X64".to_string()),
            ("RUNNER_NAME", "GitHub Actions 2".to_string()),
            ("RUNNER_ENVIRONMENT", "github-hosted".to_string()),
            ("RUNNER_WORKSPACE", s(workspace.parent().unwrap_or(workspace))),
            ("RUST_LOG", "debug".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        Job {
            dir,
            workspace: workspace.to_path_buf(),
            runner_temp,
            output_file,
            summary_file,
            env_file,
            path_file,
            state_file,
            event_file,
            vars,
        }
    }

    /// The scrubbed binary with this job's variables, run in the workspace.
    pub fn command(&self) -> Command {
        let mut cmd = super::mongo_preflight();
        cmd.current_dir(&self.workspace);
        for (key, value) in &self.vars {
            cmd.env(key, value);
        }
        cmd
    }

    /// Runs `cmd` (from `command`, with the test's arguments) as the step's process.
    pub fn run(&self, cmd: Command) -> StepRun {
        let (out, parser) = run_as_runner(cmd, super::WATCHDOG);
        let output_text = std::fs::read_to_string(&self.output_file).expect("GITHUB_OUTPUT is text");
        let summary = std::fs::read_to_string(&self.summary_file).expect("GITHUB_STEP_SUMMARY is text");
        let env_text = std::fs::read_to_string(&self.env_file).expect("GITHUB_ENV is text");
        StepRun {
            outputs: parse_env_file(&output_text),
            env: parse_env_file(&env_text),
            output_text,
            summary,
            out,
            parser,
        }
    }
}

/// What a step left: its streams, the runner's view of them, and its file commands.
pub struct StepRun {
    pub out: RawRun,
    pub parser: CommandParser,
    pub output_text: String,
    pub outputs: Result<Vec<(String, String)>, String>,
    pub env: Result<Vec<(String, String)>, String>,
    pub summary: String,
}

/// A run's exit status and its streams, each whole.
pub struct RawRun {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cmd` under the watchdog, reading stdout and stderr line by line, in the order the
/// lines arrive (the runner reads both pipes and processes each line as it comes), through a
/// `CommandParser`.
pub fn run_as_runner(mut cmd: Command, limit: Duration) -> (RawRun, CommandParser) {
    let what = format!("{cmd:?}");
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    let (send, receive) = mpsc::channel::<(bool, Option<String>)>();
    let reader = |pipe: Box<dyn std::io::Read + Send>, is_stdout: bool, send: mpsc::Sender<(bool, Option<String>)>| {
        std::thread::spawn(move || {
            let mut reader = BufReader::new(pipe);
            let mut bytes = Vec::new();
            loop {
                bytes.clear();
                match reader.read_until(b'\n', &mut bytes) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let _ = send.send((is_stdout, Some(String::from_utf8_lossy(&bytes).into_owned())));
                    }
                }
            }
            let _ = send.send((is_stdout, None));
        })
    };
    let out_thread = reader(Box::new(child.stdout.take().expect("stdout")), true, send.clone());
    let err_thread = reader(Box::new(child.stderr.take().expect("stderr")), false, send);
    let started = Instant::now();
    let mut parser = CommandParser::default();
    let (mut stdout, mut stderr) = (String::new(), String::new());
    let mut open = 2;
    while open > 0 {
        let left = limit.saturating_sub(started.elapsed());
        match receive.recv_timeout(left) {
            Ok((is_stdout, Some(chunk))) => {
                let line = chunk.strip_suffix('\n').unwrap_or(&chunk);
                let line = line.strip_suffix('\r').unwrap_or(line);
                parser.line(line);
                if is_stdout { stdout.push_str(&chunk) } else { stderr.push_str(&chunk) }
            }
            Ok((_, None)) => open -= 1,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("ran longer than {limit:?} and was killed: {what}");
            }
        }
    }
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("ran longer than {limit:?} and was killed: {what}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = out_thread.join();
    let _ = err_thread.join();
    (RawRun { status, stdout, stderr }, parser)
}

/// The SARIF 2.1.0 schema (tests/schemas), compiled once per test binary.
pub fn sarif_validator() -> &'static jsonschema::Validator {
    static VALIDATOR: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas/sarif-schema-2.1.0.json");
        let schema: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("SARIF schema")).expect("schema is JSON");
        jsonschema::validator_for(&schema).expect("the SARIF schema compiles")
    })
}

/// Parses a SARIF document and validates it against 2.1.0; the reasons otherwise.
pub fn validate_sarif(text: &str) -> Result<serde_json::Value, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let errors: Vec<String> =
        sarif_validator().iter_errors(&value).map(|e| format!("{e} at {}", e.instance_path)).collect();
    if errors.is_empty() { Ok(value) } else { Err(errors.join("\n")) }
}
