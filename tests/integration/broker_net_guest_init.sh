#!/bin/busybox sh
# /init of the broker's virtio-net QEMU test guest: the interface as the plumbing described
# it (MAC from QEMU, address from the kernel command line), ping and a 16 MiB TCP echo to
# the peer namespace, a server the peer reads from, then power off.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_mmio \
         failover net_failover virtio_net; do
    insmod /lib/modules/$m.ko || echo "GUEST: insmod $m failed"
done
arg() { tr ' ' '\n' < /proc/cmdline | grep "^$1=" | cut -d= -f2; }
addr=$(arg rvnet.addr); peer=$(arg rvnet.peer)
for i in 1 2 3 4 5 6 7 8 9 10; do [ -e /sys/class/net/eth0 ] && break; sleep 0.2; done
echo "GUEST_MAC=$(cat /sys/class/net/eth0/address)"
ip link set lo up
ip link set eth0 up
ip addr add "$addr" dev eth0
if ping -c 3 -W 5 "$peer" > /tmp/ping.log 2>&1; then echo "PING=ok"; else echo "PING=fail"; cat /tmp/ping.log; fi
head -c 16777216 /dev/urandom > /tmp/out.bin
echo "ECHO_SENT_SHA=$(sha256sum < /tmp/out.bin | cut -d' ' -f1)"
/bin/net-io echo "$peer" 7000 /tmp/out.bin /tmp/back.bin || echo "GUEST: echo failed"
echo "ECHO_BACK_SHA=$(sha256sum < /tmp/back.bin | cut -d' ' -f1)"
rm -f /tmp/back.bin
head -c 4194304 /dev/urandom > /tmp/serve.bin
echo "SERVE_SHA=$(sha256sum < /tmp/serve.bin | cut -d' ' -f1)"
/bin/net-io serve 8000 /tmp/serve.bin || echo "GUEST: serve failed"
cat /sys/class/net/eth0/statistics/rx_packets /sys/class/net/eth0/statistics/tx_packets |
    tr '\n' ' ' | sed 's/^/GUEST_PACKETS=/'; echo
echo "GUEST: DONE"
poweroff -f
