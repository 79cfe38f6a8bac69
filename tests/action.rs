//! Runs the `run:` steps of `action.yml` with bash, as the runner would: each step with its own
//! `GITHUB_OUTPUT` file, the step's `env:` evaluated from the action's inputs, and
//! `GITHUB_ACTION_PATH` pointing at a copy of the action. Release assets are served from a
//! local directory through `MONGO_PREFLIGHT_DOWNLOAD_BASE`.
#![cfg(unix)]

use std::collections::{BTreeMap, HashMap};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_yaml_ng::Value;

mod support;

const REPO_ROOT: &str = env!("CARGO_MANIFEST_DIR");
const TARGET: &str = "x86_64-unknown-linux-musl";

fn action_yml() -> Value {
    let text = std::fs::read_to_string(Path::new(REPO_ROOT).join("action.yml")).expect("action.yml");
    serde_yaml_ng::from_str(&text).expect("action.yml is YAML")
}

fn source_version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

fn sha256(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().expect("sha256sum");
    String::from_utf8_lossy(&out.stdout).split_whitespace().next().expect("hash").to_string()
}

fn write_executable(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// Reads a `GITHUB_OUTPUT` file (`name=value` and heredoc blocks).
/// `GITHUB_OUTPUT` as the runner reads it (tests/support/runner.rs); a file it would reject
/// fails the test.
fn parse_outputs(text: &str) -> BTreeMap<String, String> {
    support::runner::parse_env_file(text)
        .unwrap_or_else(|e| panic!("the runner rejects GITHUB_OUTPUT ({e}):\n{text}"))
        .into_iter()
        .collect()
}

struct StepRun {
    code: i32,
    stdout: String,
    stderr: String,
}

struct Harness {
    dir: tempfile::TempDir,
    action: PathBuf,
    inputs: HashMap<String, String>,
    step_outputs: HashMap<String, BTreeMap<String, String>>,
    extra_path: Option<PathBuf>,
    /// `RUNNER_OS` and `RUNNER_ARCH`, as GitHub sets them.
    runner: (&'static str, &'static str),
}

impl Harness {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let action = dir.path().join("action");
        std::fs::create_dir_all(action.join("scripts/action")).expect("mkdir");
        std::fs::create_dir_all(action.join("checksums")).expect("mkdir");
        for file in ["action.yml", "Cargo.toml", "scripts/action/install.sh", "scripts/action/run.sh"] {
            std::fs::copy(Path::new(REPO_ROOT).join(file), action.join(file)).expect("copy action file");
        }
        std::fs::write(action.join("checksums/sha256.sum"), "# no releases yet\n").expect("sums");
        for sub in ["releases", "workspace", "runner-temp"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        }
        Harness {
            dir,
            action,
            inputs: HashMap::new(),
            step_outputs: HashMap::new(),
            extra_path: None,
            runner: ("Linux", "X64"),
        }
    }

    fn input(mut self, name: &str, value: &str) -> Self {
        self.inputs.insert(name.to_string(), value.to_string());
        self
    }

    fn runner(mut self, os: &'static str, arch: &'static str) -> Self {
        self.runner = (os, arch);
        self
    }

    /// Puts `content` on the fake release page as this version's asset for Linux x64.
    fn publish_asset(&self, version: &str, content: &[u8]) -> PathBuf {
        self.publish_asset_named(&format!("mongo-preflight-v{version}-{TARGET}"), version, content)
    }

    fn publish_asset_named(&self, name: &str, version: &str, content: &[u8]) -> PathBuf {
        let dir = self.dir.path().join(format!("releases/v{version}"));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let asset = dir.join(name);
        std::fs::write(&asset, content).expect("asset");
        asset
    }

    fn pin_checksum(&self, line: &str) {
        let path = self.action.join("checksums/sha256.sum");
        let mut text = std::fs::read_to_string(&path).expect("sums");
        text.push_str(line);
        text.push('\n');
        std::fs::write(path, text).expect("sums");
    }

    /// Publishes and pins the stand-in release binary ([`fake_binary`]) for this version and
    /// runs the install step; returns the file the binary logs its arguments to.
    fn install_fake_release(&mut self) -> PathBuf {
        let version = source_version();
        let log = self.dir.path().join("args.log");
        let asset = self.publish_asset(&version, fake_binary(&log).as_bytes());
        self.pin_checksum(&format!("{}  mongo-preflight-v{version}-{TARGET}", sha256(&asset)));
        assert_eq!(self.run_step("install").code, 0);
        log
    }

    /// Evaluates the few expression forms action.yml uses.
    fn evaluate(&self, expr: &str) -> String {
        let expr = expr.trim();
        if let Some((left, right)) = expr.split_once("||") {
            let l = self.evaluate(left);
            return if l.is_empty() { self.evaluate(right) } else { l };
        }
        if let Some(name) = expr.strip_prefix("inputs.") {
            if let Some(v) = self.inputs.get(name) {
                return v.clone();
            }
            let default = action_yml()["inputs"][name]["default"].as_str().unwrap_or_default().to_string();
            return self.substitute(&default);
        }
        if let Some(rest) = expr.strip_prefix("steps.") {
            let (id, output) = rest.split_once(".outputs.").expect("steps.ID.outputs.NAME");
            return self.step_outputs.get(id).and_then(|o| o.get(output)).cloned().unwrap_or_default();
        }
        match expr {
            "github.token" => "ghs_workflowtoken".to_string(),
            // Empty for `uses: ./`, as in the self-test.
            "github.action_repository" => String::new(),
            other => panic!("the harness does not know the expression {other:?}"),
        }
    }

    fn substitute(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${{") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find("}}").expect("closed expression") + start;
            out.push_str(&self.evaluate(&rest[start + 3..end]));
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        out
    }

    fn step(&self, id: &str) -> Value {
        let steps = action_yml()["runs"]["steps"].as_sequence().expect("steps").clone();
        steps.into_iter().find(|s| s["id"].as_str() == Some(id)).expect("step")
    }

    /// Runs one step's script the way the runner runs `shell: bash`.
    fn run_step(&mut self, id: &str) -> StepRun {
        let step = self.step(id);
        assert_eq!(step["shell"].as_str(), Some("bash"));
        let script = step["run"].as_str().expect("run").to_string();
        let script_path = self.dir.path().join(format!("step-{id}.sh"));
        std::fs::write(&script_path, &script).expect("script");
        let output_file = self.dir.path().join(format!("output-{id}"));
        std::fs::write(&output_file, "").expect("output file");

        let path = match &self.extra_path {
            Some(p) => format!("{}:{}", p.display(), std::env::var("PATH").unwrap_or_default()),
            None => std::env::var("PATH").unwrap_or_default(),
        };
        let mut cmd = Command::new("bash");
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&script_path)
            .current_dir(self.dir.path().join("workspace"))
            .env_clear()
            .env("PATH", path)
            .env("HOME", self.dir.path())
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_ACTION_PATH", &self.action)
            .env("GITHUB_OUTPUT", &output_file)
            .env("GITHUB_STEP_SUMMARY", self.dir.path().join("summary.md"))
            .env("GITHUB_SERVER_URL", "https://github.com")
            .env("GITHUB_REPOSITORY", "octo-org/payments")
            .env("RUNNER_OS", self.runner.0)
            .env("RUNNER_ARCH", self.runner.1)
            .env("RUNNER_TEMP", self.dir.path().join("runner-temp"))
            .env("MONGO_PREFLIGHT_DOWNLOAD_BASE", format!("file://{}", self.dir.path().join("releases").display()));
        if let Some(env) = step["env"].as_mapping() {
            for (k, v) in env {
                let value = self.substitute(v.as_str().unwrap_or_default());
                cmd.env(k.as_str().expect("env name"), value);
            }
        }
        let out = support::run(cmd);
        let outputs = parse_outputs(&std::fs::read_to_string(&output_file).unwrap_or_default());
        self.step_outputs.insert(id.to_string(), outputs);
        StepRun {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn action_output(&self, name: &str) -> String {
        let value = action_yml()["outputs"][name]["value"].as_str().expect("output value").to_string();
        self.substitute(&value)
    }
}

/// A stand-in release binary: logs its arguments, writes the verdict like `check` does, and
/// exits 1 (a failing verdict).
fn fake_binary(log: &Path) -> String {
    format!(
        r#"#!/usr/bin/env bash
if [ "$1" = "--version" ]; then echo "mongo-preflight 0.0.0-fake"; exit 0; fi
printf '%s\n' "$@" > "{log}"
echo "token=${{GITHUB_TOKEN:+set}}" >> "{log}.env"
echo "verdict=fail" >> "$GITHUB_OUTPUT"
# Like the real binary: the output names the SARIF file once it is written.
prev=""
for arg in "$@"; do
  if [ "$prev" = "--sarif" ]; then echo '{{}}' > "$arg"; echo "sarif-file=$arg" >> "$GITHUB_OUTPUT"; fi
  prev="$arg"
done
exit 1
"#,
        log = log.display()
    )
}

#[test]
fn run_steps_take_inputs_only_through_env() {
    let action = action_yml();
    assert_eq!(action["runs"]["using"].as_str(), Some("composite"), "no Docker: runs on every runner OS");
    let steps = action["runs"]["steps"].as_sequence().expect("steps");
    let mut env_text = String::new();
    for step in steps {
        let run = step["run"].as_str().expect("every step is a run step");
        assert!(!run.contains("${{"), "expression inside run: {run}");
        assert!(run.contains("$GITHUB_ACTION_PATH/scripts/action/"), "{run}");
        env_text.push_str(&serde_yaml_ng::to_string(&step["env"]).expect("env"));
    }
    let inputs = action["inputs"].as_mapping().expect("inputs");
    let names: Vec<&str> = inputs.keys().filter_map(|k| k.as_str()).collect();
    assert_eq!(
        names,
        ["policy", "version", "build-from-source", "github-token", "comment", "issue", "sarif-file", "format", "args"]
    );
    for name in names {
        assert!(env_text.contains(&format!("inputs.{name} ")), "input {name} reaches a step through env");
    }
    assert_eq!(action["inputs"]["github-token"]["default"].as_str(), Some("${{ github.token }}"));
    assert_eq!(action["inputs"]["comment"]["default"].as_str(), Some("true"));
    let outputs: Vec<&str> =
        action["outputs"].as_mapping().expect("outputs").keys().filter_map(|k| k.as_str()).collect();
    assert_eq!(outputs, ["verdict", "sarif-file"]);
}

#[test]
fn a_verified_release_binary_is_installed_and_runs() {
    let mut h = Harness::new();
    let version = source_version();
    let real = support::binary_bytes();
    let asset = h.publish_asset(&version, &real);
    h.pin_checksum(&format!("{}  mongo-preflight-v{version}-{TARGET}", sha256(&asset)));

    let run = h.run_step("install");
    assert_eq!(run.code, 0, "stdout: {}\nstderr: {}", run.stdout, run.stderr);
    assert!(run.stdout.contains("matches checksums/sha256.sum"), "{}", run.stdout);
    let bin = PathBuf::from(&h.step_outputs["install"]["bin"]);
    assert!(bin.starts_with(h.dir.path().join("runner-temp")), "{}", bin.display());
    let mut installed = Command::new(&bin);
    support::remove_caller_env(&mut installed);
    installed.arg("--version");
    let out = support::run(installed);
    assert!(String::from_utf8_lossy(&out.stdout).contains(&version));
    assert_eq!(h.step_outputs["install"]["version"], version);
}

#[test]
fn a_wrong_checksum_stops_the_step_and_leaves_no_binary() {
    let mut h = Harness::new();
    let version = source_version();
    let log = h.dir.path().join("ran");
    h.publish_asset(&version, format!("#!/bin/sh\ntouch {}\n", log.display()).as_bytes());
    // The hash of something else: a tampered or replaced release asset.
    let other = h.dir.path().join("other");
    std::fs::write(&other, b"the binary the maintainers released").expect("other");
    h.pin_checksum(&format!("{}  mongo-preflight-v{version}-{TARGET}", sha256(&other)));

    let run = h.run_step("install");
    assert_ne!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("::error title=mongo-preflight install::checksum mismatch"), "{}", run.stdout);
    assert!(!h.step_outputs["install"].contains_key("bin"), "no binary for the next step");
    assert!(!log.exists(), "the unverified download never ran");
    let leftovers: Vec<_> = walk(&h.dir.path().join("runner-temp"));
    assert!(leftovers.is_empty(), "the download was removed: {leftovers:?}");

    // The next step has nothing to run and says so.
    let check = h.run_step("check");
    assert_eq!(check.code, 2, "{}", check.stdout);
    assert!(check.stdout.contains("was not installed"));
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = vec![];
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() { files.extend(walk(&p)) } else { files.push(p) }
    }
    files
}

