# Plan "check": every in-guest test. Upstream's memory-attribute selftests run
# twice, on upstream's C store and on kvm_memattr, plus the project's tests.
[ -e /dev/kvm ] || result FAIL dev-kvm "(no /dev/kvm: nested SVM missing?)"
grep -qw npt /proc/cpuinfo || echo "note: no NPT in this guest (shadow paging)"
for t in $UPSTREAM_TESTS; do
	run_test "upstream-c/$t" 300 "/tests/$t"
done
run_test "memattr-c/memattr_uapi_test" 300 /tests/memattr_uapi_test -b upstream
run_test "memattr-c/memattr_hostile_test" 300 /tests/memattr_hostile_test
run_test "memattr-c/memattr_stress_test-private" 300 /tests/memattr_stress_test -P -d 10
check_forced_emulation
if load_module; then
	kunit_results
	for t in $UPSTREAM_TESTS; do
		run_test "upstream-rust/$t" 300 "/tests/$t"
	done
	served=$(dmesg | grep -c "kvm_memattr: VM released: [1-9][0-9]* SETs")
	if [ "$served" -gt 0 ]; then
		result PASS rust-backend-served-upstream-tests "($served VMs with SETs)"
	else
		result FAIL rust-backend-served-upstream-tests "(no VM with SETs was served by kvm_memattr)"
	fi
	run_test "memattr-rust/memattr_uapi_test" 300 /tests/memattr_uapi_test -b kvm_memattr
	run_test "memattr-rust/memattr_protect_test" 300 /tests/memattr_protect_test
	run_test "memattr-rust/memattr_kvm_access_test" 300 /tests/memattr_kvm_access_test
	run_test "memattr-rust/memattr_host_access_test" 300 /tests/memattr_host_access_test
	run_test "memattr-rust/memattr-vmm-demo" 300 /tests/memattr-vmm-demo
	run_test "memattr-rust/memattr_hostile_test" 300 /tests/memattr_hostile_test
	run_test "memattr-rust/memattr_getset_race_test" 300 /tests/memattr_getset_race_test 10
	run_test "memattr-rust/memattr_stress_test" 300 /tests/memattr_stress_test
	run_test "memattr-rust/memattr_stress_test-thp-4vcpu" 300 /tests/memattr_stress_test -v 4 -t -d 10
	run_test "memattr-rust/memattr_stress_test-guest_memfd" 300 /tests/memattr_stress_test -g -M -d 10
	run_test "memattr-rust/memattr_stress_test-default-vm" 300 /tests/memattr_stress_test -D -d 10
	run_test "memattr-rust/memattr_stress_test-concurrent-thp" 300 /tests/memattr_stress_test -c -t -d 10
	run_test "memattr-rust/memattr_stress_test-concurrent-guest_memfd" 300 /tests/memattr_stress_test -c -g -M -d 10
	run_test "memattr-rust/memattr_stress_test-concurrent-huge" 300 /tests/memattr_stress_test -c -t -u -v 4 -d 10
	. /memattr/lifecycle.sh
	lifecycle
	run_test "memattr-rust/memattr_failslab_test" 300 /tests/memattr_failslab_test
	if rmmod kvm_memattr; then result PASS module-unload; else result FAIL module-unload; fi
fi
