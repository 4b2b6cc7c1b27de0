if load_module; then
	kunit_results
	dmesg | grep "BENCH.*mixed"
fi
