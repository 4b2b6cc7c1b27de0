# Plan "bench" (make bench): the same benchmark on upstream's C store, then,
# in the same boot, on kvm_memattr; then the in-kernel lookup benchmarks.
# memattr.gib= caps the uniform SETs (GiB) on both stores, for quick runs.
run_test bench-upstream 1500 /tests/memattr_bench "$(cmdline_num gib 64)"
if load_module; then
	run_test bench-kvm_memattr 1500 /tests/memattr_bench "$(cmdline_num gib 1024)"
	kunit_results
	# The single-page cases again, the two stores alternating three times:
	# their ratio sits near 1 and drifts with the host's load over the
	# boot, which the order C-then-module above would turn into a bias.
	# The table takes each store's best run.
	for i in 1 2 3; do
		if ! rmmod kvm_memattr; then
			result FAIL bench-unload-$i
			break
		fi
		run_test bench-short-upstream-$i 600 /tests/memattr_bench short
		load_module || break
		run_test bench-short-kvm_memattr-$i 600 /tests/memattr_bench short
	done
	# The in-kernel benchmarks ran at each load (four times); the table
	# takes each case's best. The first run follows the C store's bench
	# at once, and its mixed-recompute case once took 5 ms against
	# 0.25 ms in the three later runs of that boot and in a boot alone.
	dmesg | sed -n 's/^\[[^]]*\] kvm_memattr: \(BENCH .*\)$/\1/p'
fi
