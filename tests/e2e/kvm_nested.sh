#!/usr/bin/env bash
# e2e on KVM through runvm-vmm: one L1 QEMU/TCG boot with nested KVM (scripts/kvm-nested.sh)
# carries runvm, the broker, the VMM, the guest image and two busybox bundles; inside L1
# `runvm` with hypervisor auto must pick runvm-vmm (/dev/kvm opens) and boot two L2 VMs:
#  1. `runvm run`: stdin piped in, uname -r and hostname printed, the rootfs served by the
#     broker's virtio-fs through runvm-vmm, exit status 3 propagated.
#  2. create, start, exec (output and status), kill TERM (the trap's 42), delete.
# After each, no runvm-vmm or runvm-broker process and no sandbox directory may be left.
# usage: kvm_nested.sh RUNVM BUILD_DIR
set -euo pipefail
RUNVM=$1
build=$2
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
require_tools qemu-system-x86_64 mke2fs
require_static_busybox
kcache=${RUNVM_KERNEL_CACHE:-/var/cache/runvm/kernel}
[ -s "$kcache/vmlinuz" ] && [ -s "$kcache/release" ] ||
  skip "no kernel cache in $kcache (scripts/guest-kernel.sh fills it)"
agent=$build/guest_agent/runvm-agent
broker=$build/broker/runvm-broker
vmm=$build/vmm/runvm-vmm
require_built "$RUNVM" "$agent" "$broker" "$vmm"

