#!/bin/sh
# Runs inside the nested-KVM L1 guest for scripts/bench/vmm.sh: boots the same kernel and
# initramfs with runvm-vmm and with QEMU (-accel kvm -machine microvm), ROUNDS times each,
# interleaved, and prints one RESULT line per boot. With /work/vmlinux (the same build's
# ELF) runvm-vmm also boots that ("runvm-vmm-vmlinux"); unless QEMU_ANON=0, QEMU boots a
# second time with anonymous RAM instead of a memfd ("qemu-anon").
# RESULT vmm=<name> round=<n> init_ms=<first "reached /init" on the console, from spawn>
#        first_byte_ms=<first byte on the console> rss_kib=<max RssAnon+RssFile while it ran>
#        first_run_wall_ms=.. first_run_cpu_ms=.. boot_timer_ms=..
# STATS vmm=<name> <KVM's debugfs counters for the VM, read when the marker appeared>
# DIAG=1 adds `runvm.diag printk.time=1` to the command line: /init then prints uptime,
# clocksource, dmesg and /proc/interrupts after the marker; the serial logs are printed.
rounds=${ROUNDS:-1}
cmdline="console=ttyS0 reboot=k panic=-1 pci=off 8250.nr_uarts=1 i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd quiet cryptomgr.notests${EXTRA_CMDLINE:+ $EXTRA_CMDLINE}"
loglevel=info
[ "${DIAG:-0}" = 1 ] && cmdline="$cmdline runvm.diag printk.time=1" && loglevel=debug
echo "vmm bench: cmdline '$cmdline'"
# The L1 is both VMMs' host: L1_SHMEM_THP (never|advise|always) sets its shmem THP policy,
# which decides whether KVM can map guest RAM (a memfd for both VMMs) with 2 MiB pages.
thp=/sys/kernel/mm/transparent_hugepage/shmem_enabled
[ -n "${L1_SHMEM_THP:-}" ] && [ -w $thp ] && echo "$L1_SHMEM_THP" > $thp
echo "vmm bench: L1 shmem THP: $(cat $thp 2>/dev/null)"
mount -t debugfs none /sys/kernel/debug 2>/dev/null
stats=/sys/kernel/debug/kvm
trace=/sys/kernel/debug/tracing
if [ "${DIAG:-0}" = 1 ] && [ -d $trace/events/kvm/kvm_exit ]; then
  echo 16384 > $trace/buffer_size_kb
  echo 1 > $trace/events/kvm/kvm_exit/enable
