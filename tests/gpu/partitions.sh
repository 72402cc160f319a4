#!/bin/bash
# SPDX-License-Identifier: MIT
# partitions.sh - issue 4's proofs on a GPU machine (device tool), from the
# repo root, with the carry of tests/gpu/prepare.sh:
#   bash tests/gpu/partitions.sh .carry/gpu        (BACKEND=sim: a dry run here)
# 1. memory: a partition of 10% of the card is what cuMemGetInfo shows, and
#    an allocation past it fails (memlimit_drv); PyTorch in it sees ~10%
#    when python3 has torch
# 2. compute share: spin_rate in partitions of 25% and 75% at the same time;
#    their rates should be 1:3 within 10%; one alone uses the whole GPU
# 3. live resize: a 45% tenant's rate while its busy 55% neighbour is split
#    into 35% + 20% (vgpuctl split) and the new 20% gets a busy tenant too,
#    against the same 45% tenant's rate before
# 4. fault isolation: a kernel that faults in one partition; another
#    partition's SAXPY runs at the same time still give right results
# Every figure is printed as "FIGURE name value"; the run's verdicts as
# "RESULT PASS|FAIL name".  Exit 0 only if every RESULT passed.
set -u
C=${1:?usage: partitions.sh CARRY_DIR}
B=$C/build
BACKEND=${BACKEND:-cuda}
MS=${SPIN_MS:-2}
BLOCKS=${SPIN_BLOCKS:-264}
T=${SPIN_SECONDS:-8}
TMP=$(mktemp -d)
fails=0
within() { # within A B RATIO TOL: |A/B - RATIO| <= TOL * RATIO
	awk -v a="$1" -v b="$2" -v r="$3" -v t="$4" \
		'BEGIN { q = (b > 0) ? a / b : 0; d = q - r; if (d < 0) d = -d; exit !(d <= t * r) }'
}

. "$(dirname "$0")/server.sh"
trap 'stop_server; rm -rf "$TMP"' EXIT
start_server "$B" "$BACKEND" "$TMP" || exit 1
S=127.0.0.1:$PORT
CTL="$B/bin/vgpuctl -s $S"
# delete partitions once their sessions are gone: a session of the cuda backend
# takes a moment after its application exits to destroy its context, and a
# partition is in use (delete refused) until then
del() {
	for p in "$@"; do
		for _ in $(seq 100); do
			out=$($CTL delete "$p" 2>&1) && break
			case $out in *"not found"*|*"no partition"*) break ;; esac
			sleep 0.2
		done
		case $out in deleted*|*"not found"*|*"no partition"*) ;; *) echo "$out" ;; esac
	done
}
run() { # run PARTITION PROGRAM ARGS...: through vgpu's direct transport
	local p=$1; shift
	env LD_LIBRARY_PATH="$B/lib:$B/nvml" VGPU_SERVER=$S ${p:+VGPU_PARTITION=$p} "$@"
}

echo "== 1. memory limits"
# 10% of the card, in whole MiB (what memlimit_drv checks exactly)
# (the server learns its GPUs just after it starts listening: ask until it knows)
for _ in $(seq 50); do
	TOTAL_MIB=$($CTL list | awk -F'|' '$2 ~ /^ *0 *$/ { print $4 + 0; exit }')
	[ "${TOTAL_MIB:-0}" -gt 0 ] && break
	sleep 0.1
done
LIMIT_MIB=$((TOTAL_MIB / 10))
echo "FIGURE gpu_total_mib $TOTAL_MIB"
echo "FIGURE ten_limit_mib $LIMIT_MIB"
$CTL create ten --gpu 0 --mem "${LIMIT_MIB}M" --compute 10
run ten "$B/tests/progs/memlimit_drv" "$LIMIT_MIB"
result "memory: 10% partition is what the app sees, allocations past it fail" $?
if [ "$BACKEND" = cuda ] && python3 -c 'import torch' 2>/dev/null; then
	run ten python3 -c 'import torch; f, t = torch.cuda.mem_get_info(0); print("FIGURE torch_total_mib", t >> 20)' |
		tee "$TMP/torch"
	grep -q "FIGURE torch_total_mib $LIMIT_MIB\$" "$TMP/torch"
	result "memory: PyTorch in the 10% partition sees it" $?
