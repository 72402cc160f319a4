#!/bin/bash
# SPDX-License-Identifier: MIT
# spatial.sh - issue 4's utilisation proof on a GPU machine (device tool), from
# the repo root, with the carry of tests/gpu/prepare.sh:
#   bash tests/gpu/spatial.sh .carry/gpu
# Starts NVIDIA's MPS control daemon (private pipe and log directories) and
# vgpu-server --backend cuda --spatial, so each partition's session gets a
# context limited to its share of the SMs and tenants run side by side.
# 1. utilisation: one tenant in a 33% partition running a job that fills a
#    third of the GPU, then three such tenants at once: together at least
#    2.5x the one
# 2. the SM limit is real: a job that fills the whole GPU, in a 33% partition
#    and with no partition
# 3. the trade-off: a kernel faulting in one tenant while another runs SAXPY
#    (reported, not required: under MPS a fatal fault may reach the others)
# The job: spin_rate's 2 ms kernel on SPIN_BLOCKS one-thread blocks (default
# 1408 = 44 SMs x 32 resident blocks, a third of an H100's 132 SMs).
# Figures as "FIGURE name value", verdicts as "RESULT PASS|FAIL name".
set -u
C=${1:?usage: spatial.sh CARRY_DIR}
B=$C/build
MS=${SPIN_MS:-2}
THIRD=${SPIN_BLOCKS:-1408}
T=${SPIN_SECONDS:-6}
TMP=$(mktemp -d)
fails=0

export CUDA_MPS_PIPE_DIRECTORY=$TMP/mps-pipe CUDA_MPS_LOG_DIRECTORY=$TMP/mps-log
mkdir -p "$CUDA_MPS_PIPE_DIRECTORY" "$CUDA_MPS_LOG_DIRECTORY"
if ! nvidia-cuda-mps-control -d; then
	echo "RESULT FAIL MPS control daemon did not start"
	exit 1
