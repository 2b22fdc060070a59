#!/bin/busybox sh
# /init of the broker's QEMU test guest: one boot checks blk, vsock both ways, then powers off.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_mmio \
         virtio_console vsock vmw_vsock_virtio_transport_common vmw_vsock_virtio_transport \
         virtio_blk; do
    insmod /lib/modules/$m.ko || echo "GUEST: insmod $m failed"
done
for i in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/vda ] && break; sleep 0.2; done
if mount -t ext4 /dev/vda /mnt; then
    echo "BLK_SHA=$(sha256sum < /mnt/known.bin | cut -d' ' -f1)"
    echo "written by the guest through runvm-broker" > /mnt/written.txt
    umount /mnt
    sync
else
    echo "GUEST: mount /dev/vda failed"
fi
/bin/vsock-io listen 5000 > /tmp/h2g.bin &
listener=$!
head -c 16777216 /dev/urandom > /tmp/g2h.bin
echo "G2H_SHA=$(sha256sum < /tmp/g2h.bin | cut -d' ' -f1)"
/bin/vsock-io connect 2 6000 < /tmp/g2h.bin || echo "GUEST: vsock connect failed"
wait $listener
echo "H2G_SHA=$(sha256sum < /tmp/h2g.bin | cut -d' ' -f1)"
echo "GUEST: DONE"
poweroff -f
