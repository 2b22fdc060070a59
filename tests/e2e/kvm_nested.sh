#!/usr/bin/env bash
# e2e on KVM through runvm-vmm, jailed: one L1 QEMU/TCG boot with nested KVM
# (scripts/kvm-nested.sh) carries runvm, runvm-jail, the broker, the VMM, the guest image and
# two busybox bundles; inside L1 `runvm` with hypervisor auto and the jail on (the default)
# must pick runvm-vmm (/dev/kvm opens) and boot two L2 VMs:
#  1. `runvm run`: stdin piped in, uname -r and hostname printed, the rootfs served by the
#     broker's virtio-fs through runvm-vmm, exit status 3 propagated.
#  2. create, start, exec (output and status), kill TERM (the trap's 42), delete. While it
#     runs: runvm-vmm is not root (all four uids, and the owner of its VM's jail directory),
#     has no capability, no_new_privs, a seccomp filter, its own network namespace and no
#     /etc/shadow in its root; the broker's user namespace maps its root to a non-zero id.
#  3. template: auto on runvm-vmm: `runvm template build` boots a pooled VM, which saves itself
#     as a template at "agent ready" (root's 0700 dir, 0600 files) and gives way to a VM
#     restored from it; `runvm run` of b1 starts
#     in it (exit status 3, stdin, output); the refill's VM is restored from the template (its
#     timeline, the ratio of restore to boot) and runs b1; two clones read different
#     /dev/urandom bytes and have their own hostnames; create, start, exec (status, output),
#     kill (the trap's 42) and delete in a restored VM; a container that joins a network
#     namespace runs in a restored VM, its veth on the VM's spare link (MAC, MTU, a ping);
#     a corrupt template: one warning,
#     a boot that saves a good one, a run; `runvm template rm` removes VMs and templates.
# After each, no runvm-vmm, runvm-broker or runvm-jail process and no sandbox directory may be
# left (1 and 2 boot their own VMs: template off). L1 is set up as a Debian host is for the jail (scripts/jail-user.sh): the user runvm
# with its subordinate ids, group kvm owning /dev/kvm, merged /usr with ld.so.cache; its root
# is an ext4 image (pivot_root cannot leave an initramfs, and Linux 6.1's tmpfs has no
# idmapped mounts for the broker's share).
# With RUNVM_KVM_NESTED_BENCH=N, L1 runs scripts/bench/template-kvm.sh's N rounds instead.
# usage: kvm_nested.sh RUNVM BUILD_DIR
set -euo pipefail
RUNVM=$1
build=$2
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
require_tools qemu-system-x86_64 mke2fs ip
require_static_busybox
kcache=${RUNVM_KERNEL_CACHE:-/var/cache/runvm/kernel}
[ -s "$kcache/vmlinuz" ] && [ -s "$kcache/release" ] ||
  skip "no kernel cache in $kcache (scripts/guest-kernel.sh fills it)"
agent=$build/guest_agent/runvm-agent
broker=$build/broker/runvm-broker
vmm=$build/vmm/runvm-vmm
jailer=$build/jail/runvm-jail
require_built "$RUNVM" "$agent" "$broker" "$vmm" "$jailer"
[ -s /etc/ld.so.cache ] || skip "no /etc/ld.so.cache (runvm-jail binds it)"
release=$(cat "$kcache/release")
# Debian's cloud kernel has ext4 built in and loop as a module.
loop_ko=$kcache/modules/$release/kernel/drivers/block/loop.ko

