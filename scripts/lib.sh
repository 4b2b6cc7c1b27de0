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
