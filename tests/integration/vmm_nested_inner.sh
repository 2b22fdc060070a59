#!/bin/sh
# Runs inside the nested-KVM L1 guest (scripts/kvm-nested.sh): the tiny guests, then
# runvm-vmm booting Debian's cloud kernel (bzImage and vmlinux) to /init as L2.
# Files: /work/runvm-vmm, /work/guests/*.bin, /work/vmm_tiny_guests.sh, /work/vmlinuz,
# /work/vmlinux (optional), /work/l2.cpio.gz.
fail=0
sh /work/vmm_tiny_guests.sh /work/runvm-vmm /work/guests /tmp || fail=1
boot() { # name kernel
  name=$1 kernel=$2
  [ -f "$kernel" ] || { echo "SKIP linux-$name: no $kernel"; return; }
  rm -f /tmp/$name.serial
  t0=$(date +%s)
  timeout 120 /work/runvm-vmm --kernel "$kernel" --initrd /work/l2.cpio.gz --memory-mib 256 \
    --cmdline "console=ttyS0 reboot=k panic=-1 pci=off nomodules 8250.nr_uarts=1 i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd quiet" \
    --serial-log /tmp/$name.serial > /tmp/$name.log 2>&1
  status=$?
  t1=$(date +%s)
  if [ $status = 0 ] && grep -q "runvm-init: reached /init" /tmp/$name.serial; then
    echo "PASS linux-$name: status 0 in $((t1 - t0)) s; $(grep -o 'guest boot time: [0-9.]* ms' /tmp/$name.log)"
  else
    echo "FAIL linux-$name: status $status after $((t1 - t0)) s"
    tail -20 /tmp/$name.log
    echo "--- serial"
    tail -c 3000 /tmp/$name.serial
    fail=1
  fi
}
boot bzimage /work/vmlinuz
boot vmlinux /work/vmlinux
exit $fail
