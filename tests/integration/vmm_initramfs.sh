#!/usr/bin/env bash
# Builds the L2 test initramfs: static busybox as /init's shell; /init writes the boot
# timer (/dev/port, else devmem on its MMIO page), prints a marker on the console and
# reboots (i8042), or powers off (ACPI S5) when the kernel command line has
# runvm.end=poweroff; with runvm.diag it prints uptime, clocksource, dmesg and
# /proc/interrupts after the marker.
# With MODULE_DIR (the kernel's lib/modules/<release>), /init also loads the virtio-mmio,
# virtio-blk, virtio-console and vsock drivers and prints what it finds: online CPUs, the
# first bytes of /dev/vda, which virtio devices have a driver bound; it writes a line to
# /dev/hvc0 and, with gcc to build vsock-io, sends a line to host vsock port 5000.
# usage: vmm_initramfs.sh OUT.cpio.gz [MODULE_DIR]
set -euo pipefail
out=$1
moddir=${2:-}
bb=$(command -v busybox)
file -L "$bb" 2>/dev/null | grep -q 'statically linked' || bb=/bin/busybox
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmm-initramfs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"/{bin,dev,proc,sys}
cp "$bb" "$tmp/bin/busybox"
here=$(cd "$(dirname "$0")" && pwd)
if [ -n "$moddir" ] && command -v gcc >/dev/null; then
  gcc -static -O2 -o "$tmp/bin/vsock-io" "$here/broker_vsock_io.c"
fi
cat > "$tmp/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t devtmpfs dev /dev
/bin/busybox mount -t proc proc /proc
# Boot timer: magic 123 to I/O port 0x440 through /dev/port (CONFIG_DEVPORT: the minimal
# kernel has it but no /dev/mem), else to its MMIO page through /dev/mem.
if [ -c /dev/port ]; then
  printf '\173' | /bin/busybox dd of=/dev/port bs=1 seek=1088 2>/dev/null
else
  /bin/busybox devmem 0xd0000000 8 123
fi
echo "runvm-init: reached /init"
# Diagnostics for scripts/bench/vmm.sh (DIAG=1): where the boot went, printed after the
# marker so it does not count. printk.time=1 stamps the ring buffer even under `quiet`.
case " $(/bin/busybox cat /proc/cmdline) " in *" runvm.diag "*)
  /bin/busybox mount -t sysfs sys /sys 2>/dev/null
  echo "runvm-diag: uptime $(/bin/busybox cat /proc/uptime)"
  echo "runvm-diag: clocksource $(/bin/busybox cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)"
  /bin/busybox dmesg | /bin/busybox sed 's/^/runvm-dmesg: /'
  /bin/busybox cat /proc/interrupts | /bin/busybox sed 's/^/runvm-irqs: /' ;;
esac
INIT
if [ -n "$moddir" ]; then
  mkdir -p "$tmp/lib/modules"
  for m in drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_mmio \
           drivers/block/virtio_blk drivers/char/virtio_console net/vmw_vsock/vsock \
           net/vmw_vsock/vmw_vsock_virtio_transport_common \
           net/vmw_vsock/vmw_vsock_virtio_transport; do
    cp "$moddir/kernel/$m.ko" "$tmp/lib/modules/"
  done
  cat >> "$tmp/init" <<'INIT'
/bin/busybox mount -t sysfs sys /sys
# insmod, unlike modprobe, does not apply "module.param=" from the kernel command line.
mmio_args=
for w in $(/bin/busybox cat /proc/cmdline); do
  case $w in virtio_mmio.device=*) mmio_args="$mmio_args device=${w#virtio_mmio.device=}" ;; esac
done
for m in virtio_ring virtio virtio_mmio virtio_blk virtio_console vsock vmw_vsock_virtio_transport_common vmw_vsock_virtio_transport; do
  args=
  [ $m = virtio_mmio ] && args=$mmio_args
  /bin/busybox insmod /lib/modules/$m.ko $args || echo "runvm-init: insmod $m failed"
done
if [ -b /dev/vda ]; then
  echo "runvm-init: blk reads '$(/bin/busybox head -c 17 /dev/vda)'"
else
  echo "runvm-init: no /dev/vda; cmdline: $(/bin/busybox cat /proc/cmdline)"
  /bin/busybox dmesg | /bin/busybox grep -i -E 'virtio|vsock|mmio' | /bin/busybox tail -15
  /bin/busybox ls /sys/bus/virtio/devices /sys/bus/platform/devices
fi
echo "runvm-init: cpus online $(/bin/busybox cat /sys/devices/system/cpu/online)"
console=
for d in /sys/bus/virtio/devices/*; do
  [ -e "$d/driver" ] || continue
  id=$(/bin/busybox cat $d/device)
  [ "$id" = 0x0003 ] && console=1
  echo "runvm-init: virtio device $id bound to $(/bin/busybox basename $(/bin/busybox readlink $d/driver))"
done
if [ -n "$console" ]; then
  # The port's device node appears once the driver has probed it.
  for i in 1 2 3 4 5 6 7 8 9 10; do [ -c /dev/hvc0 ] && break; /bin/busybox usleep 100000; done
  echo "runvm-init: hello through hvc0" > /dev/hvc0 && echo "runvm-init: wrote hvc0"
fi
if [ -x /bin/vsock-io ] && [ -e /sys/bus/virtio/drivers/vmw_vsock_virtio_transport ]; then
  echo "runvm-init: hello through vsock" | /bin/busybox timeout 10 /bin/vsock-io connect 2 5000 &&
    echo "runvm-init: vsock sent"
fi
echo "runvm-init: done"
# reboot -f does not wait for the console: let the UART drain first.
/bin/busybox sleep 1
INIT
fi
cat >> "$tmp/init" <<'INIT'
case " $(/bin/busybox cat /proc/cmdline) " in
  *" runvm.end=poweroff "*) /bin/busybox poweroff -f ;;
  *) /bin/busybox reboot -f ;;
esac
INIT
chmod +x "$tmp/init"
(cd "$tmp" && find . | cpio -o -H newc --quiet | gzip -1) > "$out"
