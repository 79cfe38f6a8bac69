//! SecantusDB instances: the real MongoDB-wire servers behind the lab.

use std::path::{Path, PathBuf};
use std::time::Duration;

use mongodb::bson::doc;

use super::process::{self, Guarded};

/// SecantusDB starts in 2–4 s on an idle machine; a busy CI box gets more room.
const START_DEADLINE: Duration = Duration::from_secs(45);

pub enum Mode<'a> {
    Plain,
    Tls { cert_chain: &'a Path, key: &'a Path },
    MutualTls { cert_chain: &'a Path, key: &'a Path, ca: &'a Path },
}

pub fn program() -> PathBuf {
    process::tool("MONGO_PREFLIGHT_SECANTUSD", &["secantusd-py"])
}

fn args(port: u16, storage: &str, mode: &Mode<'_>, auth: bool) -> Vec<String> {
    let mut args: Vec<String> = [
        "--host",
        "127.0.0.1",
        "--port",
        &port.to_string(),
        "--storage-path",
        storage,
        "--standalone",
        "--cache-size",
        "64M",
        "--log-level",
        "WARNING",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let path = |p: &Path| p.to_string_lossy().into_owned();
    match mode {
        Mode::Plain => {}
        Mode::Tls { cert_chain, key } => {
            args.extend(["--tls-cert-file".into(), path(cert_chain), "--tls-key-file".into(), path(key)]);
        }
        Mode::MutualTls { cert_chain, key, ca } => {
            args.extend([
                "--tls-cert-file".into(),
                path(cert_chain),
                "--tls-key-file".into(),
                path(key),
                "--tls-ca-file".into(),
                path(ca),
                "--tls-require-client-cert".into(),
            ]);
        }
    }
    if auth {
        args.push("--auth".into());
    }
    args
}

/// An in-memory instance.
pub async fn start(name: &str, mode: Mode<'_>, dir: &Path, lifetime: Duration) -> (Guarded, u16) {
    let program = program();
    process::start_listening(name, &program, dir, lifetime, START_DEADLINE, |port| args(port, ":memory:", &mode, false))
        .await
}

/// An instance with `--auth` and one user: SecantusDB provisions users only while running
/// without auth, so the user is created first and the instance restarted on the same storage.
pub async fn start_with_user(name: &str, dir: &Path, lifetime: Duration, user: &str, password: &str) -> (Guarded, u16) {
    let program = program();
    let storage = dir.join(format!("{name}-storage"));
    std::fs::create_dir_all(&storage).expect("lab: create auth storage");
    let storage = storage.to_string_lossy().into_owned();
    let (setup, setup_port) =
        process::start_listening(&format!("{name}-setup"), &program, dir, lifetime, START_DEADLINE, |port| {
            args(port, &storage, &Mode::Plain, false)
        })
        .await;
    create_user(setup_port, user, password).await;
    process::trace(&format!("{name}: user created"));
    // `create_user` ends with an fsync, so a hard kill loses nothing and saves the ~2 s a
    // graceful SecantusDB shutdown takes.
    setup.kill().await;
    process::trace(&format!("{name}: setup instance stopped"));
    process::start_listening(name, &program, dir, lifetime, START_DEADLINE, |port| {
        args(port, &storage, &Mode::Plain, true)
    })
    .await
}

async fn create_user(port: u16, user: &str, password: &str) {
    let uri = format!("mongodb://127.0.0.1:{port}/?directConnection=true&serverSelectionTimeoutMS=15000");
    let client = mongodb::Client::with_uri_str(&uri).await.expect("lab: client for createUser");
    let command = doc! {
        "createUser": user,
        "pwd": password,
        "roles": [ { "role": "root", "db": "admin" } ],
    };
    let result = tokio::time::timeout(Duration::from_secs(30), client.database("admin").run_command(command)).await;
    match result {
        Ok(Ok(_)) => {}
        // The password is the lab's canary: never let it reach a panic message.
        Ok(Err(e)) => panic!("lab: createUser failed: {}", e.to_string().replace(password, "<canary>")),
        Err(_) => panic!("lab: createUser timed out"),
    }
    match tokio::time::timeout(Duration::from_secs(30), client.database("admin").run_command(doc! { "fsync": 1 })).await
    {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => panic!("lab: fsync after createUser failed: {e}"),
        Err(_) => panic!("lab: fsync after createUser timed out"),
    }
    client.shutdown().immediate(true).await;
}