tmp=$(mktemp -d /tmp/runvm-kvm-nested.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
image=$(RUNVM_E2E_KERNEL=cloud guest_image "$agent" "$tmp/image") || skip "guest image build failed"
rm -f "$tmp/image/runvm-agent.stripped"
# Stripped copies: debug info is most of each file, and L1's initramfs is read by TCG. runvm
# finds runvm-jail next to itself (config::find_helper).
mkdir -p "$tmp/bin"
for b in "$RUNVM" "$broker" "$vmm" "$jailer"; do strip -o "$tmp/bin/$(basename "$b")" "$b"; done
make_bundle "$tmp/b1" '["sh","-c","read line; echo \"in=$line\"; echo \"host=$(hostname)\"; echo \"release=$(uname -r)\"; echo \"root=$(grep \" / \" /proc/mounts | cut -d\" \" -f3)\"; exit 3"]'
# The VM's UTS namespace (hostname: the VM's, which Reinit sets to the container's id) and 16
# bytes of the guest kernel's RNG, which two clones of one template must not share.
make_bundle "$tmp/b3" '["sh","-c","echo \"rand=$(/bin/busybox head -c 16 /dev/urandom | /bin/busybox od -An -tx1 | /bin/busybox tr -d \" \\n\")\"; echo \"host=$(hostname)\""]' \
  'c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "uts"]; del c["hostname"]'
make_bundle "$tmp/b2" '["sh","-c","trap \"exit 42\" TERM; while true; do sleep 0.1; done"]'
# A container that joins network namespace rvA (made in L1): its interface, and a ping.
make_bundle "$tmp/b4" '["sh","/bin/net-test.sh"]' \
  "[n.__setitem__('path','/var/run/netns/rvA') for n in c['linux']['namespaces'] if n['type']=='network']; [c['process']['capabilities'][k].append('CAP_NET_RAW') for k in ('bounding','effective','permitted')]"
cat > "$tmp/b4/rootfs/bin/net-test.sh" <<'SH'
echo "LINK=$(cat /sys/class/net/eth0/address) $(cat /sys/class/net/eth0/mtu) $(echo $(ls /sys/class/net))"
ping -c 1 -W 5 10.96.0.2 >/dev/null && echo PING=ok
SH
for a in ip ping; do ln -sf busybox "$tmp/b4/rootfs/bin/$a"; done

cat > "$tmp/inner.sh" <<'INNER'
# Runs inside L1 (busybox only): the runvm CLI on nested KVM, jailed. Three steps, the
# argument says which: none, the L1 root (as root of a mount namespace of our own), the test.
export PATH=/usr/sbin:/sbin:/bin:/usr/bin
case ${1:-} in
'') exec unshare -m --propagation private sh /work/inner.sh root ;;
root)
  # runvm-jail pivot_roots into each jail, and pivot_root(2) refuses when the current root is
  # the initramfs (rootfs): as switch_root does, an ext4 image is moved over / and chrooted
  # into. ext4, not tmpfs: the broker's share directory (/run/runvm-vm/<id>/shared) is bound
  # idmapped, which tmpfs supports only from Linux 6.3, and L1 runs 6.1.
  set -e
  r=/l1root
  [ ! -f /lib/modules/loop.ko ] || insmod /lib/modules/loop.ko
  # A network namespace's plumbing: taps, veths, tc's ingress qdisc, u32 and mirred.
  for m in tun veth sch_ingress cls_u32 act_mirred; do
    [ ! -f /lib/modules/$m.ko ] || insmod /lib/modules/$m.ko
  done
  truncate -s $((40 << 20)) /l1root.img
  /usr/sbin/mke2fs -q -t ext4 -O ^has_journal -L l1root /l1root.img
  mkdir -p $r
  mount -o loop /l1root.img $r
  mkdir -p $r/usr/lib $r/usr/lib64 $r/bin $r/etc $r/dev $r/proc $r/sys $r/tmp $r/run $r/work \
    $r/bundles
  # Debian 12's merged /usr, which runvm-jail's root repeats (/lib -> usr/lib): the libraries
  # kvm-nested.sh brought along move under /usr, as the jail binds only /usr.
  cp -a /usr/. $r/usr/
  for d in /lib/*; do [ "$d" = /lib/modules ] || cp -a "$d" $r/usr/lib/; done
  cp -a /lib64/. $r/usr/lib64/
  ln -s usr/lib $r/lib
  ln -s usr/lib64 $r/lib64
  cp -a /bin/. $r/bin/
  cp -a /etc/. $r/etc/
  # What scripts/jail-user.sh makes on a host: the jail user (a system user, nologin), group
  # kvm with it, its subordinate ids; and a root-only /etc/shadow no jail may reach.
  printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' \
    'runvm:x:999:995:runvm jail:/nonexistent:/usr/sbin/nologin' > $r/etc/passwd
  printf '%s\n' 'root:x:0:' 'kvm:x:994:runvm' 'runvm:x:995:' > $r/etc/group
  echo 'runvm:1879048192:65536' > $r/etc/subuid
  echo 'runvm:1879048192:65536' > $r/etc/subgid
  echo 'root:*:19000:0:99999:7:::' > $r/etc/shadow
  echo 'runvm:!:19000::::::' >> $r/etc/shadow
  chmod 0600 $r/etc/shadow
  # udev's rule on a host: /dev/kvm root:kvm 0660 (devtmpfs makes it root 0600).
  chgrp 994 /dev/kvm
  chmod 0660 /dev/kvm
  cp -a /work/b1 /work/b2 /work/b3 /work/b4 $r/bundles/
  mkdir -p $r/var
  ln -s ../run $r/var/run # ip netns's /var/run/netns
  mount --bind /dev $r/dev
  mount -t proc proc $r/proc
  mount -t sysfs sys $r/sys
  mount -t tmpfs -o mode=1777 tmp $r/tmp
  mount --bind /work $r/work
  cd $r
  mount --move . /
  exec chroot . sh /work/inner.sh test
  ;;
esac
export PATH=/work/bin:/usr/sbin:/sbin:/bin:/usr/bin
export RUNVM_KERNEL=/work/image/vmlinuz RUNVM_INITRD=/work/image/initramfs.cpio
export RUNVM_BROKER=/work/bin/runvm-broker RUNVM_VMM=/work/bin/runvm-vmm
export RUNVM_HYPERVISOR=auto RUNVM_BOOT_TIMEOUT_MS=240000
export RUNVM_TEMPLATE=off # 1 and 2 check their own VM's processes; 3 turns it on
# The jail is on (the default; RUNVM_JAIL is not set): runvm-vmm and the broker start through
# /work/bin/runvm-jail, which runvm finds next to itself.
root=/tmp/state
fail=0
pass() { echo "PASS kvm-nested: $*"; }
bad() { echo "FAIL kvm-nested: $*"; fail=1; }
check() { # description file pattern
  if grep -q -- "$3" "$2"; then pass "$1"; else bad "$1: no '$3' in $2"; cat "$2"; fi
}
# Debian's busybox has no pgrep: the pids whose comm is $1.
pids_of() {
  for d in /proc/[0-9]*; do
    [ "$(cat "$d/comm" 2>/dev/null)" = "$1" ] && echo "${d#/proc/}"
  done
}
clean() { # what
  if ps | grep -v grep | grep -q -e runvm-vmm -e runvm-broker -e runvm-jail; then
    ps; bad "$1: runvm-vmm, runvm-broker or runvm-jail left running"
  elif [ -n "$(ls -A /run/runvm-vm 2>/dev/null)" ]; then
    ls -la /run/runvm-vm; bad "$1: sandbox directory left behind"
  else
    pass "$1: nothing left"
  fi
}
field() { # pid name: the value of a /proc/<pid>/status line
  sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" | tr -s '\t ' '  '
}
nonzero_ids() { # "a b c d": none is 0
  for id in $1; do [ "$id" != 0 ] || return 1; done
  [ -n "$1" ]
}
# The jail as the running VM's processes show it (docs/security.md, "Jail"). No uid is
# expected in particular (the jail user's, or a VM's own from jail_vm_ids): not 0, and the
# owner of the VM's jail directory.
jail_checks() {
  set -- $(pids_of runvm-vmm)
  if [ $# != 1 ]; then ps; bad "one runvm-vmm process (have $#)"; return; fi
  vmm=$1
  uids=$(field $vmm Uid)
  gids=$(field $vmm Gid)
  nonzero_ids "$uids" && pass "runvm-vmm uids not root: $uids" || bad "runvm-vmm uids: $uids"
  nonzero_ids "$gids" && pass "runvm-vmm gids not root: $gids" || bad "runvm-vmm gids: $gids"
  config=$(tr '\0' '\n' < /proc/$vmm/cmdline | sed -n '/^--config$/{n;p;}')
  jail_dir=${config%/*}/jail
  owner=$(stat -c %u "$jail_dir" 2>/dev/null)
  [ -n "$owner" ] && [ "$owner" = "${uids%% *}" ] &&
    pass "runvm-vmm uid is the owner of $jail_dir ($owner)" ||
    bad "runvm-vmm uid ${uids%% *}, $jail_dir owner '$owner'"
  kvm_gid=$(stat -c %g /dev/kvm)
  case " $(field $vmm Groups) " in
    *" $kvm_gid "*) pass "runvm-vmm in /dev/kvm's group $kvm_gid" ;;
    *) bad "runvm-vmm groups '$(field $vmm Groups)' lack /dev/kvm's $kvm_gid" ;;
  esac
  for f in CapInh CapPrm CapEff CapBnd CapAmb; do
    [ "$(field $vmm $f)" = 0000000000000000 ] && pass "runvm-vmm $f 0" ||
      bad "runvm-vmm $f $(field $vmm $f)"
  done
  [ "$(field $vmm NoNewPrivs)" = 1 ] && pass "runvm-vmm NoNewPrivs 1" ||
    bad "runvm-vmm NoNewPrivs $(field $vmm NoNewPrivs)"
  [ "$(field $vmm Seccomp)" = 2 ] && pass "runvm-vmm Seccomp 2 (filter)" ||
    bad "runvm-vmm Seccomp $(field $vmm Seccomp)"
  for ns in net mnt ipc uts; do
    mine=$(readlink /proc/self/ns/$ns)
    its=$(readlink /proc/$vmm/ns/$ns)
    [ -n "$its" ] && [ "$its" != "$mine" ] && pass "runvm-vmm own $ns namespace ($its)" ||
      bad "runvm-vmm $ns namespace '$its', L1's $mine"
  done
  # Its root is the jail's tmpfs: ld.so.cache and /dev/kvm there, /etc/shadow not.
  ls /proc/$vmm/root/etc/ld.so.cache /proc/$vmm/root/dev/kvm >/dev/null &&
    pass "runvm-vmm root is the jail's (/etc/ld.so.cache, /dev/kvm)" ||
    { bad "runvm-vmm root"; ls -laR /proc/$vmm/root/ | head -40; }
  if ls /proc/$vmm/root/etc/shadow 2>/dev/null; then
    bad "/etc/shadow in runvm-vmm's root"
  else
    pass "no /etc/shadow in runvm-vmm's root (L1's: $(stat -c '%a %U' /etc/shadow))"
  fi
  set -- $(pids_of runvm-broker)
  if [ $# != 1 ]; then ps; bad "one runvm-broker process (have $#)"; return; fi
  broker=$1
  uids=$(field $broker Uid)
  nonzero_ids "$uids" && pass "runvm-broker uids not root: $uids" ||
    bad "runvm-broker uids: $uids"
  map=$(awk '$1 == 0 {print $2}' /proc/$broker/uid_map)
  [ -n "$map" ] && [ "$map" != 0 ] &&
    pass "runvm-broker's user namespace maps its root to $map (uid_map $(awk '{printf "%s%s %s %s", (NR > 1 ? ", " : ""), $1, $2, $3}' /proc/$broker/uid_map))" ||
    bad "runvm-broker uid_map: $(cat /proc/$broker/uid_map)"
  [ "$(readlink /proc/$broker/ns/user)" != "$(readlink /proc/self/ns/user)" ] &&
    pass "runvm-broker own user namespace" || bad "runvm-broker in L1's user namespace"
  [ "$(field $broker NoNewPrivs)" = 1 ] && [ "$(field $broker Seccomp)" = 2 ] &&
    pass "runvm-broker NoNewPrivs 1, Seccomp 2" ||
    bad "runvm-broker NoNewPrivs $(field $broker NoNewPrivs), Seccomp $(field $broker Seccomp)"
}
now() { cut -d' ' -f1 /proc/uptime; }
ms_of() { # pooled-VM phase: the ms of that phase in its boot timeline
  runvm --root $root state "$1" | tr -d '\n ' |
    sed -n "s/.*\"ms\":\([0-9.]*\),\"phase\":\"$(echo "$2" | tr -d ' ')\".*/\1/p"
}
ready_pool_vm() { # the id of the pooled VM that is ready
  runvm --root $root template list -f json | tr '{' '\n' |
    sed -n 's/.*"id":"\(runvm-pool-[^"]*\)".*"state":"ready".*/\1/p' | head -1
}
saved_phase() { # phase file...: the ms of a phase of the boot that saved a template, from
  # the pool monitor's log line (in the build's --log file, or its stderr)
  phase=$1
  shift
  cat "$@" 2>/dev/null | sed -n "s/.*saved template .*[(,] *$phase \([0-9.]*\) ms.*/\1/p" | head -1
}
# scripts/bench/template-kvm.sh: N rounds of a cold boot (template off) beside a restore
# from the template, to agent ready, instead of the tests.
if [ -s /work/bench-rounds ]; then
  export RUNVM_TEMPLATE_DIR=/tmp/templates
  RUNVM_TEMPLATE=auto runvm --root $root --debug --log /tmp/bt0.log template build > /tmp/bt0.out 2>&1 ||
    echo "BENCH error template build"
  echo "BENCH saving-boot $(saved_phase "agent ready" /tmp/bt0.out /tmp/bt0.log) $(saved_phase "template saved" /tmp/bt0.out /tmp/bt0.log)"
  RUNVM_TEMPLATE_DIR=/tmp/none runvm --root $root template rm > /dev/null 2>&1
  echo "BENCH template $(du -k /tmp/templates | tail -1 | cut -f1) KiB"
  for i in $(seq "$(cat /work/bench-rounds)"); do
    RUNVM_TEMPLATE=off runvm --root $root --debug --log /tmp/bc$i.log run --bundle /bundles/b1 bc$i \
      < /dev/null > /dev/null 2>&1
    cold=$(sed -n "s/.*sandbox bc$i: agent .* agent ready \([0-9.]*\) ms.*/\1/p" /tmp/bc$i.log)
    RUNVM_TEMPLATE=auto runvm --root $root --debug --log /tmp/bt$i.log template build > /tmp/bt$i.out 2>&1
    vm=$(sed -n 's/^\(runvm-pool-[^ ]*\) ready$/\1/p' /tmp/bt$i.out)
    [ -n "$(ms_of "$vm" "vm restored")" ] || echo "BENCH error round $i: $vm not restored"
    echo "BENCH round $i cold $cold restore $(ms_of "$vm" "agent ready")"
    # Host memory of the idle clone: its processes' Pss without shared memory, plus the
    # guest RAM memfd's allocated pages (copied from the template or touched since; those
    # not mapped by any process count in no Pss).
    pss=0
    for c in runvm-vmm runvm-broker runvm; do
      for p in $(pids_of $c); do
        pss=$((pss + $(awk '/^Pss:/ {a = $2} /^Pss_Shmem:/ {b = $2} END {print a - b}' \
          /proc/$p/smaps_rollup 2>/dev/null || echo 0)))
      done
    done
    ram=0
    for p in $(pids_of runvm-vmm); do
      for f in /proc/$p/fd/*; do
        case $(readlink "$f") in /memfd:runvm-guest-ram*)
          ram=$(($(stat -L -c '%b * %B' "$f") / 1024)) ;;
        esac
      done
    done
    echo "BENCH memory $i $((pss + ram)) KiB (guest RAM $ram, processes $pss)"
    echo "BENCH phases $i restore: $(runvm --root $root state "$vm" | tr -d '\n ' |
      sed 's/.*"boot_timeline":\[\(.*\)\],"guest_kernel.*/\1/; s/"ms"://g; s/"phase"://g')"
    echo "BENCH phases $i cold: $(sed -n "s/.*sandbox bc$i: agent [^:]*: //p" /tmp/bc$i.log)"
    echo "BENCH vmm $i: $(grep -h -o -e 'guest memory copied in [0-9.]* ms' -e 'setup [0-9.]* ms wall [0-9.]* ms CPU' /run/runvm-vm/*/vmm.log | tr '\n' ' ')"
    RUNVM_TEMPLATE_DIR=/tmp/none runvm --root $root template rm > /dev/null 2>&1
    # A second restore right after the first, no cold boot between: whether the pages a cold
    # boot's L2 code ran in, which L1 hands the next copy, are what make some restores slow.
    RUNVM_TEMPLATE=auto runvm --root $root --debug --log /tmp/br$i.log template build > /tmp/br$i.out 2>&1
    vm=$(sed -n 's/^\(runvm-pool-[^ ]*\) ready$/\1/p' /tmp/br$i.out)
    [ -n "$(ms_of "$vm" "vm restored")" ] || echo "BENCH error round $i: $vm not restored"
    echo "BENCH again $i restore $(ms_of "$vm" "agent ready") $(grep -h -o 'guest memory copied in [0-9.]* ms' /run/runvm-vm/*/vmm.log | tr '\n' ' ')"
    RUNVM_TEMPLATE_DIR=/tmp/none runvm --root $root template rm > /dev/null 2>&1
  done
  exit 0