#[test]
fn the_check_step_passes_inputs_and_exits_with_the_verdict() {
    let mut h = Harness::new()
        .input("policy", "ci/mongo-preflight.yml")
        .input("sarif-file", "reports/mongo-preflight.sarif")
        .input("args", "--timeout 5  --base origin/main")
        .input("github-token", "ghs_fromtheinput");
    let log = h.install_fake_release();

    let run = h.run_step("check");
    assert_eq!(run.code, 1, "the step fails with the verdict: {}{}", run.stdout, run.stderr);
    let args = std::fs::read_to_string(&log).expect("the binary ran");
    assert_eq!(
        args.lines().collect::<Vec<_>>(),
        [
            "check",
            "--policy",
            "ci/mongo-preflight.yml",
            "--sarif",
            "reports/mongo-preflight.sarif",
            "--comment",
            "--timeout",
            "5",
            "--base",
            "origin/main"
        ]
    );
    assert_eq!(std::fs::read_to_string(format!("{}.env", log.display())).expect("env"), "token=set\n");
    assert_eq!(h.action_output("verdict"), "fail");
    assert_eq!(h.action_output("sarif-file"), "reports/mongo-preflight.sarif");
}

#[test]
fn sarif_file_keeps_the_chosen_format_and_comment_can_be_off() {
    let mut h = Harness::new()
        .input("sarif-file", "out.sarif")
        .input("format", "github")
        .input("comment", "false")
        .input("args", "$(touch /tmp/should-not-exist-mp) ;echo")
        .input("github-token", "ghs_fromtheinput");
    let log = h.install_fake_release();
    assert_eq!(h.run_step("check").code, 1);
    let args = std::fs::read_to_string(&log).expect("ran");
    assert_eq!(
        args.lines().collect::<Vec<_>>(),
        ["check", "--format", "github", "--sarif", "out.sarif", "$(touch", "/tmp/should-not-exist-mp)", ";echo"],
        "extra args are split on spaces, never evaluated"
    );
    assert!(!Path::new("/tmp/should-not-exist-mp").exists());
}

