#!/bin/bash
# Real-GPU test, run ON the GPU machine (device tool) from the repo root:
#   tests/gpu/run.sh CARRY_DIR
# CARRY_DIR is made here by tests/gpu/prepare.sh (binaries built on Debian 12,
# nvcc-built kernels, a QEMU bundle, Debian's kernel and a guest initramfs).
# 1. vgpu-server --backend cuda on 127.0.0.1:7070
# 2. driver-API programs through the direct transport (VGPU_SERVER)
# 3. the same from a QEMU guest through /dev/vgpu0 -> vgpu.ko -> vgpud -> TCP
#    (the programs using NVIDIA's libraries find them in this host's toolkit,
#    shared read-only into the guest over 9p; GUEST_LIBS=0 leaves them out)
# Every program checks its results against the CPU. Exit 0 only if all pass.
set -u
C=${1:?usage: run.sh CARRY_DIR}
OUT=${OUT:-/tmp/vgpu-gpu-out}
mkdir -p "$OUT"
PORT=7070
B=$C/build
# only the programs see our libcuda.so.1; vgpu-server must dlopen NVIDIA's
VG="env LD_LIBRARY_PATH=$B/lib"
fails=0
note() { echo "== $*"; }
run() { # run NAME CMD...
	local name=$1; shift
	if "$@"; then echo "RESULT PASS $name"; else echo "RESULT FAIL $name"; fails=$((fails + 1)); fi
}

note "host: $(hostname) $(date -u +%FT%TZ)"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
"$B/bin/vgpu-server" --backend cuda --listen 127.0.0.1:$PORT > "$OUT/server.stdout" 2> "$OUT/server.log" &
SRV=$!
for _ in $(seq 50); do grep -q listening "$OUT/server.stdout" 2>/dev/null && break; sleep 0.1; done
cat "$OUT/server.stdout"

note "native: the same programs on NVIDIA's libcuda.so.1 (baseline)"
run "native saxpy" "$B/tests/progs/saxpy_drv" "$C/kernels/saxpy.cubin"
run "native reduce" "$B/tests/progs/reduce_drv" "$C/kernels/reduce.cubin"
run "native api" env VGPU_NATIVE=1 "$B/tests/progs/api_drv" "$C/kernels/api.cubin"

note "direct transport (VGPU_SERVER=127.0.0.1:$PORT)"
export VGPU_SERVER=127.0.0.1:$PORT
run "direct saxpy" $VG "$B/tests/progs/saxpy_drv" "$C/kernels/saxpy.cubin"
run "direct reduce" $VG "$B/tests/progs/reduce_drv" "$C/kernels/reduce.cubin"
run "direct api" $VG "$B/tests/progs/api_drv" "$C/kernels/api.cubin"
unset VGPU_SERVER
run "direct stats back to zero" sh -c "sleep 1; $B/bin/vgpu-stat 127.0.0.1:$PORT | tee /dev/stderr | grep -q 'sessions=0 bytes_allocated=0'"

note "VM guest through /dev/vgpu0 (QEMU TCG, carried bundle)"
Q=/tmp/qemu-bundle
mkdir -p $Q && tar -xJf "$C/qemu-bundle.tar.xz" -C $Q
# the programs using NVIDIA's libraries find them in this host's toolkit, shared
# read-only over 9p (GUEST_LIBS=0: not shared, the guest skips them)
SHARE=
CUDA_LIB=${CUDA_LIB:-/usr/local/cuda/lib64}
if [ "${GUEST_LIBS:-1}" = 1 ] && [ -d "$CUDA_LIB" ]; then
	SHARE="-virtfs local,path=$CUDA_LIB,mount_tag=cudalib,security_model=none,readonly=on"
	# cuDNN is not part of the toolkit: its directory too (the guest links only libcudnn*)
	CUDNN_LIB=${CUDNN_LIB:-$(ldconfig -p | sed -n 's|.*libcudnn\.so\.9 .*=> \(.*\)/libcudnn\.so\.9$|\1|p' | head -n 1)}
	if [ -n "$CUDNN_LIB" ] && [ "$CUDNN_LIB" != "$CUDA_LIB" ]; then
		echo "cuDNN for the guest from $CUDNN_LIB"
		SHARE="$SHARE -virtfs local,path=$CUDNN_LIB,mount_tag=cudnnlib,security_model=none,readonly=on"
	fi
fi
QEMU_MODULE_DIR=$Q/lib/x86_64-linux-gnu/qemu LD_LIBRARY_PATH=$Q/lib \
timeout "${GUEST_TIMEOUT:-500}" $Q/bin/qemu-system-x86_64 -L $Q/share/qemu -accel tcg \
	-m 4096 -smp 2 \
	-nographic -vga none -no-reboot -kernel "$C/vmlinuz" -initrd "$C/initramfs-gpu.cpio.gz" \
	-append "console=ttyS0 quiet panic=-1" \
	-netdev user,id=n0 -device virtio-net-pci,netdev=n0,romfile= $SHARE \
	> "$OUT/guest.log" 2>&1
echo "qemu exit $?"
grep -E 'VMTEST|PASS|FAIL' "$OUT/guest.log"
if grep -q VMTEST-END "$OUT/guest.log" && ! grep -q VMTEST-FAIL "$OUT/guest.log"; then
	echo "RESULT PASS guest via /dev/vgpu0"
else
	echo "RESULT FAIL guest via /dev/vgpu0"; fails=$((fails + 1)); tail -n 60 "$OUT/guest.log"
fi
"$B/bin/vgpu-stat" 127.0.0.1:$PORT
kill $SRV; wait $SRV
note "server log tail"; tail -n 20 "$OUT/server.log"
note "failures: $fails"
exit $((fails > 0))
