//! Starts the stand-in Atlas organization (tests/lab/atlas_org.rs) at the scale of issue 21 and
//! prints what a run needs as JSON on stdout, for `bench/atlas_org.sh`. Runs for `--seconds N`
//! (default 600), then stops; its DNS child stops with it.
//!
//! ```text
//! cargo run --release --example atlas_org_lab -- --projects 200 --clusters 10 --paused-every 50
//! ```

#![forbid(unsafe_code)]

#[path = "../tests/lab/mod.rs"]
mod lab;

use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    let mut shape = lab::atlas_org::Shape::small(200, 10);
    shape.paused_every = 50;
    let mut seconds = 600u64;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().and_then(|v| v.parse::<usize>().ok());
        match (arg.as_str(), value) {
            ("--projects", Some(n)) => shape.projects = n,
            ("--clusters", Some(n)) => shape.clusters_per_project = n,
            ("--paused-every", Some(n)) => shape.paused_every = n,
            ("--seconds", Some(n)) => seconds = n as u64,
            _ => {
                eprintln!("usage: atlas_org_lab [--projects N] [--clusters N] [--paused-every N] [--seconds N]");
                return ExitCode::from(2);
            }
        }
    }
    shape.lifetime = Duration::from_secs(seconds + 60);
    let org = lab::atlas_org::OrgLab::start(&shape);
    let mut env = serde_json::Map::new();
    for (k, v) in org.env() {
        env.insert(k.to_string(), serde_json::Value::String(v));
    }
    let json = serde_json::json!({
        "organization_id": lab::atlas_org::ORG_ID,
        "env": env,
        "probe_args": org.probe_args(),
        "projects": shape.projects,
        "clusters": shape.projects * shape.clusters_per_project,
    });
    #[allow(clippy::print_stdout)] // The run's settings on stdout are this program's output.
    {
        println!("{json}");
    }
    std::thread::sleep(Duration::from_secs(seconds));
    ExitCode::SUCCESS
}
