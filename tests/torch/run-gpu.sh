#!/bin/sh
# SPDX-License-Identifier: MIT
# run-gpu.sh - on a machine with a GPU, NVIDIA's driver and PyTorch: run
# tests/torch/torch_check.py natively and through vgpu's direct transport
# (lib/'s libcuda.so.1 and nvml/'s libnvidia-ml.so.1 -> vgpu-server
# --backend cuda on this machine), then compare the MLP loss curves.
#
#   tests/torch/run-gpu.sh [-b BUILD] [-o TABLE_FILE] [-s STEPS]
#
# Exit status: 0 when both runs pass and the curves agree within 1e-4
# relative (both runs use the same deterministic kernels).
set -u
BUILD=build
TABLE=
STEPS=300
while getopts b:o:s: opt; do
	case $opt in
	b) BUILD=$OPTARG ;;
	o) TABLE=$OPTARG ;;
	s) STEPS=$OPTARG ;;
	*) echo "usage: $0 [-b BUILD] [-o TABLE_FILE] [-s STEPS]" >&2; exit 2 ;;
	esac
done
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "$BUILD" && pwd) || exit 2
TMP=$(mktemp -d)
SERVER_PID=
. "$HERE/../gpu/server.sh"
cleanup() {
	stop_server
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

start_server "$BUILD" cuda "$TMP" || exit 1

PY=${PYTHON:-python3}
echo "== native"
timeout 300 "$PY" "$HERE/torch_check.py" --steps "$STEPS" --out "$TMP/native.json"
n=$?
echo "== vgpu (direct transport to 127.0.0.1:$PORT)"
LD_LIBRARY_PATH="$BUILD/lib:$BUILD/nvml${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
	VGPU_SERVER="127.0.0.1:$PORT" VGPU_DEBUG=${VGPU_DEBUG:-} VGPU_TRACE=${VGPU_TRACE:-err} \
	timeout 600 "$PY" "$HERE/torch_check.py" --steps "$STEPS" --out "$TMP/vgpu.json" \
	2>"$TMP/vgpu.debug"
v=$?
[ $v -ne 0 ] && { echo "-- vgpu stderr (tail)"; sort "$TMP/vgpu.debug" | uniq -c | sort -rn | head -40; }
# PyTorch's expandable segments map memory with the driver's VMM calls: a short run with them
echo "== vgpu with PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True"
LD_LIBRARY_PATH="$BUILD/lib:$BUILD/nvml${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
	VGPU_SERVER="127.0.0.1:$PORT" PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True \
	timeout 300 "$PY" "$HERE/torch_check.py" --steps 100 --out "$TMP/expandable.json" \
	2>"$TMP/expandable.debug" | tail -n 1
# a wider sweep (tests/torch/torch_zoo.py): each check's verdict natively and through vgpu
echo "== zoo"
timeout 300 "$PY" "$HERE/torch_zoo.py" > "$TMP/zoo.native" 2>&1
LD_LIBRARY_PATH="$BUILD/lib:$BUILD/nvml${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
	VGPU_SERVER="127.0.0.1:$PORT" timeout 300 "$PY" "$HERE/torch_zoo.py" > "$TMP/zoo.vgpu" \
	2>&1
zoo_worse=$(awk -F': ' '
	FNR == 1 { file++ }
	/^zoo: (PASS|FAIL|SKIP) / {
		split($2, w, " "); v = w[1]; name = substr($2, length(v) + 2)
		if (file == 1) nat[name] = v; else { vg[name] = v; order[++n] = name }
	}
	END {
		for (i = 1; i <= n; i++) {
			k = order[i]
			printf "zoo | %-36s | native %-4s | vgpu %-4s\n", k, nat[k], vg[k] > "/dev/stderr"
			if (nat[k] == "PASS" && vg[k] != "PASS") worse++
		}
		print worse + 0
	}' "$TMP/zoo.native" "$TMP/zoo.vgpu" 2>"$TMP/zoo.table")
cat "$TMP/zoo.table"
grep "^zoo: .*passed" "$TMP/zoo.native" "$TMP/zoo.vgpu" | sed "s|$TMP/||"
grep "^zoo: FAIL" "$TMP/zoo.vgpu" | sed 's/^/vgpu /'
"$PY" - "$TMP/native.json" "$TMP/vgpu.json" "$TABLE" "$TMP/expandable.json" "$TMP/zoo.table" \
	"$zoo_worse" <<'PYEOF'
import json, sys
def load(p):
    try:
        return json.load(open(p))
    except Exception as e:
        return {"ok": False, "error": str(e)}
n, v, x = load(sys.argv[1]), load(sys.argv[2]), load(sys.argv[4])
rows = [("run", "verdict", "device", "total MiB", "loss[0]", "loss[-1]", "seconds")]
for k, r in (("native", n), ("vgpu", v), ("vgpu+expandable(100 steps)", x)):
    c = r.get("curve") or [float("nan")]
    rows.append((k, "OK" if r["ok"] else "FAIL: " + r.get("error", "")[:60], r.get("name", "-"),
                 str(r.get("total", 0) >> 20), f"{c[0]:.6f}", f"{c[-1]:.6f}",
                 f"{r.get('seconds', 0):.1f}"))
same = False
if n["ok"] and v["ok"] and len(n["curve"]) == len(v["curve"]):
    d = max(abs(a - b) / max(abs(a), 1e-12) for a, b in zip(n["curve"], v["curve"]))
    same = d <= 1e-4
    rows.append(("curve", "MATCH" if same else "DIFFER", f"max rel diff {d:.2e}", "", "", "", ""))
out = "\n".join(" | ".join(r) for r in rows)
out += "\n" + open(sys.argv[5]).read().rstrip("\n")
print(out)
if sys.argv[3]:
    open(sys.argv[3], "w").write(out + "\n")
# the zoo: nothing that passes natively may fail through vgpu
sys.exit(0 if same and sys.argv[6] == "0" else 1)
PYEOF
