#!/bin/busybox sh
# /init of the virtio-net benchmark guest: RTT (ping) and TCP throughput guest -> peer.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_mmio \
         failover net_failover virtio_net; do
    insmod /lib/modules/$m.ko || echo "GUEST: insmod $m failed"
done
arg() { tr ' ' '\n' < /proc/cmdline | grep "^$1=" | cut -d= -f2; }
for i in 1 2 3 4 5 6 7 8 9 10; do [ -e /sys/class/net/eth0 ] && break; sleep 0.2; done
ip link set eth0 up
ip addr add "$(arg rvnet.addr)" dev eth0
peer=$(arg rvnet.peer)
ping -c 2 -W 5 "$peer" > /dev/null
echo "RTT $(ping -c "$(arg rvnet.pings)" -i 0.2 "$peer" | tail -1)"
/bin/net-io send "$peer" 7001 "$(arg rvnet.mib)" || echo "GUEST: send failed"
echo "GUEST: DONE"
poweroff -f
