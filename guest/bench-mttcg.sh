# Plan "bench-mttcg" (make bench, a second boot under multi-threaded TCG):
# the parallel conversions with no vCPU running, C store then kvm_memattr.
# Here the guest's two CPUs are two host threads, so two threads can run in
# parallel at all; nested SVM is not reliable under it (scripts/guest.sh),
# so no vCPU runs.
run_test bench-mttcg-upstream 600 /tests/memattr_bench mttcg
if load_module; then
	run_test bench-mttcg-kvm_memattr 600 /tests/memattr_bench mttcg
fi
