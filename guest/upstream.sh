# Plan "upstream": upstream's whole x86 KVM selftest suite (/upstream), every
# program on upstream's C store, then every program again with kvm_memattr
# loaded (which then serves every new VM), in one boot. A program that passes
# on the C store must pass with the module; one that passes on neither store
# (a feature this nested guest lacks, a wall-clock limit) is reported as
# skipped, with both outcomes.
limit=$(cmdline_num limit 300)
kp=/sys/module/kvm/parameters
hp=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages

# Like upstream's nx_huge_pages_test.sh, which needs bash: the mitigation on,
# fast recovery, three more huge pages, then the settings restored.
nx_huge_pages_test() {
	saved="$(cat $kp/nx_huge_pages) $(cat $kp/nx_huge_pages_recovery_ratio) $(cat $kp/nx_huge_pages_recovery_period_ms) $(cat $hp)"
	set -- $saved
	echo 1 > $kp/nx_huge_pages
	echo 1 > $kp/nx_huge_pages_recovery_ratio
	echo 100 > $kp/nx_huge_pages_recovery_period_ms
	echo $(($4 + 3)) > $hp
	/upstream/nx_huge_pages_test -t 887563923 -p 100 -r
	rc=$?
	echo "$1" > $kp/nx_huge_pages
	echo "$2" > $kp/nx_huge_pages_recovery_ratio
	echo "$3" > $kp/nx_huge_pages_recovery_period_ms
	echo "$4" > $hp
	return $rc
}

# The memory-stress programs' default sizes (1 GiB per vCPU, 128 GiB of
# memslots, 32 dirty-log rounds per mode) take many minutes each under
# emulation: smaller ones, the same on both stores.
args() {
	case $1 in
	demand_paging_test|dirty_log_perf_test|memslot_modification_stress_test) echo -b 128M ;;
	memslot_perf_test) echo -l 1 ;;
	max_guest_memory_test) echo -m 16 ;;
	dirty_log_test) echo -i 8 ;;
	esac
}

# run_one STORE PROGRAM: its outcome (pass, skip, timeout, exit N) in /tmp/upstream/STORE.PROGRAM.
run_one() {
	store=$1; t=$2
	start=$(cut -d. -f1 /proc/uptime)
	if [ "$t" = nx_huge_pages_test ]; then
		nx_huge_pages_test > /tmp/out 2>&1 < /dev/null &
		pid=$!
		( sleep "$limit"; kill -9 $pid 2>/dev/null ) &
		killer=$!
		wait $pid
		rc=$?
		kill $killer 2>/dev/null
		[ $rc = 137 ] && rc=124
	else
		timeout -s KILL "$limit" "/upstream/$t" $(args "$t") > /tmp/out 2>&1 < /dev/null
		rc=$?
		[ $rc = 137 ] && rc=124
	fi
	case $rc in
	0) o=pass ;;
	4) o=skip ;;
	124) o=timeout ;;
	*) o="exit $rc" ;;
	esac
	echo "$o" > "/tmp/upstream/$store.$t"
	echo "@@UPSTREAM $store $t: $o ($(( $(cut -d. -f1 /proc/uptime) - start ))s)"
	[ "$o" = pass ] || tail -25 /tmp/out | sed "s/^/    $store\/$t: /"
}

mkdir -p /tmp/upstream
programs=$(ls /upstream | grep -v '^nx_huge_pages_test$')
programs="$programs nx_huge_pages_test"
# memattr.only=A,B: only those programs (UPSTREAM_ONLY in make check-upstream).
only=$(sed -n 's/.*memattr\.only=\([a-z0-9_,]*\).*/\1/p' /proc/cmdline | tr , ' ')
[ -z "$only" ] || programs=$only
for t in $programs; do
	run_one c "$t"
done
if load_module; then
	for t in $programs; do
		run_one rust "$t"
	done
	served=$(dmesg | grep -c "kvm_memattr: VM released: [1-9][0-9]* SETs")
	if [ "$served" -gt 0 ]; then
		result PASS module-served-vms "($served VMs with SETs served by kvm_memattr)"
	else
		result FAIL module-served-vms "(no VM with SETs was served by kvm_memattr)"
	fi
	if rmmod kvm_memattr; then result PASS module-unload; else result FAIL module-unload; fi
fi
for t in $programs; do
	c=$(cat "/tmp/upstream/c.$t")
	r=$(cat "/tmp/upstream/rust.$t" 2>/dev/null || echo "not run")
	if [ "$c" = pass ] && [ "$r" = pass ]; then
		result PASS "$t"
	elif [ "$c" = pass ]; then
		result FAIL "$t" "(C store: pass, kvm_memattr: $r)"
	elif [ "$r" = pass ]; then
		result PASS "$t" "(passes with kvm_memattr; C store: $c in this run)"
	elif [ "$c" = skip ] && [ "$r" = skip ]; then
		result SKIP "$t" "(kselftest skip on both stores)"
	else
		result SKIP "$t" "(passes on neither store: C $c, kvm_memattr $r; nothing to compare)"
	fi
done
