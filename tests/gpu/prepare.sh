#!/bin/bash
# Build here (Debian 12) everything the real-GPU test needs on the GPU
# machine, into a carry directory (default .carry/gpu, ignored by git):
#   build/{bin,lib,tests/progs}   vgpu-server, vgpu-stat, libcuda.so.1, test programs
#   kernels/*.cubin               nvcc -cubin -arch=sm_90 of tests/progs/kernels
#   qemu-bundle.tar.xz            QEMU for a host without one (mkbundle.sh)
#   vmlinuz, initramfs-gpu.cpio.gz  Debian's kernel + a guest with vgpu.ko,
#                                 vgpud, the programs and the cubins
# Then, through the device tool: tests/gpu/run.sh .carry/gpu, or several steps
# in one call: tests/gpu/batch.sh .carry/gpu spine cuda partitions ...
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
C=$(realpath -m "${1:-$ROOT/.carry/gpu}")
cd "$ROOT"
make -s all progs modules modtest kernels cuda-progs bench
KVER=${KVER:-$(modinfo -F vermagic vgpu.ko | cut -d' ' -f1)}
rm -rf "$C" && mkdir -p "$C/build/bin" "$C/build/lib" "$C/build/tests/progs" "$C/kernels"
cp build/bin/vgpu-server build/bin/vgpu-stat build/bin/vgpuctl build/bench/callcost "$C/build/bin/"
cp -L build/lib/libcuda.so.1 "$C/build/lib/"
cp build/tests/progs/* "$C/build/tests/progs/"
cp build/kernels/*.cubin "$C/kernels/"
cp -r build/cuda "$C/build/cuda"
mkdir -p "$C/build/nvml" && cp -L build/nvml/libnvidia-ml.so.1 "$C/build/nvml/"
Q=$(mktemp -d)
tests/gpu/mkbundle.sh "$Q" 2>/dev/null
tar -cJf "$C/qemu-bundle.tar.xz" -C "$Q" .
rm -rf "$Q"
cp "/boot/vmlinuz-$KVER" "$C/vmlinuz"
BUILD=$ROOT/build tests/vm/e2e.sh pack gpu 10.0.2.2:7070 "$C/initramfs-gpu.cpio.gz" "$C/kernels"
du -sh "$C"
