#!/usr/bin/env python3
"""mongosh against the lab: what a real client prints, and how long it takes, for each lab
case, next to mongo-preflight's codes for the same case.

Usage: bench/mongosh.py [--mongosh DIR] [--timeout-ms MS] [--binary PATH]
Needs: scripts/test run once (SecantusDB venv, dnsmasq); Node.js and npm. Installs mongosh from
npm into DIR (default: a temporary directory) unless it is there already, builds the lab example
and the dev binary (pass --binary for another build). Prints a Markdown table for BENCHMARKS.md.
Every server is the lab's and stops by itself. Not part of the test suite.

mongosh resolves names with Node's resolver, which cannot be pointed at the lab's DNS server, so
a preloaded script (NODE_OPTIONS=--require) answers 127.0.0.1 for *.lab.test and *.mongodb.net,
as the lab's dnsmasq does. Every mongosh run gets serverSelectionTimeoutMS (default 10000, the
same deadline as mongo-preflight's default --timeout 10; mongosh's own default is 30 s).
"""
import argparse, json, os, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".cache" / "venv"

# (label, endpoint, CA file key in lab["files"] or None for the lab CA, extra URI options)
CASES = [
    ("valid", "valid", None, ""),
    ("expired", "expired", None, ""),
    ("not-yet-valid", "not-yet-valid", None, ""),
    ("wrong-host", "wrong-host", None, ""),
    ("self-signed", "self-signed", None, ""),
    ("untrusted-root", "untrusted-root", None, ""),
    ("aia-missing-intermediate", "aia-missing-intermediate", None, ""),
    ("rejected", "rejected", None, ""),
    ("closed", "closed", None, ""),
    ("tls10", "tls10", None, ""),
    ("mtls", "mtls", None, ""),
    ("http", "http", None, ""),
    ("rs-mismatch", "rs-mismatch", None, ""),
    ("rs-standalone", "rs-standalone", None, ""),
    ("rs-match (look-alike)", "rs-match", None, ""),
    ("wire-6", "wire-6", None, ""),
    ("wire-7 (look-alike)", "wire-7", None, ""),
    ("clock-behind", "clock-behind", None, ""),
    ("clock-ahead", "clock-ahead", None, ""),
    ("clock-skew-still-expired (look-alike)", "clock-skew-still-expired", None, ""),
    ("zscaler", "zscaler", None, ""),
    ("zscaler, its root trusted (look-alike)", "zscaler", "zscaler_root", ""),
    ("zscaler-atlas", "zscaler-atlas", None, ""),
    ("atlas-untrusted-root", "atlas-untrusted-root", None, ""),
    ("atlas-le-untrusted (look-alike)", "atlas-le-untrusted", None, ""),
    ("atlas-valid, bundle without GTS", "atlas-valid", "bundle_without_gts", ""),
    ("atlas-valid, complete bundle (look-alike)", "atlas-valid", "bundle_complete", ""),
    ("valid, intermediate-only bundle", "valid", "bundle_intermediate_only", ""),
    ("atlas-rejected: 3 hosts, one cause", "srv:atlas-rejected", None, ""),
]


def case_uris(lab, name, extra):
    """(mongo-preflight's URI, mongosh's URI). mongosh cannot resolve the lab's SRV records, so
    it gets the same three hosts as a seed list, with the TXT record's options."""
    if name == "srv:atlas-rejected":
        hosts = ",".join(f"cluster0-shard-00-0{i}.abcde.mongodb.net:{lab['endpoints'][f'rejected-{i + 1}']['port']}"
                         for i in range(3))
        return (lab["srv"]["atlas-rejected"]["uri"],
                f"mongodb://{hosts}/?tls=true&authSource=admin&replicaSet=atlas-abcde-shard-0")
    uri = lab["endpoints"][name]["uri"] + extra
    return uri, uri

DNS_PRELOAD = r"""
// The lab's names go to 127.0.0.1, as the lab's DNS answers them.
const dns = require('dns');
const original = dns.lookup;
dns.lookup = function (hostname, options, callback) {
  if (typeof options === 'function') { callback = options; options = {}; }
  if (typeof options === 'number') { options = { family: options }; }
  if (/\.(lab\.test|mongodb\.net)\.?$/i.test(hostname)) {
    if (options && options.all) return process.nextTick(callback, null, [{ address: '127.0.0.1', family: 4 }]);
    return process.nextTick(callback, null, '127.0.0.1', 4);
  }
  return original.call(this, hostname, options, callback);
};
"""


