# Plan "demo" (make run): load kvm_memattr, run the demo VMM (Rust, on
# kvm-ioctls), then the 1 TiB demonstration (C, KVM selftest library).
if load_module; then
	run_test demo-vmm 300 /tests/memattr-vmm-demo
	run_test demo-terabyte 300 /tests/memattr_demo
fi
