#!/bin/sh
# Runs inside the guest (busybox sh), started by tests/vm/e2e.sh.
# The whole chain through the real module: app -> /dev/vgpuN -> vgpu.ko ->
# vgpud -> TCP -> vgpu-server on the host (reached at 10.0.2.2).
# Prints "VMTEST-PASS <what>" / "VMTEST-FAIL <what>"; the host decides.
# /vgpu/env sets SERVER (host:port) and MODE (e2e | demo | gpu).
. /vgpu/env
export PATH=/vgpu/bin:/vgpu/tests/progs:$PATH
export LD_LIBRARY_PATH=/vgpu/lib
KMOD=/vgpu/vgpu.ko

pass() { echo "VMTEST-PASS $*"; }
fail() { echo "VMTEST-FAIL $*"; }
check() { # check NAME CMD...: run, pass/fail on its status, keep its output
	name=$1; shift
	if "$@" > /tmp/out.$$ 2>&1; then pass "$name"; else fail "$name (exit $?)"; fi
	sed 's/^/    /' /tmp/out.$$
}
stat_field() { # stat_field FIELD: value from vgpu-stat
	vgpu-stat "$SERVER" | tr ' ' '\n' | sed -n "s/^$1=//p"
}
wait_for() { # wait_for SECONDS CMD...: poll until CMD succeeds
	t=$1; shift
	while [ "$t" -gt 0 ]; do "$@" && return 0; sleep 1; t=$((t - 1)); done
	return 1
}

insmod $KMOD nr_devices=2 || { fail "insmod"; exit 1; }
[ -c /dev/vgpu0 ] && [ -c /dev/vgpu1 ] && [ -c /dev/vgpu-control ] && pass "device nodes" || fail "device nodes"
if [ "$MODE" = e2e ]; then
	# the module's ABI and its bad-input checks, before any daemon runs
	check "modtest (module ABI)" modtest
fi

mkdir -p /etc/vgpu
cat > /etc/vgpu/vgpud.conf <<CONF
[daemon]
log_level = info
[vgpu0]
server = $SERVER
gpu = 0
[vgpu1]
server = $SERVER
gpu = 0
CONF
vgpud -f -c /etc/vgpu/vgpud.conf 2> /tmp/vgpud.log &
VGPUD=$!
wait_for 10 grep -q live /sys/class/misc/vgpu0/state && pass "vgpud attached" || fail "vgpud attached"

if [ "$MODE" = demo ]; then
	echo "DEMO: guest kernel $(uname -r), no GPU; /dev/vgpu0 -> vgpud -> vgpu-server at $SERVER"
	check "demo: SAXPY through /dev/vgpu0, checked against the CPU" env VGPU_DEVICE=/dev/vgpu0 saxpy_drv
	echo "DEMO: server now: $(vgpu-stat "$SERVER")"
	kill $VGPUD; echo VMTEST-END; exit 0
fi

