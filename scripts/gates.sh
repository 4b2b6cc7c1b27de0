#!/usr/bin/env bash
# The kernel community's gates, one PASS/FAIL line each (appended to RESULTS):
#   - host crates: cargo fmt --check, cargo clippy -D warnings;
#   - the module's Rust: rustfmt --check with the kernel's settings;
#   - kvm_memattr.ko built from scratch with W=1 and CLIPPY=1: no warning;
#   - the project's selftests rebuilt: no compiler warning;
#   - Documentation/virt/kvm/*.rst through docutils: no warning;
#   - patches/: git am onto Debian's tree, checkpatch --strict (patches.sh).
# Needs the kernel built (make kernel selftests).
source "$(dirname "$0")/lib.sh"
RESULTS=${1:-/dev/null}
LOGS=$BUILD/logs
mkdir -p "$LOGS"
rc=0
result() { # result PASS|FAIL name [why]
	echo "$1 $2${3:+ ($3)}" | tee -a "$RESULTS"
	[ "$1" = PASS ] || rc=1
}
# gate NAME LOG CMD...: PASS when CMD succeeds and its output has no warning.
gate() {
	local name=$1 out=$LOGS/$2; shift 2
	if "$@" > "$out" 2>&1; then
		local n
		n=$(grep -ci 'warning' "$out" || true)
		if [ "$n" = 0 ]; then result PASS "$name"
		else result FAIL "$name" "$n warning lines, see build/logs/$(basename "$out")"; fi
	else
		result FAIL "$name" "see build/logs/$(basename "$out")"
	fi
}

cd "$ROOT"
log "gates: rustfmt and clippy"
gate gate/host-rustfmt gate-host-rustfmt.log cargo fmt --all --check
gate gate/host-clippy gate-host-clippy.log \
	cargo clippy --workspace --all-targets --color never -- -D warnings
gate gate/module-rustfmt gate-module-rustfmt.log \
	/usr/bin/rustfmt --check --config-path "$ROOT/rustfmt.toml" rust/kvm_memattr/*.rs

log "gates: kvm_memattr.ko from scratch with W=1 CLIPPY=1"
module_w1() {
	local dir=$BUILD/module-gate
	rm -rf "$dir" && mkdir -p "$dir" &&
		rsync -a --exclude target "$ROOT/Kbuild" "$ROOT/rust" "$dir/" &&
		cp "$MODDIR/rust/kvm_memattr/helpers_generated.rs" "$dir/rust/kvm_memattr/" &&
		"${KMAKE[@]}" M="$dir" W=1 CLIPPY=1 CLIPPY_DRIVER=/usr/bin/clippy-driver modules &&
		[ -f "$dir/kvm_memattr.ko" ]
}
if [ -f "$MODDIR/rust/kvm_memattr/helpers_generated.rs" ]; then
	gate gate/module-W1-clippy gate-module-build.log module_w1
else
	result FAIL gate/module-W1-clippy "module not built: run 'make module'"
fi

log "gates: the project's selftests rebuilt, warnings counted"
selftests_rebuilt() {
	local st=$KSRC/tools/testing/selftests/kvm t
	for t in "$ROOT"/tools/testing/selftests/kvm/x86_64/*.c; do
		t=$(basename "$t" .c)
		rm -f "$st/x86_64/$t" "$st/x86_64/$t.o"
	done
	"$ROOT/scripts/selftests.sh"
}
gate gate/selftests-warnings gate-selftests-build.log selftests_rebuilt

log "gates: the .rst through docutils"
for f in Documentation/virt/kvm/*.rst; do
	gate "gate/rst/$(basename "$f" .rst)" "gate-rst-$(basename "$f" .rst).log" \
		rst2html --halt=warning --report=warning "$f" /dev/null
done

log "gates: patches (git am, checkpatch --strict)"
"$ROOT/scripts/patches.sh" "$RESULTS" || rc=1
exit $rc
