#!/bin/sh
# SPDX-License-Identifier: MIT
# run-gpu.sh - on a machine with a GPU and NVIDIA's driver: run every program
# of $BUILD/cuda (make cuda-progs) natively and through vgpu's direct
# transport (lib/'s libcuda.so.1 -> vgpu-server --backend cuda on this
# machine), and print one table row per program with both verdicts.
#
#   tests/cuda/run-gpu.sh [-b BUILD] [-o TABLE_FILE]
#
# The server runs without $BUILD/lib on its library path (it must load
# NVIDIA's libcuda.so.1); the programs find libcudart.so.13 in $BUILD/cuda.
# VGPU_DEBUG output of a vgpu run that fails is shown under the table.
# Exit status: 0 when every program passed natively and through vgpu.
set -u
BUILD=build
TABLE=
while getopts b:o: opt; do
	case $opt in
	b) BUILD=$OPTARG ;;
	o) TABLE=$OPTARG ;;
	*) echo "usage: $0 [-b BUILD] [-o TABLE_FILE]" >&2; exit 2 ;;
	esac
done
BUILD=$(cd "$BUILD" && pwd) || exit 2
TMP=$(mktemp -d)
SERVER_PID=

. "$(dirname "$0")/../gpu/server.sh"
cleanup() {
	stop_server
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

start_server "$BUILD" cuda "$TMP" || exit 1

# verdict LOG: OK, FAIL or CRASH(status) from a program's output and exit status
verdict() {
	if [ "$2" -eq 0 ] && grep -q ": OK" "$1"; then
		echo OK
	elif grep -q ": FAIL" "$1"; then
		echo FAIL
	else
		echo "CRASH($2)"
	fi
}

status=0
{
	printf '%-18s %-10s %-10s %s\n' program native vgpu "vgpu output"
	for prog in "$BUILD"/cuda/*; do
		name=$(basename "$prog")
		case $name in lib*) continue ;; esac
		[ -x "$prog" ] || continue
		LD_LIBRARY_PATH="$BUILD/cuda" timeout 120 "$prog" >"$TMP/$name.native" 2>&1
		n=$(verdict "$TMP/$name.native" $?)
		LD_LIBRARY_PATH="$BUILD/lib:$BUILD/cuda" VGPU_SERVER="127.0.0.1:$PORT" \
			VGPU_DEBUG=1 VGPU_TRACE=err timeout 120 "$prog" >"$TMP/$name.vgpu" 2>"$TMP/$name.debug"
		v=$(verdict "$TMP/$name.vgpu" $?)
		[ "$n" = OK ] && [ "$v" = OK ] || status=1
		printf '%-18s %-10s %-10s %s\n' "$name" "$n" "$v" "$(tail -n 1 "$TMP/$name.vgpu")"
	done
} | tee "$TMP/table"
[ -n "$TABLE" ] && cp "$TMP/table" "$TABLE"

for f in "$TMP"/*.vgpu; do
	name=$(basename "$f" .vgpu)
	grep -q ": OK" "$f" && continue
	echo "--- $name (native: $(tail -n 1 "$TMP/$name.native"))"
	grep -v "cuGetExportTable\|tcp: session" "$TMP/$name.debug" | tail -n 20
done
if grep -q "FAIL\|CRASH" "$TMP/table"; then
	status=1
	echo "--- server log (tail)"
	tail -n 20 "$TMP/server.log"
fi
exit $status