if [ "$MODE" = gpu ]; then
	# real GPU behind the server: nvcc-built kernels carried in /vgpu/kernels
	check "gpu saxpy via /dev/vgpu0" env VGPU_DEVICE=/dev/vgpu0 saxpy_drv /vgpu/kernels/saxpy.cubin
	check "gpu reduce via /dev/vgpu0" env VGPU_DEVICE=/dev/vgpu0 reduce_drv /vgpu/kernels/reduce.cubin
	check "gpu api via /dev/vgpu0" env VGPU_DEVICE=/dev/vgpu0 api_drv /vgpu/kernels/api.cubin
	# unmodified nvcc-built runtime programs (tests/cuda), each checks itself
	for p in /vgpu/cuda/*; do
		case "$p" in *.so*) continue ;; esac
		[ -x "$p" ] || continue
		check "gpu cuda $(basename $p) via /dev/vgpu0" \
			env VGPU_DEVICE=/dev/vgpu0 LD_LIBRARY_PATH=/vgpu/lib:/vgpu/cuda "$p"
	done
	# programs using NVIDIA's libraries, which the host shares over 9p (tag cudalib,
	# tests/gpu/run.sh) where the programs' rpath looks; no share, no run
	if ls /vgpu/cuda-libs/* >/dev/null 2>&1; then
		if mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose cudalib \
			/usr/local/cuda/lib64 2>/dev/null; then
			# cuDNN's directory (the host's, maybe its system one): link only cuDNN;
			# cuDNN dlopens cuBLAS(Lt) by name, so the toolkit's directory is searched too
			LIBS=/vgpu/lib:/usr/local/cuda/lib64
			mkdir -p /mnt/cudnn /tmp/cudnn
			if mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose cudnnlib \
				/mnt/cudnn 2>/dev/null; then
				ln -s /mnt/cudnn/libcudnn* /tmp/cudnn/ && LIBS=$LIBS:/tmp/cudnn
			fi
			for p in /vgpu/cuda-libs/*; do
				check "gpu cuda-libs $(basename $p) via /dev/vgpu0" \
					env VGPU_DEVICE=/dev/vgpu0 LD_LIBRARY_PATH=$LIBS \
					timeout 300 "$p"
			done
		else
			echo "VMTEST-SKIP cuda-libs: no 9p share of the host's CUDA libraries"
		fi
	fi
	kill $VGPUD; echo VMTEST-END; exit 0
fi

# 1. driver-API programs through /dev/vgpu0
check "saxpy via /dev/vgpu0" env VGPU_DEVICE=/dev/vgpu0 saxpy_drv
check "reduce via /dev/vgpu0" env VGPU_DEVICE=/dev/vgpu0 reduce_drv
check "api via /dev/vgpu0" env VGPU_DEVICE=/dev/vgpu0 api_drv
# a module image larger than the ring's data area (4 MiB): staged in pieces
{ printf '//vgpu-sim big\n'; head -c 12582912 /dev/zero | tr '\0' x; } > /tmp/big.sim
check "12 MiB module image via /dev/vgpu0 (staged in pieces)" \
	env VGPU_DEVICE=/dev/vgpu0 saxpy_drv /tmp/big.sim
rm -f /tmp/big.sim

# 2. two applications at once on two devices
VGPU_DEVICE=/dev/vgpu0 saxpy_drv > /tmp/a.out 2>&1 & A=$!
VGPU_DEVICE=/dev/vgpu1 reduce_drv > /tmp/b.out 2>&1 & B=$!
wait $A; ra=$?; wait $B; rb=$?
[ $ra -eq 0 ] && [ $rb -eq 0 ] && pass "two apps on two devices" || fail "two apps on two devices ($ra/$rb)"
cat /tmp/a.out /tmp/b.out | sed 's/^/    /'
[ "$(cat /sys/class/misc/vgpu1/channels_total)" -ge 1 ] && pass "vgpu1 used" || fail "vgpu1 used"

# 2b. one application on both devices (a group of nodes: devices 0 and 1),
#     a vector passed from one to the other, saxpy on each
check "one app on /dev/vgpu0 + /dev/vgpu1 as devices 0 and 1" \
	env VGPU_DEVICE=/dev/vgpu0,/dev/vgpu1 multi_drv 2

# 3. an application killed mid-call frees everything on the server
VGPU_DEVICE=/dev/vgpu0 spin_alloc 64 > /tmp/spin.out 2>&1 & S=$!
wait_for 30 grep -q ALLOCATED /tmp/spin.out && pass "spin_alloc allocated" || fail "spin_alloc allocated"
b=$(stat_field bytes_allocated)
[ "${b:-0}" -ge $((64 << 20)) ] && pass "server holds 64 MiB ($b)" || fail "server holds 64 MiB ($b)"
sleep 1
kill -9 $S; wait $S 2>/dev/null
freed() { [ "$(stat_field bytes_allocated)" = 0 ] && [ "$(stat_field sessions)" = 0 ]; }
wait_for 15 freed && pass "killed app's memory freed on server" || fail "killed app's memory freed ($(vgpu-stat $SERVER))"
[ "$(cat /sys/class/misc/vgpu0/channels)" = 0 ] && pass "channel closed" || fail "channel closed"

# 4. sysfs counters moved
[ "$(cat /sys/class/misc/vgpu0/doorbells)" -gt 0 ] && [ "$(cat /sys/class/misc/vgpu0/commits)" -gt 0 ] \
	&& pass "sysfs counters" || fail "sysfs counters"

# 5. SIGHUP reloads the configuration without a restart: vgpu1 moves to a
#    server that does not exist, vgpu0 carries on; then back
sed "/^\[vgpu1\]/,\$ s/^server = .*/server = 10.0.2.2:1/" /etc/vgpu/vgpud.conf > /tmp/moved.conf
cp /etc/vgpu/vgpud.conf /tmp/orig.conf
cp /tmp/moved.conf /etc/vgpu/vgpud.conf
kill -HUP $VGPUD
moved() { grep -q "10.0.2.2:1$" /sys/class/misc/vgpu1/server; }
wait_for 10 moved && pass "reload: sysfs shows vgpu1's new server" || fail "reload: vgpu1 server ($(cat /sys/class/misc/vgpu1/server))"
VGPU_DEVICE=/dev/vgpu1 saxpy_drv > /dev/null 2>&1 && fail "reload: vgpu1 now fails" || pass "reload: vgpu1 now fails"
check "reload: vgpu0 unaffected" env VGPU_DEVICE=/dev/vgpu0 saxpy_drv
cp /tmp/orig.conf /etc/vgpu/vgpud.conf
kill -HUP $VGPUD
back() { ! moved; }
wait_for 10 back && check "reload back: vgpu1 works again" env VGPU_DEVICE=/dev/vgpu1 saxpy_drv \
	|| fail "reload back"

