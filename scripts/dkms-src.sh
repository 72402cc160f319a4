#!/bin/sh
# Stage the module's sources for DKMS: scripts/dkms-src.sh [DEST]
# DEST defaults to /usr/src/vgpu-<version> (what `dkms add vgpu/<version>` reads).
# Then: dkms add vgpu/0.1 && dkms build vgpu/0.1 && dkms install vgpu/0.1
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VER=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$ROOT/dkms.conf")
DEST=${1:-/usr/src/vgpu-$VER}
rm -rf "$DEST"
mkdir -p "$DEST/kmod" "$DEST/uapi"
cp "$ROOT/Kbuild" "$ROOT/dkms.conf" "$DEST/"
cp "$ROOT"/kmod/*.c "$ROOT"/kmod/*.h "$DEST/kmod/"
cp "$ROOT"/uapi/*.h "$DEST/uapi/"
echo "$DEST"
