#!/usr/bin/env python3
"""Turn BENCH lines ("BENCH <backend> <case> <value> <unit>") into tables:
upstream's C store and kvm_memattr side by side, with the ratio upstream/ours
(above 1 means kvm_memattr needs less time or memory).

bench_table.py LINES KVER             every case, one row each (build/bench.txt)
bench_table.py --readme LINES KVER SOURCE [README]
                                      the README's table: the cases that say
                                      most, labelled, with the range of cases
                                      run more than once; with README, it
                                      replaces the text between the markers
                                      "<!-- bench:begin -->" and
                                      "<!-- bench:end -->" there."""
import re
import sys

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def load(path):
    """{(backend, case): [values]}, the cases in first-seen order, units."""
    data, order, units = {}, [], {}
    for line in open(path):
        parts = line.split()
        if len(parts) != 5 or parts[0] != "BENCH":
            continue
        _, backend, case, value, unit = parts
        if case not in units:
            order.append(case)
        units[case] = unit
        data.setdefault((backend, case), []).append(float(value))
    return data, order, units


def best(data, units, backend, case):
    """A case run more than once (guest/bench.sh alternates the two stores
    for the single-page cases) counts with its best value."""
    v = data.get((backend, case))
    if not v:
        return None
    return max(v) if units[case] == "per_s" else min(v)


def ratio(units, case, c, r):
    if c is None or r is None:
        return None
    if units[case] == "per_s":
        return r / c if c else None
    return c / r if r else None


def full_table(data, order, units, kver):
    print(f"kvm-memattr benchmark, linux {kver}, QEMU TCG guest (only ratios are meaningful)")
    print()
    print(f"| {'case':34} | {'upstream C':>14} | {'kvm_memattr':>14} | {'C / ours':>10} |")
    print(f"| {'-' * 34} | {'-' * 14}:| {'-' * 14}:| {'-' * 10}:|")
    for case in order:
        u = units[case]
        c = best(data, units, "upstream", case)
        r = best(data, units, "kvm_memattr", case)
        fmt = lambda v: "n/a" if v is None else f"{v:.4g} {u}"
        x = ratio(units, case, c, r)
        if x is not None:
            rs = f"{x:.3g}x"
        elif c is not None and r is not None:
            rs = "inf" if c > 0 else "="
        else:
            rs = "-"
        print(f"| {case:34} | {fmt(c):>14} | {fmt(r):>14} | {rs:>10} |")


def num(v):
    """Three significant digits, thousands separated: 0.452, 12.8, 75,080."""
    if v >= 1000:
        return f"{round(v, -int(len(str(int(v)))) + 3):,.0f}"
    return f"{v:.3g}"


def human(v, unit):
    """A value in the largest unit that keeps it above 1."""
    scale = {
        "ns": [(1e9, "s"), (1e6, "ms"), (1e3, "us"), (1, "ns")],
        "us": [(1e6, "s"), (1e3, "ms"), (1, "us")],
        "ms": [(1e3, "s"), (1, "ms"), (1e-3, "us")],
        "KiB": [(1024, "MiB"), (1, "KiB"), (1 / 1024, "B")],
        "ns_per_page": [(1e3, "us"), (1, "ns")],
    }
    if unit == "per_s":
        return f"{num(v)}/s"
    if unit == "x":
        return f"{num(v)}x"
    for f, name in scale.get(unit, [(1, unit)]):
        if v >= f or f == scale[unit][-1][0]:
            return f"{num(v / f)} {name}"
    return f"{num(v)} {unit}"


