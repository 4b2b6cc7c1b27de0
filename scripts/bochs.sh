#!/usr/bin/env bash
# bochs.sh PLAN [NAME] [EXTRA KERNEL ARGS]: boot build/linux and the test
# initramfs under Bochs, which emulates VMX with EPT (QEMU's TCG has no VMX),
# run guest/PLAN.sh and turn what it printed into results, as guest.sh does
# for QEMU. The serial log is kept in build/logs/NAME.log.
#
# Bochs cannot load a bzImage itself: the kernel and initramfs go on an
# ISOLINUX CD.  Debian's Bochs is built with its debugger, so it is driven by
# an rc file ("continue", then "quit" when the guest powers off), and has no
# headless display but rfb with timeout=0.  The time limit is the host's:
# an emulated guest's own timeouts cannot be trusted to fire.
source "$(dirname "$0")/lib.sh"
PLAN=$1
NAME=${2:-$PLAN}
EXTRA=${3:-}
LIMIT=${BOCHS_TIMEOUT:-900}
CPU=${BOCHS_CPU:-corei7_skylake_x}
BZIMAGE=$KSRC/arch/x86/boot/bzImage
[ -f "$BZIMAGE" ] || die "no kernel: run 'make kernel'"
[ -f "$INITRAMFS" ] || die "no initramfs: run 'make initramfs'"
command -v bochs >/dev/null || die "bochs missing: run 'make deps'"
ISOLINUX=/usr/lib/ISOLINUX/isolinux.bin
LDLINUX=/usr/lib/syslinux/modules/bios/ldlinux.c32
[ -f "$ISOLINUX" ] && [ -f "$LDLINUX" ] || die "isolinux missing: run 'make deps'"
mkdir -p "$BUILD/logs"
W=$BUILD/bochs/$NAME
rm -rf "$W"
mkdir -p "$W/iso/isolinux"
LOG=$BUILD/logs/$NAME.log
RES=$BUILD/logs/$NAME.results

cp "$ISOLINUX" "$LDLINUX" "$W/iso/isolinux/"
cp "$BZIMAGE" "$W/iso/bzImage"
cp "$INITRAMFS" "$W/iso/initrd.gz"
cat > "$W/iso/isolinux/isolinux.cfg" <<CFG
DEFAULT linux
PROMPT 0
TIMEOUT 0
LABEL linux
  KERNEL /bzImage
  INITRD /initrd.gz
  APPEND console=ttyS0 panic=-1 loglevel=5 memattr.mode=$PLAN $EXTRA
CFG
xorriso -as mkisofs -quiet -o "$W/boot.iso" -b isolinux/isolinux.bin \
	-c isolinux/boot.cat -no-emul-boot -boot-load-size 4 -boot-info-table "$W/iso"
cat > "$W/bochsrc" <<RC
cpu: model=$CPU, count=${BOCHS_CPUS:-1}, ips=100000000
memory: guest=2048, host=2048
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest
ata0: enabled=1, ioaddr1=0x1f0, ioaddr2=0x3f0, irq=14
ata0-master: type=cdrom, path="$W/boot.iso", status=inserted
boot: cdrom
com1: enabled=1, mode=file, dev="$W/serial.log"
display_library: rfb, options="timeout=0"
clock: sync=none, time0=local
# No sound: with no ALSA card, Bochs 2.7's default sound driver makes its
# speaker thread abort ("buffer overflow detected") right after start-up.
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
log: $W/bochs.log
panic: action=fatal
error: action=ignore
info: action=ignore
debug: action=ignore
RC
printf 'c\nquit\n' > "$W/rc"
: > "$W/serial.log"

log "booting the $FLAVOR kernel under Bochs ($CPU): plan '$PLAN'${EXTRA:+ ($EXTRA)}, log in $LOG, limit ${LIMIT}s"
start=$(date +%s)
set +e
(cd "$W" && timeout -k 10 "$LIMIT" bochs -q -f bochsrc -rc rc > bochs.out 2>&1 < /dev/null) &
bpid=$!
tail -n +1 -F "$W/serial.log" 2>/dev/null | sed -u 's/\r//' |
	grep --line-buffered -av -e '^@@' -e '^\[ *[0-9]*\.[0-9]*\]' | sed -u 's/^/    | /' &
tpid=$!
wait "$bpid"
rc=$?
kill "$tpid" 2>/dev/null
set -e
elapsed=$(( $(date +%s) - start ))
sed 's/\r//' "$W/serial.log" > "$LOG"
# Bochs's Skylake-X CPUID makes the kernel warn twice while it boots (CPU
# topology leaf, XSAVE sizes).  Those two, before the plan starts, are the
# emulator's; any other warning, and any warning later, fails the boot.
noise='topology_common\.c:[0-9]+ parse_legacy|xstate\.c:[0-9]+ paranoid_xstate_size_valid'
guest_verdict "$NAME" "$LOG" "$RES" "$rc" "$elapsed" "$LIMIT" "$noise"
