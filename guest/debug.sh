# Plan "debug": the whole check plan again on the debug kernel (KASAN,
# lockdep, RCU/list/atomic-sleep checks), then allocation failures injected
# into SET with failslab.
. /memattr/check.sh
if load_module; then
	run_test "memattr-rust/memattr_failslab_test" 300 /tests/memattr_failslab_test
	if rmmod kvm_memattr; then result PASS module-unload; else result FAIL module-unload; fi
fi
