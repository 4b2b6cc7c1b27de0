#!/usr/bin/env bash
# make bench: both stores in one boot, side by side. Writes build/bench.txt
# (the table) and build/bench.lines (machine-readable BENCH lines).
source "$(dirname "$0")/lib.sh"
GUEST_TIMEOUT=${GUEST_TIMEOUT:-2400} "$ROOT/scripts/guest.sh" bench bench "kunit.filter_glob=kvm_memattr_bench" || true
grep -a '^BENCH ' "$BUILD/logs/bench.log" > "$BUILD/bench.lines" || die "no BENCH lines in build/logs/bench.log"
python3 "$ROOT/scripts/bench_table.py" "$BUILD/bench.lines" "$(cat "$BUILD/kernel-version")" | tee "$BUILD/bench.txt"
! grep -q '^FAIL' "$BUILD/logs/bench.results"
