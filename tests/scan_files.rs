//! Which files the scan reads, in real git repositories: none of the ways a change could hide
//! an insecure line from the gate works.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::Path;

use mongo_preflight::catalog::Documented;
use mongo_preflight::scan::{self, IgnoreFile, IgnoreFiles, ScanOptions};

mod support;

/// git in `dir`, which is also its home.
fn git(dir: &Path, args: &[&str]) -> String {
    support::git(dir, dir, args)
}

const URI_LINE: &str = "MONGODB_URI=mongodb://h.example.net/?tlsAllowInvalidCertificates=true\n";

fn write(root: &Path, rel: &str, content: impl AsRef<[u8]>) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

#[cfg(unix)]
fn symlink(root: &Path, rel: &str, target: impl AsRef<Path>) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(target, path).unwrap();
}

/// A repository with everything committed.
fn repo(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    for (rel, content) in files {
        write(dir.path(), rel, content);
    }
    commit(dir.path());
    dir
}

fn commit(dir: &Path) {
    git(dir, &["add", "-A", "-f"]);
    git(dir, &["commit", "-q", "--allow-empty", "-m", "x"]);
}

fn run(options: ScanOptions) -> scan::ScanOutcome {
    scan::run(&options).unwrap()
}

fn scan_dir(dir: &Path) -> scan::ScanOutcome {
    run(ScanOptions { root: dir.to_path_buf(), ..Default::default() })
}

fn triples(outcome: &scan::ScanOutcome) -> Vec<(String, u32, String)> {
    outcome.findings.iter().map(|f| (f.path.clone(), f.line, f.rule.id().to_string())).collect()
}

fn t(path: &str, line: u32, rule: &str) -> (String, u32, String) {
    (path.to_string(), line, rule.to_string())
}

fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut out = if big_endian { vec![0xFE, 0xFF] } else { vec![0xFF, 0xFE] };
    for unit in text.encode_utf16() {
        out.extend(if big_endian { unit.to_be_bytes() } else { unit.to_le_bytes() });
    }
    out
}

#[test]
fn a_gitignore_entry_does_not_hide_a_tracked_file() {
    let dir = repo(&[("app/.env", URI_LINE.as_bytes())]);
    write(dir.path(), ".gitignore", "app/.env\n");
    write(dir.path(), "app/.gitignore", "*\n");
    commit(dir.path());
    assert_eq!(triples(&scan_dir(dir.path())), vec![t("app/.env", 1, "allow-invalid-certificates")]);
}

#[test]
fn an_ignore_file_entry_does_not_hide_a_tracked_file() {
    let dir = repo(&[("app/.env", URI_LINE.as_bytes()), (".ignore", b"app/\n")]);
    assert_eq!(triples(&scan_dir(dir.path())), vec![t("app/.env", 1, "allow-invalid-certificates")]);
}

#[test]
fn given_ignore_files_replace_the_working_tree_ones() {
    let dir = repo(&[
        ("app/.env", URI_LINE.as_bytes()),
        ("fixtures/insecure.env", b"MONGODB_TLS_INSECURE=true\n"),
        ("tests/data/.env", b"MONGODB_TLS_INSECURE=true\n"),
    ]);
    // What the change under review adds: an entry for its own insecure file.
    write(dir.path(), ".mongo-preflight-ignore", "app/\n");
    commit(dir.path());
    assert_eq!(
        triples(&scan_dir(dir.path())),
        vec![t("fixtures/insecure.env", 1, "tls-insecure"), t("tests/data/.env", 1, "tls-insecure")],
        "the working tree's file applies by default"
    );
    let base = IgnoreFiles::Given(vec![
        IgnoreFile { dir: String::new(), content: "# test data\nfixtures/\n".to_string() },
        IgnoreFile { dir: "tests".to_string(), content: "/data/\n".to_string() },
    ]);
    let outcome = run(ScanOptions { root: dir.path().to_path_buf(), ignore_files: base, ..Default::default() });
    assert_eq!(triples(&outcome), vec![t("app/.env", 1, "allow-invalid-certificates")]);
    assert_eq!(
        scan::ignore_entries("# test data\n\nfixtures/\n!fixtures/keep.env\n"),
        vec!["fixtures/", "!fixtures/keep.env"]
    );
}

