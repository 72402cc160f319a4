#!/bin/sh
# Build a relocatable QEMU bundle for a GPU host that has no QEMU and no
# package registry (shared/notes/vm-testing.md): qemu-system-x86_64, the
# shared libraries it needs (minus libc/libm/ld.so, which the host has),
# the TCG accelerator module and the firmware files a PVH/bzImage boot and
# a virtio-net NIC use.  Usage: mkbundle.sh OUTDIR
set -eu
out=${1:?usage: mkbundle.sh OUTDIR}
rm -rf "$out"
mkdir -p "$out/bin" "$out/lib/x86_64-linux-gnu/qemu" "$out/share/qemu"
cp /usr/bin/qemu-system-x86_64 "$out/bin/"
ldd /usr/bin/qemu-system-x86_64 | awk '/=>/ {print $3}' | while read -r so; do
	case "$(basename "$so")" in
	libc.so.*|libm.so.*|ld-linux*|libpthread.so.*|libdl.so.*|librt.so.*) continue ;;
	esac
	cp -L "$so" "$out/lib/"
done
cp /usr/lib/x86_64-linux-gnu/qemu/accel-tcg-x86_64.so "$out/lib/x86_64-linux-gnu/qemu/"
for f in kvmvapic.bin pvh.bin linuxboot_dma.bin linuxboot.bin; do
	cp /usr/share/qemu/$f "$out/share/qemu/"
done
cp /usr/share/seabios/bios-256k.bin "$out/share/qemu/"
strip -s "$out/bin/qemu-system-x86_64" "$out"/lib/*.so* 2>/dev/null || true
du -sh "$out" >&2
