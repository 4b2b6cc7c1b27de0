#!/usr/bin/env python3
"""Turn BENCH lines ("BENCH <backend> <case> <value> <unit>") into a table:
upstream's C store and kvm_memattr side by side, with the ratio upstream/ours
(above 1 means kvm_memattr needs less time or memory)."""
import sys

lines, kver = sys.argv[1], sys.argv[2]
data, order, units = {}, [], {}
for line in open(lines):
    parts = line.split()
    if len(parts) != 5 or parts[0] != "BENCH":
        continue
    _, backend, case, value, unit = parts
    if case not in units:
        order.append(case)
    units[case] = unit
    # A case run more than once (guest/bench.sh alternates the two stores
    # for the fragmented SETs) counts with its best value.
    v, old = float(value), data.get((backend, case))
    if old is not None:
        v = max(v, old) if unit == "per_s" else min(v, old)
    data[(backend, case)] = v

print(f"kvm-memattr benchmark, linux {kver}, QEMU TCG guest (only ratios are meaningful)")
print()
print(f"| {'case':34} | {'upstream C':>14} | {'kvm_memattr':>14} | {'C / ours':>10} |")
print(f"| {'-' * 34} | {'-' * 14}:| {'-' * 14}:| {'-' * 10}:|")
for case in order:
    u = units[case]
    c = data.get(("upstream", case))
    r = data.get(("kvm_memattr", case))
    fmt = lambda v: "n/a" if v is None else f"{v:.4g} {u}"
    if c is not None and r is not None and r > 0:
        # For throughput, bigger is better: invert.
        ratio = (r / c if c else float("inf")) if u == "per_s" else c / r
        rs = f"{ratio:.3g}x"
    elif c is not None and r is not None:
        rs = "inf" if c > 0 else "="
    else:
        rs = "-"
    print(f"| {case:34} | {fmt(c):>14} | {fmt(r):>14} | {rs:>10} |")
