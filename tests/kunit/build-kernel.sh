#!/bin/bash
# Build the KUnit guest kernel: tests/kunit/build-kernel.sh OUTDIR
# Unpacks Debian's linux-source-6.1 once, applies tinyconfig + kernel.config,
# builds vmlinux (PVH-bootable) and the kunit module. Idempotent: a second
# run with an unchanged config only relinks what changed.
set -euo pipefail
OUT=$(realpath -m "${1:?usage: build-kernel.sh OUTDIR}")
HERE=$(cd "$(dirname "$0")" && pwd)
TARBALL=$(ls /usr/src/linux-source-6.1.tar.* 2>/dev/null | head -n 1)
[ -n "$TARBALL" ] || { echo "linux-source-6.1 is not installed (scripts/setup.sh)" >&2; exit 1; }
mkdir -p "$OUT"
SRC=$OUT/linux-source-6.1
if [ ! -f "$SRC/Makefile" ]; then
	echo "kunit: unpacking $TARBALL"
	tar -xf "$TARBALL" -C "$OUT"
fi
J=$(nproc)
if ! cmp -s "$HERE/kernel.config" "$OUT/kernel.config.applied"; then
	make -C "$SRC" -s tinyconfig
	"$SRC/scripts/kconfig/merge_config.sh" -m -O "$SRC" "$SRC/.config" "$HERE/kernel.config" >/dev/null
	make -C "$SRC" -s olddefconfig
	for opt in $(sed -n 's/^\(CONFIG_[A-Z0-9_]*\)=.*/\1/p' "$HERE/kernel.config"); do
		grep -q "^$opt=" "$SRC/.config" || { echo "kunit: $opt did not stick" >&2; exit 1; }
	done
	cp "$HERE/kernel.config" "$OUT/kernel.config.applied"
fi
echo "kunit: building vmlinux and modules (-j$J)"
make -C "$SRC" -s -j"$J" vmlinux modules
make -C "$SRC" -s modules_prepare
echo "kunit: kernel ready in $SRC"
