#!/usr/bin/env bash
# `mongo-preflight scan` against ripgrep (and semgrep) on a large real tree outside git.
#
#   bench/scan.sh [TREE...]
#
# Default tree (issue 18): CPython's standard library without site-packages plus the crate
# sources in ~/.cargo/registry/src (this project's dependencies after a build), copied once into
# $BENCH_TREE (default /tmp/mongo-preflight-bench-tree) so that no git repository is involved.
#
# The machine this was written on has 2 cores shared with other builds, so wall-clock times
# drift with the load. Each round therefore runs every command once, in turn (interleaved), and
# the script reports, per command, the median wall time and the median CPU time (user + system,
# which the load disturbs far less), and the median of the per-round ratios to ripgrep. With
# CALLGRIND=1 it also counts user-space instructions under valgrind (stable under any load;
# the kernel's share, reading the files, is not counted).
#
# Environment: BIN (default target/release/mongo-preflight; build it with `cargo build
# --release`), RUNS (rounds, default 15), SEMGREP (a semgrep executable; default
# /tmp/semgrep-venv/bin/semgrep, skipped when missing), OUT (default target/bench-scan).
# Needs ripgrep (`apt-get install ripgrep`) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${BIN:-target/release/mongo-preflight}
semgrep=${SEMGREP:-/tmp/semgrep-venv/bin/semgrep}
runs=${RUNS:-15}
out=${OUT:-target/bench-scan}
mkdir -p "$out"

