#!/usr/bin/env bash
# Install what the build and the tests need, only what is missing.
source "$(dirname "$0")/lib.sh"
PKGS=(linux-source-6.12 rustc-web rust-web-src clang-19 lld-19 llvm-19 libclang-19-dev
      busybox-static bc flex bison libelf-dev libssl-dev cpio kmod
      make gcc libc6-dev xz-utils patch python3 rsync file git
      rust-web-clippy rustfmt-web python3-docutils
      bochs bochsbios vgabios isolinux syslinux-common xorriso)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
# QEMU: the suite is validated on 10.0 from bookworm-backports, with
# single-threaded TCG (scripts/guest.sh). Multi-threaded TCG corrupts nested
# SVM state on bookworm's 7.2 and on 10.0 alike (README, "Emulator"); 7.2 was
# not validated single-threaded.
QEMU_MIN=1:10.0
qemu_ok() {
	v=$(dpkg-query -W -f='${Version}' qemu-system-x86 2>/dev/null) &&
		dpkg --compare-versions "$v" ge "$QEMU_MIN"
}
if [ ${#missing[@]} -gt 0 ]; then
	log "installing Debian packages: ${missing[*]}"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
	log "Debian packages: all present"
fi
if ! qemu_ok; then
	if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
		log "adding Debian bookworm-backports (for qemu-system-x86 >= 10.0)"
		echo "deb http://deb.debian.org/debian bookworm-backports main" |
			$SUDO tee /etc/apt/sources.list.d/bookworm-backports.list > /dev/null
	fi
	log "installing qemu-system-x86 from bookworm-backports"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
		-t bookworm-backports qemu-system-x86
	qemu_ok || die "qemu-system-x86 >= $QEMU_MIN is needed (nested SVM under TCG)"
else
	log "qemu-system-x86 $(dpkg-query -W -f='${Version}' qemu-system-x86): present"
fi
if ! "$BINDGEN" --version 2>/dev/null | grep -q " $BINDGEN_VERSION\$"; then
	command -v cargo >/dev/null || die "cargo is needed to install bindgen-cli"
	log "installing bindgen-cli $BINDGEN_VERSION (cargo install, about 1 minute)"
	LIBCLANG_PATH=/usr/lib/llvm-19/lib cargo install --locked --quiet bindgen-cli --version "$BINDGEN_VERSION"
else
	log "bindgen-cli $BINDGEN_VERSION: present"
fi
