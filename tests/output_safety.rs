//! Output that nothing outside can steer: in GitHub Actions the report is fenced off from the
//! runner's workflow-command parser, secrets are masked before anything else is printed, and no
//! password appears in any format or log level, whatever characters it holds.

use std::path::Path;
use std::process::{Command, Output};

mod support;

use support::Watched;

const FORMATS: [&str; 5] = ["text", "json", "markdown", "sarif", "github"];
/// The part of every canary password that must never be printed.
const CORE: &str = "Zq8vCanary";

/// Nothing from the caller's environment steers these runs.
fn command(dir: &Path) -> Command {
    let mut cmd = support::mongo_preflight();
    cmd.current_dir(dir).env("HOME", dir).env("GIT_CONFIG_NOSYSTEM", "1");
    cmd
}

fn all_output(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Lines other than the masks themselves.
fn unmasked(text: &str) -> String {
    text.lines().filter(|l| !l.starts_with("::add-mask::")).collect::<Vec<_>>().join("\n")
}

fn git(dir: &Path, args: &[&str]) {
    support::git(dir, dir, args);
}

#[test]
fn no_canary_password_reaches_any_format_or_log_level() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("mongo-preflight.yml"),
        "version: 1\nclusters:\n  - name: orders\n    uri_env: ORDERS_URI\n",
    )
    .expect("policy");
    // Each password breaks a character-class redactor somewhere. Some are valid (the probe
    // runs against a refused port), some make the URI invalid (exit 2 with a message).
    let passwords = [
        format!("a]{CORE}"),
        format!("a\"{CORE}"),
        format!("a{{{CORE}}}"),
        format!("a<{CORE}>"),
        format!("a {CORE} b"),
        format!("a'{CORE}`"),
        format!("a%20{CORE}"),
        format!("a://{CORE}"),
    ];
    for password in &passwords {
        let uri = format!("mongodb://app:{password}@127.0.0.1:1/?appName=x");
        for format in FORMATS {
            for actions in [false, true] {
                let mut cmd = command(dir.path());
                cmd.args(["check", "--format", format, "--timeout", "2"])
                    .env("ORDERS_URI", &uri)
                    .env("RUST_LOG", "trace");
                if actions {
                    cmd.env("GITHUB_ACTIONS", "true");
                }
                let out = cmd.watched();
                let text = all_output(&out);
                assert!(out.status.code().is_some_and(|c| (0..=2).contains(&c)), "{password:?} {format}: {text}");
                assert!(!unmasked(&text).contains(CORE), "{password:?} {format} actions={actions}:\n{text}");
                if actions {
                    assert!(
                        text.contains("TRACE") || text.contains("DEBUG") || out.status.code() == Some(2),
                        "trace logs ran"
                    );
                    assert!(text.contains(&format!("::add-mask::{}", uri.replace('%', "%25"))), "{text}");
                }
            }
        }
    }
}

#[test]
fn no_atlas_secret_reaches_any_format_or_log_level() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("mongo-preflight.yml"),
        "version: 1\nclusters:\n  - name: orders\n    uri_env: ORDERS_URI\natlas:\n  project_id: 65a1b2c3d4e5f6a7b8c9d0e1\n",
    )
    .expect("policy");
    let private_key = format!("pk-{CORE}-1");
    let client_secret = format!("sk-{CORE}-2");
    for (id_var, id, secret_var, secret) in [
        ("MONGODB_ATLAS_PUBLIC_KEY", "pubkey", "MONGODB_ATLAS_PRIVATE_KEY", &private_key),
        ("MONGODB_ATLAS_CLIENT_ID", "mdb_sa_id_x", "MONGODB_ATLAS_CLIENT_SECRET", &client_secret),
    ] {
        for format in FORMATS {
            for actions in [false, true] {
                let mut cmd = command(dir.path());
                cmd.args(["check", "--format", format, "--timeout", "2", "--egress-ip", "198.51.100.7"])
                    .env("ORDERS_URI", "mongodb://127.0.0.1:1/")
                    .env("MONGODB_ATLAS_BASE_URL", "http://127.0.0.1:1")
                    .env(id_var, id)
                    .env(secret_var, secret)
                    .env("RUST_LOG", "trace");
                if actions {
                    cmd.env("GITHUB_ACTIONS", "true");
                }
                let out = cmd.watched();
                let text = all_output(&out);
                assert!(out.status.code().is_some_and(|c| (0..=2).contains(&c)), "{format}: {text}");
                assert!(text.contains("atlas-api-unavailable"), "{format}: the API was asked: {text}");
                assert!(!unmasked(&text).contains(CORE), "{format} actions={actions}:\n{text}");
                if actions {
                    assert!(text.contains(&format!("::add-mask::{secret}")), "{text}");
                }
            }
        }
    }
}

