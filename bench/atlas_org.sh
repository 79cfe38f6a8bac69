#!/usr/bin/env bash
# An Atlas organization at the scale of issue 21: 2,000 clusters in 200 projects (every 50th
# paused), discovered through pages of 100 and probed against the stand-in organization of
# tests/lab/atlas_org.rs (three real TLS endpoints, every cluster its own mongodb+srv name in
# the lab's dnsmasq). Measures wall time and peak RSS of the release binary for:
#   check (no lock), lock, check with the lock (each TLS version offered on its own),
#   and each of check --shard I/4 with the lock.
#
#   bench/atlas_org.sh [PROJECTS] [CLUSTERS_PER_PROJECT]
#
# Run once by hand, never from the timed tests. Needs dnsmasq (scripts/test installs it).
# Prints Markdown for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
projects="${1:-200}"
per="${2:-10}"
cargo build --release --quiet --bin mongo-preflight --example atlas_org_lab
bin="$PWD/target/release/mongo-preflight"
work=$(mktemp -d)
info="$work/lab.json"
target/release/examples/atlas_org_lab --projects "$projects" --clusters "$per" --paused-every 50 --seconds 900 >"$info" &
lab_pid=$!
trap 'kill "$lab_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 120); do
  [ -s "$info" ] && break
  sleep 0.5
done
[ -s "$info" ] || { echo "the stand-in organization did not start" >&2; exit 1; }

python3 - "$bin" "$info" "$work" <<'PY'
import json, os, subprocess, sys, time
binary, info, work = sys.argv[1], sys.argv[2], sys.argv[3]
lab = json.load(open(info))
env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "MONGO_PREFLIGHT_", "MONGODB_"))}
env.update(lab["env"])
env["NO_COLOR"] = "1"
with open(os.path.join(work, "mongo-preflight.yml"), "w") as f:
    f.write(f"version: 1\natlas:\n  organization_id: {lab['organization_id']}\n")
subprocess.run(["git", "init", "-q", work], check=True)

def timed(label, args):
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", binary, *args, *lab["probe_args"], "--timeout", "10"],
                          cwd=work, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    rss_kib, user, system = proc.stderr.strip().splitlines()[-1].split()
    clusters = ""
    if "--format" in args:
        try:
            clusters = str(len(json.loads(proc.stdout)["clusters"]))
        except Exception:
            clusters = "?"
    print(f"| `{' '.join(args)}` | {clusters} | {proc.returncode} | {wall:.1f} s | {float(user) + float(system):.1f} s | {int(rss_kib) / 1024:.0f} MiB |")
    return wall

print(f"{lab['clusters']} clusters in {lab['projects']} projects (every 50th paused), pages of 100, 2 cores, release build.\n")
print("| run | clusters reported | exit | wall | CPU (user+sys) | peak RSS |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
timed("check", ["check", "--format", "json"])
timed("lock", ["lock"])
timed("check with lock", ["check", "--format", "json"])
for i in range(1, 5):
    timed(f"shard {i}/4", ["check", "--format", "json", "--shard", f"{i}/4"])
PY
