#!/bin/bash
# SPDX-License-Identifier: MIT
# multi.sh CARRY_DIR - issue 4's "several GPUs per application" on a GPU
# machine (device tool), from the repo root, with the carry of prepare.sh:
#   bash tests/gpu/multi.sh .carry/gpu          (BACKEND=sim: a dry run here)
# Two vgpu-servers, each with a partition of 40% of a GPU's memory and 50%
# of its compute: on a machine with two GPUs each server has its own GPU,
# on one with a single GPU both partition GPU 0.  One application gets
# both partitions, from both servers, as its devices 0 and 1
# (VGPU_SERVER=s1,s2 VGPU_PARTITION=p1,p2):
#   1. multi_drv 2: peer copies between the devices (relayed between the
#      servers), saxpy on each, every result checked
#   2. PyTorch (when python3 has torch): tests/torch/multi.py 2
#   3. the relay's rate against this machine's own host<->device copies
# Verdicts "RESULT PASS|FAIL name", figures "FIGURE name value"; exit 0
# only if every RESULT passed.
set -u
C=${1:?usage: multi.sh CARRY_DIR}
B=$C/build
BACKEND=${BACKEND:-cuda}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
T1=$(mktemp -d) T2=$(mktemp -d)
fails=0
. "$HERE/server.sh"
PIDS=
trap 'for p in $PIDS; do kill $p 2>/dev/null; done; rm -rf "$T1" "$T2"' EXIT

NGPU=1
if [ "$BACKEND" = cuda ] && command -v nvidia-smi > /dev/null; then
	NGPU=$(nvidia-smi -L | grep -c '^GPU')
fi
G2=0
[ "$NGPU" -ge 2 ] && G2=1
echo "GPUs on this machine: $NGPU; server 1 uses GPU 0, server 2 GPU $G2"

start_server "$B" "$BACKEND" "$T1" || exit 1
S1=127.0.0.1:$PORT
PIDS="$PIDS $SERVER_PID"
start_server "$B" "$BACKEND" "$T2" || exit 1
S2=127.0.0.1:$PORT
PIDS="$PIDS $SERVER_PID"
SERVER_PID=

mkpart() { # mkpart SERVER NAME GPU
	for _ in $(seq 50); do
		timeout 20 "$B/bin/vgpuctl" -s "$1" create "$2" --gpu "$3" --mem 40% --compute 50 \
			&& return 0
		sleep 0.2	# the server learns its GPUs just after it starts listening
	done
	return 1
}
mkpart "$S1" left 0; result "partition left (40%) on server 1, GPU 0" $?
mkpart "$S2" right "$G2"; result "partition right (40%) on server 2, GPU $G2" $?
"$B/bin/vgpuctl" -s "$S1" list
"$B/bin/vgpuctl" -s "$S2" list

two() { env LD_LIBRARY_PATH="$B/lib:$B/nvml" VGPU_SERVER=$S1,$S2 VGPU_PARTITION=left,right "$@"; }

echo "== 1. one application, two devices from two servers"
two timeout 120 "$B/tests/progs/multi_drv" 2 | tee "$T1/multi.out"
result "multi_drv: devices 0 and 1 from two servers, peer copies, saxpy on each" \
	"${PIPESTATUS[0]}"
relay=$(sed -n 's/.*, \([0-9]*\) MiB\/s$/\1/p' "$T1/multi.out")
echo "FIGURE relay_peer_copy_mib_s ${relay:-0}"

echo "== 2. PyTorch on both"
if python3 -c 'import torch' 2> /dev/null && [ "$BACKEND" = cuda ]; then
	two timeout 300 python3 "$ROOT/tests/torch/multi.py" 2 2> "$T1/torch.err" |
		tee "$T1/torch.out"
	result "PyTorch: two devices from two servers, tensors moved between them" \
		"${PIPESTATUS[0]}"
	tail -n 5 "$T1/torch.err"
else
	echo "(no PyTorch or no GPU: skipped)"
fi

echo "== 3. reference: this machine's host<->device copies, natively and through one server"
if [ "$BACKEND" = cuda ] && [ -x "$B/bin/callcost" ]; then
	timeout 60 "$B/bin/callcost" 200 | grep -E '^(htod|dtoh)_' | sed 's/^/native /'
	timeout 60 env LD_LIBRARY_PATH="$B/lib" VGPU_SERVER=$S1 "$B/bin/callcost" 200 |
		grep -E '^(htod|dtoh)_' | sed 's/^/vgpu   /'
fi
echo "== failures: $fails"
exit $((fails > 0))
