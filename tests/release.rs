//! The release, end to end on this machine: `scripts/release-dry-run` builds the host target as
//! the release workflow does, writes its checksums and installs it through the action's
//! `install.sh`; then a tampered or missing asset must stop the install. And the asset names the
//! workflow builds are exactly the ones `install.sh` asks for.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod support;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `cmd` with nothing of the caller's environment, killed and failed after `minutes`.
fn run(mut cmd: Command, minutes: u64) -> Output {
    support::remove_caller_env(&mut cmd);
    support::output_within(cmd, std::time::Duration::from_secs(60 * minutes))
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// The install step alone, against the dry run's action copy and download base.
fn install(dir: &Path) -> Output {
    let output = dir.join("github-output");
    std::fs::write(&output, "").expect("output file");
    let mut cmd = Command::new("bash");
    cmd.arg(dir.join("action/scripts/action/install.sh"));
    support::remove_caller_env(&mut cmd);
    cmd.env("GITHUB_ACTION_PATH", dir.join("action"))
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", if cfg!(target_arch = "aarch64") { "ARM64" } else { "X64" })
        .env("RUNNER_TEMP", dir.join("runner-temp-again"))
        .env("GITHUB_OUTPUT", &output)
        .env("MONGO_PREFLIGHT_DOWNLOAD_BASE", format!("file://{}", dir.join("releases").display()));
    support::output_within(cmd, std::time::Duration::from_secs(120))
}

fn asset(dir: &Path) -> PathBuf {
    let version = env!("CARGO_PKG_VERSION");
    let download = dir.join(format!("releases/v{version}"));
    std::fs::read_dir(&download)
        .expect("download base")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("mongo-preflight-v") && !n.ends_with(".sha256"))
        })
        .expect("the asset")
}

#[cfg(target_os = "linux")]
#[test]
fn a_dry_run_release_installs_verified_and_a_tampered_or_missing_asset_stops_the_install() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The dev profile and the static test's target dir: the same recipe, built once per suite.
    let mut dry_run = Command::new(root().join("scripts/release-dry-run"));
    dry_run.arg(dir.path()).args(["--profile", "dev"]);
    support::remove_caller_env(&mut dry_run);
    dry_run.env("CARGO_TARGET_DIR", root().join("target/static-test"));
    // It builds the static binary: minutes on a cold cache, not an hour.
    let out = support::output_within(dry_run, std::time::Duration::from_secs(40 * 60));
    assert!(out.status.success(), "{}", text(&out));
    let installed = String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or_default().to_string();
    let mut installed_cmd = Command::new(&installed);
    installed_cmd.arg("--version");
    let version = run(installed_cmd, 1);
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("mongo-preflight {}", env!("CARGO_PKG_VERSION"))
    );
    assert!(text(&out).contains("matches checksums/sha256.sum"), "{}", text(&out));
    let sums = std::fs::read_to_string(dir.path().join("action/checksums/sha256.sum")).expect("sums");
    assert!(
        sums.lines().any(|l| l.ends_with(&format!(
            "-v{}-{}",
            env!("CARGO_PKG_VERSION"),
            if cfg!(target_arch = "aarch64") { "aarch64-unknown-linux-musl" } else { "x86_64-unknown-linux-musl" }
        ))),
        "{sums}"
    );

    // One byte changed after the checksums were written: refused, nothing left to run.
    let asset = asset(dir.path());
    let mut bytes = std::fs::read(&asset).expect("asset");
    bytes.push(0);
    std::fs::write(&asset, &bytes).expect("tamper");
    let tampered = install(dir.path());
    assert_eq!(tampered.status.code(), Some(1), "{}", text(&tampered));
    assert!(text(&tampered).contains("checksum mismatch"), "{}", text(&tampered));
    assert!(!std::fs::read_to_string(dir.path().join("github-output")).unwrap_or_default().contains("bin="));

    // The asset gone from the release page.
    std::fs::remove_file(&asset).expect("remove");
    let missing = install(dir.path());
    assert_eq!(missing.status.code(), Some(1), "{}", text(&missing));
    assert!(text(&missing).contains("cannot download"), "{}", text(&missing));
}

#[test]
fn the_release_workflow_builds_exactly_the_assets_install_sh_asks_for() {
    let workflow: serde_yaml_ng::Value = serde_yaml_ng::from_str(
        &std::fs::read_to_string(root().join(".github/workflows/release.yml")).expect("release.yml"),
    )
    .expect("yaml");
    let built: Vec<String> = workflow["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_sequence()
        .expect("matrix")
        .iter()
        .map(|e| e["target"].as_str().expect("target").to_string())
        .collect();
    let install = std::fs::read_to_string(root().join("scripts/action/install.sh")).expect("install.sh");
    // `OS/ARCH) target=TRIPLE` lines: what each runner asks for.
    let asked: Vec<String> = install
        .lines()
        .filter_map(|l| {
            l.split_once(") target=").map(|(_, rest)| rest.split([';', ' ']).next().unwrap_or_default().to_string())
        })
        .filter(|t| !t.is_empty() && t != "\"\"")
        .collect();
    let mut built_sorted = built.clone();
    built_sorted.sort();
    let mut asked_sorted = asked.clone();
    asked_sorted.sort();
    assert_eq!(built_sorted, asked_sorted, "release.yml builds {built:?}, install.sh asks for {asked:?}");
    assert_eq!(built.len(), 5);
    // Both name assets the same way, through one script.
    assert!(workflow["jobs"]["build"].to_owned().as_mapping().is_some());
    let build_steps = serde_yaml_ng::to_string(&workflow["jobs"]["build"]["steps"]).expect("steps");
    assert!(build_steps.contains("scripts/release-build"), "the workflow builds through scripts/release-build");
    let release_build = std::fs::read_to_string(root().join("scripts/release-build")).expect("release-build");
    assert!(release_build.contains("mongo-preflight-v$version-$target$exe"));
    assert!(install.contains("asset=\"mongo-preflight-v$version-$target$exe\""));
}
