#!/usr/bin/env bash
# Everything testable, in one command: host cargo tests, then the kernel,
# module and selftests are built and the guest runs KUnit and the selftests.
# Every test is reported by name; the last line is "N passed, M failed, K skipped"
# and the exit status is non-zero when anything failed.
source "$(dirname "$0")/lib.sh"
mkdir -p "$BUILD/logs"
ALL=$BUILD/logs/check.results
: > "$ALL"
fail_step() { echo "FAIL $1 ($2)" >> "$ALL"; }

log "host: cargo test"
if cargo test --workspace --color never > "$BUILD/logs/cargo-test.log" 2>&1; then :; else
	grep -q '^test ' "$BUILD/logs/cargo-test.log" || fail_step host/cargo-test "did not build, see build/logs/cargo-test.log"
fi
sed -n 's/^test \(.*\) \.\.\. ok$/PASS host\/\1/p; s/^test \(.*\) \.\.\. FAILED$/FAIL host\/\1/p; s/^test \(.*\) \.\.\. ignored$/SKIP host\/\1/p' \
	"$BUILD/logs/cargo-test.log" >> "$ALL"

build_ok=1
for step in kernel module selftests vmm initramfs; do
	if ! "$ROOT/scripts/$step.sh"; then
		fail_step "build/$step" "see the output above"
		build_ok=0
		break
	fi
done
if [ $build_ok = 1 ]; then
	# The kernel community's gates: warnings, clippy, rustfmt, docs, patches.
	"$ROOT/scripts/gates.sh" "$ALL" || true
	# First boot: nested paging (NPT), with the NX huge-page mitigation forced on.
	"$ROOT/scripts/guest.sh" check check-npt "kvm.force_emulation_prefix=1 kvm.nx_huge_pages=force kunit.filter_glob=kvm_memattr_store" || true
	cat "$BUILD/logs/check-npt.results" >> "$ALL"
	# Second boot: shadow paging, for the shadow MMU's SPTE paths.
	"$ROOT/scripts/guest.sh" shadow check-shadow "kvm_amd.npt=0 kvm_amd.nrips=0 kvm.force_emulation_prefix=1 kunit.filter_glob=none" || true
	cat "$BUILD/logs/check-shadow.results" >> "$ALL"
fi

summarize "$ALL"