#[test]
fn ignore_file_dirs_are_relative_to_the_repository_top() {
    let dir = repo(&[
        ("svc/fixtures/a.env", b"MONGODB_TLS_INSECURE=true\n"),
        ("svc/app.env", b"MONGODB_TLS_INSECURE=true\n"),
    ]);
    let given = IgnoreFiles::Given(vec![IgnoreFile { dir: "svc".to_string(), content: "/fixtures/\n".to_string() }]);
    let outcome = run(ScanOptions { root: dir.path().join("svc"), ignore_files: given, ..Default::default() });
    assert_eq!(triples(&outcome), vec![t("app.env", 1, "tls-insecure")]);
}

#[cfg(unix)]
#[test]
fn symlinks_inside_the_repository_are_followed_once() {
    let dir = repo(&[
        ("settings/db.env", b"MONGODB_TLS_INSECURE=true\n"),
        ("vendored/conf/x.env", URI_LINE.as_bytes()),
        ("data/real.env", b"MONGODB_TLS_ALLOW_INVALID_HOSTNAMES=true\n"),
    ]);
    // A file and a directory the options leave out, reached through links that they do not.
    symlink(dir.path(), "app/.env", "../data/real.env");
    symlink(dir.path(), "linked", "vendored/conf");
    // Already in the set under their real paths: not read twice.
    symlink(dir.path(), "conf", "settings");
    symlink(dir.path(), "settings/again.env", "db.env");
    // A cycle.
    symlink(dir.path(), "settings/loop", "..");
    // What git ignores is not part of the repository, through a link either.
    write(dir.path(), ".gitignore", "build/\n");
    write(dir.path(), "build/out.env", "MONGODB_TLS_INSECURE=true\n");
    symlink(dir.path(), "outputs", "build");
    git(dir.path(), &["add", ".gitignore", "app", "conf", "linked", "outputs", "settings"]);
    git(dir.path(), &["commit", "-q", "-m", "links"]);
    let outcome = run(ScanOptions {
        root: dir.path().to_path_buf(),
        exclude: vec!["data/**".to_string(), "vendored".to_string()],
        ..Default::default()
    });
    assert_eq!(
        triples(&outcome),
        vec![
            t("app/.env", 1, "allow-invalid-hostnames"),
            t("linked/x.env", 1, "allow-invalid-certificates"),
            t("settings/db.env", 1, "tls-insecure"),
        ]
    );
    assert!(outcome.notes.is_empty(), "{:?}", outcome.notes);
}

#[cfg(unix)]
#[test]
fn symlinks_out_of_the_repository_are_noted_not_followed() {
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "secret.env", "MONGODB_TLS_INSECURE=true\n");
    let dir = repo(&[("ok.env", b"MONGODB_TLS_INSECURE=false\n")]);
    symlink(dir.path(), "app/.env", outside.path().join("secret.env"));
    symlink(dir.path(), "gone.env", "no-such-file.env");
    commit(dir.path());
    let outcome = scan_dir(dir.path());
    assert_eq!(triples(&outcome), vec![]);
    let notes: Vec<&str> = outcome.notes.iter().map(|n| n.message.as_str()).collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].contains("did not follow 2 symlinks"), "{notes:?}");
    assert!(notes[0].contains("`app/.env`") && notes[0].contains("`gone.env`"), "{notes:?}");
}

#[test]
fn a_file_padded_past_4_mib_is_scanned_to_its_end() {
    let mut padded = "# generated\n".repeat(5 * 1024 * 1024 / 12);
    let lines = padded.lines().count() as u32;
    padded.push_str(URI_LINE);
    assert!(padded.len() > 5 * 1024 * 1024);
    let dir = repo(&[("config/big.env", padded.as_bytes())]);
    assert_eq!(triples(&scan_dir(dir.path())), vec![t("config/big.env", lines + 1, "allow-invalid-certificates")]);
    // The same file streamed in small windows: same finding, same place.
    let streamed =
        run(ScanOptions { root: dir.path().to_path_buf(), stream_window: Some(64 * 1024), ..Default::default() });
    assert_eq!(streamed.findings, scan_dir(dir.path()).findings);
}

#[test]
fn a_nul_byte_does_not_make_a_file_unscanned() {
    let mut bytes = b"\0\0\0\0".to_vec();
    bytes.extend(URI_LINE.as_bytes());
    let dir = repo(&[("deploy/.env", &bytes)]);
    assert_eq!(triples(&scan_dir(dir.path())), vec![t("deploy/.env", 1, "allow-invalid-certificates")]);
}

