#!/usr/bin/env bash
# Pack the test guest's initramfs: static busybox, guest/ plans, the module and
# the static selftests (with UPSTREAM_SUITE=1, upstream's whole KVM suite too).
source "$(dirname "$0")/lib.sh"
BUSYBOX=/bin/busybox
file -L "$BUSYBOX" | grep -q "statically linked" || die "$BUSYBOX is not static: install busybox-static"
[ -f "$MODDIR/kvm_memattr.ko" ] || die "module missing: run 'make module'"
R=$BUILD/initramfs-$FLAVOR${UPSTREAM_SUITE:+-upstream}
rm -rf "$R"
mkdir -p "$R"/{bin,dev,proc,sys,tmp,memattr,tests}
cp "$BUSYBOX" "$R/bin/busybox"
install -m 0755 "$ROOT/guest/init" "$R/init"
cp "$ROOT"/guest/*.sh "$R/memattr/"
cp "$MODDIR/kvm_memattr.ko" "$R/memattr/"
cp "$BUILD"/tests/* "$R/tests/"
if [ -n "${UPSTREAM_SUITE:-}" ]; then
	[ -d "$BUILD/tests-upstream" ] || die "upstream suite missing: run scripts/selftests-upstream.sh"
	mkdir -p "$R/upstream"
	cp "$BUILD"/tests-upstream/* "$R/upstream/"
fi
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1 > "$INITRAMFS")
log "initramfs: $INITRAMFS ($(du -h "$INITRAMFS" | cut -f1))"
