#!/usr/bin/env bash
# Install what the build and the tests need, only what is missing.
source "$(dirname "$0")/lib.sh"
PKGS=(linux-source-6.12 rustc-web rust-web-src clang-19 lld-19 llvm-19 libclang-19-dev
      qemu-system-x86 busybox-static bc flex bison libelf-dev libssl-dev cpio kmod
      make gcc libc6-dev xz-utils patch python3 rsync file)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
if [ ${#missing[@]} -gt 0 ]; then
	log "installing Debian packages: ${missing[*]}"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
	log "Debian packages: all present"
fi
if ! "$BINDGEN" --version 2>/dev/null | grep -q " $BINDGEN_VERSION\$"; then
	command -v cargo >/dev/null || die "cargo is needed to install bindgen-cli"
	log "installing bindgen-cli $BINDGEN_VERSION (cargo install, about 1 minute)"
	LIBCLANG_PATH=/usr/lib/llvm-19/lib cargo install --locked --quiet bindgen-cli --version "$BINDGEN_VERSION"
else
	log "bindgen-cli $BINDGEN_VERSION: present"
fi
