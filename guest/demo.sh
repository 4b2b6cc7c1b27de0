# Plan "demo" (make run): load kvm_memattr and run the demonstration.
if load_module; then
	run_test demo 300 /tests/memattr_demo
fi