fi
del ten

echo "== 2. compute shares 25% : 75%"
$CTL create q1 --gpu 0 --mem 10% --compute 25
$CTL create q3 --gpu 0 --mem 10% --compute 75
run q1 "$B/tests/progs/spin_rate" "$MS" "$T" "$BLOCKS" > "$TMP/alone" 2>&1
echo "FIGURE alone_rate $(rate "$TMP/alone")"
run q1 "$B/tests/progs/spin_rate" "$MS" "$T" "$BLOCKS" > "$TMP/q1" 2>&1 &
A=$!
run q3 "$B/tests/progs/spin_rate" "$MS" "$T" "$BLOCKS" > "$TMP/q3" 2>&1
wait $A
r1=$(rate "$TMP/q1"); r3=$(rate "$TMP/q3")
echo "FIGURE share25_rate $r1"
echo "FIGURE share75_rate $r3"
within "$r3" "$r1" 3 0.10
result "compute: 75% and 25% tenants run 3:1 within 10%" $?
del q1 q3

echo "== 3. live resize of a neighbour"
# one 45% tenant runs 2T seconds reporting its rate every second; its busy 55%
# neighbour is split into 35% + 20% at T and the new 20% gets a busy tenant at
# once, so the neighbours together still take their 55%: the 45% tenant's mean
# rate after the split (from T+1) should match its mean before (from 2 s, past
# its start)
$CTL create n45 --gpu 0 --mem 10% --compute 45
$CTL create n55 --gpu 0 --mem 10% --compute 55
run n55 "$B/tests/progs/spin_rate" "$MS" "$((2 * T + 2))" "$BLOCKS" > /dev/null 2>&1 &
N=$!
SPIN_EVERY=1 run n45 "$B/tests/progs/spin_rate" "$MS" "$((2 * T))" "$BLOCKS" > "$TMP/n45" 2>&1 &
M=$!
sleep "$T"
$CTL split n55 n20 --mem-new 5% --compute-new 20 &&
	run n20 "$B/tests/progs/spin_rate" "$MS" "$((T + 1))" "$BLOCKS" > /dev/null 2>&1 &
R=$!
wait $M $N $R
# mean of the per-second rates in [2, T) and (T + 1, 2T]
mean() { awk -v lo="$1" -v hi="$2" '$3 == "s:" {
	t = $2 + 0; r = $4; sub("/s", "", r); if (t > lo && t <= hi) { s += r; n++ } }
	END { if (n) printf "%.2f\n", s / n }' "$TMP/n45"; }
b=$(mean 2 "$T"); d=$(mean "$((T + 1))" "$((2 * T))")
grep -v "launches in" "$TMP/n45" | tr '\n' ' '; echo
echo "FIGURE n45_rate_before $b"
echo "FIGURE n45_rate_after_split $d"
within "$d" "$b" 1 0.05
result "resize: the 45% tenant's rate moves by at most 5% while its neighbour is split" $?
$CTL list
del n45 n55 n20

echo "== 4. a fault in one tenant"
$CTL create good --gpu 0 --mem 10% --compute 50
$CTL create bad --gpu 0 --mem 10% --compute 50
( for _ in 1 2 3 4 5; do run good "$B/tests/progs/saxpy_drv" || exit 1; done ) > "$TMP/good" 2>&1 &
G=$!
run bad "$B/tests/progs/fault_drv" > "$TMP/bad" 2>&1
fb=$?
wait $G
fg=$?
cat "$TMP/bad"; tail -n 1 "$TMP/good"
[ $fb = 0 ] && [ $fg = 0 ] && [ "$(grep -c ' OK$' "$TMP/good")" = 5 ]
result "isolation: the faulting tenant gets its error, the other's 5 SAXPY runs are right" $?
del good bad
echo "== failures: $fails"
exit $((fails > 0))