#[test]
fn a_java_properties_snippet_never_shows_its_password() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("application.properties"),
        format!(
            "spring.data.mongodb.uri=mongodb\\://app\\:s3{CORE}\\:x@db.example.com\\:27017/orders?tlsAllowInvalidCertificates=true\n"
        ),
    )
    .expect("write");
    for format in FORMATS {
        let out = command(dir.path()).args(["scan", "--format", format]).watched();
        assert_eq!(out.status.code(), Some(1), "{format}: {}", all_output(&out));
        assert!(!all_output(&out).contains(CORE), "{format}: {}", all_output(&out));
        assert!(all_output(&out).contains("allow-invalid-certificates"), "{format}: the finding is reported");
    }
}

#[test]
fn in_actions_the_report_is_fenced_and_our_annotations_come_after() {
    let dir = tempfile::tempdir().expect("tempdir");
    git(dir.path(), &["init", "-q"]);
    // A file name and a snippet that would be live workflow commands if printed bare.
    let hostile_name = "x\n::stop-commands::pwned\n.env";
    std::fs::write(
        dir.path().join(hostile_name),
        "MONGODB_URI=mongodb://h.example.net/?tlsInsecure=true ##[add-mask]hide-everything\n",
    )
    .expect("write");
    git(dir.path(), &["add", "-A"]);
    let out = command(dir.path()).args(["scan", "--format", "text"]).env("GITHUB_ACTIONS", "true").watched();
    assert_eq!(out.status.code(), Some(1), "{}", all_output(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    let open = lines.iter().position(|l| l.starts_with("::stop-commands::")).expect("the fence opens");
    let token = lines[open].trim_start_matches("::stop-commands::");
    assert!(token.len() == 32 && token.chars().all(|c| c.is_ascii_hexdigit()), "a fresh random token: {token}");
    let close = lines.iter().position(|l| *l == format!("::{token}::")).expect("the fence closes");
    assert!(open < close);
    for (i, line) in lines.iter().enumerate() {
        let steering = line.starts_with("::") || line.starts_with("##[");
        if steering && line.contains("pwned") || line.contains("##[add-mask]") {
            assert!(open < i && i < close, "hostile text outside the fence at line {i}: {stdout}");
        }
    }
    // A second run gets another token.
    let again = command(dir.path()).args(["scan"]).env("GITHUB_ACTIONS", "true").watched();
    assert!(!String::from_utf8_lossy(&again.stdout).contains(&format!("::stop-commands::{token}")));

    // With --format github the annotations are ours: after the fence, escaped.
    let out = command(dir.path()).args(["scan", "--format", "github"]).env("GITHUB_ACTIONS", "true").watched();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    let open = lines.iter().position(|l| l.starts_with("::stop-commands::")).expect("fence");
    let token = lines[open].trim_start_matches("::stop-commands::");
    let close = lines.iter().position(|l| *l == format!("::{token}::")).expect("fence closes");
    let error = lines.iter().position(|l| l.starts_with("::error ")).expect("an annotation");
    assert!(close < error, "{stdout}");
    assert!(lines[error].contains("file=x%0A%3A%3Astop-commands%3A%3Apwned%0A.env"), "{}", lines[error]);
    assert!(!lines.iter().any(|l| l.starts_with("::stop-commands::pwned")), "{stdout}");
}

#[test]
fn outside_actions_nothing_is_fenced_or_masked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out =
        command(dir.path()).args(["check"]).env("ORDERS_URI", format!("mongodb://app:{CORE}@127.0.0.1:1/")).watched();
    let text = all_output(&out);
    assert!(!text.contains("::stop-commands::") && !text.contains("::add-mask::"), "{text}");
}

/// A client certificate and key as PEM text, as a CI secret holds them.
fn client_pem() -> String {
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["client.example".to_string()]).expect("certificate");
    format!("{}{}", cert.pem(), signing_key.serialize_pem())
}

