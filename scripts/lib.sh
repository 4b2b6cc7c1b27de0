# Shared settings for the kvm-memattr scripts. Sourced, not run.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build
# FLAVOR names a kernel build: main is the test kernel (kernel/config.fragment,
# debug options and KASAN included); prod, for make bench, is the same with
# the debug options off (kernel/prod.fragment), in its own tree.
FLAVOR=${FLAVOR:-main}
case "$FLAVOR" in
main)	KSRC=$BUILD/linux; MODDIR=$BUILD/module; INITRAMFS=$BUILD/initramfs.cpio.gz
	KCONFIG_EXTRA= ;;
prod)	KSRC=$BUILD/linux-prod; MODDIR=$BUILD/module-prod; INITRAMFS=$BUILD/initramfs-prod.cpio.gz
	KCONFIG_EXTRA=$ROOT/kernel/prod.fragment ;;
*)	echo "unknown FLAVOR=$FLAVOR" >&2; exit 1 ;;
esac
# make check-upstream boots an initramfs that also carries upstream's whole suite.
[ -z "${UPSTREAM_SUITE:-}" ] || INITRAMFS=$BUILD/initramfs-$FLAVOR-upstream.cpio.gz
BINDGEN_VERSION=0.73.2
BINDGEN=${BINDGEN:-$HOME/.cargo/bin/bindgen}
KMAKE=(make -C "$KSRC" LLVM=-19 RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
       BINDGEN="$BINDGEN" -j"$(nproc)")
log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# summarize RESULTS: every result by name, then "N passed, M failed, K skipped";
# fails when anything failed or nothing passed.
summarize() {
	echo
	echo "Results:"
	sort -k2 "$1" | sed 's/^/  /'
	local pass failn skip
	pass=$(grep -c '^PASS' "$1" || true)
	failn=$(grep -c '^FAIL' "$1" || true)
	skip=$(grep -c '^SKIP' "$1" || true)
	echo
	echo "$pass passed, $failn failed, $skip skipped"
	[ "$failn" = 0 ] && [ "$pass" -gt 0 ]
}

# What fails a boot when it appears in the guest's kernel log.
SPLAT='BUG:|WARNING:|Oops|Kernel panic|general protection fault|possible recursive locking|possible circular locking|inconsistent lock state|suspicious RCU usage|KASAN:|UBSAN:|kernel BUG|Call Trace:|soft lockup|hung_task'

# guest_verdict NAME LOG RESULTS RC ELAPSED LIMIT [BOOT_NOISE]: the guest's
# @@RESULT lines, whether it finished, and whether its kernel log is clean,
# written to RESULTS; fails when anything failed. BOOT_NOISE (an ERE) names
# the emulator's own boot-time warnings: those, and only those, are allowed
# before the plan begins (guest/init logs "memattr: plan ... begins").
guest_verdict() {
	local name=$1 log=$2 res=$3 rc=$4 elapsed=$5 limit=$6 noise=${7:-} plan boot bad
	: > "$res"
	sed -n 's/^@@RESULT \(PASS\|FAIL\|SKIP\) \(.*\)$/\1 '"$name"'\/\2/p' "$log" >> "$res"
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		echo "FAIL $name/guest-finished (no power-off within ${limit}s: hung guest)" >> "$res"
	elif ! grep -q '^@@MEMATTR END' "$log"; then
		echo "FAIL $name/guest-finished (guest died before the end of its plan; exit $rc)" >> "$res"
	else
		echo "PASS $name/guest-finished (${elapsed}s)" >> "$res"
	fi
	plan=$log
	if [ -n "$noise" ]; then
		plan=$log.plan
		boot=$log.boot
		# The console from the plan's start, and the dmesg dump after the marker.
		{ sed -n '/^@@MEMATTR BEGIN/,/^@@DMESG BEGIN/p' "$log"
		  sed -n '/^@@DMESG BEGIN/,$p' "$log" | sed -n '/memattr: plan .* begins/,$p'; } > "$plan"
		sed -n '/^@@DMESG BEGIN/,$p' "$log" | sed '/memattr: plan .* begins/,$d' > "$boot"
		bad=$(grep -E "$SPLAT" "$boot" | grep -Ev "$noise|Call Trace:" | head -1 || true)
		if [ -n "$bad" ]; then
			echo "FAIL $name/boot-log-clean ($(echo "$bad" | sed 's/^\[[^]]*\] //'))" >> "$res"
		else
			echo "PASS $name/boot-log-clean ($(grep -Ec "$noise" "$boot" || true) known emulator warnings)" >> "$res"
		fi
	fi
	if grep -Eq "$SPLAT" "$plan"; then
		echo "FAIL $name/kernel-log-clean ($(grep -Em1 "$SPLAT" "$plan" | sed 's/^\[[^]]*\] //'))" >> "$res"
	else
		echo "PASS $name/kernel-log-clean" >> "$res"
	fi
	! grep -q '^FAIL' "$res"
}
