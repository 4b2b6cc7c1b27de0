# Plan "soak": memattr_stress_test run many times in one boot, with the module
# loaded. memattr.n= (runs per variant), memattr.secs= (seconds per run) and
# memattr.seed= (first seed; run i uses seed+i) come from the kernel command
# line. On NPT: the base test, 4 vCPUs on THP-backed memory, guest_memfd
# conversions, and the base test on a default VM. On shadow paging
# (kvm_amd.npt=0): default VMs only (software-protected VMs need TDP).
n=$(sed -n 's/.*memattr\.n=\([0-9]*\).*/\1/p' /proc/cmdline); n=${n:-50}
secs=$(sed -n 's/.*memattr\.secs=\([0-9]*\).*/\1/p' /proc/cmdline); secs=${secs:-5}
seed=$(sed -n 's/.*memattr\.seed=\([0-9]*\).*/\1/p' /proc/cmdline); seed=${seed:-1}
if grep -qw npt /proc/cpuinfo && [ "$(cat /sys/module/kvm_amd/parameters/npt)" = Y ]; then
	mmu=npt
	variants="base: -v2:thp4: -v4 -t:gmem: -g -M:default: -D"
else
	mmu=shadow
	variants="default: -D:default-thp4: -D -v4 -t"
fi
# memattr.only=NAME runs one variant.
only=$(sed -n 's/.*memattr\.only=\([a-z0-9-]*\).*/\1/p' /proc/cmdline)
echo "soak: $mmu, $n runs per variant, ${secs}s each, seeds from $seed"
if load_module; then
	IFS=:
	set -- $variants
	unset IFS
	for v in "$@"; do
		name=${v%%:*}
		args=${v#*:}
		[ -z "$only" ] || [ "$only" = "$name" ] || continue
		pass=0
		failn=0
		i=0
		while [ $i -lt "$n" ]; do
			s=$((seed + i))
			# shellcheck disable=SC2086
			if timeout $((secs + 120)) /tests/memattr_stress_test -s $s -d $secs $args > /tmp/out 2>&1; then
				pass=$((pass + 1))
			else
				failn=$((failn + 1))
				echo "@@SOAK FAIL $mmu/$name seed $s (replay: memattr_stress_test -s $s -d $secs $args)"
				sed 's/^/    /' /tmp/out
			fi
			i=$((i + 1))
		done
		echo "@@SOAK $mmu/$name: $pass passed, $failn failed of $n"
		if [ $failn = 0 ]; then
			result PASS "soak/$name" "($n runs of ${secs}s)"
		else
			result FAIL "soak/$name" "($failn of $n runs failed)"
		fi
	done
	if rmmod kvm_memattr; then result PASS module-unload; else result FAIL module-unload; fi
fi
