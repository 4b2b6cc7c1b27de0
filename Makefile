# SPDX-License-Identifier: GPL-2.0
# kvm-memattr: build, boot and test. Every target does only what is missing.
# All outputs go to build/ (ignored).

SCRIPTS := scripts

.PHONY: all deps kernel module selftests vmm initramfs run check check-ept check-upstream soak bench clean distclean

all: module selftests

deps:
	@$(SCRIPTS)/deps.sh

kernel: deps
	@$(SCRIPTS)/kernel.sh

module: kernel
	@$(SCRIPTS)/module.sh

selftests: kernel
	@$(SCRIPTS)/selftests.sh

vmm: deps
	@$(SCRIPTS)/vmm.sh

initramfs: module selftests vmm
	@$(SCRIPTS)/initramfs.sh

# The main job: boot the patched kernel in QEMU, load the module, show it working.
run: initramfs
	@$(SCRIPTS)/guest.sh demo demo "kunit.filter_glob=kvm_memattr_store"

# Everything testable: host cargo test, KUnit and selftests in the guest.
check: deps
	@$(SCRIPTS)/check.sh

# The EPT paths under Bochs (VMX with EPT): EPT and VMX shadow paging.
check-ept: deps
	@$(SCRIPTS)/check-ept.sh

# Upstream's whole x86 KVM selftest suite, C store vs kvm_memattr in one boot.
check-upstream: deps
	@$(SCRIPTS)/check-upstream.sh

# memattr_stress_test many times per boot, on NPT and shadow paging (SOAK_N, SOAK_SECS, SOAK_SEED).
soak: initramfs
	@$(SCRIPTS)/soak.sh

# Both stores side by side, on the production-config kernel (build/linux-prod).
bench: deps
	@$(SCRIPTS)/bench.sh

clean:
	rm -rf build/module build/initramfs* build/logs build/bochs build/tests-upstream target

distclean:
	rm -rf build target
