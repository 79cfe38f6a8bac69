#!/usr/bin/env bash
# Wall time of `mongo-preflight scan` against ripgrep and semgrep on a large real tree.
#
#   bench/scan.sh [TREE...]      (default: ~/.cargo/registry/src and CPython's standard library)
#
# Needs a release build (cargo build --release), ripgrep, hyperfine (apt-get install hyperfine)
# and semgrep from PyPI in a venv (SEMGREP=/path/to/semgrep, default /tmp/semgrep-venv/bin/semgrep;
# created with `python3 -m venv /tmp/semgrep-venv && /tmp/semgrep-venv/bin/pip install semgrep`).
# Semgrep runs offline: a local rule file and --metrics=off.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${BIN:-target/release/mongo-preflight}
semgrep=${SEMGREP:-/tmp/semgrep-venv/bin/semgrep}
runs=${RUNS:-5}
if [ $# -gt 0 ]; then
  trees=("$@")
else
  trees=("$HOME/.cargo/registry/src" "$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')")
fi
out=${OUT:-target/bench-scan}
mkdir -p "$out"

# The plain camelCase option names, as most people would grep for them (literals: ripgrep's
# fastest case).
plain='tlsAllowInvalidCertificates|sslAllowInvalidCertificates|tlsAllowInvalidHostnames|sslAllowInvalidHostnames|tlsInsecure|tlsDisableOCSPEndpointCheck|tlsDisableCertificateRevocationCheck|ssl_cert_reqs|InsecureSkipVerify|AllowInsecureTls'
# The same names in every spelling the scanner recognises (camelCase, snake_case, kebab-case,
# environment variables): the equivalent search.
names='(?:tls|ssl)[_-]?allow[_-]?invalid[_-]?(?:certificates|hostnames)|tls[_-]?insecure|tls[_-]?disable[_-]?(?:ocsp[_-]?endpoint|certificate[_-]?revocation)[_-]?check|ssl[_-]?cert[_-]?reqs|insecureskipverify|allowinsecuretls'

echo "trees: ${trees[*]}"
echo "files: $(find "${trees[@]}" -type f | wc -l), size: $(du -sch "${trees[@]}" | tail -1 | cut -f1)"
echo "cores: $(nproc); $("$bin" --version); $(rg --version | head -1); semgrep $("$semgrep" --version 2>/dev/null || echo missing)"

# Warm the page cache so that every tool reads from memory.
rg -uuu -c zzzz-warm-zzzz "${trees[@]}" >/dev/null 2>&1 || true

quoted=$(printf "'%s' " "${trees[@]}")
hyperfine --warmup 1 --runs "$runs" --ignore-failure --export-markdown "$out/hyperfine.md" --export-json "$out/hyperfine.json" \
  -n "mongo-preflight scan" "$bin scan --format json $quoted >/dev/null" \
  -n "rg -i -n --hidden (plain names)" "rg -i -n --hidden '$plain' $quoted >/dev/null" \
  -n "rg -i -n --hidden (equivalent alternation)" "rg -i -n --hidden '$names' $quoted >/dev/null"

if [ -x "$semgrep" ]; then
  # One run: semgrep takes about a minute here. It runs from an empty directory with an empty
  # .semgrepignore (no default excludes), --no-git-ignore (otherwise it scans only files that
  # git tracks, and a tree inside a git checkout such as ~/.pyenv is skipped entirely) and
  # no size limit (the scanner has none), so that both read the same files.
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
for note in report.get("notes", []):
    print("  note:", note["message"][:160])
PY
