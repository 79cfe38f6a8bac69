#!/usr/bin/env bash
# Times `mongo-preflight why` on a 1 MB CI log: 12,000 lines of test output with five driver
# failures (PyMongo, Node.js, Java, Go) spread through it. The budget is 50 ms for the whole
# run. Usage: bench/why.sh [BINARY]   (default: target/release/mongo-preflight)
set -euo pipefail
bin="${1:-target/release/mongo-preflight}"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
log="$dir/test.log"
fixtures="$(dirname "$0")/../tests/fixtures/why"
python3 - "$log" "$fixtures" <<'PY'
import sys
log, fixtures = sys.argv[1], sys.argv[2]
parts = [open(f"{fixtures}/{f}").read() for f in
         ["pymongo/access-list.txt", "node/expired.txt", "java/srv-missing.txt", "go/closed.txt", "motor/wrong-host.txt"]]
out, i = [], 0
while sum(len(l) + 1 for l in out) < 1_000_000:
    out.append(f"2024-05-01T10:00:{i % 60:02d}.1234567Z tests/test_module_{i % 97}.py::test_case_{i} PASSED [{i % 100:3d}%] elapsed 0.{i % 1000:03d}s")
    i += 1
    if i % 2500 == 0:
        out.extend(parts[(i // 2500) % len(parts)].splitlines())
open(log, "w").write("\n".join(out) + "\n")
PY
echo "log: $(wc -c <"$log") bytes, $(wc -l <"$log") lines"
best=999999
for _ in $(seq 1 10); do
  start=$(date +%s%N)
  "$bin" why --file "$log" --format json >/dev/null
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  [ "$ms" -lt "$best" ] && best=$ms
done
echo "why --file (1 MB): best of 10: ${best} ms"
