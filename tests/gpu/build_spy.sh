#!/bin/sh
# SPDX-License-Identifier: MIT
# build_spy.sh OUT_DIR - build tests/gpu/export_spy.c into OUT_DIR/libcuda.so.1
# (a research aid, see that file).  Every driver name our libcuda.so.1 exports
# is forwarded to NVIDIA's by a one-jump stub: libraries that dlsym a name
# directly (cuBLASLt does) must find it, or they fail before the tables are
# ever asked for.  Run here (needs build/lib/libcuda.so.1 and cuda.h).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:?usage: build_spy.sh OUT_DIR}
CUDA_INC=${CUDA_INC:-/usr/local/cuda/include}
mkdir -p "$OUT"
nm -D --defined-only "$ROOT/build/lib/libcuda.so.1" | awk '$3 ~ /^cu/ { print $3 }' |
	grep -v -x -e cuGetProcAddress -e cuGetProcAddress_v2 -e cuGetExportTable | sort -u \
	> "$OUT/names.txt"
{
	echo "	.text"
	i=0
	while read -r n; do
		printf '\t.globl %s\n\t.type %s,@function\n%s:\n\tjmp *spy_fwd+%d(%%rip)\n' \
			"$n" "$n" "$n" $((i * 8))
		i=$((i + 1))
	done < "$OUT/names.txt"
	echo '	.section .note.GNU-stack,"",@progbits'
} > "$OUT/fwd.S"
{
	echo "const char *const spy_fwd_names[] = {"
	sed 's/.*/\t"&",/' "$OUT/names.txt"
	echo "	0 };"
	echo "__attribute__((visibility(\"hidden\"))) void *spy_fwd[$(wc -l < "$OUT/names.txt")];"
} > "$OUT/fwd_names.c"
gcc -shared -fPIC -O1 -Wall -Wno-unused-parameter -I"$CUDA_INC" -o "$OUT/libcuda.so.1" \
	"$ROOT/tests/gpu/export_spy.c" "$OUT/fwd.S" "$OUT/fwd_names.c" -ldl
echo "$OUT/libcuda.so.1: $(wc -l < "$OUT/names.txt") names forwarded"
