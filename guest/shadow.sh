# Plan "shadow": the protection tests again with kvm_amd.npt=0, i.e. on the
# shadow MMU (guest page tables shadowed, SPTEs made by FNAME(fetch)), and
# with kvm_amd.nrips=0, so KVM skips an intercepted instruction by decoding
# it (EMULTYPE_SKIP) instead of reading the CPU's next RIP.
npt=$(cat /sys/module/kvm_amd/parameters/npt 2>/dev/null)
if [ "$npt" = N ] || [ "$npt" = 0 ]; then
	result PASS shadow-paging-active
else
	result FAIL shadow-paging-active "(kvm_amd.npt is '$npt')"
fi
nrips=$(cat /sys/module/kvm_amd/parameters/nrips 2>/dev/null)
if [ "$nrips" = N ] || [ "$nrips" = 0 ]; then
	result PASS nrips-off
else
	result FAIL nrips-off "(kvm_amd.nrips is '$nrips')"
fi
check_forced_emulation
if load_module; then
	run_test "memattr-rust/memattr_protect_test" 600 /tests/memattr_protect_test
	run_test "memattr-rust/memattr_kvm_access_test" 300 /tests/memattr_kvm_access_test
	run_test "memattr-rust/memattr_host_access_test" 300 /tests/memattr_host_access_test
	run_test "memattr-rust/memattr_stress_test-default-vm" 300 /tests/memattr_stress_test -D -d 10
	run_test "memattr-rust/memattr_stress_test-default-vm-thp-4vcpu" 300 /tests/memattr_stress_test -D -v 4 -t -d 10
	run_test "memattr-rust/memattr_stress_test-default-vm-concurrent" 300 /tests/memattr_stress_test -D -c -d 10
	if rmmod kvm_memattr; then result PASS module-unload; else result FAIL module-unload; fi
fi
