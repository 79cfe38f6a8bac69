#!/usr/bin/env python3
"""Code size by crate of an unstripped binary, from its symbol table (no cargo-bloat needed).

    bench/crate-sizes.py BINARY [TOP]

Each function symbol (`nm -S -C`, text section) is charged to the first crate its demangled name
mentions other than core, alloc and std (`drop_in_place<mongodb::Client>` is the driver's), or
to std when it names only those; symbols without a Rust path (C code, libc) are "C/other".
Prints Markdown: crate, bytes, share of the attributed code.
"""
import collections
import re
import subprocess
import sys

binary = sys.argv[1]
top = int(sys.argv[2]) if len(sys.argv) > 2 else 20
out = subprocess.run(["nm", "-S", "-C", "--size-sort", binary], capture_output=True, text=True, check=True).stdout
sizes = collections.Counter()
path = re.compile(r"(?<![A-Za-z0-9_:])([A-Za-z_][A-Za-z0-9_]*)::")
STD = {"core", "alloc", "std", "hashbrown", "std_detect", "rustc_demangle", "addr2line", "gimli", "miniz_oxide", "object"}
for line in out.splitlines():
    parts = line.split(" ", 3)
    if len(parts) < 4 or parts[2] not in "tTwW":
        continue
    size, name = int(parts[1], 16), parts[3]
    crates = [c for c in path.findall(name) if c[0].islower() or c == "_"]
    owner = next((c for c in crates if c not in STD), None)
    if owner is None:
        owner = "std" if crates else "C/other"
    sizes[owner] += size
total = sum(sizes.values())
print(f"| crate | code | share |")
print(f"| --- | ---: | ---: |")
for crate, size in sizes.most_common(top):
    print(f"| `{crate}` | {size / 1024:,.1f} KiB | {100 * size / total:.1f}% |")
print(f"| all functions | {total / 1024:,.1f} KiB | 100% |")
