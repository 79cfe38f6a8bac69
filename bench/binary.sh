#!/usr/bin/env bash
# The static release binary: its size, `--version` start-up time and peak memory, and where the
# bytes go (by crate: from UNSTRIPPED=an unstripped build with bench/crate-sizes.py, or with
# cargo-bloat when it is installed).
#
#   bench/binary.sh [RUNS]        (default 50 runs of --version)
#
# Builds exactly what a release publishes (scripts/release-build), into target/bench-binary.
# Prints Markdown for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-50}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/bench-binary}"

arch=$(uname -m)
dist=$(mktemp -d)
trap 'rm -rf "$dist"' EXIT
bin=$(scripts/release-build "$arch-unknown-linux-gnu" "$dist" "0.0.0-bench")
bytes=$(stat -c %s "$bin")

python3 - "$bin" "$runs" "$bytes" <<'PY'
import resource, statistics, subprocess, sys, time
binary, runs, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
times = []
for _ in range(runs):
    start = time.perf_counter()
    subprocess.run([binary, "--version"], check=True, stdout=subprocess.DEVNULL)
    times.append((time.perf_counter() - start) * 1000)
times.sort()
rss_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(f"| static binary | {size:,} bytes ({size / 2**20:.2f} MiB) |")
print(f"| `--version`, median of {runs} | {statistics.median(times):.2f} ms (p90 {times[int(runs * 0.9) - 1]:.2f} ms) |")
print(f"| peak RSS of `--version` | {rss_kib / 1024:.1f} MiB |")
PY

if [ -n "${UNSTRIPPED:-}" ]; then
  # An unstripped build of the same profile (CARGO_PROFILE_RELEASE_STRIP=false; a separate
  # CARGO_TARGET_DIR, since the change rebuilds every crate).
  echo
  echo "Code by crate ($UNSTRIPPED, bench/crate-sizes.py):"
  echo
  python3 bench/crate-sizes.py "$UNSTRIPPED" 15
elif command -v cargo-bloat >/dev/null 2>&1; then
  echo
  echo "Largest crates in .text (cargo bloat, unstripped build of the same profile):"
  echo
  CARGO_PROFILE_RELEASE_STRIP=false cargo bloat --release --crates -n 15 --bin mongo-preflight 2>/dev/null | sed 's/^/    /'
fi
