#!/usr/bin/env bash
# guest.sh PLAN [NAME] [EXTRA KERNEL ARGS]: boot build/linux in QEMU (TCG,
# -cpu max: nested SVM with NPT), run guest/PLAN.sh, and turn what it printed
# into results. The serial log is kept in build/logs/NAME.log. A guest that
# hangs, panics or prints a kernel splat is a failure, within a bounded time.
source "$(dirname "$0")/lib.sh"
PLAN=$1
NAME=${2:-$PLAN}
EXTRA=${3:-}
LIMIT=${GUEST_TIMEOUT:-900}
BZIMAGE=$KSRC/arch/x86/boot/bzImage
[ -f "$BZIMAGE" ] || die "no kernel: run 'make kernel'"
[ -f "$INITRAMFS" ] || die "no initramfs: run 'make initramfs'"
mkdir -p "$BUILD/logs"
LOG=$BUILD/logs/$NAME.log
RES=$BUILD/logs/$NAME.results
# Single-threaded TCG: with multi-threaded TCG (QEMU's default for -smp 2),
# QEMU 7.2 and 10.0 corrupt nested SVM state under memory-attribute stress on
# upstream's C store as well as on kvm_memattr (a #VMEXIT hands L1 its own
# host RIP and CR3 as the L2 guest's state); see README, "Emulator".
ACCEL=${QEMU_ACCEL:-tcg,thread=single}
log "booting the $FLAVOR kernel ($ACCEL): plan '$PLAN'${EXTRA:+ ($EXTRA)}, log in $LOG, limit ${LIMIT}s"
start=$(date +%s)
set +e
timeout --foreground -k 10 "$LIMIT" qemu-system-x86_64 -accel "$ACCEL" -cpu max -m 4G -smp 2 ${QEMU_EXTRA:-} \
	-kernel "$BZIMAGE" -initrd "$INITRAMFS" \
	-append "console=ttyS0 panic=-1 loglevel=5 memattr.mode=$PLAN $EXTRA" \
	-nographic -no-reboot < /dev/null 2>&1 | sed -u 's/\r//' | tee "$LOG" |
	grep --line-buffered -av -e '^@@' -e '^\[ *[0-9]*\.[0-9]*\]' | sed -u 's/^/    | /'
qemu_rc=${PIPESTATUS[0]}
set -e
elapsed=$(( $(date +%s) - start ))

guest_verdict "$NAME" "$LOG" "$RES" "$qemu_rc" "$elapsed" "$LIMIT"
