#!/usr/bin/env bash
# Build kvm_memattr.ko out of tree against build/linux. Sources are mirrored
# into build/module so that objects never land in the source tree.
source "$(dirname "$0")/lib.sh"
[ -f "$KSRC/vmlinux" ] || die "kernel not built: run 'make kernel'"
mkdir -p "$BUILD/module"
rsync -a --delete --exclude target --filter 'P *.o' --filter 'P .*.cmd' --filter 'P *.ko' \
	--filter 'P *.mod*' --filter 'P Module.symvers' --filter 'P modules.order' \
	"$ROOT/Kbuild" "$ROOT/rust" "$BUILD/module/"
log "building kvm_memattr.ko"
"${KMAKE[@]}" M="$BUILD/module" modules 2>&1 | { grep -v "^make\[" || true; } ||
	die "module build failed"
[ -f "$BUILD/module/kvm_memattr.ko" ] || die "module build produced no kvm_memattr.ko"
log "built $BUILD/module/kvm_memattr.ko"