class Table:
    def __init__(self, data, order, units):
        self.data, self.order, self.units = data, order, units
        self.rows = []

    def has(self, case):
        return case in self.units

    def cell(self, backend, case, ranged=False):
        v = best(self.data, self.units, backend, case)
        if v is None:
            return None
        s = human(v, self.units[case])
        runs = self.data[(backend, case)]
        if ranged and len(runs) > 1:
            u = self.units[case]
            s += f" ({human(min(runs), u)} to {human(max(runs), u)})"
        return s

    def row(self, label, cases, ranged=False, c_missing="-", r_extra=None, show_ratio=True):
        """One row; several cases are shown as "a / b"."""
        cases = [k for k in cases if self.has(k)]
        if not cases:
            return
        cs = [self.cell("upstream", k, ranged) for k in cases]
        rs = [self.cell("kvm_memattr", k, ranged) for k in cases]
        xs = [ratio(self.units, k, best(self.data, self.units, "upstream", k),
                    best(self.data, self.units, "kvm_memattr", k)) for k in cases]
        c = " / ".join(v or c_missing for v in cs) if any(cs) else c_missing
        r = " / ".join(v or "n/a" for v in rs)
        if r_extra:
            r += r_extra
        x = " / ".join(f"{num(v)}x" for v in xs if v is not None) if show_ratio else ""
        self.rows.append((label, c, r, x or "-"))

    def speedup_row(self, label, prefix):
        """Each store's best rate with 2 threads over its best with 1."""
        cells = []
        for backend in ("upstream", "kvm_memattr"):
            one, two = (best(self.data, self.units, backend, f"{prefix}_{n}_threads")
                        for n in (1, 2))
            cells.append(f"{num(two / one)}x" if one and two else "-")
        if any(c != "-" for c in cells):
            self.rows.append((label, cells[0], cells[1], "-"))

    def round_ratio_row(self, label, prefix):
        """Each store's 2-thread rate over its 1-thread rate of the same
        round (the runs alternate 1, 2 threads per round): the lowest, the
        median and the highest, with how many rounds reach 1.6x."""
        cells = []
        for backend in ("upstream", "kvm_memattr"):
            one, two = (self.data.get((backend, f"{prefix}_{n}_threads"), [])
                        for n in (1, 2))
            xs = sorted(b / a for a, b in zip(one, two) if a)
            if not xs:
                cells.append("-")
                continue
            mid = len(xs) // 2
            median = xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2
            reach = sum(x >= 1.6 for x in xs)
            cells.append(f"{num(xs[0])}x / {num(median)}x / {num(xs[-1])}x "
                         f"({reach} of {len(xs)} at 1.6x or more)")
        if any(c != "-" for c in cells):
            self.rows.append((label, cells[0], cells[1], "-"))

    def render(self):
        out = ["| case | upstream C | kvm_memattr | C / ours |",
               "| --- | ---: | ---: | ---: |"]
        out += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in self.rows]
        return "\n".join(out)


def gib_cases(order, prefix):
    return sorted((int(m.group(1)), k) for k in order
                  if (m := re.fullmatch(prefix + r"(\d+)G", k)))


