#!/usr/bin/env bash
# Build upstream's whole KVM selftest suite for x86 (static, unmodified) into
# build/tests-upstream, for make check-upstream.
source "$(dirname "$0")/lib.sh"
SELFTESTS="$KSRC/tools/testing/selftests/kvm"
[ -d "$KSRC/usr/include/linux" ] || die "kernel headers missing: run 'make kernel'"
# The suite's own list: TEST_GEN_PROGS for x86 and the binaries its scripts run.
cat > "$SELFTESTS/memattr-upstream.mk" <<'MK'
include Makefile
memattr-upstream-list:
	@echo $(TEST_GEN_PROGS) $(TEST_GEN_PROGS_EXTENDED)
MK
mk() {
	env -u MAKELEVEL -u MAKEFLAGS -u MFLAGS \
		make -C "$SELFTESTS" -f memattr-upstream.mk -s EXTRA_CFLAGS=-static "$@"
}
progs=$(mk memattr-upstream-list)
[ -n "$progs" ] || die "no upstream selftest list"
log "building upstream's KVM selftests ($(echo $progs | wc -w) programs, static)"
mk -j"$(nproc)" $progs 2>&1 | { grep -v "^make\[" || true; }
rm -rf "$BUILD/tests-upstream"
mkdir -p "$BUILD/tests-upstream"
for p in $progs; do
	[ -x "$p" ] || die "upstream selftest $p was not built"
	cp "$p" "$BUILD/tests-upstream/"
done
log "upstream selftests in $BUILD/tests-upstream: $(ls "$BUILD/tests-upstream" | wc -l) programs"
