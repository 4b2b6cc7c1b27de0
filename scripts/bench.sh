#!/usr/bin/env bash
# make bench: both stores in one boot, side by side. Writes build/bench.txt
# (every case), build/bench.lines (machine-readable BENCH lines) and the
# table in README.md between its "bench" markers, naming the commit and
# kernel it came from.
#
# It runs on the production-config kernel (FLAVOR=prod: kernel/prod.fragment,
# no KASAN, lockdep or failslab), built in build/linux-prod from the same
# source and patches; the debug kernel is for tests. A second, short boot
# under multi-threaded TCG runs the parallel conversions with no vCPU.
export FLAVOR=prod
source "$(dirname "$0")/lib.sh"
for step in kernel module selftests vmm initramfs; do
	"$ROOT/scripts/$step.sh" || die "building the benchmark kernel's $step failed"
done
GUEST_TIMEOUT=${GUEST_TIMEOUT:-2400} "$ROOT/scripts/guest.sh" bench bench \
	"kunit.filter_glob=kvm_memattr_bench ${BENCH_CMDLINE:-}" || true
QEMU_ACCEL=tcg,thread=multi GUEST_TIMEOUT=900 "$ROOT/scripts/guest.sh" bench-mttcg bench-mttcg \
	"kunit.filter_glob=none" || true
cat "$BUILD/logs/bench.log" "$BUILD/logs/bench-mttcg.log" | grep -a '^BENCH ' > "$BUILD/bench.lines" ||
	die "no BENCH lines in build/logs/bench.log"
kver="$(cat "$BUILD/kernel-version") (prod config: kernel/prod.fragment)"
python3 "$ROOT/scripts/bench_table.py" "$BUILD/bench.lines" "$kver" | tee "$BUILD/bench.txt"
commit=$(git -C "$ROOT" rev-parse --short HEAD)
git -C "$ROOT" diff --quiet HEAD -- . ':!README.md' || commit="$commit with uncommitted changes"
npatches=$(grep -c . "$ROOT/patches/series")
python3 "$ROOT/scripts/bench_table.py" --readme "$BUILD/bench.lines" "$kver" \
	"commit $commit, patches 0001-$(printf %04d "$npatches"), one boot plus the multi-threaded one" \
	"$ROOT/README.md"
log "README.md's table rewritten from this run"
! grep -q '^FAIL' "$BUILD/logs/bench.results" "$BUILD/logs/bench-mttcg.results"
