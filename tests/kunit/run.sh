#!/bin/bash
# KUnit + the module ABI test under lockdep: tests/kunit/run.sh BUILD_DIR
# 1. build the KUnit guest kernel (build-kernel.sh; Debian's has no KUnit)
# 2. build vgpu.ko against it, with kmod/vgpu_kunit.c built in
# 3. boot it (QEMU TCG, PVH): load kunit.ko and vgpu.ko (its suites run at
#    load), print the KTAP results, run modtest (tests/vm/modtest.c), unload,
#    and fail on any "not ok", lockdep report, BUG or WARNING.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=$(realpath -m "${1:-$ROOT/build}")
K=$B/kunit
SRC=$K/linux-source-6.1
. "$ROOT/tests/vm/lib.sh"

"$ROOT/tests/kunit/build-kernel.sh" "$K"

# the module, from a copy of its sources (kbuild writes next to them)
M=$K/mod
rm -rf "$M" && mkdir -p "$M"
cp -r "$ROOT/Kbuild" "$ROOT/kmod" "$ROOT/uapi" "$M/"
make -s -C "$SRC" M="$M" modules
test -f "$M/vgpu.ko"

test -x "$B/vm/modtest" || { echo "no $B/vm/modtest (make modtest)" >&2; exit 1; }

R=$K/rootfs
vm_rootfs "$R"
cp "$SRC/lib/kunit/kunit.ko" "$M/vgpu.ko" "$B/vm/modtest" "$R/vgpu/"
cat > "$R/vgpu/run.sh" <<'GUEST'
insmod /vgpu/kunit.ko || echo "VMTEST-FAIL insmod kunit"
insmod /vgpu/vgpu.ko nr_devices=2 || echo "VMTEST-FAIL insmod vgpu"
for s in vgpu_ring vgpu_evq; do
	r=/sys/kernel/debug/kunit/$s/results
	if [ ! -f $r ]; then echo "VMTEST-FAIL kunit suite $s did not run"; continue; fi
	sed "s/^/[$s] /" $r
	if grep -q "^ *not ok" $r; then echo "VMTEST-FAIL kunit $s"
	elif grep -q "^ok" $r; then echo "VMTEST-PASS kunit $s"
	else echo "VMTEST-FAIL kunit $s: no verdict"; fi
done
if /vgpu/modtest; then echo "VMTEST-PASS modtest"; else echo "VMTEST-FAIL modtest"; fi
rmmod vgpu && echo "VMTEST-PASS rmmod" || echo "VMTEST-FAIL rmmod"
if dmesg | grep -E "possible circular|possible recursive|inconsistent lock|suspicious RCU|BUG:|WARNING:|INFO: task .* blocked"; then
	echo "VMTEST-FAIL kernel reported a problem"
else
	echo "VMTEST-PASS no lockdep/BUG/WARNING report"
fi
echo VMTEST-END
GUEST
vm_pack "$R" "$K/initramfs.cpio.gz"
LOG=$K/console.log
echo "kunit: booting the guest (log: $LOG)"
vm_boot "$SRC/vmlinux" "$K/initramfs.cpio.gz" "$LOG" 300
vm_verdict "$LOG"
