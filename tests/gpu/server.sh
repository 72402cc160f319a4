# SPDX-License-Identifier: MIT
# server.sh - sourced by the GPU-machine scripts (tests/cuda/run-gpu.sh,
# tests/torch/run-gpu.sh, tests/gpu/partitions.sh, spatial.sh, batch.sh): one
# vgpu-server for a run, and the verdict helpers.
#
#   start_server BUILD BACKEND DIR [ARGS...]
#       vgpu-server --backend BACKEND on 127.0.0.1, port chosen by the kernel,
#       stdout in DIR/server.out, log in DIR/server.log; sets SERVER_PID and
#       PORT, or prints the log and returns 1
#   stop_server
#   result NAME STATUS   print "RESULT PASS|FAIL NAME", counting failures in $fails
#   rate FILE            the launches/s of a spin_rate output
start_server() {
	_b=$1 _backend=$2 _dir=$3
	shift 3
	"$_b/bin/vgpu-server" --backend "$_backend" --listen 127.0.0.1:0 "$@" \
		>"$_dir/server.out" 2>"$_dir/server.log" &
	SERVER_PID=$!
	PORT=
	for _ in $(seq 100); do
		PORT=$(sed -n 's/^listening on .*:\([0-9][0-9]*\)$/\1/p' "$_dir/server.out")
		[ -n "$PORT" ] && return 0
		sleep 0.1
	done
	echo "vgpu-server did not start:" >&2
	cat "$_dir/server.log" >&2
	return 1
}

stop_server() {
	if [ -n "${SERVER_PID:-}" ]; then
		kill "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null
	fi
	SERVER_PID=
}

result() {
	if [ "$2" = 0 ]; then echo "RESULT PASS $1"; else echo "RESULT FAIL $1"; fails=$((fails + 1)); fi
}

rate() { sed -n 's/.* = \([0-9.]*\)\/s$/\1/p' "$1"; }
