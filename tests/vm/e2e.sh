#!/bin/bash
# The whole chain in a VM guest: tests/vm/e2e.sh e2e|demo [BUILD_DIR]
#   guest: app -> libcuda.so.1 (lib/) -> /dev/vgpu0 -> vgpu.ko -> vgpud
#   -> TCP (QEMU user net, 10.0.2.2) -> host: vgpu-server --backend sim
# The guest runs tests/vm/e2e-guest.sh; the host checks its markers and that
# the server ends with no session and no memory held.
# Also: tests/vm/e2e.sh pack MODE SERVER OUT.cpio.gz [KERNELS_DIR]
#   only builds the initramfs (tests/gpu/prepare.sh uses it for the GPU run).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/vm/lib.sh"

# the guest boots the kernel vgpu.ko was built for (make modules, KDIR)
KVER=${KVER:-$(modinfo -F vermagic "$ROOT/vgpu.ko" 2>/dev/null | cut -d' ' -f1)}

# NVIDIA's libraries: a program linked to one is run in the guest from cuda-libs/
NV_LIBS='lib(cublas|cublasLt|cufft|curand|cusolver|cudnn)\.so'

# pack MODE SERVER OUT [KERNELS_DIR]: B must point at the build dir
pack() {
	local mode=$1 server=$2 out=$3 kernels=${4:-}
	local R=$B/vm/root-$mode p
	vm_rootfs "$R"
	mkdir -p "$R/vgpu/bin" "$R/vgpu/lib" "$R/vgpu/tests/progs" "$R/vgpu/kernels"
	cp "$B/bin/vgpud" "$B/bin/vgpu-stat" "$B/bin/vgpuctl" "$B/vm/modtest" "$R/vgpu/bin/"
	cp -L "$B/lib/libcuda.so.1" "$R/vgpu/lib/"
	for p in "$B"/tests/progs/*; do [ -x "$p" ] && [ -f "$p" ] && cp "$p" "$R/vgpu/tests/progs/"; done
	[ -n "$kernels" ] && cp "$kernels"/* "$R/vgpu/kernels/"
	# the GPU run also carries the nvcc-built runtime programs (make cuda-progs);
	# those linked to NVIDIA's libraries (cuBLAS, cuFFT, ...: hundreds of MB) go
	# to cuda-libs/ without them: the guest mounts the GPU host's
	# /usr/local/cuda/lib64 over 9p (tests/gpu/run.sh), where their rpath looks
	if [ "$mode" = gpu ] && [ -d "$B/cuda" ]; then
		mkdir -p "$R/vgpu/cuda" "$R/vgpu/cuda-libs" "$R/usr/local/cuda/lib64"
		for p in "$B"/cuda/*; do
			# grep reads all of it: with -q it may quit early and pipefail fails ldd
			if ldd "$p" 2>/dev/null | grep -E "$NV_LIBS" >/dev/null; then
				cp "$p" "$R/vgpu/cuda-libs/"
			else
				cp "$p" "$R/vgpu/cuda/"
			fi
		done
		vm_add_bins "$R" "$R"/vgpu/cuda/*
		VM_SKIP_LIBS=/usr/local/cuda vm_add_bins "$R" "$R"/vgpu/cuda-libs/* \
			/usr/local/cuda/lib64/libcudnn_engines_precompiled.so.9
	fi
	cp "$ROOT/vgpu.ko" "$R/vgpu/"
	cp "$ROOT/tests/vm/e2e-guest.sh" "$R/vgpu/run.sh"
	printf 'SERVER=%s\nMODE=%s\n' "$server" "$mode" > "$R/vgpu/env"
	vm_add_bins "$R" "$R"/vgpu/bin/* "$R/vgpu/lib/libcuda.so.1" "$R"/vgpu/tests/progs/*
	if [ "$mode" = gpu ]; then
		vm_add_netmods "$R" "$KVER" 9p 9pnet_virtio
	else
		vm_add_netmods "$R" "$KVER"
	fi
	vm_pack "$R" "$out"
}

if [ "${1:-}" = pack ]; then
	B=$(realpath -m "${BUILD:-$ROOT/build}")
	pack "$2" "$3" "$4" "${5:-}"
	exit 0
fi

MODE=${1:-e2e}
B=$(realpath -m "${2:-$ROOT/build}")
mkdir -p "$B/vm"
test -x "$B/vm/modtest" || { echo "no $B/vm/modtest (make modtest)" >&2; exit 1; }
KERNEL=/boot/vmlinuz-$KVER
[ -r "$KERNEL" ] || { echo "no $KERNEL (scripts/setup.sh installs linux-image-amd64)" >&2; exit 1; }
[ -f "$ROOT/vgpu.ko" ] || { echo "vgpu.ko not built (make modules)" >&2; exit 1; }

SRV_OUT=$B/vm/server-$MODE.out
"$B/bin/vgpu-server" --backend sim --listen 127.0.0.1:0 > "$SRV_OUT" 2> "$B/vm/server-$MODE.log" &
SRV=$!
trap 'kill $SRV 2>/dev/null; wait $SRV 2>/dev/null' EXIT
PORT=
for _ in $(seq 50); do
	PORT=$(sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$SRV_OUT")
	[ -n "$PORT" ] && break
	sleep 0.1
done
[ -n "$PORT" ] || { echo "vgpu-server did not start" >&2; cat "$B/vm/server-$MODE.log" >&2; exit 1; }

pack "$MODE" "10.0.2.2:$PORT" "$B/vm/initramfs-$MODE.cpio.gz"
LOG=$B/vm/console-$MODE.log
echo "vm: booting $KERNEL ($MODE, server 127.0.0.1:$PORT, log $LOG)"
vm_boot "$KERNEL" "$B/vm/initramfs-$MODE.cpio.gz" "$LOG" 420 \
	-netdev user,id=n0 -device virtio-net-pci,netdev=n0,romfile=

if [ "$MODE" = demo ]; then
	grep -a -E "^DEMO|VMTEST-(PASS|FAIL)|^    " "$LOG" | tr -d '\r' || true
	vm_verdict "$LOG" >/dev/null
	exit $?
fi
ok=0
vm_verdict "$LOG" || ok=1
# the host's view: every guest session ended, nothing left allocated
st=$("$B/bin/vgpu-stat" "127.0.0.1:$PORT")
echo "host: vgpu-stat $st"
case "$st" in
*"sessions=0 bytes_allocated=0"*) echo "VMTEST-PASS host: server holds nothing after the guest" ;;
*) echo "VMTEST-FAIL host: server still holds sessions or memory"; ok=1 ;;
esac
exit $ok
