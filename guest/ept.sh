# Plan "ept": under Bochs (scripts/bochs.sh), kvm_intel on VMX.  memattr.ept=1
# (kvm_intel.ept=1): the EPT MMU, the protection, uAPI and KVM-access tests
# and upstream's memory-attribute selftests on kvm_memattr.  memattr.ept=0
# (kvm_intel.ept=0): shadow paging on VMX, the protection tests.
want=$(cmdline_num ept 1)
[ -e /dev/kvm ] || result FAIL dev-kvm "(no /dev/kvm: no VMX in this CPU model?)"
ept=$(cat /sys/module/kvm_intel/parameters/ept 2>/dev/null)
case "$want:$ept" in
1:Y) result PASS ept-active "($(sed -n 's/^vmx flags[^:]*: //p' /proc/cpuinfo | head -1 |
	tr ' ' '\n' | grep '^ept' | tr '\n' ' '))" ;;
0:N) result PASS vmx-shadow-paging-active ;;
*) result FAIL mmu-as-asked "(memattr.ept=$want but kvm_intel.ept is '$ept')" ;;
esac
check_forced_emulation
if load_module; then
	# Bochs never interrupts an L2 guest that spins without exits: neither
	# the L1 timer nor an IPI (a TLB-flush request) gets L1 control back, so
	# the part whose vCPU spins while another thread SETs hangs (so did
	# upstream's set_memory_region_test).  Both are left out here.
	run_test "memattr-rust/memattr_protect_test" 900 /tests/memattr_protect_test -R
	result SKIP "memattr-rust/memattr_protect_test-race" "(spinning L2 guest: Bochs delivers no interrupt)"
	run_test "memattr-rust/memattr_kvm_access_test" 600 /tests/memattr_kvm_access_test
	# No SVM under Bochs: every part but nested-svm and nested-smm; nested
	# EPT only where L0 has EPT.
	parts="steal-time kvmclock pv-eoi pv-eoi-use async-pf async-pf-use rep-movsb pt-walk smm"
	parts="$parts nested-vmx nested-evmcs"
	[ "$want" = 1 ] && parts="$parts nested-ept"
	run_test "memattr-rust/memattr_host_access_test" 600 /tests/memattr_host_access_test $parts
	if [ "$want" = 1 ]; then
		run_test "memattr-rust/memattr_uapi_test" 600 /tests/memattr_uapi_test -b kvm_memattr
		for t in $UPSTREAM_TESTS; do
			if [ "$t" = set_memory_region_test ]; then
				result SKIP "upstream-rust/$t" "(spinning L2 guest: Bochs delivers no interrupt)"
				continue
			fi
			run_test "upstream-rust/$t" 600 "/tests/$t"
		done
	fi
	if rmmod kvm_memattr; then result PASS module-unload; else result FAIL module-unload; fi
fi
