#!/usr/bin/env bash
# Build kvm_memattr.ko out of tree against build/linux. Sources are mirrored
# into build/module so that objects never land in the source tree.
source "$(dirname "$0")/lib.sh"
[ -f "$KSRC/vmlinux" ] || die "kernel not built: run 'make kernel'"
mkdir -p "$MODDIR"
rsync -a --delete --exclude target --filter 'P *.o' --filter 'P .*.cmd' --filter 'P *.ko' \
	--filter 'P *.mod*' --filter 'P Module.symvers' --filter 'P modules.order' \
	"$ROOT/Kbuild" "$ROOT/rust" "$MODDIR/"
log "building kvm_memattr.ko"
"${KMAKE[@]}" M="$MODDIR" modules 2>&1 | { grep -v "^make\[" || true; } ||
	die "module build failed"
[ -f "$MODDIR/kvm_memattr.ko" ] || die "module build produced no kvm_memattr.ko"
log "built $MODDIR/kvm_memattr.ko"
