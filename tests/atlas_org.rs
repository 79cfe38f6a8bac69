//! `check` and `lock` over every cluster of an Atlas organization, against the stand-in
//! organization of `tests/lab/atlas_org.rs`: discovery across pages, paused, creating and
//! deleting clusters, flex clusters, an unreadable project, a 429 in the middle of a page walk,
//! `projects:` and `exclude:`, a listed cluster that is also discovered, the lock's new and
//! gone clusters, and `--shard I/N` covering each cluster exactly once.

mod lab;
mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use lab::atlas_org::{self as org, OrgLab, Shape};
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(120);

struct Run {
    code: i32,
    json: Value,
    stdout: String,
    stderr: String,
}

impl Run {
    fn names(&self) -> Vec<String> {
        self.json["clusters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| c["name"].as_str().unwrap_or_default().to_string())
            .collect()
    }
    fn cluster(&self, name: &str) -> &Value {
        self.json["clusters"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no cluster {name} in {}", self.stdout))
    }
    fn notes(&self) -> String {
        self.json["notes"].to_string()
    }
}

fn policy(dir: &Path, atlas_extra: &str, clusters: &str) {
    let text = format!("version: 1\n{clusters}atlas:\n  organization_id: {}\n{atlas_extra}", org::ORG_ID);
    std::fs::write(dir.join("mongo-preflight.yml"), text).expect("policy");
}

fn run_in(dir: &Path, lab: &OrgLab, args: &[&str]) -> Run {
    let mut cmd = support::mongo_preflight();
    cmd.current_dir(dir).args(args).args(lab.probe_args()).args(["--timeout", "5"]);
    for (k, v) in lab.env() {
        cmd.env(k, v);
    }
    cmd.env("MONGO_PREFLIGHT_LOG", "trace");
    let out = support::output_within(cmd, LIMIT);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_no_secrets(&stdout, &stderr);
    let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    Run { code: out.status.code().unwrap_or(-1), json, stdout, stderr }
}

fn check(dir: &Path, lab: &OrgLab, extra: &[&str]) -> Run {
    let mut args = vec!["check", "--format", "json"];
    args.extend_from_slice(extra);
    run_in(dir, lab, &args)
}

/// The service account's secret and the bearer tokens never appear in any output.
fn assert_no_secrets(stdout: &str, stderr: &str) {
    for text in [stdout, stderr] {
        for secret in [org::CLIENT_SECRET, org::TOKEN_PREFIX] {
            assert!(!text.contains(secret), "a secret leaked: {secret}\n{text}");
        }
    }
}

fn expected(lab: &OrgLab) -> BTreeSet<String> {
    lab.with(|s| {
        s.projects
            .iter()
            .filter(|p| p.org_id == org::ORG_ID)
            .flat_map(|p| {
                p.clusters.iter().map(move |c| format!("{}/{}", p.name, c["name"].as_str().unwrap_or_default()))
            })
            .collect()
    })
}

#[test]
fn every_page_of_projects_and_of_clusters_is_discovered_and_each_cluster_probed() {
    let lab = OrgLab::start(&Shape { first_project_clusters: Some(103), ..Shape::small(102, 1) });
    let dir = tempfile::tempdir().expect("tempdir");
    policy(dir.path(), "", "");
    let run = check(dir.path(), &lab, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let names: BTreeSet<String> = run.names().into_iter().collect();
    assert_eq!(names.len(), 103 + 101);
    assert_eq!(names, expected(&lab));
    assert!(!names.iter().any(|n| n.contains("NotOurs")), "another organization's project was probed");
    // Each discovered cluster was really probed through its mongodb+srv name, strictly.
    let one = run.cluster("p002/c0104");
    assert_eq!(one["uri"], "mongodb+srv://c0104.p002.org.test/");
    assert_eq!(one["hosts"].as_array().map(Vec::len), Some(3), "{one}");
    let requests = lab.with(|s| s.requests.clone());
    let p001 = lab.with(|s| s.project("p001").id.clone());
    assert!(
        requests.iter().any(|r| r.starts_with("GET /api/atlas/v2/groups?") && r.contains("pageNum=2")),
        "{requests:?}"
    );
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with(&format!("GET /api/atlas/v2/groups/{p001}/clusters?")) && r.contains("pageNum=2")),
        "{requests:?}"
    );
    assert!(run.notes().contains("204 clusters discovered in 102 projects"), "{}", run.notes());
}

#[test]
fn paused_creating_deleting_and_flex_clusters() {
    let lab = OrgLab::start(&Shape::small(2, 3));
    lab.with(|s| {
        s.cluster("p001", "c0001")["paused"] = Value::Bool(true);
        s.cluster("p001", "c0002")["stateName"] = Value::from("CREATING");
        s.cluster("p002", "c0005")["stateName"] = Value::from("DELETING");
        let id = s.project("p002").id.clone();
        s.project("p002").flex.push(org::flex_json("p002", &id, "Flex"));
    });
    let dir = tempfile::tempdir().expect("tempdir");
    policy(dir.path(), "", "");
    let run = check(dir.path(), &lab, &[]);
    assert_eq!(run.code, 1, "a paused cluster fails: {}\n{}", run.stdout, run.stderr);
    let paused = run.cluster("p001/c0001");
    assert_eq!(paused["diagnoses"][0]["code"], "atlas-cluster-paused", "{paused}");
    assert_eq!(paused["hosts"].as_array().map(Vec::len), Some(0), "a paused cluster is not probed");
    let names = run.names();
    assert!(!names.contains(&"p001/c0002".to_string()) && !names.contains(&"p002/c0005".to_string()), "{names:?}");
    let notes = run.notes();
    assert!(notes.contains("`p001/c0002` was not probed") && notes.contains("CREATING"), "{notes}");
    assert!(notes.contains("`p002/c0005` was not probed") && notes.contains("DELETING"), "{notes}");
    let flex = run.cluster("p002/Flex");
    assert_eq!(flex["hosts"].as_array().map(Vec::len), Some(3), "{flex}");
    assert_eq!(support::codes(&run.json).into_iter().collect::<Vec<_>>(), vec!["atlas-cluster-paused".to_string()]);
}

#[test]
fn a_project_the_credentials_cannot_read_is_a_warning_naming_it() {
    let lab = OrgLab::start(&Shape::small(3, 2));
    let id = lab.with(|s| {
        s.project("p002").unreadable = true;
        s.project("p002").id.clone()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    policy(dir.path(), "", "");
    let run = check(dir.path(), &lab, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let warning = run.json["notes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|n| n["message"].as_str().is_some_and(|m| m.contains("`p002`")))
        .unwrap_or_else(|| panic!("no note names p002: {}", run.notes()));
    assert_eq!(warning["severity"], "warning");
    assert!(warning["message"].as_str().is_some_and(|m| m.contains(&id) && m.contains("401")), "{warning}");
    let names: BTreeSet<String> = run.names().into_iter().collect();
    let want: BTreeSet<String> =
        ["p001/c0001", "p001/c0002", "p003/c0005", "p003/c0006"].iter().map(|s| s.to_string()).collect();
    assert_eq!(names, want);
}

#[test]
fn a_429_in_the_middle_of_the_page_walk_is_waited_out() {
    let lab = OrgLab::start(&Shape::small(101, 1));
    lab.with(|s| s.rate_limit = Some(("pageNum=2".to_string(), 1)));
    let dir = tempfile::tempdir().expect("tempdir");
    policy(dir.path(), "", "");
    let run = check(dir.path(), &lab, &[]);
    assert_eq!(lab.with(|s| s.rate_limited), 1, "the stand-in sent its 429");
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.names().len(), 101, "every project after the 429 was still read: {}", run.notes());
}

#[test]
fn projects_and_exclude_narrow_the_clusters() {
    let lab = OrgLab::start(&Shape::small(4, 2));
    let p003 = lab.with(|s| s.project("p003").id.clone());
    let dir = tempfile::tempdir().expect("tempdir");
    policy(
        dir.path(),
        &format!("  projects: [p001, \"{p003}\", nowhere]\n  exclude: [\"*/c0002\", \"p003/c000[6-9]\"]\n"),
        "",
    );
    let run = check(dir.path(), &lab, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let names: BTreeSet<String> = run.names().into_iter().collect();
    let want: BTreeSet<String> = ["p001/c0001", "p003/c0005"].iter().map(|s| s.to_string()).collect();
    assert_eq!(names, want);
    assert!(run.notes().contains("`nowhere`"), "an unknown project is named: {}", run.notes());
}

#[test]
fn a_listed_cluster_that_is_also_discovered_is_probed_once_under_its_listed_name() {
    let lab = OrgLab::start(&Shape::small(2, 2));
    let dir = tempfile::tempdir().expect("tempdir");
    policy(dir.path(), "", "clusters:\n  - name: orders\n    uri: \"mongodb+srv://c0001.p001.org.test/\"\n");
    let run = check(dir.path(), &lab, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let names: BTreeSet<String> = run.names().into_iter().collect();
    let want: BTreeSet<String> =
        ["orders", "p001/c0002", "p002/c0003", "p002/c0004"].iter().map(|s| s.to_string()).collect();
    assert_eq!(names, want);
}

#[test]
fn the_lock_holds_every_discovered_cluster_and_check_names_new_and_gone_ones() {
    let lab = OrgLab::start(&Shape::small(2, 2));
    // c0003 is not there yet when the lock is written.
    let later = lab.with(|s| {
        let p = s.project("p002");
        let i = p.clusters.iter().position(|c| c["name"] == "c0003").expect("c0003");
        p.clusters.remove(i)
    });
    let dir = tempfile::tempdir().expect("tempdir");
    policy(dir.path(), "", "");
    let locked = run_in(dir.path(), &lab, &["lock"]);
    assert_eq!(locked.code, 0, "{}", locked.stderr);
    let lock: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("mongo-preflight.lock")).expect("lock"))
            .expect("lock json");
    let held: Vec<&String> = lock["clusters"].as_object().expect("clusters").keys().collect();
    assert_eq!(held, vec!["p001/c0001", "p001/c0002", "p002/c0004"]);

    // Now c0003 exists and c0001 is deleted.
    lab.with(|s| {
        s.project("p002").clusters.push(later);
        s.project("p001").clusters.retain(|c| c["name"] != "c0001");
    });
    let run = check(dir.path(), &lab, &[]);
    assert_eq!(run.code, 0, "new is info, gone is a note: {}\n{}", run.stdout, run.stderr);
    let new = run.cluster("p002/c0003");
    assert_eq!(new["diagnoses"][0]["code"], "tls-baseline-missing", "{new}");
    assert!(run.cluster("p001/c0002")["diagnoses"].as_array().is_some_and(Vec::is_empty));
    assert!(
        run.notes().contains("`p001/c0001` has a floor in mongo-preflight.lock but no longer exists"),
        "{}",
        run.notes()
    );
}

#[test]
fn shards_cover_each_cluster_exactly_once_for_one_to_seven_jobs() {
    let lab = OrgLab::start(&Shape::small(3, 4));
    let dir = tempfile::tempdir().expect("tempdir");
    policy(dir.path(), "", "clusters:\n  - name: listed\n    uri: \"mongodb+srv://c0001.p001.org.test/\"\n");
    let mut all = expected(&lab);
    all.remove("p001/c0001");
    all.insert("listed".to_string());
    for n in 1..=7 {
        let mut seen = Vec::new();
        for i in 1..=n {
            let shard = format!("{i}/{n}");
            let run = check(dir.path(), &lab, &["--shard", &shard]);
            assert_eq!(run.code, 0, "shard {shard}: {}\n{}", run.stdout, run.stderr);
            seen.extend(run.names());
        }
        let unique: BTreeSet<String> = seen.iter().cloned().collect();
        assert_eq!(seen.len(), unique.len(), "a cluster was in two shares of {n}: {seen:?}");
        assert_eq!(unique, all, "the shares of {n} missed a cluster");
    }
}

#[test]
fn credentials_are_refused_without_printing_them() {
    let lab = OrgLab::start(&Shape::small(1, 1));
    let dir = tempfile::tempdir().expect("tempdir");
    policy(dir.path(), "", "");
    let mut cmd = support::mongo_preflight();
    cmd.current_dir(dir.path()).args(["check", "--format", "json", "--timeout", "5"]).args(lab.probe_args());
    cmd.env("MONGODB_ATLAS_BASE_URL", &lab.url)
        .env("MONGODB_ATLAS_CLIENT_ID", org::CLIENT_ID)
        .env("MONGODB_ATLAS_CLIENT_SECRET", format!("{}-old", org::CLIENT_SECRET))
        .env("MONGO_PREFLIGHT_LOG", "trace");
    let out = support::output_within(cmd, LIMIT);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_no_secrets(&stdout, &stderr);
    assert_eq!(out.status.code(), Some(1), "nothing discovered fails the gate: {stdout}\n{stderr}");
    assert!(stdout.contains("no cluster of Atlas organization") && stdout.contains("401"), "{stdout}");
}

#[test]
fn a_waiver_may_name_a_discovered_cluster() {
    let lab = OrgLab::start(&Shape::small(1, 2));
    lab.with(|s| s.cluster("p001", "c0001")["paused"] = Value::Bool(true));
    let dir = tempfile::tempdir().expect("tempdir");
    let expires = (time::OffsetDateTime::now_utc() + time::Duration::days(30)).date();
    policy(
        dir.path(),
        "",
        &format!(
            "allow:\n  - code: atlas-cluster-paused\n    cluster: p001/c0001\n    reason: \"paused for the winter\"\n    expires: {expires}\n"
        ),
    );
    let run = check(dir.path(), &lab, &[]);
    assert_eq!(run.code, 0, "the waiver holds: {}\n{}", run.stdout, run.stderr);
    assert_eq!(run.cluster("p001/c0001")["diagnoses"][0]["waived"], true);
}

#[test]
fn one_share_cannot_publish_the_issues() {
    let lab = OrgLab::start(&Shape::small(1, 1));
    let dir = tempfile::tempdir().expect("tempdir");
    policy(dir.path(), "", "");
    let run = check(dir.path(), &lab, &["--shard", "1/2", "--issue"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("mongo-preflight merge"), "{}", run.stderr);
    assert!(lab.with(|s| s.requests.is_empty()), "refused before anything ran");
}