tmp=$(mktemp -d /tmp/runvm-kvm-nested.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
image=$(RUNVM_E2E_KERNEL=cloud guest_image "$agent" "$tmp/image") || skip "guest image build failed"
rm -f "$tmp/image/runvm-agent.stripped"
# Stripped copies: debug info is most of each file, and L1's initramfs is read by TCG.
mkdir -p "$tmp/bin"
for b in "$RUNVM" "$broker" "$vmm"; do strip -o "$tmp/bin/$(basename "$b")" "$b"; done
make_bundle "$tmp/b1" '["sh","-c","read line; echo \"in=$line\"; echo \"host=$(hostname)\"; echo \"release=$(uname -r)\"; echo \"root=$(grep \" / \" /proc/mounts | cut -d\" \" -f3)\"; exit 3"]'
make_bundle "$tmp/b2" '["sh","-c","trap \"exit 42\" TERM; while true; do sleep 0.1; done"]'

cat > "$tmp/inner.sh" <<'INNER'
# Runs inside L1 (busybox only): the runvm CLI on nested KVM.
export PATH=/work/bin:/usr/sbin:/sbin:/bin:/usr/bin
export RUNVM_KERNEL=/work/image/vmlinuz RUNVM_INITRD=/work/image/initramfs.cpio
export RUNVM_BROKER=/work/bin/runvm-broker RUNVM_VMM=/work/bin/runvm-vmm
export RUNVM_HYPERVISOR=auto RUNVM_BOOT_TIMEOUT_MS=240000
# The L1 guest has neither the jail user nor runvm-jail: the jail is tested on the host
# (e2e_jail, e2e_jail_broker), this test is about runvm-vmm on KVM.
export RUNVM_JAIL=off
mkdir -p /run
root=/tmp/state
fail=0
pass() { echo "PASS kvm-nested: $*"; }
bad() { echo "FAIL kvm-nested: $*"; fail=1; }
check() { # description file pattern
  if grep -q -- "$3" "$2"; then pass "$1"; else bad "$1: no '$3' in $2"; cat "$2"; fi
}
clean() { # what
  # Debian's busybox has no pgrep.
  if ps | grep -v grep | grep -q -e runvm-vmm -e runvm-broker; then
    ps; bad "$1: runvm-vmm or runvm-broker left running"
  elif [ -n "$(ls -A /run/runvm-vm 2>/dev/null)" ]; then
    ls -la /run/runvm-vm; bad "$1: sandbox directory left behind"
  else
    pass "$1: nothing left"
  fi
}
now() { cut -d' ' -f1 /proc/uptime; }
# A failed create removes its VM directory: keep copies of its logs for the report.
mkdir -p /tmp/keep
(while :; do for d in /run/runvm-vm/*/; do [ -d "$d" ] && cp "$d"*.log "$d"*.json /tmp/keep/ 2>/dev/null; done; sleep 1; done) &
keeper=$!
logs() {
  for f in /tmp/keep/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -c 3000 "$f"; }; done
  dmesg | grep -i -e segfault -e 'traps:' | tail -5
}

# 1. run
t0=$(now)
echo piped | runvm --root $root --log /tmp/run.log --debug run --bundle /work/b1 r1 >/tmp/out 2>/tmp/err
rc=$?
echo "kvm-nested: runvm run took $(awk "BEGIN{print $(now) - $t0}") s (L1 uptime)"
cat /tmp/out /tmp/err
[ $rc = 3 ] && pass "run exit status 3" || { bad "run exit status $rc (want 3)"; cat /tmp/run.log; logs; }
check "auto picked runvm-vmm" /tmp/run.log "runvm-vmm on KVM"
check "stdin piped in" /tmp/out "^in=piped$"
check "hostname" /tmp/out "^host=runvm-e2e$"
check "guest uname -r" /tmp/out "^release=$(cat /work/release)$"
check "rootfs over virtio-fs (the default as root)" /tmp/out "^root=virtiofs$"
clean "after run"

# 2. create, start, exec, kill, delete
t0=$(now)
runvm --root $root --log /tmp/c2.log create --bundle /work/b2 --pid-file /tmp/pid c2 </dev/null >/tmp/c2.out 2>&1 ||
  { bad "create"; cat /tmp/c2.out /tmp/c2.log; logs; }
echo "kvm-nested: create took $(awk "BEGIN{print $(now) - $t0}") s"
monitor=$(cat /tmp/pid 2>/dev/null)
runvm --root $root state c2 > /tmp/state1
check "state created" /tmp/state1 '"status": *"created"'
runvm --root $root start c2 || bad "start"
runvm --root $root state c2 > /tmp/state2
check "state running" /tmp/state2 '"status": *"running"'
check "state names runvm-vmm" /tmp/state2 '"hypervisor": *"runvm-vmm"'
runvm --root $root exec c2 sh -c 'echo exec-ok; exit 5' > /tmp/exec.out 2>&1
rc=$?
[ $rc = 5 ] && pass "exec status 5" || bad "exec status $rc (want 5)"
check "exec output" /tmp/exec.out "^exec-ok$"
runvm --root $root kill c2 TERM || bad "kill"
i=0
while [ -n "$monitor" ] && kill -0 "$monitor" 2>/dev/null && [ $i -lt 300 ]; do usleep 100000; i=$((i + 1)); done
[ -n "$monitor" ] && kill -0 "$monitor" 2>/dev/null && bad "monitor $monitor still running 30 s after kill"
runvm --root $root state c2 > /tmp/state3
check "state stopped" /tmp/state3 '"status": *"stopped"'
check "exit status 42 from the TERM trap" /tmp/state3 '"exit_status": *42'
runvm --root $root delete c2 || bad "delete"
[ -e $root/c2 ] && bad "state directory left after delete"
clean "after delete"
kill $keeper
[ $fail = 0 ] || { echo "--- run log"; cat /tmp/run.log; echo "--- c2 log"; cat /tmp/c2.log; }
exit $fail
INNER

release=$(cat "$kcache/release")
echo "$release" > "$tmp/release"
# Each program on its own --add: kvm-nested.sh brings its shared libraries along.
adds=(--add "$tmp/image:/work/image" --add "$tmp/b1:/work/b1" --add "$tmp/b2:/work/b2"
      --add "$tmp/inner.sh:/work/inner.sh" --add "$tmp/release:/work/release"
      --add "$(command -v mke2fs):/usr/sbin/mke2fs")
for b in "$tmp"/bin/*; do adds+=(--add "$b:/work/bin/$(basename "$b")"); done
[ -f /etc/mke2fs.conf ] && adds+=(--add /etc/mke2fs.conf:/etc/mke2fs.conf)
# Not exec: the EXIT trap removes $tmp. The L1 command's status is this script's.
"$repo/scripts/kvm-nested.sh" --timeout "${RUNVM_KVM_NESTED_TIMEOUT:-360}" "${adds[@]}" \
  -- sh /work/inner.sh
