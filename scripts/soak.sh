#!/usr/bin/env bash
# make soak: boot once per MMU and run memattr_stress_test many times (guest/soak.sh).
# SOAK_ONLY one variant by name, SOAK_N runs per variant (default 50), SOAK_SECS seconds per run (default 5),
# SOAK_SEED first seed (default: the time), SOAK_MMU "npt shadow" (default both).
source "$(dirname "$0")/lib.sh"
N=${SOAK_N:-50}
SECS=${SOAK_SECS:-5}
SEED=${SOAK_SEED:-$(date +%s)}
mkdir -p "$BUILD/logs"
ALL=$BUILD/logs/soak.results
: > "$ALL"
for mmu in ${SOAK_MMU:-npt shadow}; do
	extra="${SOAK_ONLY:+memattr.only=$SOAK_ONLY }memattr.n=$N memattr.secs=$SECS memattr.seed=$SEED kunit.filter_glob=none"
	[ "$mmu" = shadow ] && extra="kvm_amd.npt=0 $extra"
	# 4 variants (2 on shadow) of N runs, with room for boot and slow runs.
	GUEST_TIMEOUT=${GUEST_TIMEOUT:-$(( 4 * N * (SECS + 15) + 300 ))} \
		"$ROOT/scripts/guest.sh" soak "soak-$mmu" "$extra" || true
	grep '^@@SOAK' "$BUILD/logs/soak-$mmu.log" || true
	cat "$BUILD/logs/soak-$mmu.results" >> "$ALL"
done
summarize "$ALL"
