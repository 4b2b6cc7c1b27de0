#!/usr/bin/env bash
# Build kvm_memattr.ko out of tree against build/linux. Sources are mirrored
# into build/module so that objects never land in the source tree.
source "$(dirname "$0")/lib.sh"
[ -f "$KSRC/vmlinux" ] || die "kernel not built: run 'make kernel'"
mkdir -p "$MODDIR"
rsync -a --delete --exclude target --filter 'P *.o' --filter 'P .*.cmd' --filter 'P *.ko' \
	--filter 'P *.mod*' --filter 'P Module.symvers' --filter 'P modules.order' \
	--filter 'P helpers_generated.rs' "$ROOT/Kbuild" "$ROOT/rust" "$MODDIR/"

# The Rust declarations of the C helpers: bindgen over helpers.h with the C
# flags the kernel generated its own bindings with (rust/bindings), written
# only when they change so that an unchanged module is not rebuilt.
cmdfile=$KSRC/rust/bindings/.bindings_generated.rs.cmd
[ -f "$cmdfile" ] || die "$cmdfile missing: run 'make kernel'"
cflags=$(sed -n '1{s/^.* -- //; s/ ; sed .*//; s/-Wp,-MMD,[^ ]* //; p}' "$cmdfile")
gen=$MODDIR/rust/kvm_memattr/helpers_generated.rs
(cd "$KSRC" && "$BINDGEN" "$ROOT/rust/kvm_memattr/helpers.h" --rust-target 1.68 \
	--use-core --ctypes-prefix core::ffi --no-layout-tests --no-doc-comments \
	--allowlist-function 'memattr_.*' --blocklist-type 'xa_state|xarray|xa_node' \
	-o "$gen.new" -- $cflags -DMODULE) || die "bindgen over helpers.h failed"
if cmp -s "$gen.new" "$gen"; then rm "$gen.new"; else mv "$gen.new" "$gen"; fi

# W=1 as the kernel's gates want it (scripts/gates.sh also builds it from
# scratch with clippy and fails on any warning).
log "building kvm_memattr.ko"
"${KMAKE[@]}" M="$MODDIR" W=1 modules 2>&1 | { grep -v "^make\[" || true; } ||
	die "module build failed"
[ -f "$MODDIR/kvm_memattr.ko" ] || die "module build produced no kvm_memattr.ko"
log "built $MODDIR/kvm_memattr.ko"
