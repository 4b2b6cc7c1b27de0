#!/usr/bin/env bash
# make bench: both stores in one boot, side by side. Writes build/bench.txt
# (the table) and build/bench.lines (machine-readable BENCH lines).
#
# It runs on the production-config kernel (FLAVOR=prod: kernel/prod.fragment,
# no KASAN, lockdep or failslab), built in build/linux-prod from the same
# source and patches; the debug kernel is for tests.
export FLAVOR=prod
source "$(dirname "$0")/lib.sh"
for step in kernel module selftests vmm initramfs; do
	"$ROOT/scripts/$step.sh" || die "building the benchmark kernel's $step failed"
done
GUEST_TIMEOUT=${GUEST_TIMEOUT:-2400} "$ROOT/scripts/guest.sh" bench bench \
	"kunit.filter_glob=kvm_memattr_bench ${BENCH_CMDLINE:-}" || true
grep -a '^BENCH ' "$BUILD/logs/bench.log" > "$BUILD/bench.lines" || die "no BENCH lines in build/logs/bench.log"
python3 "$ROOT/scripts/bench_table.py" "$BUILD/bench.lines" "$(cat "$BUILD/kernel-version") (prod config: kernel/prod.fragment)" | tee "$BUILD/bench.txt"
! grep -q '^FAIL' "$BUILD/logs/bench.results"
