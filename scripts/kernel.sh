#!/usr/bin/env bash
# Unpack Debian's linux-source-6.12, apply patches/ in series order, configure from
# kernel/config.fragment, build bzImage, the uAPI headers and the KVM selftest library.
# Idempotent: only what changed is redone.
source "$(dirname "$0")/lib.sh"
TARBALL=/usr/src/linux-source-6.12.tar.xz
[ -f "$TARBALL" ] || die "$TARBALL missing: run 'make deps'"
mkdir -p "$BUILD"

if [ ! -f "$KSRC/Makefile" ]; then
	log "unpacking $TARBALL"
	rm -rf "$BUILD/linux-source-6.12" "$KSRC"
	tar -C "$BUILD" -xf "$TARBALL"
	mv "$BUILD/linux-source-6.12" "$KSRC"
	rm -rf "$KSRC.applied"
fi
KVER=$(make -s -C "$KSRC" kernelversion)
echo "$KVER" > "$BUILD/kernel-version"
log "kernel source: linux $KVER (Debian linux-source-6.12)"

# Re-apply the series only when it changed: reverse the old one, apply the new one.
new_sum=$(cd "$ROOT/patches" && cat series $(cat series) | sha256sum | cut -d' ' -f1)
old_sum=$(cat "$KSRC.applied/sum" 2>/dev/null || true)
if [ "$new_sum" != "$old_sum" ]; then
	if [ -d "$KSRC.applied" ]; then
		log "reverting the previously applied patch series"
		for p in $(tac "$KSRC.applied/series"); do
			patch -d "$KSRC" -p1 -R -s < "$KSRC.applied/$p" ||
				die "could not revert $p; remove $KSRC and rerun"
		done
		rm -rf "$KSRC.applied"
		# Series before patch 0001 added the uAPI header had it copied in.
		rm -f "$KSRC/include/uapi/linux/kvm_memattr.h"
	fi
	mkdir -p "$KSRC.applied.new"
	for p in $(cat "$ROOT/patches/series"); do
		log "applying patches/$p"
		if ! patch -d "$KSRC" -p1 --dry-run -s -f < "$ROOT/patches/$p" >/dev/null; then
			die "patches/$p does not apply to linux $KVER. Debian may have moved linux-source-6.12 to a newer 6.12.y; refresh the patch against that version."
		fi
		patch -d "$KSRC" -p1 -s -f < "$ROOT/patches/$p"
		cp "$ROOT/patches/$p" "$KSRC.applied.new/"
	done
	cp "$ROOT/patches/series" "$KSRC.applied.new/series"
	echo "$new_sum" > "$KSRC.applied.new/sum"
	mv "$KSRC.applied.new" "$KSRC.applied"
fi

# Configure from the fragment, again only when the fragment changed.
FRAG=${KCONFIG_FRAGMENT:-$ROOT/kernel/config.fragment}
cfg_sum=$(cat "$FRAG" ${KCONFIG_EXTRA:-} | sha256sum | cut -d' ' -f1)
if [ "$cfg_sum" != "$(cat "$KSRC.config-sum" 2>/dev/null || true)" ] || [ ! -f "$KSRC/.config" ]; then
	log "configuring: tinyconfig + $(basename "$FRAG") ${KCONFIG_EXTRA:++ $(basename "$KCONFIG_EXTRA")}"
	"${KMAKE[@]}" -s tinyconfig
	(cd "$KSRC" && scripts/kconfig/merge_config.sh -m .config "$FRAG" ${KCONFIG_EXTRA:-} >/dev/null)
	"${KMAKE[@]}" -s olddefconfig
	# Every setting of the fragments (the last one of each symbol) must have
	# survived olddefconfig.
	want=$(sed -n 's/^\(CONFIG_[A-Za-z0-9_]*\)=.*/\1 &/p; s/^# \(CONFIG_[A-Za-z0-9_]*\) is not set$/\1 &/p' \
		"$FRAG" ${KCONFIG_EXTRA:-} | awk '{ k = $1; sub(/^[^ ]* /, ""); v[k] = $0 } END { for (k in v) print v[k] }')
	lost=$(echo "$want" | while read -r line; do
		case "$line" in
		"# "*)	sym=${line#\# }; sym=${sym%% *}
			grep -q "^$sym=" "$KSRC/.config" && echo "$line" ;;
		*)	grep -qxF "$line" "$KSRC/.config" || echo "$line" ;;
		esac
	done || true)
	[ -z "$lost" ] || die "kernel config lost (missing dependency?): $lost"
	echo "$cfg_sum" > "$KSRC.config-sum"
fi
"${KMAKE[@]}" -s rustavailable >/dev/null || die "Rust is not available to the kernel build"

log "building bzImage (first build: about 10 minutes on 2 cores)"
start=$(date +%s)
# Progress: print a line every 200 compiled objects instead of thousands.
"${KMAKE[@]}" bzImage modules 2>&1 | awk '
	/^  (CC|RUSTC|AR|LD|AS)/ { n++; if (n % 200 == 0) { printf "    ... %d objects built\n", n; fflush() } next }
	{ print; fflush() }' || die "kernel build failed"
log "kernel built in $(( $(date +%s) - start ))s: $KSRC/arch/x86/boot/bzImage"

"${KMAKE[@]}" -s headers >/dev/null
