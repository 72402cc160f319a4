#!/bin/sh
# Build here what bench/run-gpu.sh needs on the GPU machine: bench/prepare-gpu.sh [DIR]
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
C=${1:-$ROOT/.carry/bench}
cd "$ROOT"
make -s all bench
rm -rf "$C" && mkdir -p "$C/bin" "$C/lib"
cp build/bin/vgpu-server build/bench/callcost "$C/bin/"
cp -L build/lib/libcuda.so.1 "$C/lib/"
du -sh "$C"
