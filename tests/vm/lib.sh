# tests/vm/lib.sh - guest tooling shared by the VM tests (sourced by bash).
#
#   vm_rootfs DIR                  busybox, an /init, mount points
#   vm_add_bins DIR FILE...        copy programs/libraries with their shared libs
#   vm_add_netmods DIR KVER [MOD...]  Debian's virtio-net modules (and MODs), in load order
#   vm_pack DIR OUT.cpio.gz        make the initramfs
#   vm_boot KERNEL INITRD LOG SECS [qemu args...]   boot, console to LOG
#   vm_verdict LOG                 0 iff VMTEST-END seen and no VMTEST-FAIL
#
# The guest's /init mounts the usual file systems, loads /netmods/*.ko in
# order, brings up eth0 as 10.0.2.15 (QEMU user networking: the host's
# loopback is 10.0.2.2), runs /vgpu/run.sh and powers off.  Pass/fail is
# decided on the host from markers on the console (see vm_verdict): a
# guest that panics or hangs never prints VMTEST-END.

VM_QEMU=${VM_QEMU:-qemu-system-x86_64}

vm_rootfs() {
	local d=$1 bb
	bb=$(command -v busybox) || { echo "busybox-static is not installed" >&2; return 1; }
	rm -rf "$d"
	mkdir -p "$d"/{bin,sbin,proc,sys,dev,tmp,etc,netmods,vgpu,lib64,usr/lib}
	cp "$bb" "$d/bin/busybox"
	for a in $("$bb" --list); do
		[ -e "$d/bin/$a" ] || ln -s busybox "$d/bin/$a"
	done
	cat > "$d/init" <<'EOF'
#!/bin/sh
export PATH=/bin:/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t tmpfs tmp /tmp
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
for m in $(ls /netmods 2>/dev/null | sort); do insmod /netmods/$m 2>/dev/null; done
if [ -e /sys/class/net/eth0 ]; then
	ip link set lo up
	ip addr add 10.0.2.15/24 dev eth0
	ip link set eth0 up
	ip route add default via 10.0.2.2
fi
echo "VMTEST-BOOTED $(uname -r)"
sh /vgpu/run.sh
sync
# reboot, not poweroff: with -no-reboot QEMU exits at once, on any kernel
reboot -f
EOF
	chmod +x "$d/init"
}

# copy each FILE to DIR/<same path> plus every shared library ldd lists,
# except those matching the regular expression $VM_SKIP_LIBS (if set)
vm_add_bins() {
	local d=$1 f lib
	shift
	for f in "$@"; do
		for lib in $(ldd "$f" 2>/dev/null | grep -o '/[^ ]*' | sort -u); do
			[ -n "${VM_SKIP_LIBS:-}" ] && echo "$lib" | grep -qE "$VM_SKIP_LIBS" && continue
			[ -e "$d$lib" ] || { mkdir -p "$d$(dirname "$lib")"; cp -L "$lib" "$d$lib"; }
		done
	done
}

vm_add_netmods() {
	local d=$1 kver=$2 n=0 m
	shift 2
	for m in $(modprobe -a -S "$kver" --show-depends virtio_pci virtio_net "$@" 2>/dev/null |
		   awk '$1 == "insmod" && !seen[$2]++ { print $2 }'); do
		n=$((n + 1))
		cp "$m" "$d/netmods/$(printf %02d $n)-$(basename "$m")"
	done
	# compressed modules: busybox insmod wants them plain
	for m in "$d"/netmods/*.xz; do [ -e "$m" ] && xz -d "$m"; done
	for m in "$d"/netmods/*.zst; do [ -e "$m" ] && zstd -q -d --rm "$m"; done
	true
}

vm_pack() {
	local d=$1 out=$2
	(cd "$d" && find . | cpio -o -H newc --quiet) | gzip -1 > "$out"
}

vm_boot() {
	local kernel=$1 initrd=$2 log=$3 secs=$4 rc=0
	shift 4
	timeout --foreground -k 5 "$secs" "$VM_QEMU" -accel tcg -m 1024 -smp 2 -nographic \
		-no-reboot -kernel "$kernel" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 loglevel=4" "$@" > "$log" 2>&1 < /dev/null || rc=$?
	[ $rc = 124 ] && echo "VM: timed out after ${secs}s" >> "$log"
	return 0
}

vm_verdict() {
	local log=$1
	grep -a -E 'VMTEST-(PASS|FAIL)|^(not )?ok [0-9]' "$log" || true
	if ! grep -aq VMTEST-END "$log"; then
		echo "VM: no VMTEST-END (guest crashed or hung); console tail:" >&2
		tail -n 40 "$log" >&2
		return 1
	fi
	if grep -aq VMTEST-FAIL "$log"; then
		echo "VM: failures above; console tail:" >&2
		tail -n 60 "$log" >&2
		return 1
	fi
	return 0
}
