#!/usr/bin/env bash
# make check-upstream: upstream's whole x86 KVM selftest suite, each program
# on upstream's C store and then with kvm_memattr loaded, in one boot of the
# test kernel (guest/upstream.sh). Fails when a program that passes on the C
# store does not pass with the module. Not part of make check: the suite takes
# longer under emulation than CI allows (UPSTREAM_LIMIT: seconds per program;
# UPSTREAM_ONLY=a,b: only those programs; UPSTREAM_ON=bochs: under Bochs, VMX
# with EPT, rather than QEMU).
export UPSTREAM_SUITE=1
source "$(dirname "$0")/lib.sh"
mkdir -p "$BUILD/logs"
ALL=$BUILD/logs/check-upstream.results
: > "$ALL"
for step in kernel module selftests selftests-upstream vmm initramfs; do
	"$ROOT/scripts/$step.sh" || { echo "FAIL build/$step (see the output above)" >> "$ALL"; summarize "$ALL"; }
done
args="kvm.force_emulation_prefix=1 kunit.filter_glob=none memattr.limit=${UPSTREAM_LIMIT:-300}${UPSTREAM_ONLY:+ memattr.only=$UPSTREAM_ONLY}"
if [ "${UPSTREAM_ON:-qemu}" = bochs ]; then
	# Under Bochs (VMX with EPT) instead of QEMU (SVM): the vmx_* programs.
	BOCHS_TIMEOUT=${BOCHS_TIMEOUT:-14400} "$ROOT/scripts/bochs.sh" upstream upstream-suite \
		"kvm_intel.ept=1 $args" || true
else
	GUEST_TIMEOUT=${GUEST_TIMEOUT:-14400} "$ROOT/scripts/guest.sh" upstream upstream-suite "$args" || true
fi
cat "$BUILD/logs/upstream-suite.results" >> "$ALL"
summarize "$ALL"
