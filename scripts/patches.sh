#!/usr/bin/env bash
# patches/ as a KVM maintainer receives them.
#
#   scripts/patches.sh [RESULTS]
#
# Unpacks the files the series touches from Debian's pristine linux-source-6.12
# into a throw-away git repository (build/patches-git), applies the series with
# `git am`, checks that the uAPI header patch 0001 adds is the project's
# include/uapi/linux/kvm_memattr.h, and runs checkpatch.pl --strict on every
# patch.  Each check is one PASS/FAIL line, appended to RESULTS when given.
#
# To change a patch: run this, commit your change in build/patches-git on top
# of the series (git commit --fixup / rebase -i --autosquash), then
#   git -C build/patches-git format-patch --no-signature -o ../../patches base
# and keep patches/series in order.
source "$(dirname "$0")/lib.sh"
RESULTS=${1:-/dev/null}
TARBALL=/usr/src/linux-source-6.12.tar.xz
[ -f "$TARBALL" ] || die "$TARBALL missing: run 'make deps'"
REPO=$BUILD/patches-git
mkdir -p "$BUILD/logs"
rc=0
result() { # result PASS|FAIL name [why]
	echo "$1 $2${3:+ ($3)}" | tee -a "$RESULTS"
	[ "$1" = PASS ] || rc=1
}

# The files the series changes, less those one of its patches creates.
files=$(cd "$ROOT/patches" && comm -23 <(sed -n 's|^--- a/||p' $(cat series) | sort -u) \
	<(awk '/^--- \/dev\/null/ { getline; sub(/^\+\+\+ b\//, ""); print }' $(cat series) | sort -u))
rm -rf "$REPO"
mkdir -p "$REPO"
log "unpacking the $(echo "$files" | wc -w) files the series changes from $(basename "$TARBALL")"
tar -C "$REPO" -xJf "$TARBALL" --strip-components=1 \
	$(for f in $files; do echo "linux-source-6.12/$f"; done)
git -C "$REPO" init -q -b series
git -C "$REPO" add -A
git -C "$REPO" -c user.name=debian -c user.email=debian@localhost \
	commit -q -m "Debian linux-source-6.12: the files patches/series changes"
git -C "$REPO" tag base

log "git am patches/series"
series=$(cat "$ROOT/patches/series")
if git -C "$REPO" -c user.name=check -c user.email=check@localhost \
	am -q --whitespace=error-all $(for p in $series; do echo "$ROOT/patches/$p"; done) \
	> "$BUILD/logs/git-am.log" 2>&1; then
	result PASS gate/git-am
else
	result FAIL gate/git-am "see build/logs/git-am.log"
	git -C "$REPO" am --abort 2>/dev/null || true
fi

if cmp -s "$ROOT/include/uapi/linux/kvm_memattr.h" "$REPO/include/uapi/linux/kvm_memattr.h"; then
	result PASS gate/uapi-header-matches-patch
else
	result FAIL gate/uapi-header-matches-patch \
		"include/uapi/linux/kvm_memattr.h differs from the file patches/0001 adds"
fi

CHECKPATCH=$KSRC/scripts/checkpatch.pl
if [ ! -x "$CHECKPATCH" ]; then
	result FAIL gate/checkpatch "$CHECKPATCH missing: run 'make kernel' first"
else
	for p in $series; do
		out=$BUILD/logs/checkpatch-${p%%-*}.log
		# The one report a patch may justify, as the kernel does, in its
		# changelog: a new file that an existing MAINTAINERS pattern covers.
		ignore=
		grep -q 'so MAINTAINERS needs no change' "$ROOT/patches/$p" &&
			ignore=--ignore=FILE_PATH_CHANGES
		if "$CHECKPATCH" --strict --no-tree --color=never --show-types $ignore \
			"$ROOT/patches/$p" > "$out" 2>&1; then
			result PASS "gate/checkpatch/${p%%-*}"
		else
			result FAIL "gate/checkpatch/${p%%-*}" \
				"$(grep -o '^total: .*' "$out"), see build/logs/$(basename "$out")"
		fi
	done
fi
exit $rc
