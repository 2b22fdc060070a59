#!/bin/sh
# Runs runvm-vmm on the tiny test guests (real mode, long mode with MMIO, triple fault,
# stop by SIGTERM) and checks serial output and exit status. POSIX sh + busybox, so the
# same script runs on the host and inside the nested-KVM L1 image. Exit 77 without KVM.
# With RUNVM_BROKER, the long-mode guest also reads a virtio-mmio device served by it.
# usage: vmm_tiny_guests.sh RUNVM_VMM GUEST_DIR [RUNVM_BROKER]
vmm=$1
guests=$2
broker=${3:-}
[ "$broker" = - ] && broker=
work=$(mktemp -d "${TMPDIR:-/tmp}/vmm-tiny.XXXXXX")
if ! [ -c /dev/kvm ] || ! [ -r /dev/kvm ]; then
  echo "vmm_tiny_guests: no usable /dev/kvm: skipped"
  exit 77
fi
fail=0
check() { # name format want_status want_serial [runvm-vmm flags]
  name=$1 format=$2 want=$3 serial=$4
  shift 4
  rm -f "$work/$name.serial"
  timeout 20 "$vmm" --kernel "$guests/${name%%+*}.bin" --kernel-format "$format" \
    --serial-log "$work/$name.serial" --log-level info "$@" > "$work/$name.log" 2>&1
  status=$?
  got=$(cat "$work/$name.serial" 2>/dev/null)
  case " $want " in *" $status "*) ok_status=1 ;; *) ok_status=0 ;; esac
  if [ $ok_status = 1 ] && [ "$got" = "$serial" ]; then
    echo "PASS $name: status $status, serial '$got' ($(grep -o 'first KVM_RUN: [0-9.]* ms wall' "$work/$name.log"))"
  else
    echo "FAIL $name: status $status (want $want), serial '$got' (want '$serial')"
    cat "$work/$name.log"
    fail=1
  fi
}
# kvm_pvm (paging-based nesting) reports the triple fault as an emulation failure.
tf_status=3
[ -d /sys/module/kvm_pvm ] && tf_status="3 4"
check real_mode raw16 0 "real mode ok"
grep -q "guest boot time" "$work/real_mode.log" || { echo "FAIL real_mode: no boot-timer log line"; fail=1; }
check long_mode raw64 0 "long mode ok mmio=01"
check triple_fault raw64 "$tf_status" "!"

if [ -n "$broker" ]; then
  # The broker must outlive this shell's children only: it dies with its parent.
  truncate -s 1M "$work/disk.img" 2>/dev/null || dd if=/dev/zero of="$work/disk.img" bs=1024 count=1024 2>/dev/null
  "$broker" --blk "$work/blk.sock,path=$work/disk.img" > "$work/broker.log" 2>&1 &
  bpid=$!
  check long_mode+blk raw64 0 "long mode ok mmio=01 virtio-mmio id=02" --device "blk=$work/blk.sock"
  kill -TERM $bpid; wait $bpid 2>/dev/null
fi

# SIGTERM while the guest halts: the vCPU leaves KVM_RUN and the process exits 143.
rm -f "$work/halt.serial"
"$vmm" --kernel "$guests/halt_forever.bin" --kernel-format raw64 \
  --serial-log "$work/halt.serial" > "$work/halt.log" 2>&1 &
pid=$!
i=0
while [ "$(cat "$work/halt.serial" 2>/dev/null)" != "up" ] && [ $i -lt 100 ]; do
  sleep 0.1; i=$((i + 1))
done
kill -TERM $pid
i=0
while kill -0 $pid 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 $pid 2>/dev/null; then
  echo "FAIL sigterm: still running 5 s after SIGTERM"; kill -KILL $pid; fail=1
else
  wait $pid; status=$?
  if [ $status = 143 ]; then echo "PASS sigterm: status 143"; else
    echo "FAIL sigterm: status $status (want 143)"; cat "$work/halt.log"; fail=1; fi
fi
exit $fail