#[test]
fn a_bad_comment_input_is_refused() {
    let mut h = Harness::new().input("comment", "maybe");
    let log = h.install_fake_release();
    let run = h.run_step("check");
    assert_eq!(run.code, 2);
    assert!(run.stdout.contains("'comment' must be true or false"), "{}", run.stdout);
    assert!(!log.exists());
}

#[test]
fn without_a_pinned_checksum_nothing_compiles_unasked() {
    let mut h = Harness::new();
    // A cargo that would record being run: it must not be.
    let tools = h.dir.path().join("tools");
    std::fs::create_dir_all(&tools).expect("mkdir");
    let cargo_log = h.dir.path().join("cargo.log");
    write_executable(&tools.join("cargo"), &format!("#!/usr/bin/env bash\ntouch \"{}\"\n", cargo_log.display()));
    h.extra_path = Some(tools);
    let run = h.run_step("install");
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("names no release binary"), "{}", run.stdout);
    assert!(run.stdout.contains("'build-from-source: true'"), "the message names the input: {}", run.stdout);
    assert!(!cargo_log.exists(), "cargo never ran");
    assert!(!h.step_outputs["install"].contains_key("bin"));
}

#[test]
fn with_build_from_source_and_no_pinned_checksum_the_action_builds_from_its_source() {
    let mut h = Harness::new().input("build-from-source", "true");
    // A stand-in cargo: records how it was called and "builds" a binary where --root says.
    let tools = h.dir.path().join("tools");
    std::fs::create_dir_all(&tools).expect("mkdir");
    let cargo_log = h.dir.path().join("cargo.log");
    write_executable(
        &tools.join("cargo"),
        &format!(
            r#"#!/usr/bin/env bash
printf '%s\n' "$@" > "{log}"
root=""
while [ $# -gt 0 ]; do [ "$1" = "--root" ] && root="$2"; shift; done
mkdir -p "$root/bin"
printf '#!/bin/sh\necho mongo-preflight from-source\n' > "$root/bin/mongo-preflight"
chmod +x "$root/bin/mongo-preflight"
"#,
            log = cargo_log.display()
        ),
    );
    h.extra_path = Some(tools);

    let run = h.run_step("install");
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("::notice title=mongo-preflight install::No published binary"), "{}", run.stdout);
    let args = std::fs::read_to_string(&cargo_log).expect("cargo ran");
    let args: Vec<&str> = args.lines().collect();
    assert_eq!(&args[..4], ["install", "--locked", "--path", h.action.to_str().expect("utf-8")]);
    assert_eq!(args[4], "--root");
    let bin = &h.step_outputs["install"]["bin"];
    assert!(bin.ends_with("/cargo/bin/mongo-preflight"), "{bin}");
}