fi
. "$(dirname "$0")/server.sh"
finish() {
	if [ "$fails" != 0 ]; then
		echo "== server log"; tail -n 30 "$TMP/server.log"
		echo "== MPS logs"; tail -n 20 "$CUDA_MPS_LOG_DIRECTORY"/*.log
	fi
	stop_server
	echo quit | timeout 10 nvidia-cuda-mps-control
	rm -rf "$TMP"
}
trap finish EXIT
start_server "$B" cuda "$TMP" --spatial || exit 1
S=127.0.0.1:$PORT
CTL="$B/bin/vgpuctl -s $S"
run() { # run PARTITION PROGRAM ARGS...: through vgpu's direct transport ("" = none)
	local p=$1; shift
	timeout "$((T + 30))" env LD_LIBRARY_PATH="$B/lib" VGPU_SERVER=$S ${p:+VGPU_PARTITION=$p} "$@"
}

echo "== 1. three tenants at 33%, each with a job that fills a third of the GPU"
# (the server learns its GPUs just after it starts listening: ask until it knows)
for _ in $(seq 100); do
	$CTL list | awk -F'|' '$2 ~ /^ *0 *$/ { found = 1 } END { exit !found }' && break
	sleep 0.1
done
for p in t1 t2 t3; do $CTL create $p --gpu 0 --mem 10% --compute 33; done
run t1 "$B/tests/progs/spin_rate" "$MS" "$T" "$THIRD" > "$TMP/one" 2>&1
rc=$?; result "one tenant in a 33% partition runs" $rc; cat "$TMP/one"
one=$(rate "$TMP/one")
pids=
for p in t1 t2 t3; do
	run $p "$B/tests/progs/spin_rate" "$MS" "$T" "$THIRD" > "$TMP/$p" 2>&1 &
	pids="$pids $!"
done
wait $pids	# not a bare wait: the server runs in the background too
sum=0
for p in t1 t2 t3; do
	r=$(rate "$TMP/$p")
	echo "FIGURE three_${p}_rate $r"
	sum=$(awk -v a="$sum" -v b="${r:-0}" 'BEGIN { print a + b }')
done
gain=$(awk -v s="$sum" -v o="${one:-0}" 'BEGIN { printf "%.2f", (o > 0 ? s / o : 0) }')
echo "FIGURE one_tenant_rate $one"
echo "FIGURE three_tenants_rate $sum"
echo "FIGURE three_vs_one $gain"
awk -v g="$gain" 'BEGIN { exit !(g >= 2.5) }'
result "utilisation: three 33% tenants reach at least 2.5x one" $?
grep -h "spatial\|time-sliced" "$TMP/server.log" | sort | uniq -c | head -3

echo "== 2. the SM limit: a job that fills the whole GPU, in 33% and unpartitioned"
WHOLE=$((THIRD * 3))
run t1 "$B/tests/progs/spin_rate" "$MS" "$T" "$WHOLE" > "$TMP/part" 2>&1
run "" "$B/tests/progs/spin_rate" "$MS" "$T" "$WHOLE" > "$TMP/full" 2>&1
rp=$(rate "$TMP/part"); rf=$(rate "$TMP/full")
echo "FIGURE whole_job_rate_in_33pct $rp"
echo "FIGURE whole_job_rate_unpartitioned $rf"
awk -v p="${rp:-0}" -v f="${rf:-0}" 'BEGIN { exit !(p > 0 && f / p >= 2) }'
result "SM limit: a whole-GPU job runs at most half as fast in a 33% partition" $?

echo "== 3. the trade-off: a fault beside a running tenant (reported only)"
( for _ in 1 2 3 4 5; do run t2 "$B/tests/progs/saxpy_drv" || exit 1; done ) > "$TMP/good" 2>&1 &
G=$!
run t3 "$B/tests/progs/fault_drv" > "$TMP/bad" 2>&1
wait $G
cat "$TMP/bad"; tail -n 2 "$TMP/good"
echo "FIGURE neighbour_saxpy_ok_of_5 $(grep -c ' OK$' "$TMP/good")"
for p in t1 t2 t3; do $CTL delete $p > /dev/null 2>&1; done

echo "== 4. live resize under --spatial: a running 55% tenant split into 35% + 20%"
# Both tenants run whole-GPU jobs for 2T seconds, reporting every second; at T the 55%
# partition is split and the new 20% one gets a tenant. The running 55% session keeps
# its SMs (MPS) and is held to 35% by duty cycle: after the split (from T+1) it may run
# at most 35/55 of its rate before (from 2 s), +10%, and the 45% tenant's rate moves by
# at most 5%. (MPS SM limits overlap, so while it runs it also slows under the new 20%
# tenant's blocks: it may get less than 35/55, which is reported.)
# (after section 3's fatal fault MPS takes a moment before it serves clients again)
for _ in $(seq 150); do $CTL create n45 --gpu 0 --mem 10% --compute 45 2>/dev/null && break; sleep 0.2; done
$CTL create n55 --gpu 0 --mem 10% --compute 55
SPIN_EVERY=1 run n55 "$B/tests/progs/spin_rate" "$MS" "$((2 * T))" "$WHOLE" > "$TMP/n55" 2>&1 &
N=$!
SPIN_EVERY=1 run n45 "$B/tests/progs/spin_rate" "$MS" "$((2 * T))" "$WHOLE" > "$TMP/n45" 2>&1 &
M=$!
sleep "$T"
$CTL split n55 n20 --mem-new 5% --compute-new 20 &&
	run n20 "$B/tests/progs/spin_rate" "$MS" "$((T + 1))" "$WHOLE" > "$TMP/n20" 2>&1 &
R=$!
wait $N $M $R
mean() { awk -v lo="$2" -v hi="$3" '$3 == "s:" {
	t = $2 + 0; r = $4; sub("/s", "", r); if (t > lo && t <= hi) { s += r; n++ } }
	END { if (n) printf "%.2f\n", s / n }' "$1"; }
b55=$(mean "$TMP/n55" 2 "$T"); a55=$(mean "$TMP/n55" "$((T + 1))" "$((2 * T))")
b45=$(mean "$TMP/n45" 2 "$T"); a45=$(mean "$TMP/n45" "$((T + 1))" "$((2 * T))")
echo "FIGURE spatial_n55_rate_before $b55"
echo "FIGURE spatial_n55_rate_after_cut_to_35 $a55"
echo "FIGURE spatial_n20_rate $(rate "$TMP/n20")"
echo "FIGURE spatial_n45_rate_before $b45"
echo "FIGURE spatial_n45_rate_after $a45"
awk -v a="${a55:-0}" -v b="${b55:-0}" -v c="${a45:-0}" -v d="${b45:-0}" 'BEGIN {
	r = b > 0 ? a / b : 0; q = d > 0 ? c / d : 0
	printf "FIGURE spatial_n55_after_vs_before %.3f (its new share: %.3f)\n", r, 35 / 55
	printf "FIGURE spatial_n45_after_vs_before %.3f\n", q
	exit !(a > 0 && r <= 35 / 55 * 1.1 && q >= 0.95 && q <= 1.05) }'
result "spatial resize: the running tenant cut to 35% takes no more, its 45% neighbour keeps its rate" $?
grep -h "duty cycle" "$TMP/server.log" | head -n 2
for p in n45 n55 n20; do $CTL delete $p > /dev/null 2>&1; done
echo "== failures: $fails"
exit $((fails > 0))
