#!/bin/sh
# Runs inside the nested-KVM L1 guest (scripts/kvm-nested.sh): the tiny guests, then
# runvm-vmm booting Debian's cloud kernel (bzImage and vmlinux) to /init as L2.
# With /work/runvm-broker, the bzImage boot gets 2 vCPUs and the broker's blk, vsock and
# console devices, which the kernel finds only through the VMM's ACPI DSDT (it has no
# CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES) and its CPUs only through the MADT (no MPPARSE);
# the guest reads the disk, writes /dev/hvc0 and sends a line over vsock to the host.
# The vmlinux boot ends with `poweroff -f` (ACPI S5 through the FADT sleep register).
# Files: /work/runvm-vmm, /work/guests/*.bin, /work/vmm_tiny_guests.sh, /work/vmlinuz,
# /work/vmlinux (optional), /work/l2.cpio.gz, /work/runvm-broker and /work/uds-recv
# (optional).
fail=0
broker=
[ -x /work/runvm-broker ] && broker=/work/runvm-broker
sh /work/vmm_tiny_guests.sh /work/runvm-vmm /work/guests $broker || fail=1
cmdline="console=ttyS0 reboot=k panic=-1 pci=off 8250.nr_uarts=1 quiet"
boot() { # name kernel extra-cmdline [runvm-vmm flags]
  name=$1 kernel=$2 extra=$3
  shift 3
  [ -f "$kernel" ] || { echo "SKIP linux-$name: no $kernel"; return 1; }
  rm -f /tmp/$name.serial
  t0=$(date +%s)
  timeout 120 /work/runvm-vmm --kernel "$kernel" --initrd /work/l2.cpio.gz --memory-mib 256 \
    --cmdline "$cmdline$extra" --serial-log /tmp/$name.serial "$@" > /tmp/$name.log 2>&1
  status=$?
  t1=$(date +%s)
  if [ $status = 0 ] && grep -q "runvm-init: reached /init" /tmp/$name.serial; then
    echo "PASS linux-$name: status 0 in $((t1 - t0)) s; $(grep -o 'guest boot time: [0-9.]* ms' /tmp/$name.log)"
    grep 'runvm-init:' /tmp/$name.serial
    # With `quiet` only warnings reach the console: show any about the firmware tables.
    grep -i -E 'acpi|firmware bug|mp-bios' /tmp/$name.serial | head -10
    return 0
  else
    echo "FAIL linux-$name: status $status after $((t1 - t0)) s"
    tail -20 /tmp/$name.log
    echo "--- serial"
    tail -c 3000 /tmp/$name.serial
    fail=1
    return 1
  fi
}
expect() { # name file description pattern
  if grep -q "$4" "$2"; then echo "PASS linux-$1: $3"; else
    echo "FAIL linux-$1: $3: no '$4' in $2"; fail=1; fi
}
if [ -n "$broker" ]; then
  printf 'runvm sector zero' > /tmp/disk.img
  dd if=/dev/zero bs=1024 count=1024 >> /tmp/disk.img 2>/dev/null
  $broker --blk /tmp/blk.sock,path=/tmp/disk.img --vsock /tmp/vsock.sock,uds=/tmp/vsock.uds,cid=3 \
    --console /tmp/console.sock,log=/tmp/console.log > /tmp/broker.log 2>&1 &
  bpid=$!
  rpid=
  if [ -x /work/uds-recv ]; then
    /work/uds-recv /tmp/vsock.uds_5000 100 > /tmp/vsock.recv 2>&1 &
    rpid=$!
  fi
  for i in 1 2 3 4 5 6 7 8 9 10; do [ -S /tmp/console.sock ] && break; usleep 200000; done
  boot bzimage /work/vmlinuz "" --vcpus 2 --device blk=/tmp/blk.sock \
    --device vsock=/tmp/vsock.sock --device console=/tmp/console.sock
  kill -TERM $bpid
  wait $bpid
  [ -n "$rpid" ] && { kill $rpid 2>/dev/null; wait $rpid; }
  s=/tmp/bzimage.serial
  expect bzimage $s "2 CPUs from the MADT" "runvm-init: cpus online 0-1"
  expect bzimage $s "disk bytes through virtio-blk" "blk reads 'runvm sector zero'"
  expect bzimage $s "blk found through ACPI" "virtio device 0x0002 bound to virtio_blk"
  expect bzimage $s "vsock found through ACPI" "virtio device 0x0013 bound to vmw_vsock_virtio_transport"
  expect bzimage $s "console found through ACPI" "virtio device 0x0003 bound to virtio_console"
  expect bzimage /tmp/console.log "guest's /dev/hvc0 line in the broker's console log" "runvm-init: hello through hvc0"
  if [ -n "$rpid" ]; then
    expect bzimage /tmp/vsock.recv "guest-to-host vsock stream" "runvm-init: hello through vsock"
  fi
  [ $fail = 0 ] || { echo "--- broker"; cat /tmp/broker.log; echo "--- serial"; tail -c 4000 /tmp/bzimage.serial; }
else
  boot bzimage /work/vmlinuz ""
fi
if boot vmlinux /work/vmlinux " runvm.end=poweroff"; then
  expect vmlinux /tmp/vmlinux.log "poweroff through ACPI S5" "guest powered off (ACPI S5)"
fi
exit $fail
