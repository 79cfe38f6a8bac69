//! `check` judges the CA files the repository's MongoDB settings name, as it judges the one a
//! probe uses: by subject and key, Atlas roots required where the settings name an Atlas host.

use std::path::Path;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use serde_json::Value;

mod support;

fn run_check(dir: &Path, home: &Path) -> (i32, Value, String) {
    let mut cmd = support::mongo_preflight();
    cmd.current_dir(dir).env("HOME", home).env("GIT_CONFIG_NOSYSTEM", "1").env("GIT_CONFIG_GLOBAL", "/dev/null");
    cmd.args(["check", "--format", "json"]);
    let out = support::run(cmd);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), json, stdout)
}

/// The real root `name`, from the repository's copies (tests/fixtures/roots).
fn system_root(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/roots").join(format!("{name}.pem"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// An intermediate CA certificate (PEM) whose root is nowhere in the repository.
fn lone_intermediate() -> String {
    let ca = |cn: &str| {
        let mut p = CertificateParams::default();
        p.distinguished_name.push(DnType::CommonName, cn);
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        p
    };
    let root_key = KeyPair::generate().expect("key");
    let root_params = ca("Pinned Example Root");
    let _root = root_params.clone().self_signed(&root_key).expect("root");
    let key = KeyPair::generate().expect("key");
    ca("Pinned Example Intermediate")
        .signed_by(&key, &Issuer::from_params(&root_params, &root_key))
        .expect("sign")
        .pem()
}

fn write(dir: &Path, path: &str, text: &str) {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

fn names(json: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for c in json["clusters"].as_array().into_iter().flatten() {
        for d in c["diagnoses"].as_array().into_iter().flatten() {
            out.push((
                c["name"].as_str().unwrap_or_default().to_string(),
                d["code"].as_str().unwrap_or_default().to_string(),
                d["severity"].as_str().unwrap_or_default().to_string(),
            ));
        }
    }
    out
}

#[test]
fn ca_files_the_repository_names_are_judged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = tempfile::tempdir().expect("home");
    let d = dir.path();
    let git = |args: &[&str]| support::git(d, home.path(), args);
    std::fs::write(d.join("mongo-preflight.yml"), "version: 1\n").expect("policy");
    let all_five: String = ["ISRG_Root_X1", "GTS_Root_R1", "GTS_Root_R2", "GTS_Root_R3", "GTS_Root_R4"]
        .iter()
        .map(|n| system_root(n))
        .collect();
    // An Atlas application that trusts only Let's Encrypt: an error.
    write(d, "certs/isrg-only.pem", &system_root("ISRG_Root_X1"));
    write(
        d,
        "app/db.py",
        "from pymongo import MongoClient\nclient = MongoClient(\"mongodb+srv://cluster0.abcde.mongodb.net/\",\n    tlsCAFile=\"certs/isrg-only.pem\")\n",
    );
    // Another Atlas application with every root it needs: nothing (look-alike).
    write(d, "certs/atlas.pem", &all_five);
    write(d, "svc/.env", "MONGODB_URI=mongodb+srv://cluster1.abcde.mongodb.net/?tlsCAFile=certs%2Fatlas.pem\n");
    // A private server's client that pins an intermediate: a warning.
    write(d, "deploy/config.yml", "mongo:\n  host: db.internal.example\n  tlsCAFile: ../certs/pinned.pem\n");
    write(d, "certs/pinned.pem", &lone_intermediate());
    // A CA file nobody names, and a name of a file that is not there: nothing.
    write(d, "certs/unused.pem", &lone_intermediate());
    write(d, "docs/howto.md", "Pass `tlsCAFile=/path/to/ca.pem` to the driver.\n");
    git(&["init", "-q"]);
    git(&["add", "-A"]);

    let (code, json, stdout) = run_check(d, home.path());
    let mut got = names(&json);
    got.sort();
    assert_eq!(
        got,
        vec![
            ("CA file certs/isrg-only.pem".to_string(), "ca-bundle-incomplete".to_string(), "error".to_string()),
            ("CA file certs/pinned.pem".to_string(), "ca-pins-intermediate".to_string(), "warning".to_string()),
        ],
        "{stdout}"
    );
    assert_eq!(code, 1, "{stdout}");
    let entry = json["clusters"].as_array().and_then(|c| c.iter().find(|c| c["name"] == "CA file certs/isrg-only.pem"));
    let entry = entry.expect("the Atlas bundle");
    assert_eq!(entry["uri"], "named by app/db.py:3");
    let summary = entry["diagnoses"][0]["summary"].as_str().unwrap_or_default();
    assert!(summary.contains("GTS Root R1") && !summary.contains("ISRG"), "{summary}");

    // Untracked files are not the repository's settings.
    write(d, "scratch.py", "MongoClient('mongodb+srv://x.abcde.mongodb.net/', tlsCAFile='certs/unused.pem')\n");
    let (_, json, _) = run_check(d, home.path());
    assert_eq!(names(&json).len(), 2);
}