#[cfg(unix)]
#[test]
fn the_client_certificate_file_lives_in_runner_temp_and_goes_even_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let runner_temp = tempfile::tempdir().expect("runner temp");
    // A TLS server that accepts and never answers: the run waits in the handshake.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("addr").port();
    silent.set_nonblocking(true).expect("nonblocking");
    // Holds what it accepts for at most ten seconds, then stops by itself.
    let holder = std::thread::spawn(move || {
        let mut held = Vec::new();
        for _ in 0..200 {
            if let Ok((conn, _)) = silent.accept() {
                held.push(conn);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    });
    std::fs::write(
        dir.path().join("mongo-preflight.yml"),
        format!(
            "version: 1\nclusters:\n  - name: mtls\n    uri: \"mongodb://127.0.0.1:{port}/?tls=true&directConnection=true\"\n    client_cert_env: CLIENT_PEM\n"
        ),
    )
    .expect("policy");
    let child = support::start(
        command(dir.path())
            .args(["check", "--timeout", "30"])
            .env("CLIENT_PEM", client_pem())
            .env("RUNNER_TEMP", runner_temp.path()),
        support::WATCHDOG,
    );
    let listed = || std::fs::read_dir(runner_temp.path()).map(|d| d.count()).unwrap_or(0);
    // Bounded wait for the file to appear where the runner cleans up.
    let mut waited = 0;
    while listed() == 0 && waited < 200 {
        std::thread::sleep(std::time::Duration::from_millis(50));
        waited += 1;
    }
    assert_eq!(listed(), 1, "the certificate is written under RUNNER_TEMP");
    let killed = Command::new("kill").args(["-TERM", &child.pid().to_string()]).status().expect("kill");
    assert!(killed.success());
    let status = child.finish().status;
    assert_eq!(status.code(), Some(143), "{status:?}");
    assert_eq!(listed(), 0, "removed on SIGTERM");
    holder.join().expect("the silent server stops");
}

#[test]
fn commands_that_print_only_our_own_text_are_not_fenced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = command(dir.path()).args(["schema"]).env("GITHUB_ACTIONS", "true").watched();
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).expect("schema > file stays valid JSON");
    assert_eq!(schema["title"], "mongo-preflight policy");
}

#[test]
fn a_policy_uri_cannot_put_a_live_link_in_the_comment() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("mongo-preflight.yml"),
        "version: 1\nclusters:\n  - name: orders\n    uri: \"mongodb://127.0.0.1:1/?appName=[Approve](https://evil.example/login)\"\n",
    )
    .expect("policy");
    let out = command(dir.path()).args(["check", "--format", "markdown", "--timeout", "2"]).watched();
    let markdown = String::from_utf8_lossy(&out.stdout);
    assert!(markdown.contains("Approve"), "the URI is shown: {markdown}");
    assert!(!markdown.contains("](") && !markdown.contains("https://evil"), "{markdown}");
    assert!(!markdown.contains("[Approve]"), "{markdown}");
}