#[test]
fn a_requested_version_without_a_pinned_checksum_is_an_error_not_a_different_build() {
    let mut h = Harness::new().input("version", "v9.9.9");
    let run = h.run_step("install");
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("version 9.9.9 has no checksum"), "{}", run.stdout);
    assert!(!h.step_outputs["install"].contains_key("bin"));
}

#[test]
fn a_download_that_is_missing_fails_the_step() {
    let mut h = Harness::new();
    let version = source_version();
    h.pin_checksum(&format!("{}  mongo-preflight-v{version}-{TARGET}", "ab".repeat(32)));
    let run = h.run_step("install");
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("cannot download"), "{}", run.stdout);
}

#[test]
fn every_hosted_runner_gets_its_own_verified_binary() {
    let version = source_version();
    for (os, arch, asset) in [
        ("Linux", "ARM64", "aarch64-unknown-linux-musl"),
        ("macOS", "X64", "x86_64-apple-darwin"),
        ("macOS", "ARM64", "aarch64-apple-darwin"),
        ("Windows", "X64", "x86_64-pc-windows-msvc.exe"),
    ] {
        let mut h = Harness::new().runner(os, arch);
        let log = h.dir.path().join("args.log");
        let name = format!("mongo-preflight-v{version}-{asset}");
        // Another runner's binary is pinned and published too: the install must not take it.
        let other = h.publish_asset(&version, b"#!/bin/sh\nexit 99\n");
        h.pin_checksum(&format!("{}  mongo-preflight-v{version}-{TARGET}", sha256(&other)));
        let published = h.publish_asset_named(&name, &version, fake_binary(&log).as_bytes());
        h.pin_checksum(&format!("{}  {name}", sha256(&published)));
        let run = h.run_step("install");
        assert_eq!(run.code, 0, "{os}/{arch}: {}{}", run.stdout, run.stderr);
        assert!(run.stdout.contains(&format!("/{name}")), "{os}/{arch} downloads its own asset: {}", run.stdout);
        let bin = h.step_outputs["install"]["bin"].clone();
        let exe = if os == "Windows" { ".exe" } else { "" };
        assert!(bin.ends_with(&format!("mongo-preflight{exe}")), "{os}/{arch}: {bin}");
    }
}

