# Helpers for the guest plans. Results are lines "@@RESULT <PASS|FAIL|SKIP> <name> [why]".
result() {
	echo "@@RESULT $1 $2${3:+ $3}"
}

# run_test NAME TIMEOUT CMD...: exit 0 passes, 4 (KSFT_SKIP) skips, else fails.
run_test() {
	name=$1; limit=$2; shift 2
	echo "@@TEST $name: $*"
	timeout "$limit" "$@"
	rc=$?
	case $rc in
	0) result PASS "$name" ;;
	4) result SKIP "$name" "(kselftest skip)" ;;
	124|143) result FAIL "$name" "(timed out after ${limit}s)" ;;
	*) result FAIL "$name" "(exit $rc)" ;;
	esac
}

# The protection tests cover KVM's emulator through the forced-emulation prefix.
check_forced_emulation() {
	fep=$(cat /sys/module/kvm/parameters/force_emulation_prefix 2>/dev/null)
	if [ "$fep" = Y ] || [ "$fep" = 1 ]; then
		result PASS forced-emulation-enabled
	else
		result FAIL forced-emulation-enabled "(kvm.force_emulation_prefix is '$fep')"
	fi
}

load_module() {
	if insmod /memattr/kvm_memattr.ko; then
		result PASS module-load
	else
		result FAIL module-load "(insmod failed)"
		return 1
	fi
}

# The module's KUnit suite ran at insmod; turn its KTAP lines into results.
kunit_results() {
	dmesg | sed -n 's/^\[[^]]*\] //; s/^ *not ok [0-9]* \([a-z_]*\).*$/FAIL \1/p; s/^ *ok [0-9]* \([a-z_]*\).*$/PASS \1/p' |
	while read -r verdict name; do
		result "$verdict" "kunit/$name"
	done
	dmesg | grep -q "# Subtest: kvm_memattr_" || result FAIL kunit/kvm_memattr "(no suite ran)"
}

# cmdline_num NAME DEFAULT: the number given as memattr.NAME= on the kernel command line.
cmdline_num() {
	v=$(sed -n "s/.*memattr\\.$1=\\([0-9]*\\).*/\\1/p" /proc/cmdline)
	echo "${v:-$2}"
}

UPSTREAM_TESTS="private_mem_conversions_test private_mem_kvm_exits_test guest_memfd_test set_memory_region_test"

# soak_variant MMU NAME ARGS...: memattr_stress_test $n times ($secs s each,
# seeds from $seed) with ARGS; one result per variant, failures printed.
soak_variant() {
	mmu=$1; name=$2; shift 2
	pass=0
	failn=0
	i=0
	while [ $i -lt "$n" ]; do
		s=$((seed + i))
		if timeout $((secs + 120)) /tests/memattr_stress_test -s $s -d "$secs" "$@" > /tmp/out 2>&1 < /dev/null; then
			pass=$((pass + 1))
		else
			failn=$((failn + 1))
			echo "@@SOAK FAIL $mmu/$name seed $s (replay: memattr_stress_test -s $s -d $secs $*)"
			head -100 /tmp/out | sed 's/^/    /'
		fi
		i=$((i + 1))
	done
	echo "@@SOAK $mmu/$name: $pass passed, $failn failed of $n"
	if [ $failn = 0 ]; then
		result PASS "soak/$name" "($n runs of ${secs}s)"
	else
		result FAIL "soak/$name" "($failn of $n runs failed)"
	fi
}
