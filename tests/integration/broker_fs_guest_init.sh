#!/bin/busybox sh
# /init of the virtio-fs QEMU test guest: mounts the broker's share, runs the POSIX suite,
# sees a host edit made while it runs, tries to escape, then powers off.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in virtio_ring virtio virtio_mmio fuse virtiofs; do
    insmod /lib/modules/$m.ko || echo "GUEST: insmod $m failed"
done
if ! mount -t virtiofs share /mnt; then
    echo "GUEST: mount virtiofs failed"; poweroff -f
fi
echo "HOST_FILE=$(cat /mnt/from_host.txt)"
echo "T_SUITE_START=$(cut -d' ' -f1 /proc/uptime)"
/bin/suite.sh /mnt /bin/fs-helper /mnt/big
echo "T_SUITE_END=$(cut -d' ' -f1 /proc/uptime)"
echo "written by the guest through virtio-fs" > /mnt/guest_written.txt
# A host edit made while the share is mounted (the host waits for guest-ready).
touch /mnt/guest-ready
for i in $(seq 300); do [ -e /mnt/host-live.txt ] && break; sleep 0.1; done
echo "HOST_LIVE=$(cat /mnt/host-live.txt 2>/dev/null)"
# Escape attempts: every one must fail to show the canary beside the share on the host.
leak=none
probe() { if "$@" 2>/dev/null | grep -q "outside the share"; then leak="$leak $*"; fi; }
probe cat /mnt/abs
probe cat /mnt/rel
probe cat /mnt/../canary
probe sh -c 'cd /mnt && cd .. && cat canary'
ln -s / /mnt/groot; probe cat /mnt/groot/canary
ln -s ../../../../canary /mnt/up; probe cat /mnt/up
probe cat /mnt/dotdot/../canary
echo pwned > /mnt/rel 2>/dev/null
echo "ESCAPE=$leak"
umount /mnt && echo "GUEST: unmounted"
echo "GUEST: DONE"
poweroff -f
