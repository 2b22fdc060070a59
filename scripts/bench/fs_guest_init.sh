#!/bin/busybox sh
# /init of the virtio-fs benchmark guest: mounts the share, runs fs_bench on it, powers off.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in virtio_ring virtio virtio_mmio fuse virtiofs; do insmod /lib/modules/$m.ko; done
mount -t virtiofs share /mnt || { echo "BENCH: mount failed"; poweroff -f; }
set -- $(cat /proc/cmdline)
for a; do case $a in bench=*) args=${a#bench=} ;; esac; done
/bin/fs_bench /mnt $(echo "$args" | tr ',' ' ') | sed 's/^/BENCH: /'
umount /mnt
poweroff -f