#[test]
fn a_runner_without_a_release_binary_is_told_what_to_do() {
    let version = source_version();
    let mut h = Harness::new().runner("Windows", "ARM64");
    let asset = h.publish_asset(&version, b"#!/bin/sh\nexit 99\n");
    h.pin_checksum(&format!("{}  mongo-preflight-v{version}-{TARGET}", sha256(&asset)));
    let run = h.run_step("install");
    assert_ne!(run.code, 0);
    assert!(
        run.stdout.contains("build-from-source") || run.stderr.contains("build-from-source"),
        "{}{}",
        run.stdout,
        run.stderr
    );
}

#[test]
fn the_sarif_file_output_is_empty_when_the_run_could_not_be_judged() {
    let mut h = Harness::new().input("sarif-file", "reports/mongo-preflight.sarif");
    let version = source_version();
    // Exit 2 writes nothing, the SARIF file included: an upload step must not be pointed at it.
    let asset = h.publish_asset(
        &version,
        b"#!/bin/sh\n[ \"$1\" = --version ] && exit 0\necho 'error: bad policy' >&2\nexit 2\n",
    );
    h.pin_checksum(&format!("{}  mongo-preflight-v{version}-{TARGET}", sha256(&asset)));
    assert_eq!(h.run_step("install").code, 0);
    assert_eq!(h.run_step("check").code, 2);
    assert!(!h.dir.path().join("workspace/reports/mongo-preflight.sarif").exists());
    assert_eq!(h.action_output("sarif-file"), "");
    assert_eq!(h.action_output("verdict"), "");
}

#[test]
fn the_issue_input_asks_check_for_issues_and_is_validated() {
    for (value, expect_flag, expect_code) in [("true", true, 1), ("false", false, 1), ("sometimes", false, 2)] {
        let mut h = Harness::new().input("issue", value).input("comment", "false");
        let log = h.install_fake_release();
        let run = h.run_step("check");
        assert_eq!(run.code, expect_code, "issue: {value}: {}{}", run.stdout, run.stderr);
        let args = std::fs::read_to_string(&log).unwrap_or_default();
        assert_eq!(args.lines().any(|a| a == "--issue"), expect_flag, "issue: {value}: {args}");
    }
}