fi
now_ms() { awk '{printf "%d", $1 * 1000}' /proc/uptime; }
kvm_stats() { # the counters of the one live VM (debugfs sums over live VMs)
  for f in exits io_exits mmio_exits irq_exits halt_exits irq_window_exits insn_emulation \
           hypercalls halt_wakeup signal_exits request_irq_exits; do
    [ -r $stats/$f ] && printf ' %s=%s' $f "$(cat $stats/$f)"
  done
}
measure() { # name logfile serialfile cmd...
  name=$1 log=$2 serial=$3
  shift 3
  rm -f "$serial"
  [ "${DIAG:-0}" = 1 ] && [ -w $trace/trace ] && { echo > $trace/trace; echo 1 > $trace/tracing_on; }
  t0=$(now_ms)
  "$@" > "$log" 2>&1 &
  pid=$!
  init_ms= byte_ms= rss=0
  while kill -0 $pid 2>/dev/null; do
    if [ -z "$byte_ms" ] && [ -s "$serial" ]; then
      byte_ms=$(( $(now_ms) - t0 ))
    fi
    if [ -z "$init_ms" ] && grep -q 'runvm-init: reached /init' "$serial" 2>/dev/null; then
      init_ms=$(( $(now_ms) - t0 ))
      [ -w $trace/tracing_on ] && echo 0 > $trace/tracing_on
      echo "STATS vmm=$name$(kvm_stats)" >&2
      [ "${DIAG:-0}" = 1 ] && grep -E '^(Rss|AnonHuge|ShmemPmd|FilePmd)' /proc/$pid/smaps_rollup |
        tr -s ' \n' ' ' | sed "s/^/RSS $name: /;s/$/\n/" >&2
      [ "${DIAG:-0}" = 1 ] && awk '/^[0-9a-f]+-[0-9a-f]+ / {m = $0} /^AnonHugePages:/ && $2 > 0 {print "THPMAP '$name': " m " " $2 " kB"}' /proc/$pid/smaps >&2
    fi
    r=$(awk '/^RssAnon:|^RssFile:/ {s += $2} END {print s + 0}' /proc/$pid/status 2>/dev/null)
    [ -n "$r" ] && [ "$r" -gt "$rss" ] && rss=$r
    usleep 20000
  done
  wait $pid
  if [ "${DIAG:-0}" = 1 ]; then
    tr -d '\r' < "$serial" | sed "s/^/SERIAL $name: /" >&2
    sed "s/^/LOG $name: /" "$log" >&2
    # KVM exits up to the marker by reason (and the port or MSR where there is one).
    [ -r $trace/trace ] && grep -o 'reason [A-Za-z_0-9]*\( rip 0x[0-9a-f]*\)\?' $trace/trace |
      awk '{print $2}' | sort | uniq -c | sort -rn | head -15 | sed "s/^/EXITS $name: /" >&2
  fi
  echo "$init_ms ${byte_ms:-0} $rss"
}
run_vmm() { # name kernel
  name=$1
  set -- $(measure $1 /tmp/vmm.log /tmp/vmm.serial timeout 300 /work/runvm-vmm \
    --kernel $2 --initrd /work/l2.cpio.gz --memory-mib 256 --cmdline "$cmdline" \
    --serial-log /tmp/vmm.serial --log-level $loglevel)
  fw=$(sed -n 's/.*first KVM_RUN: \([0-9.]*\) ms wall, \([0-9.]*\) ms CPU.*/\1/p' /tmp/vmm.log)
  fc=$(sed -n 's/.*first KVM_RUN: \([0-9.]*\) ms wall, \([0-9.]*\) ms CPU.*/\2/p' /tmp/vmm.log)
  bt=$(sed -n 's/.*guest boot time: \([0-9.]*\) ms.*/\1/p' /tmp/vmm.log)
  echo "RESULT vmm=$name round=$i init_ms=$1 first_byte_ms=$2 rss_kib=$3 first_run_wall_ms=$fw first_run_cpu_ms=$fc boot_timer_ms=$bt"
  [ -n "$1" ] || { echo "$name log:"; cat /tmp/vmm.log; }
}
run_qemu() { # name [memory backend args]: memfd RAM as runvm-vmm's (vhost-user needs it),
  # or QEMU's default anonymous RAM, which QEMU aligns and madvises for THP.
  name=$1
  shift
  set -- $(measure $name /tmp/qemu.log /tmp/qemu.serial timeout 300 /usr/bin/qemu-system-x86_64 \
    -accel kvm -machine microvm,rtc=on -cpu host -m 256 -nodefaults -no-user-config -nographic \
    "$@" -serial file:/tmp/qemu.serial -no-reboot -kernel /work/vmlinuz -initrd /work/l2.cpio.gz \
    -append "$cmdline")
  echo "RESULT vmm=$name round=$i init_ms=$1 first_byte_ms=$2 rss_kib=$3"
  [ -s /tmp/qemu.serial ] || { echo "qemu log:"; cat /tmp/qemu.log; }
}
# Warm-up, not measured: the first KVM VM created in a fresh L1 costs ~1 s more than the
# next ones and each program's first exec reads its pages in; whoever boots first would pay
# that. Both fail right after creating their VM (16 MiB is too small for the kernel).
/work/runvm-vmm --kernel /work/vmlinuz --memory-mib 16 --serial-log /dev/null > /dev/null 2>&1
timeout 60 /usr/bin/qemu-system-x86_64 -accel kvm -machine microvm -cpu host -m 16 -nodefaults \
  -no-user-config -display none -kernel /nonexistent > /dev/null 2>&1
i=1
while [ $i -le $rounds ]; do
  run_vmm runvm-vmm /work/vmlinuz
  [ -f /work/vmlinux ] && run_vmm runvm-vmm-vmlinux /work/vmlinux
  run_qemu qemu -object memory-backend-memfd,id=mem,size=256M,share=on -machine memory-backend=mem
  [ "${QEMU_ANON:-1}" = 1 ] && run_qemu qemu-anon
  i=$((i + 1))
done
