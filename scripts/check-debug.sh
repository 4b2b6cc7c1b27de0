#!/usr/bin/env bash
# make check-debug: the in-guest suite on the KASAN kernel (kernel/debug.fragment
# on top of the test kernel's config), built from its own copy of the source.
# Not part of make check / CI: the KASAN kernel's build takes about 15 minutes.
source "$(dirname "$0")/lib.sh"
for step in selftests vmm; do "$ROOT/scripts/$step.sh"; done
export FLAVOR=debug
for step in kernel module initramfs; do "$ROOT/scripts/$step.sh"; done
GUEST_TIMEOUT=${GUEST_TIMEOUT:-1800} "$ROOT/scripts/guest.sh" debug check-debug \
	"kvm.force_emulation_prefix=1 kunit.filter_glob=kvm_memattr_store" || true
summarize "$BUILD/logs/check-debug.results"