if [ $# -gt 0 ]; then
  trees=("$@")
else
  tree=${BENCH_TREE:-/tmp/mongo-preflight-bench-tree}
  if [ ! -d "$tree" ]; then
    stdlib=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
    mkdir -p "$tree/crates" "$tree/$(basename "$stdlib")"
    for index in "$HOME"/.cargo/registry/src/*/; do
      cp -a "$index/." "$tree/crates/"
    done
    (cd "$stdlib" && tar cf - --exclude=./site-packages .) | (cd "$tree/$(basename "$stdlib")" && tar xf -)
  fi
  trees=("$tree")
fi

# The plain camelCase option names, as most people would grep for them (literals: ripgrep's
# fastest case).
plain='tlsAllowInvalidCertificates|sslAllowInvalidCertificates|tlsAllowInvalidHostnames|sslAllowInvalidHostnames|tlsInsecure|tlsDisableOCSPEndpointCheck|tlsDisableCertificateRevocationCheck|ssl_cert_reqs|InsecureSkipVerify|AllowInsecureTls'
# The same names in every spelling the scanner recognises (camelCase, snake_case, kebab-case,
# environment variables): the equivalent search.
names='(?:tls|ssl)[_-]?allow[_-]?invalid[_-]?(?:certificates|hostnames)|tls[_-]?insecure|tls[_-]?disable[_-]?(?:ocsp[_-]?endpoint|certificate[_-]?revocation)[_-]?check|ssl[_-]?cert[_-]?reqs|insecureskipverify|allowinsecuretls'

echo "trees: ${trees[*]}"
python3 - "${trees[@]}" <<'PY'
import os, sys
files = binary = size = 0
for tree in sys.argv[1:]:
    for root, _, names in os.walk(tree):
        for name in names:
            path = os.path.join(root, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            files += 1
            size += os.path.getsize(path)
            with open(path, "rb") as f:
                binary += b"\0" in f.read(8192)
print(f"files: {files:,} ({binary:,} binary: a NUL in the first 8 KiB), {size / 1e6:,.0f} MB")
PY
echo "cores: $(nproc); load: $(cut -d' ' -f1-3 /proc/loadavg); $("$bin" --version); $(rg --version 2>/dev/null | head -1)"

# Warm the page cache so that every tool reads from memory.
rg -uuu -c zzzz-warm-zzzz "${trees[@]}" >/dev/null 2>&1 || true

python3 - "$runs" "$out" "$bin" "$plain" "$names" "${trees[@]}" <<'PY'
import json, os, resource, statistics, subprocess, sys, time
runs, out, binary, plain, names, trees = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6:]
commands = {
    "mongo-preflight scan --format json": [binary, "scan", "--format", "json", *trees],
    "rg -i -n --hidden (plain names)": ["rg", "-i", "-n", "--hidden", plain, *trees],
    "rg -i -n --hidden (equivalent alternation)": ["rg", "-i", "-n", "--hidden", names, *trees],
}
def run(argv):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu
for argv in commands.values():  # warm-up
    run(argv)
results = {name: [] for name in commands}
names_in_order = list(commands)
for i in range(runs):
    # Alternate the order so that no command always runs right after the same one.
    order = names_in_order if i % 2 == 0 else names_in_order[::-1]
    for name in order:
        results[name].append(run(commands[name]))
base = "rg -i -n --hidden (plain names)"
print(f"\n{runs} interleaved rounds; load average now {os.getloadavg()[0]:.1f}\n")
print("| command | wall, median | CPU (user+sys), median | wall ÷ rg, median of rounds | CPU ÷ rg, median of rounds |")
print("| --- | ---: | ---: | ---: | ---: |")
for name in commands:
    walls = [w for w, _ in results[name]]
    cpus = [c for _, c in results[name]]
    wall_ratio = statistics.median(w / b[0] for (w, _), b in zip(results[name], results[base]))
    cpu_ratio = statistics.median(c / b[1] for (_, c), b in zip(results[name], results[base]))
    print(f"| {name} | {statistics.median(walls):.3f} s | {statistics.median(cpus):.3f} s | {wall_ratio:.2f} | {cpu_ratio:.2f} |")
json.dump({name: results[name] for name in commands}, open(f"{out}/rounds.json", "w"), indent=1)
PY

if [ "${CALLGRIND:-0}" = 1 ]; then
  echo
  echo "User-space instructions (valgrind --tool=callgrind, all threads):"
  for cmd in "mongo-preflight|$bin scan --format json" "rg (plain names)|rg -i -n --hidden $plain"; do
    label=${cmd%%|*}
    # shellcheck disable=SC2086
    valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.%p" ${cmd#*|} "${trees[@]}" >/dev/null 2>"$out/callgrind.err" || true
    total=$(grep -h '^summary:' "$out"/callgrind.* 2>/dev/null | awk '{s += $2} END {print s}')
    rm -f "$out"/callgrind.[0-9]*
    echo "  $label: $total"
  done
fi

if [ -x "$semgrep" ]; then
  # One run: semgrep takes about a minute here. It runs from an empty directory with an empty
  # .semgrepignore (no default excludes), --no-git-ignore (otherwise it scans only files that
  # git tracks, and a tree inside a git checkout is skipped entirely) and no size limit (the
  # scanner has none), so that both read the same files.
  work=$(mktemp -d)
  : >"$work/.semgrepignore"
  rules=$(pwd)/bench/scan-semgrep.yml
  start=$(date +%s.%N)
  (cd "$work" && "$semgrep" scan --metrics=off --disable-version-check --quiet --no-git-ignore \
    --max-target-bytes 0 --config "$rules" --json --output "$work/semgrep.json" -j "$(nproc)" \
    "${trees[@]}" >/dev/null 2>"$work/semgrep.err") || true
  end=$(date +%s.%N)
  cp "$work/semgrep.json" "$out/semgrep.json" 2>/dev/null || true
  rm -rf "$work"
  echo "semgrep (1 run): $(echo "$end - $start" | bc) s"
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print('semgrep:', len(d['results']), 'results,', len(d['paths']['scanned']), 'files scanned')" "$out/semgrep.json" || true
fi

"$bin" scan --format json "${trees[@]}" >"$out/mongo-preflight.json" || true
python3 - "$out/mongo-preflight.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
print(f"mongo-preflight: {len(report['findings'])} findings")
for finding in report["findings"]:
    print(f"  {finding['rule']}: {finding['path']}:{finding['line']}")
for note in report.get("notes", []):
    print("  note:", note["message"][:160])
PY
