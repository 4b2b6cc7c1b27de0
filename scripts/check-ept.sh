#!/usr/bin/env bash
# make check-ept: the EPT paths under Bochs (VMX with EPT; QEMU's TCG has no
# VMX).  Two boots of the test kernel: kvm_intel.ept=1 (EPT MMU, protection,
# uAPI and KVM-access tests, execute-only, upstream's memory-attribute
# selftests on kvm_memattr) and kvm_intel.ept=0 (shadow paging on VMX).
# Results as in make check; the last line is "N passed, M failed, K skipped".
source "$(dirname "$0")/lib.sh"
mkdir -p "$BUILD/logs"
ALL=$BUILD/logs/check-ept.results
: > "$ALL"
for step in kernel module selftests vmm initramfs; do
	"$ROOT/scripts/$step.sh" || { echo "FAIL build/$step (see the output above)" >> "$ALL"; summarize "$ALL"; }
done
"$ROOT/scripts/bochs.sh" ept ept "kvm_intel.ept=1 memattr.ept=1 kvm.force_emulation_prefix=1 kunit.filter_glob=none" || true
cat "$BUILD/logs/ept.results" >> "$ALL"
"$ROOT/scripts/bochs.sh" ept ept-shadow "kvm_intel.ept=0 memattr.ept=0 kvm.force_emulation_prefix=1 kunit.filter_glob=none" || true
cat "$BUILD/logs/ept-shadow.results" >> "$ALL"
summarize "$ALL"
