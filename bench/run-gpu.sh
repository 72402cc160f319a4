#!/bin/bash
# On the GPU machine: bench/run-gpu.sh CARRY_DIR [iterations]
# CARRY_DIR (made here by `make bench` + bench/prepare-gpu.sh) holds
# bin/vgpu-server, lib/libcuda.so.1 and bin/callcost built on Debian 12.
# Runs callcost natively (NVIDIA's libcuda.so.1) and through vgpu's direct
# transport to a vgpu-server --backend cuda on loopback, in the same run,
# and prints each figure with the vgpu/native ratio.
set -u
C=${1:?usage: run-gpu.sh CARRY_DIR [iterations]}
N=${2:-2000}
OUT=${OUT:-/tmp}
PORT=7071
echo "# $(date -u +%FT%TZ) $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader)"
"$C/bin/vgpu-server" --backend cuda --listen 127.0.0.1:$PORT > "$OUT/bench-server.out" 2> "$OUT/bench-server.log" &
SRV=$!
for _ in $(seq 50); do grep -q listening "$OUT/bench-server.out" 2>/dev/null && break; sleep 0.1; done
"$C/bin/callcost" "$N" > "$OUT/native.txt" || echo "native run failed"
VGPU_SERVER=127.0.0.1:$PORT LD_LIBRARY_PATH=$C/lib "$C/bin/callcost" "$N" > "$OUT/direct.txt" || echo "direct run failed"
kill $SRV; wait $SRV 2>/dev/null
printf '%-16s %12s %12s %8s  %s\n' measure native vgpu-direct ratio unit
join <(sort "$OUT/native.txt") <(sort "$OUT/direct.txt") |
	awk '{ printf "%-16s %12s %12s %8.2f  %s\n", $1, $2, $4, ($2 > 0 ? $4 / $2 : 0), $3 }'