#[test]
fn utf16_little_endian_dotenv_with_bom() {
    let text = format!("# local\r\n{}", URI_LINE.replace('\n', "\r\n"));
    let dir = repo(&[(".env", &utf16(&text, false))]);
    let outcome = scan_dir(dir.path());
    let got: Vec<(&str, u32, u32, &str)> =
        outcome.findings.iter().map(|f| (f.path.as_str(), f.line, f.column, f.rule.id())).collect();
    assert_eq!(got, vec![(".env", 2, 38, "allow-invalid-certificates")]);
}

#[test]
fn utf16_big_endian_appsettings_and_its_base_fingerprint() {
    let text = "{\n  \"MongoDb\": {\n    \"ConnectionString\": \"mongodb://db1.example.com/\",\n    \"AllowInsecureTls\": true\n  }\n}\n";
    let dir = repo(&[("src/Api/appsettings.json", &utf16(text, true))]);
    assert_eq!(triples(&scan_dir(dir.path())), vec![t("src/Api/appsettings.json", 4, "tls-insecure")]);
    // The base commit's blob is decoded the same way: the finding is an old one.
    let outcome =
        run(ScanOptions { root: dir.path().to_path_buf(), base: Some("HEAD".to_string()), ..Default::default() });
    assert_eq!(outcome.findings.len(), 1);
    assert!(!outcome.findings[0].new, "{:?}", outcome.findings);
}

#[test]
fn a_star_in_exclude_stays_within_one_directory() {
    let py = "from pymongo import MongoClient\nc = MongoClient(URI, tlsInsecure=True)\n";
    let dir = repo(&[("app/db.py", py.as_bytes()), ("setup.py", py.as_bytes())]);
    let excluding = |pattern: &str| {
        triples(&run(ScanOptions {
            root: dir.path().to_path_buf(),
            exclude: vec![pattern.to_string()],
            ..Default::default()
        }))
    };
    assert_eq!(excluding("*.py"), vec![t("app/db.py", 2, "tls-insecure")]);
    assert_eq!(excluding("./*.py"), vec![t("app/db.py", 2, "tls-insecure")]);
    assert_eq!(excluding("**/*.py"), vec![]);
}

#[test]
fn untracked_files_count_unless_git_ignores_them() {
    let dir = repo(&[(".gitignore", b"*.local.env\nbuild/\n")]);
    write(dir.path(), "dev.local.env", "MONGODB_TLS_INSECURE=true\n");
    write(dir.path(), "build/out.env", "MONGODB_TLS_INSECURE=true\n");
    write(dir.path(), "new.env", "MONGODB_TLS_INSECURE=true\n");
    let outcome = scan_dir(dir.path());
    assert_eq!(triples(&outcome), vec![t("new.env", 1, "tls-insecure")]);
    assert_eq!(outcome.files_scanned, 2, "the .gitignore and new.env");
}

#[test]
fn deleted_files_and_submodules_are_passed_over() {
    let dir = repo(&[("gone.env", b"MONGODB_TLS_INSECURE=true\n"), ("kept.env", b"MONGODB_TLS_INSECURE=true\n")]);
    std::fs::remove_file(dir.path().join("gone.env")).unwrap();
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    git(&sub, &["init", "-q"]);
    write(&sub, "inner.env", "MONGODB_TLS_INSECURE=true\n");
    git(&sub, &["add", "-A"]);
    git(&sub, &["commit", "-q", "-m", "inner"]);
    let head = git(&sub, &["rev-parse", "HEAD"]);
    git(dir.path(), &["update-index", "--add", "--cacheinfo", &format!("160000,{head},sub")]);
    let outcome = scan_dir(dir.path());
    assert_eq!(triples(&outcome), vec![t("kept.env", 1, "tls-insecure")]);
    assert!(outcome.notes.is_empty(), "{:?}", outcome.notes);
}

#[test]
fn paths_restrict_the_listing_and_ignore_files_above_them_apply() {
    let dir = repo(&[
        (".mongo-preflight-ignore", b"fixtures/\n"),
        ("app/.env", b"MONGODB_TLS_INSECURE=true\n"),
        ("app/fixtures/x.env", b"MONGODB_TLS_INSECURE=true\n"),
        ("other/.env", b"MONGODB_TLS_INSECURE=true\n"),
    ]);
    write(dir.path(), ".gitignore", "app/\n");
    let outcome = run(ScanOptions { root: dir.path().to_path_buf(), paths: vec!["app".into()], ..Default::default() });
    assert_eq!(triples(&outcome), vec![t("app/.env", 1, "tls-insecure")]);
}
