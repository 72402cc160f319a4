#!/bin/sh
# Install the Debian packages vgpu needs to build and test, if missing.
# Idempotent and quick when everything is there; called by the make targets
# that need it (check, demo, modules).  Needs root (or sudo) to install.
set -eu

PKGS="build-essential pkg-config liburing-dev libcmocka-dev libinih-dev \
linux-image-amd64 linux-headers-amd64 linux-source-6.1 \
qemu-system-x86 busybox-static kmod cpio bc flex bison libelf-dev libssl-dev \
dkms python3 xz-utils zstd"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "setup: installing:$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >&2
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing >&2
