#!/usr/bin/env bash
# Build the project's KVM selftests and upstream's memory-attribute selftests,
# static, with KVM's own selftest library.
source "$(dirname "$0")/lib.sh"
SELFTESTS="$KSRC/tools/testing/selftests/kvm"
[ -d "$KSRC/usr/include/linux" ] || die "kernel headers missing: run 'make kernel'"
OURS=$(cd "$ROOT/tools/testing/selftests/kvm" && ls x86_64/*.c | sed 's/\.c$//')
# Shared headers of the project's tests.
for h in "$ROOT"/tools/testing/selftests/kvm/x86_64/*.h; do
	cmp -s "$h" "$SELFTESTS/x86_64/$(basename "$h")" || cp "$h" "$SELFTESTS/x86_64/"
done
for t in $OURS; do
	if ! cmp -s "$ROOT/tools/testing/selftests/kvm/$t.c" "$SELFTESTS/$t.c"; then
		cp "$ROOT/tools/testing/selftests/kvm/$t.c" "$SELFTESTS/$t.c"
		rm -f "$SELFTESTS/$t" "$SELFTESTS/$t.o"
	fi
done
UPSTREAM="x86_64/private_mem_conversions_test x86_64/private_mem_kvm_exits_test guest_memfd_test set_memory_region_test"
# Build only what the guest runs: ours plus the four upstream tests.
cat > "$SELFTESTS/memattr.mk" <<MK
TEST_GEN_PROGS := $(echo $OURS $UPSTREAM)
include Makefile
MK
log "building KVM selftests (static)"
# Run as a top-level make even under "make check": lib.mk only sets OUTPUT
# (and so the paths of the test binaries) when MAKELEVEL is 0.
build() {
	env -u MAKELEVEL -u MAKEFLAGS -u MFLAGS \
		make -C "$SELFTESTS" -f memattr.mk -s -j"$(nproc)" EXTRA_CFLAGS=-static \
		TEST_GEN_PROGS_x86_64= 2>&1 | { grep -v "^make\[" || true; }
}
build || die "selftest build failed"
# Should a pass still end without a test, one more builds what is missing.
for t in $OURS $UPSTREAM; do
	if [ ! -x "$SELFTESTS/$t" ]; then
		log "selftest $t missing after the first pass; building again"
		build || die "selftest build failed"
		break
	fi
done
mkdir -p "$BUILD/tests"
for t in $OURS $UPSTREAM; do
	[ -x "$SELFTESTS/$t" ] || die "selftest $t was not built"
	cp "$SELFTESTS/$t" "$BUILD/tests/"
done
log "selftests in $BUILD/tests: $(ls "$BUILD/tests" | tr '\n' ' ')"
