# Plan "shadow": the protection tests again with kvm_amd.npt=0, i.e. on the
# shadow MMU (guest page tables shadowed, SPTEs made by FNAME(fetch)).
npt=$(cat /sys/module/kvm_amd/parameters/npt 2>/dev/null)
if [ "$npt" = N ] || [ "$npt" = 0 ]; then
	result PASS shadow-paging-active
else
	result FAIL shadow-paging-active "(kvm_amd.npt is '$npt')"
fi
check_forced_emulation
if load_module; then
	run_test "memattr-rust/memattr_protect_test" 600 /tests/memattr_protect_test
	run_test "memattr-rust/memattr_stress_test-default-vm" 300 /tests/memattr_stress_test -D -d 10
	run_test "memattr-rust/memattr_stress_test-default-vm-thp-4vcpu" 300 /tests/memattr_stress_test -D -v 4 -t -d 10
	if rmmod kvm_memattr; then result PASS module-unload; else result FAIL module-unload; fi
fi