def readme_table(data, order, units, kver, source):
    t = Table(data, order, units)
    null_r = best(data, units, "kvm_memattr", "null_ioctl")
    t.row("null ioctl (`KVM_CHECK_EXTENSION`, fastest of 5 x 20,000)", ["null_ioctl"],
          show_ratio=False)
    # The smallest and the largest uniform SET both stores ran, and the
    # largest only kvm_memattr ran (hours on the C store).
    sets = gib_cases(order, "set_private_")
    both = [(g, k) for g, k in sets if best(data, units, "upstream", k) is not None]
    for g, k in sorted({both[0], both[-1]} if both else set()):
        t.row(f"SET {g} GiB private, no memslots", [k])
    if both:
        g = both[-1][0]
        t.row(f"clear {g} GiB", [f"clear_{g}G"])
        counted = best(data, units, "kvm_memattr", f"metadata_counted_{g}G")
        t.row(f"metadata, {g} GiB uniform (slab growth)", [f"metadata_{g}G"],
              r_extra=f" ({human(counted, 'KiB')} counted)" if counted is not None else None,
              show_ratio=False)
    if sets and (not both or sets[-1][0] > both[-1][0]):
        g = sets[-1][0]
        size = f"{g // 1024} TiB" if g % 1024 == 0 else f"{g} GiB"
        t.row(f"SET {size} private", [sets[-1][1]], c_missing="not run (hours)")
    t.row("every other page over 1 GiB: time per single-page SET (alternating)",
          ["fragmented_1G_set_per_page"], ranged=True)
    t.row("the same SETs again, each page already done: the ioctl's floor (alternating)",
          ["fragmented_1G_noop_set_per_page"], ranged=True)
    t.row("a page with nothing near it, private and back (upstream frees and allocates its "
          "nodes each time, kvm_memattr keeps them: a kept path): "
          "per SET or clear (alternating)", ["isolated_page_set_or_clear"], ranged=True)
    t.row("the same timed one by one (a clock read around each): SET / clear (alternating)",
          ["isolated_page_set", "isolated_page_clear"], ranged=True)
    t.row("five such pages 4 GiB apart in turn (kvm_memattr keeps four paths: each clear "
          "frees the oldest page's): per SET or clear (alternating)",
          ["isolated_pages_in_turn"], ranged=True)
    counted = best(data, units, "kvm_memattr", "fragmented_1G_metadata_counted")
    t.row("every other page over 1 GiB: memory (slab growth)", ["fragmented_1G_metadata"],
          r_extra=f" ({human(counted, 'KiB')} counted)" if counted is not None else None)
    for name, label in [("1T", "SET or clear of an unmapped, aligned 1 TiB range"),
                        ("1T_unaligned", "the same starting one page in")]:
        x = best(data, units, "kvm_memattr", f"set_unmapped_{name}_over_null_ioctl")
        t.row(label, [f"set_unmapped_{name}"],
              r_extra=f" = {num(x)} null ioctls" if x is not None else None)
    for name, label in [("store_set_unmapped_1T_", "the same inside the store, no ioctl (KUnit)"),
                        ("xarray_floor_1T_", "the xarray's own floor for those chunks "
                                             "(KUnit, bare `xas_store()`s, each walk from "
                                             "the previous chunk's node)"),
                        ("xa_store_range_1T_", "the kernel's `xa_store_range()` over the same "
                                               "range (KUnit; entries of any run of slots in "
                                               "a node, which the store cannot use)")]:
        for k in [k for k in order if k.startswith(name)]:
            what = re.sub(r"_(\d+)_chunks$", r" (\1 chunks)", k[len(name):])
            v = best(data, units, "kvm_memattr", k)
            extra = f" = {num(v / 1e3 / null_r)} null ioctls" if null_r else None
            t.row(f"{label}: {what}", [k], r_extra=extra)
    t.row("fault-path lookup `xa_load()`, uniform 1 GiB (KUnit)", ["lookup_uniform"])
    t.row("fault-path lookup `xa_load()`, fragmented (KUnit)", ["lookup_fragmented"])
    t.row("first read of 64 MiB of fresh mappings, per page (no attributes)",
          ["fault_first_read_64M"])
    t.row("huge-page mixed recompute after a 1 GiB SET (KUnit)", ["mixed_recompute_1G"])
    t.row("convert 1 GiB of mapped memory private / shared",
          ["convert_mapped_1G_private", "convert_mapped_1G_shared"])
    t.row("single-page conversion round trips, vCPU running (host SETs; alternating)",
          ["round_trips_vcpu_running"], ranged=True)
    t.row("the same SETs first with the vCPU idle (alternating)",
          ["round_trips_vcpu_idle"], ranged=True)
    t.row("guest `KVM_HC_MAP_GPA_RANGE` private/shared round trips, 4 KiB "
          "(exit to the VMM, SET, re-enter; alternating)",
          ["guest_map_gpa_round_trips_4K"], ranged=True)
    t.row("the same, 2 MiB", ["guest_map_gpa_round_trips_2M"])
    t.row("2 MiB conversions on disjoint ranges of a 4 GiB VM, vCPU running, "
          "single-threaded TCG: 1 / 2 / 4 threads",
          [f"parallel_2M_sets_{n}_threads" for n in (1, 2, 4)])
    t.row("control: null ioctls, 1 / 2 threads",
          [f"parallel_null_ioctls_{n}_threads" for n in (1, 2)], show_ratio=False)
    t.row("2 MiB conversions on disjoint ranges, no vCPU, multi-threaded TCG: 1 / 2 threads "
          "(best of 5 runs, and their range)",
          [f"mttcg_2M_sets_{n}_threads" for n in (1, 2)], ranged=True)
    t.speedup_row("the same: 2 threads over 1 (best over best)", "mttcg_2M_sets")
    t.round_ratio_row("the same, per round (1 thread, then 2): 2 threads over 1, "
                      "lowest / median / highest", "mttcg_2M_sets")
    t.row("control: null ioctls, multi-threaded TCG, 1 / 2 threads (best of 5 runs, and their range)",
          [f"mttcg_null_ioctls_{n}_threads" for n in (1, 2)], ranged=True, show_ratio=False)
    t.speedup_row("the control: 2 threads over 1", "mttcg_null_ioctls")
    t.round_ratio_row("the control, per round: lowest / median / highest",
                      "mttcg_null_ioctls")
    t.row("those 2 MiB conversions inside the store, no ioctl (KUnit), per SET or clear: "
          "alone in their GiB (nodes kept by the kept path) / beside a page of their 16 MiB "
          "(nodes kept by the page) / beside a private 2 MiB (merged and split)",
          ["store_convert_2M_alone", "store_convert_2M_nodes_kept", "store_convert_2M_merging"])
    head = (f"Results of `make bench` ({source}; linux {kver}; C / ours above 1 means "
            "kvm_memattr needs less). Written by `make bench`; rows marked "
            "\"alternating\" show each store's best run and the range of all of them.")
    return head + "\n\n" + t.render()


def main(argv):
    if argv[1:2] == ["--readme"]:
        lines, kver, source = argv[2:5]
        data, order, units = load(lines)
        text = readme_table(data, order, units, kver, source)
        if len(argv) < 6:
            print(text)
            return
        readme = open(argv[5]).read()
        pre, sep, rest = readme.partition(BEGIN)
        mid, sep2, post = rest.partition(END)
        if not sep or not sep2:
            sys.exit(f"{argv[5]}: no {BEGIN} ... {END} markers")
        open(argv[5], "w").write(pre + BEGIN + "\n" + text + "\n" + END + post)
        return
    data, order, units = load(argv[1])
    full_table(data, order, units, argv[2])


main(sys.argv)
