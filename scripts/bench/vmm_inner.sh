#!/bin/sh
# Runs inside the nested-KVM L1 guest for scripts/bench/vmm.sh: boots the same kernel and
# initramfs with runvm-vmm and with QEMU (-accel kvm -machine microvm), ROUNDS times each,
# interleaved, and prints one RESULT line per boot.
# RESULT vmm=<name> round=<n> init_ms=<first "reached /init" on the console, from spawn>
#        rss_kib=<max RssAnon+RssFile while it ran> first_run_wall_ms=.. first_run_cpu_ms=..
#        boot_timer_ms=..
rounds=${ROUNDS:-1}
cmdline="console=ttyS0 reboot=k panic=-1 pci=off 8250.nr_uarts=1 i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd quiet"
now_ms() { awk '{printf "%d", $1 * 1000}' /proc/uptime; }
measure() { # name logfile serialfile cmd...
  name=$1 log=$2 serial=$3
  shift 3
  rm -f "$serial"
  t0=$(now_ms)
  "$@" > "$log" 2>&1 &
  pid=$!
  init_ms= rss=0
  while kill -0 $pid 2>/dev/null; do
    if [ -z "$init_ms" ] && grep -q 'runvm-init: reached /init' "$serial" 2>/dev/null; then
      init_ms=$(( $(now_ms) - t0 ))
    fi
    r=$(awk '/^RssAnon:|^RssFile:/ {s += $2} END {print s + 0}' /proc/$pid/status 2>/dev/null)
    [ -n "$r" ] && [ "$r" -gt "$rss" ] && rss=$r
    usleep 20000
  done
  wait $pid
  echo "$init_ms $rss"
}
i=1
while [ $i -le $rounds ]; do
  set -- $(measure runvm-vmm /tmp/vmm.log /tmp/vmm.serial timeout 300 /work/runvm-vmm \
    --kernel /work/vmlinuz --initrd /work/l2.cpio.gz --memory-mib 256 --cmdline "$cmdline" \
    --serial-log /tmp/vmm.serial)
  fw=$(sed -n 's/.*first KVM_RUN: \([0-9.]*\) ms wall, \([0-9.]*\) ms CPU.*/\1/p' /tmp/vmm.log)
  fc=$(sed -n 's/.*first KVM_RUN: \([0-9.]*\) ms wall, \([0-9.]*\) ms CPU.*/\2/p' /tmp/vmm.log)
  bt=$(sed -n 's/.*guest boot time: \([0-9.]*\) ms.*/\1/p' /tmp/vmm.log)
  echo "RESULT vmm=runvm-vmm round=$i init_ms=$1 rss_kib=$2 first_run_wall_ms=$fw first_run_cpu_ms=$fc boot_timer_ms=$bt"
  set -- $(measure qemu /tmp/qemu.log /tmp/qemu.serial timeout 300 /usr/bin/qemu-system-x86_64 \
    -accel kvm -machine microvm,rtc=on -cpu host -m 256 -nodefaults -no-user-config -nographic \
    -object memory-backend-memfd,id=mem,size=256M,share=on -machine memory-backend=mem \
    -serial file:/tmp/qemu.serial -no-reboot -kernel /work/vmlinuz -initrd /work/l2.cpio.gz \
    -append "$cmdline")
  echo "RESULT vmm=qemu round=$i init_ms=$1 rss_kib=$2"
  [ -s /tmp/qemu.serial ] || { echo "qemu log:"; cat /tmp/qemu.log; }
  i=$((i + 1))
done
