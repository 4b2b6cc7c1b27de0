# Module lifecycle (sourced by the check plan with the module loaded):
# unload refused while a VM uses the backend, load/unload loops with VMs in
# between, and nothing left behind when VMs with large maps are destroyed.
lifecycle() {
	/tests/memattr_lifecycle_test hold 3 &
	holder=$!
	sleep 1
	if rmmod kvm_memattr 2>/dev/null; then
		result FAIL lifecycle/unload-refused-while-vm-lives "(rmmod succeeded)"
		insmod /memattr/kvm_memattr.ko
	else
		result PASS lifecycle/unload-refused-while-vm-lives
	fi
	wait $holder
	# The KUnit suite ran at the first load; KUnit would run it again at
	# every insmod (a minute each under KASAN), so the rounds skip it.
	glob=/sys/module/kunit/parameters/filter_glob
	saved=$(cat $glob 2>/dev/null || true)
	[ -w $glob ] && echo no_suite > $glob
	ok=1
	for i in 1 2 3 4 5; do
		rmmod kvm_memattr || ok=0
		/tests/memattr_uapi_test -b upstream >/dev/null 2>&1 || ok=0
		insmod /memattr/kvm_memattr.ko || ok=0
		/tests/memattr_lifecycle_test hold 0 >/dev/null 2>&1 || ok=0
	done
	[ -w $glob ] && echo "$saved" > $glob
	if [ $ok = 1 ]; then
		result PASS lifecycle/load-unload-loops "(5 rounds, VMs on both stores in between)"
	else
		result FAIL lifecycle/load-unload-loops
	fi
	run_test lifecycle/vm-destroy-frees-everything 300 /tests/memattr_lifecycle_test leak
}
