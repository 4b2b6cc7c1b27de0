# Plan "soak": memattr_stress_test run many times in one boot, with the module
# loaded. memattr.n= (runs per variant), memattr.secs= (seconds per run) and
# memattr.seed= (first seed; run i uses seed+i) come from the kernel command
# line. On NPT: the base test, 4 vCPUs on THP-backed memory, guest_memfd
# conversions, the base test on a default VM, and four protectors whose SETs
# run concurrently (-c) on THP and on guest_memfd, and two whose huge pages
# go uniform and map huge between their SETs (-c -t -u). On shadow paging
# (kvm_amd.npt=0): default VMs only (software-protected VMs need TDP).
n=$(cmdline_num n 50)
secs=$(cmdline_num secs 5)
seed=$(cmdline_num seed 1)
if grep -qw npt /proc/cpuinfo && [ "$(cat /sys/module/kvm_amd/parameters/npt)" = Y ]; then
	mmu=npt
	variants="base -v2
thp4 -v4 -t
gmem -g -M
default -D
conc-thp -c -t
conc-gmem -c -g -M
conc-huge -c -t -u -v4"
else
	mmu=shadow
	variants="default -D
default-thp4 -D -v4 -t
default-conc -D -c"
fi
# memattr.only=NAME runs one variant.
only=$(sed -n 's/.*memattr\.only=\([a-z0-9-]*\).*/\1/p' /proc/cmdline)
echo "soak: $mmu, $n runs per variant, ${secs}s each, seeds from $seed"
if load_module; then
	echo "$variants" > /tmp/variants
	while read -r name args; do
		[ -z "$only" ] || [ "$only" = "$name" ] || continue
		soak_variant "$mmu" "$name" $args
	done < /tmp/variants
	if [ -z "$only" ]; then
		run_test "soak/memattr_getset_race_test-60s" 200 /tests/memattr_getset_race_test 60 "$seed"
	fi
	if rmmod kvm_memattr; then result PASS module-unload; else result FAIL module-unload; fi
fi
