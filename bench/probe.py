#!/usr/bin/env python3
"""Probe benchmark: mongo-preflight against the lab, one case at a time and all together,
compared with the pymongo route the troubleshooting write-ups take (strict, then with
tlsAllowInvalidCertificates=true&tlsAllowInvalidHostnames=true).

Usage: bench/probe.py [--runs N] [--pymongo-timeout-ms MS]
Needs: scripts/test run once (SecantusDB venv, dnsmasq); builds the release binary and the lab.
Prints a Markdown table for BENCHMARKS.md. Every server is the lab's and stops by itself.
"""
import argparse, json, os, statistics, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".cache" / "venv"
FAST_CASES = ["rejected", "closed", "expired", "not-yet-valid", "wrong-host", "self-signed", "untrusted-root",
              "aia-missing-intermediate", "ca-as-leaf", "tls10", "mtls", "http", "expiring-3d"]
SLOW_CASES = ["silent"]


def sh(*args, **kw):
    return subprocess.run(args, check=True, **kw)


def ensure_tools(build):
    if build:
        sh("cargo", "build", "--release", "--quiet", cwd=ROOT)
        sh("cargo", "build", "--quiet", "--example", "lab", cwd=ROOT)
    if not (VENV / "bin" / "secantusd-py").exists():
        sys.exit("run scripts/test once first: it installs SecantusDB into .cache/venv")
    subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", "pymongo"], check=True)


def read_lab(proc):
    buf = ""
    deadline = time.time() + 60
    while time.time() < deadline:
        chunk = proc.stdout.readline()
        if not chunk:
            break
        buf += chunk
        try:
            return json.loads(buf)
        except json.JSONDecodeError:
            continue
    sys.exit("the lab did not start:\n" + buf)


def uri_for(lab, name):
    e = lab["endpoints"][name]
    return f"mongodb://localhost:{e['port']}/?tls=true"


def timed(cmd, runs):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


PYMONGO = """
import sys, pymongo
uri, ca, timeout_ms = sys.argv[1], sys.argv[2], int(sys.argv[3])
try:
    pymongo.MongoClient(uri, tlsCAFile=ca, serverSelectionTimeoutMS=timeout_ms).admin.command("ping")
except Exception as e:
    print(type(e).__name__, str(e)[:200])
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--pymongo-timeout-ms", type=int, default=10000,
                    help="serverSelectionTimeoutMS for pymongo (its default is 30000)")
    ap.add_argument("--no-build", action="store_true", help="use the binaries already in target/")
    args = ap.parse_args()
    ensure_tools(not args.no_build)
    env = dict(os.environ, MONGO_PREFLIGHT_SECANTUSD=str(VENV / "bin" / "secantusd-py"))
    proc = subprocess.Popen([str(ROOT / "target" / "debug" / "examples" / "lab"), "--seconds", "1800"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
    try:
        lab = read_lab(proc)
        binary = str(ROOT / "target" / "release" / "mongo-preflight")
        base = [binary, "probe", "--format", "json", "--timeout", "10", "--ca-file", lab["ca_file"]]
        rows = []
        for name in FAST_CASES + SLOW_CASES:
            t = timed(base + [uri_for(lab, name)], args.runs if name in FAST_CASES else 1)
            codes = json.loads(subprocess.run(base + [uri_for(lab, name)], capture_output=True, text=True).stdout)
            got = sorted({d["code"] for c in codes["clusters"] for h in c["hosts"] for d in h["diagnoses"]})
            rows.append((name, t, ", ".join(got)))
        all_uris = [uri_for(lab, n) for n in FAST_CASES + SLOW_CASES]
        together = timed(base + all_uris, 1)
        fast_together = timed(base + [uri_for(lab, n) for n in FAST_CASES], args.runs)

        py = str(VENV / "bin" / "python")
        py_rows = []
        for name in FAST_CASES:
            strict = timed([py, "-c", PYMONGO, uri_for(lab, name), lab["ca_file"], str(args.pymongo_timeout_ms)], 1)
            insecure_uri = uri_for(lab, name) + "&tlsAllowInvalidCertificates=true&tlsAllowInvalidHostnames=true"
            insecure = timed([py, "-c", PYMONGO, insecure_uri, lab["ca_file"], str(args.pymongo_timeout_ms)], 1)
            py_rows.append((name, strict, insecure))
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)

    ours_total = sum(t for n, t, _ in rows if n in FAST_CASES)
    py_total = sum(s + i for _, s, i in py_rows)
    slowest = max(t for _, t, _ in rows)
    print(f"| case | mongo-preflight (median of {args.runs}) | codes | pymongo strict | pymongo insecure |")
    print("| --- | ---: | --- | ---: | ---: |")
    py_by = {n: (s, i) for n, s, i in py_rows}
    for name, t, codes in rows:
        s, i = py_by.get(name, (None, None))
        fmt = lambda v: "—" if v is None else f"{v * 1000:.0f} ms"
        print(f"| {name} | {t * 1000:.0f} ms | {codes} | {fmt(s)} | {fmt(i)} |")
    print()
    print(f"- all {len(rows)} cases in one invocation: {together * 1000:.0f} ms "
          f"(slowest single case {slowest * 1000:.0f} ms; ratio {together / slowest:.2f})")
    print(f"- the {len(FAST_CASES)} fast-failing cases in one invocation: {fast_together * 1000:.0f} ms")
    print(f"- fast cases one by one, summed: mongo-preflight {ours_total:.2f} s vs pymongo strict+insecure {py_total:.2f} s "
          f"({py_total / ours_total:.0f}x)")


if __name__ == "__main__":
    main()