fi
# A failed create removes its VM directory: keep copies of its logs for the report.
mkdir -p /tmp/keep
(while :; do for d in /run/runvm-vm/*/; do [ -d "$d" ] && cp "$d"*.log "$d"*.json /tmp/keep/ 2>/dev/null; done; sleep 1; done) &
keeper=$!
logs() {
  for f in /tmp/keep/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -c 3000 "$f"; }; done
  dmesg | grep -i -e segfault -e 'traps:' -e audit | tail -5
}

# 1. run
t0=$(now)
echo piped | runvm --root $root --log /tmp/run.log --debug run --bundle /bundles/b1 r1 >/tmp/out 2>/tmp/err
rc=$?
echo "kvm-nested: runvm run took $(awk "BEGIN{print $(now) - $t0}") s (L1 uptime)"
cat /tmp/out /tmp/err
[ $rc = 3 ] && pass "run exit status 3" || { bad "run exit status $rc (want 3)"; cat /tmp/run.log; logs; }
check "auto picked runvm-vmm" /tmp/run.log "runvm-vmm on KVM"
if grep -q "jail: off" /tmp/run.log; then bad "run was not jailed"; else pass "run jailed (no 'jail: off')"; fi
check "stdin piped in" /tmp/out "^in=piped$"
check "hostname" /tmp/out "^host=runvm-e2e$"
check "guest uname -r" /tmp/out "^release=$(cat /work/release)$"
check "rootfs over virtio-fs (the default as root)" /tmp/out "^root=virtiofs$"
clean "after run"

# 2. create, start, exec, kill, delete
t0=$(now)
runvm --root $root --log /tmp/c2.log create --bundle /bundles/b2 --pid-file /tmp/pid c2 </dev/null >/tmp/c2.out 2>&1 ||
  { bad "create"; cat /tmp/c2.out /tmp/c2.log; logs; }
echo "kvm-nested: create took $(awk "BEGIN{print $(now) - $t0}") s"
monitor=$(cat /tmp/pid 2>/dev/null)
runvm --root $root state c2 > /tmp/state1
check "state created" /tmp/state1 '"status": *"created"'
runvm --root $root start c2 || bad "start"
runvm --root $root state c2 > /tmp/state2
check "state running" /tmp/state2 '"status": *"running"'
check "state names runvm-vmm" /tmp/state2 '"hypervisor": *"runvm-vmm"'
jail_checks
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
# 3. A pooled VM on runvm-vmm, booted once and saved as a template; the next ones restored.
export RUNVM_TEMPLATE=auto RUNVM_TEMPLATE_DIR=/tmp/templates
runvm --root $root --debug --log /tmp/tb.log template build > /tmp/tb.out 2>&1 ||
  { cat /tmp/tb.out /tmp/tb.log; bad "template build"; }
check "template build: a pooled VM ready" /tmp/tb.out "^runvm-pool-.* ready$"
vm1=$(sed -n 's/^\(runvm-pool-[^ ]*\) ready$/\1/p' /tmp/tb.out)
cold_ms=$(saved_phase "agent ready" /tmp/tb.out /tmp/tb.log)
saved_ms=$(saved_phase "template saved" /tmp/tb.out /tmp/tb.log)
[ -n "$saved_ms" ] && pass "the first pooled VM booted and saved the template (agent ready $cold_ms ms, saved $saved_ms ms)" ||
  { bad "no 'saved template' line in the build's log"; cat /tmp/tb.out /tmp/tb.log; }
# The VM that saved it (all its RAM zeroed by init_on_free) gave way to one restored from it.
[ -n "$(ms_of "$vm1" "vm restored")" ] && pass "the pooled VM left ready was restored from the new template" ||
  { bad "pooled VM '$vm1' not restored"; runvm --root $root state "$vm1"; }
tdir=$(ls -d /tmp/templates/* 2>/dev/null | head -1)
modes=$(stat -c '%a %u %n' /tmp/templates "$tdir" "$tdir"/* 2>&1)
echo "$modes"
[ "$(echo "$modes" | awk '$1 == 700 && $2 == 0' | wc -l)" = 2 ] &&
  [ "$(echo "$modes" | awk '$1 == 600 && $2 == 0' | wc -l)" = 2 ] &&
  [ "$(echo "$modes" | wc -l)" = 4 ] &&
  pass "template dir 0700 and its state and memory 0600, root's" || bad "template files: $modes"
echo "kvm-nested: template on disk: $(du -k "$tdir" | cut -f1) KiB"
runvm --root $root template list > /tmp/tl.out 2>&1
check "template list shows it saved" /tmp/tl.out "^$tdir *saved"
t0=$(now)
echo piped | runvm --root $root --debug run --bundle /bundles/b1 p1 >/tmp/pout 2>/tmp/perr
rc=$?
echo "kvm-nested: runvm run in a pooled VM took $(awk "BEGIN{print $(now) - $t0}") s (L1 uptime)"
[ $rc = 3 ] && pass "pooled run exit status 3" || { cat /tmp/perr; bad "pooled run exit status $rc (want 3)"; }
check "pooled run in a pooled VM" /tmp/perr "runs in pooled VM runvm-pool-"
check "pooled run: stdin piped in" /tmp/pout "^in=piped$"
check "pooled run: the guest's kernel" /tmp/pout "^release=$(cat /work/release)$"
# p1's create started a refill, restored from the template; build waits for it. That VM is
# shut down (the pool only: no template dir) so that the next restore is measured alone.
runvm --root $root template build > /dev/null 2>&1 || bad "template build after p1"
[ -n "$(ready_pool_vm)" ] && pass "p1's refill made a pooled VM" || bad "no pooled VM after p1's refill"
RUNVM_TEMPLATE_DIR=/tmp/none runvm --root $root template rm > /dev/null 2>&1 || bad "template rm (pool only)"
runvm --root $root --debug --log /tmp/tb2.log template build > /tmp/tb2.out 2>&1 ||
  { cat /tmp/tb2.out /tmp/tb2.log; bad "template build from the template"; }
vm2=$(sed -n 's/^\(runvm-pool-[^ ]*\) ready$/\1/p' /tmp/tb2.out)
restored_ms=$(ms_of "$vm2" "vm restored")
restored_ready_ms=$(ms_of "$vm2" "agent ready")
if [ -n "$restored_ms" ] && [ -n "$restored_ready_ms" ]; then
  pass "the refilled pooled VM $vm2 was restored (agent ready $restored_ready_ms ms)"
  echo "kvm-nested: to agent ready: boot $cold_ms ms, restore $restored_ready_ms ms, ratio $(awk "BEGIN{printf \"%.2f\", $restored_ready_ms / $cold_ms}")"
  grep -h -e "restored from" -e "vm ready" -e "first KVM_RUN" -e "setup:" -e "restore" /run/runvm-vm/*/vmm.log
  grep -c "vsock connect" /tmp/tb2.log | sed 's/^/kvm-nested: vsock connect retries: /'
else
  bad "pooled VM '$vm2' not restored"; runvm --root $root state "$vm2"; runvm --root $root template list
fi
echo piped2 | runvm --root $root run --bundle /bundles/b1 p2 >/tmp/pout2 2>/tmp/perr2
rc=$?
[ $rc = 3 ] && pass "run in a restored VM: exit status 3" || { cat /tmp/perr2; bad "run in a restored VM: exit status $rc"; }
check "run in a restored VM: stdin piped in" /tmp/pout2 "^in=piped2$"
check "run in a restored VM: its own hostname" /tmp/pout2 "^host=runvm-e2e$"
# A container that joins a network namespace, in a restored VM: the spare link the template
# holds parked takes the namespace's veth (docs/networking.md, "Pooled VMs").
runvm --root $root template build > /dev/null 2>&1 # p2's refill
vm=$(ready_pool_vm)
[ -n "$vm" ] && [ -n "$(ms_of "$vm" "vm restored")" ] || bad "n1: the pooled VM '$vm' was not restored"
# iproute2's ip by path: busybox's sh runs its own applets first (standalone shell).
ip=/usr/sbin/ip
if $ip netns add rvA && $ip netns add rvB && $ip link add va netns rvA type veth peer name vb netns rvB; then
  $ip -n rvA link set va name eth0 mtu 1400 up
  $ip -n rvA addr add 10.96.0.1/24 dev eth0
  $ip -n rvB link set vb mtu 1400 up
  $ip -n rvB addr add 10.96.0.2/24 dev vb
  mac=$($ip netns exec rvA cat /sys/class/net/eth0/address)
  runvm --root $root --debug run --bundle /bundles/b4 n1 < /dev/null > /tmp/n1.out 2> /tmp/n1.err ||
    { cat /tmp/n1.err; bad "n1: run with a network namespace"; }
  cat /tmp/n1.out
  check "n1: in the restored pooled VM" /tmp/n1.err "runs in pooled VM $vm"
  check "n1: the restored VM's spare link has the veth's MAC and MTU, and is eth0" /tmp/n1.out \
    "^LINK=$mac 1400 eth0 lo$"
  check "n1: ping from the restored VM's container to the peer namespace" /tmp/n1.out "^PING=ok$"
else
  bad "L1: no network namespaces joined by a veth pair"
fi
$ip netns del rvA 2>/dev/null
$ip netns del rvB 2>/dev/null
# Two clones of one template: each its own RNG output and hostname.
for u in u1 u2; do
  runvm --root $root template build > /dev/null 2>&1 # the last run's refill
  vm=$(ready_pool_vm)
  [ -n "$vm" ] && [ -n "$(ms_of "$vm" "vm restored")" ] || bad "$u: the pooled VM '$vm' was not restored"
  runvm --root $root run --bundle /bundles/b3 $u < /dev/null > /tmp/$u.out 2>/tmp/$u.err ||
    { cat /tmp/$u.err; bad "$u: run"; }
  check "clone $u: the VM's hostname is its container's id" /tmp/$u.out "^host=$u$"
done
r1=$(sed -n 's/^rand=//p' /tmp/u1.out)
r2=$(sed -n 's/^rand=//p' /tmp/u2.out)
[ ${#r1} = 32 ] && [ ${#r2} = 32 ] && [ "$r1" != "$r2" ] &&
  pass "two clones of one template read different /dev/urandom bytes ($r1, $r2)" ||
  bad "clones' /dev/urandom: '$r1' and '$r2'"
# containerd's sequence in a restored VM: create, start, exec, kill, delete.
runvm --root $root template build > /dev/null 2>&1 # u2's refill
vm=$(ready_pool_vm)
[ -n "$vm" ] && [ -n "$(ms_of "$vm" "vm restored")" ] || bad "c3: the pooled VM '$vm' was not restored"
runvm --root $root create --bundle /bundles/b2 --pid-file /tmp/c3.pid c3 < /dev/null > /tmp/c3.out 2>&1 ||
  { cat /tmp/c3.out; bad "c3: create"; }
runvm --root $root start c3 || bad "c3: start"
runvm --root $root exec c3 sh -c 'echo exec-ok; exit 5' > /tmp/c3exec.out 2>&1
rc=$?
[ $rc = 5 ] && pass "exec in a restored VM: status 5" || bad "exec in a restored VM: status $rc"
check "exec in a restored VM: output" /tmp/c3exec.out "^exec-ok$"
runvm --root $root kill c3 TERM || bad "c3: kill"
p3=$(cat /tmp/c3.pid 2>/dev/null)
i=0
while [ -n "$p3" ] && kill -0 "$p3" 2>/dev/null && [ $i -lt 300 ]; do usleep 100000; i=$((i + 1)); done
runvm --root $root state c3 > /tmp/c3.state
check "kill in a restored VM: exit status 42 from the TERM trap" /tmp/c3.state '"exit_status": *42'
runvm --root $root delete c3 || bad "c3: delete"
# A corrupt template: the next pooled VM boots (one warning) and saves a good one.
runvm --root $root template build > /dev/null 2>&1 # waits for p2's refill
RUNVM_TEMPLATE_DIR=/tmp/none runvm --root $root template rm > /dev/null 2>&1 || bad "template rm (pool only)"
printf 'not a snapshot' > "$tdir/state"
runvm --root $root --debug --log /tmp/tb3.log template build > /tmp/tb3.out 2>&1 ||
  { cat /tmp/tb3.out /tmp/tb3.log; bad "template build over a corrupt template"; }
vm3=$(sed -n 's/^\(runvm-pool-[^ ]*\) ready$/\1/p' /tmp/tb3.out)
[ -n "$vm3" ] && [ -n "$(saved_phase "template saved" /tmp/tb3.out /tmp/tb3.log)" ] && [ -n "$(ms_of "$vm3" "vm restored")" ] &&
  pass "a corrupt template: a pooled VM booted and saved a new one, and the next is restored" ||
  { bad "corrupt template: pooled VM '$vm3'"; cat /tmp/tb3.out /tmp/tb3.log; runvm --root $root state "$vm3"; }
cat /tmp/tb3.out /tmp/tb3.log | grep -c "did not restore" > /tmp/warn.count
[ "$(cat /tmp/warn.count)" = 1 ] && pass "a corrupt template: one warning" ||
  { bad "corrupt template: $(cat /tmp/warn.count) warnings"; cat /tmp/tb3.out /tmp/tb3.log; }
[ "$(head -c 14 "$tdir/state")" != "not a snapshot" ] && pass "the corrupt template was replaced" ||
  bad "the corrupt template is still there"
# The failed restore's logs are kept, as any failed pooled boot's (docs/cli.md, "Faults").
check "a corrupt template: the failed restore's logs kept" /run/runvm-vm/last-failed-pool-start/reason \
  "not a runvm snapshot"
rm -rf /run/runvm-vm/last-failed-pool-start
echo piped3 | runvm --root $root run --bundle /bundles/b1 p3 >/tmp/pout3 2>/tmp/perr3
rc=$?
[ $rc = 3 ] && pass "run after a corrupt template: exit status 3" || { cat /tmp/perr3; bad "run after a corrupt template: $rc"; }
runvm --root $root template build > /dev/null 2>&1 # waits for p3's refill
runvm --root $root template rm > /dev/null 2>&1 || bad "template rm"
[ -z "$(ls -A /tmp/templates)" ] && pass "template rm removed the saved templates" ||
  { bad "templates left"; ls -la /tmp/templates; }
clean "after template rm"
kill $keeper
[ $fail = 0 ] || { echo "--- run log"; cat /tmp/run.log; echo "--- c2 log"; cat /tmp/c2.log; logs; }
exit $fail
INNER

echo "$release" > "$tmp/release"
printf %s "${RUNVM_KVM_NESTED_BENCH:-}" > "$tmp/bench-rounds"
# Each program on its own --add: kvm-nested.sh brings its shared libraries along.
adds=(--add "$tmp/image:/work/image" --add "$tmp/b1:/work/b1" --add "$tmp/b2:/work/b2"
      --add "$tmp/b3:/work/b3"
      --add "$tmp/inner.sh:/work/inner.sh" --add "$tmp/release:/work/release"
      --add "$tmp/bench-rounds:/work/bench-rounds"
      --add "$(command -v mke2fs):/usr/sbin/mke2fs" --add /etc/ld.so.cache:/etc/ld.so.cache)
for b in "$tmp"/bin/*; do adds+=(--add "$b:/work/bin/$(basename "$b")"); done
[ -f /etc/mke2fs.conf ] && adds+=(--add /etc/mke2fs.conf:/etc/mke2fs.conf)
[ -f "$loop_ko" ] && adds+=(--add "$loop_ko:/lib/modules/loop.ko")
adds+=(--add "$tmp/b4:/work/b4" --add "$(readlink -f "$(command -v ip)"):/usr/sbin/ip")
for m in drivers/net/tun drivers/net/veth net/sched/sch_ingress net/sched/cls_u32 net/sched/act_mirred; do
  ko=$kcache/modules/$release/kernel/$m.ko
  [ -f "$ko" ] && adds+=(--add "$ko:/lib/modules/$(basename "$ko")")
done
# Not exec: the EXIT trap removes $tmp. The L1 command's status is this script's.
"$repo/scripts/kvm-nested.sh" --timeout "${RUNVM_KVM_NESTED_TIMEOUT:-360}" "${adds[@]}" \
  -- sh /work/inner.sh
