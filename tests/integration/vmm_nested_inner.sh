#!/bin/sh
# Runs inside the nested-KVM L1 guest (scripts/kvm-nested.sh): the tiny guests, then
# runvm-vmm booting Debian's cloud kernel (bzImage and vmlinux) to /init as L2.
# With /work/runvm-broker, the bzImage boot also gets the broker's blk and vsock devices.
# Files: /work/runvm-vmm, /work/guests/*.bin, /work/vmm_tiny_guests.sh, /work/vmlinuz,
# /work/vmlinux (optional), /work/l2.cpio.gz, /work/runvm-broker (optional).
fail=0
broker=
[ -x /work/runvm-broker ] && broker=/work/runvm-broker
sh /work/vmm_tiny_guests.sh /work/runvm-vmm /work/guests $broker || fail=1
boot() { # name kernel [runvm-vmm flags]
  name=$1 kernel=$2
  shift 2
  [ -f "$kernel" ] || { echo "SKIP linux-$name: no $kernel"; return; }
  rm -f /tmp/$name.serial
  t0=$(date +%s)
  timeout 120 /work/runvm-vmm --kernel "$kernel" --initrd /work/l2.cpio.gz --memory-mib 256 \
    --cmdline "console=ttyS0 reboot=k panic=-1 pci=off 8250.nr_uarts=1 i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd quiet" \
    --serial-log /tmp/$name.serial "$@" > /tmp/$name.log 2>&1
  status=$?
  t1=$(date +%s)
  if [ $status = 0 ] && grep -q "runvm-init: reached /init" /tmp/$name.serial; then
    echo "PASS linux-$name: status 0 in $((t1 - t0)) s; $(grep -o 'guest boot time: [0-9.]* ms' /tmp/$name.log)"
    grep 'runvm-init:' /tmp/$name.serial
  else
    echo "FAIL linux-$name: status $status after $((t1 - t0)) s"
    tail -20 /tmp/$name.log
    echo "--- serial"
    tail -c 3000 /tmp/$name.serial
    fail=1
  fi
}
if [ -n "$broker" ]; then
  printf 'runvm sector zero' > /tmp/disk.img
  dd if=/dev/zero bs=1024 count=1024 >> /tmp/disk.img 2>/dev/null
  $broker --blk /tmp/blk.sock,path=/tmp/disk.img --vsock /tmp/vsock.sock,uds=/tmp/vsock.uds,cid=3 \
    > /tmp/broker.log 2>&1 &
  bpid=$!
  boot bzimage /work/vmlinuz --device blk=/tmp/blk.sock --device vsock=/tmp/vsock.sock
  kill -TERM $bpid
  wait $bpid
  wants="blk reads 'runvm sector zero'|virtio device 0x0002 bound to virtio_blk|virtio device 0x0013 bound to vmw_vsock_virtio_transport"
  if grep -q "virtio_mmio: unknown parameter 'device'" /tmp/bzimage.serial; then
    # Debian's cloud kernel lacks CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES: it finds virtio-mmio
    # devices only through ACPI (as on QEMU microvm), which runvm-vmm does not build yet.
    echo "SKIP linux-bzimage virtio: the kernel ignores virtio_mmio.device= (no CMDLINE_DEVICES; needs ACPI DSDT)"
    wants=
  fi
  IFS='|'
  for want in $wants; do
    if grep -q "$want" /tmp/bzimage.serial; then echo "PASS linux-bzimage: $want"; else
      echo "FAIL linux-bzimage: no '$want' on the console"; fail=1; fi
  done
  unset IFS
  [ $fail = 0 ] || { echo "--- broker"; cat /tmp/broker.log; echo "--- serial"; tail -c 4000 /tmp/bzimage.serial; }
else
  boot bzimage /work/vmlinuz
fi
boot vmlinux /work/vmlinux
exit $fail
