# Plan "bench" (make bench): the same benchmark on upstream's C store, then,
# in the same boot, on kvm_memattr; then the in-kernel lookup benchmarks.
# memattr.gib= caps the uniform SETs (GiB) on both stores, for quick runs.
run_test bench-upstream 1500 /tests/memattr_bench "$(cmdline_num gib 64)"
if load_module; then
	run_test bench-kvm_memattr 1500 /tests/memattr_bench "$(cmdline_num gib 1024)"
	kunit_results
	dmesg | sed -n 's/^\[[^]]*\] kvm_memattr: \(BENCH .*\)$/\1/p'
fi
