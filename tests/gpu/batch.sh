#!/bin/bash
# SPDX-License-Identifier: MIT
# batch.sh CARRY_DIR STEP... - the GPU machine's tests and figures in one
# device call, each step under its own time limit so that one that hangs
# cannot eat the call (the device tool allows 600 s a call).  Run from the
# repo root with the carry of tests/gpu/prepare.sh; output under $OUT.
#   spine       tests/gpu/run.sh with GUEST_LIBS=0 (driver-API programs:
#               native, direct transport, VM guest)         ~4 min
#   guest-libs  tests/gpu/run.sh with NVIDIA's libraries in the guest
#   cuda        tests/cuda/run-gpu.sh (native vs vgpu table)   ~2 min
#   torch       tests/torch/run-gpu.sh                         ~2 min
#   partitions  tests/gpu/partitions.sh                        ~1 min
#   spatial     tests/gpu/spatial.sh (MPS)                     ~30 s
#   multi       tests/gpu/multi.sh: one application, partitions of two
#               servers as devices 0 and 1 (and PyTorch on them) ~1 min
#   callcost    bench callcost natively, through vgpu, and through vgpu with
#               VGPU_ASYNC=0, with ratios                     ~1 min
# STEP=NAME:SECONDS overrides a step's limit (default 240).
set -u
C=${1:?usage: batch.sh CARRY_DIR STEP...}
shift
B=$C/build
OUT=${OUT:-/tmp/vgpu-batch}
mkdir -p "$OUT"
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

callcost() {
	. "$HERE/server.sh"
	start_server "$B" cuda "$OUT" || return 1
	timeout 60 "$B/bin/callcost" 2000 > "$OUT/cc-native.txt"
	timeout 90 env LD_LIBRARY_PATH="$B/lib" VGPU_SERVER=127.0.0.1:$PORT \
		"$B/bin/callcost" 2000 > "$OUT/cc-vgpu.txt"
	timeout 90 env LD_LIBRARY_PATH="$B/lib" VGPU_SERVER=127.0.0.1:$PORT VGPU_ASYNC=0 \
		"$B/bin/callcost" 2000 > "$OUT/cc-vgpu-sync.txt"
	stop_server
	printf '%-16s %10s %10s %8s %12s %8s  %s\n' measure native vgpu ratio "vgpu(sync)" ratio unit
	join <(sort "$OUT/cc-native.txt") <(sort "$OUT/cc-vgpu.txt") |
		join - <(sort "$OUT/cc-vgpu-sync.txt") |
		awk '{ printf "%-16s %10s %10s %8.2f %12s %8.2f  %s\n", $1, $2, $4, ($2 > 0 ? $4 / $2 : 0),
			$6, ($2 > 0 ? $6 / $2 : 0), $3 }'
}

fails=0
for step in "$@"; do
	name=${step%%:*}
	limit=240
	[ "$name" != "$step" ] && limit=${step#*:}
	echo "== $name (limit ${limit}s) $(date -u +%T)"
	case $name in
	spine)      GUEST_LIBS=0 timeout "$limit" bash "$HERE/run.sh" "$C" ;;
	guest-libs) GUEST_TIMEOUT=$((limit - 60)) timeout "$limit" bash "$HERE/run.sh" "$C" ;;
	cuda)       timeout "$limit" sh "$ROOT/tests/cuda/run-gpu.sh" -b "$B" -o "$OUT/cuda-table.txt" ;;
	torch)      timeout "$limit" sh "$ROOT/tests/torch/run-gpu.sh" -b "$B" -o "$OUT/torch-table.txt" ;;
	partitions) timeout "$limit" bash "$HERE/partitions.sh" "$C" ;;
	spatial)    timeout "$limit" bash "$HERE/spatial.sh" "$C" ;;
	multi)      timeout "$limit" bash "$HERE/multi.sh" "$C" ;;
	callcost)   (callcost) ;;
	*)          echo "unknown step $name"; false ;;
	esac > "$OUT/$name.log" 2>&1
	rc=$?
	echo "== $name: exit $rc"
	grep -E "^RESULT|^FIGURE|^program|OK|FAIL" "$OUT/$name.log" | tail -n 40
	[ $rc = 0 ] || fails=$((fails + 1))
done
echo "== failures: $fails"
exit $((fails > 0))