def read_lab(proc):
    buf = ""
    deadline = time.time() + 90
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        buf += line
        try:
            return json.loads(buf)
        except json.JSONDecodeError:
            continue
    sys.exit("the lab did not start:\n" + buf)


def first_line(text):
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("(node:") and "DeprecationWarning" not in line:
            return line[:160]
    return "(nothing)"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mongosh", help="directory to install mongosh into (npm install mongosh)")
    ap.add_argument("--timeout-ms", type=int, default=10000)
    ap.add_argument("--binary", default=str(ROOT / "target" / "debug" / "mongo-preflight"))
    args = ap.parse_args()
    if not (VENV / "bin" / "secantusd-py").exists():
        sys.exit("run scripts/test once first: it installs SecantusDB into .cache/venv")
    subprocess.run(["cargo", "build", "--quiet", "--bin", "mongo-preflight", "--example", "lab"], cwd=ROOT, check=True)
    work = Path(args.mongosh or tempfile.mkdtemp(prefix="mongosh-bench-"))
    mongosh = work / "node_modules" / ".bin" / "mongosh"
    if not mongosh.exists():
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(work), "mongosh"], check=True,
                       stdout=subprocess.DEVNULL)
    version = subprocess.run([str(mongosh), "--version"], capture_output=True, text=True).stdout.strip()
    preload = work / "lab-dns.js"
    preload.write_text(DNS_PRELOAD)
    home = work / "home"
    home.mkdir(exist_ok=True)

    env = dict(os.environ, MONGO_PREFLIGHT_SECANTUSD=str(VENV / "bin" / "secantusd-py"))
    lab_proc = subprocess.Popen([str(ROOT / "target" / "debug" / "examples" / "lab"), "--seconds", "900"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    try:
        lab = read_lab(lab_proc)
        rows = []
        for label, name, ca_key, extra in CASES:
            ca = lab["files"][ca_key] if ca_key else lab["ca_file"]
            uri, shell_uri = case_uris(lab, name, extra)
            t = time.perf_counter()
            out = subprocess.run([args.binary, "probe", "--format", "json", "--ca-file", ca,
                                  "--dns-server", lab["dns_server"], uri], capture_output=True, text=True)
            ours_ms = (time.perf_counter() - t) * 1000
            report = json.loads(out.stdout)
            codes = []
            for c in report["clusters"]:
                for d in c["diagnoses"] + [d for h in c["hosts"] for d in h["diagnoses"]]:
                    if d["code"] not in codes:
                        codes.append(d["code"])
                for shared in c.get("shared", []):
                    i = codes.index(shared["code"])
                    codes[i] += f" (once, {len(shared['hosts'])} hosts)"
            sep = "&" if "?" in shell_uri else "?"
            shell_env = dict(os.environ, HOME=str(home), NODE_OPTIONS=f"--require {preload}")
            t = time.perf_counter()
            sh = subprocess.run([str(mongosh), f"{shell_uri}{sep}serverSelectionTimeoutMS={args.timeout_ms}",
                                 "--tlsCAFile", ca, "--quiet", "--norc", "--eval", "db.runCommand({ping: 1}).ok"],
                                capture_output=True, text=True, env=shell_env, timeout=120)
            sh_ms = (time.perf_counter() - t) * 1000
            said = first_line(sh.stdout + "\n" + sh.stderr)
            rows.append((label, ", ".join(codes) or "pass", ours_ms, said, sh_ms))
            print(f"{label}: {codes} {ours_ms:.0f} ms | mongosh {sh_ms:.0f} ms: {said}", file=sys.stderr)
    finally:
        lab_proc.stdin.close()
        lab_proc.wait(timeout=30)

    print(f"mongosh {version}, serverSelectionTimeoutMS={args.timeout_ms}; mongo-preflight: {args.binary}\n")
    print("| case | mongo-preflight codes | mongo-preflight | mongosh prints (first line) | mongosh |")
    print("| --- | --- | ---: | --- | ---: |")
    for label, codes, ours, said, theirs in rows:
        said = said.replace("|", "\\|")
        print(f"| {label} | {codes} | {ours:.0f} ms | `{said}` | {theirs:.0f} ms |")


if __name__ == "__main__":
    main()
