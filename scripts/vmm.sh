#!/usr/bin/env bash
# Build the demo VMM (tools/memattr) as a static binary for the test guest.
source "$(dirname "$0")/lib.sh"
log "building memattr-vmm-demo (static)"
(cd "$ROOT" && RUSTFLAGS="-C target-feature=+crt-static" cargo build --quiet --release \
	--target x86_64-unknown-linux-gnu -p kvm-memattr --bin memattr-vmm-demo) ||
	die "demo VMM build failed"
BIN=$BUILD/cargo/x86_64-unknown-linux-gnu/release/memattr-vmm-demo
file "$BIN" | grep -Eq "static(-pie)? linked|statically linked" || die "memattr-vmm-demo is not static"
mkdir -p "$BUILD/tests"
cp "$BIN" "$BUILD/tests/"
