# Shared settings for the kvm-memattr scripts. Sourced, not run.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build
KSRC=$BUILD/linux
BINDGEN_VERSION=0.73.2
BINDGEN=${BINDGEN:-$HOME/.cargo/bin/bindgen}
KMAKE=(make -C "$KSRC" LLVM=-19 RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
       BINDGEN="$BINDGEN" -j"$(nproc)")
log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