# 5b. partitions: vgpuctl makes one on the server (the guest reaches it from
#     QEMU's loopback, so it may administer); vgpu1 is bound to it by a
#     reload; a live resize is seen by the next application; vgpu0 still
#     has the whole GPU
check "vgpuctl create a 64 MiB partition" vgpuctl -s "$SERVER" create tenant --gpu 0 \
	--mem 64M --compute 25
{ cat /tmp/orig.conf; echo "partition = tenant"; } > /etc/vgpu/vgpud.conf	# [vgpu1] is last
kill -HUP $VGPUD
sleep 1
check "partition: /dev/vgpu1 is a 64 MiB partition" env VGPU_DEVICE=/dev/vgpu1 memlimit_drv 64
# sysfs shows the limits as of the device's last attach
sysfs_is() { v=$(cat /sys/class/misc/$1/$2); echo "$1/$2 = $v"; [ "$v" = "$3" ]; }
check "sysfs: vgpu1 mem_limit 67108864 after the attach" sysfs_is vgpu1 mem_limit 67108864
check "sysfs: vgpu1 compute_share 25" sysfs_is vgpu1 compute_share 25
check "sysfs: vgpu0 (no partition) mem_limit 0" sysfs_is vgpu0 mem_limit 0
check "vgpuctl resize it to 96 MiB live" vgpuctl -s "$SERVER" resize tenant --mem 96M
check "partition: /dev/vgpu1 now 96 MiB" env VGPU_DEVICE=/dev/vgpu1 memlimit_drv 96
check "sysfs: vgpu1 mem_limit 100663296 after the next attach" sysfs_is vgpu1 mem_limit 100663296
check "partition: /dev/vgpu0 still the whole GPU" env VGPU_DEVICE=/dev/vgpu0 saxpy_drv
vgpuctl -s "$SERVER" list | sed 's/^/    /'
cp /tmp/orig.conf /etc/vgpu/vgpud.conf
kill -HUP $VGPUD
sleep 1
check "sysfs: vgpu1 mem_limit 0 once a reload removed the partition" sysfs_is vgpu1 mem_limit 0
check "vgpuctl delete the partition" vgpuctl -s "$SERVER" delete tenant

# 6. the daemon dies: applications get errors, not hangs
VGPU_DEVICE=/dev/vgpu0 spin_alloc 1 > /tmp/spin2.out 2>&1 & S=$!
wait_for 30 grep -q ALLOCATED /tmp/spin2.out
kill -9 $VGPUD
t=0; while kill -0 $S 2>/dev/null && [ $t -lt 20 ]; do sleep 1; t=$((t + 1)); done
if kill -0 $S 2>/dev/null; then fail "app errors out when vgpud dies (still running)"; kill -9 $S
else pass "app errors out when vgpud dies"; fi
tail -n 2 /tmp/spin2.out | sed 's/^/    /'
VGPU_DEVICE=/dev/vgpu0 saxpy_drv > /dev/null 2>&1 && fail "no daemon: calls fail" || pass "no daemon: calls fail"

# 7. a new daemon takes over; new applications work
vgpud -f -c /etc/vgpu/vgpud.conf 2>> /tmp/vgpud.log & VGPUD=$!
wait_for 10 grep -q live /sys/class/misc/vgpu0/state
check "saxpy after daemon restart" env VGPU_DEVICE=/dev/vgpu0 saxpy_drv
kill $VGPUD; wait $VGPUD
echo "--- vgpud log"; sed 's/^/    /' /tmp/vgpud.log | tail -n 40
rmmod vgpu && pass "rmmod" || fail "rmmod"
echo VMTEST-END
