#!/usr/bin/env bash
# e2e through QEMU with TCG: three VMs in all.
#  1. `runvm run`: exit code, stdin piped in, stdout/stderr apart, env, cwd, user, hostname,
#     read-only rootfs, the guest's own kernel; the same bundle through runc.
#  2. containerd's sequence: create --pid-file, start, state, exec, exec --detach, kill,
#     delete; the pid-file process exits with the container's status.
#  3. a tty through --console-socket for create and exec --tty (runc beside it), a second
#     container beside it with `rootfs: virtiofs` (a write seen in the host's rootfs, a host
#     file read, virtiofs as its /; its broker's mount namespace), then delete --force of
#     both (the second's monitor killed first).
# Each bundle bind-mounts Docker-style host files and volumes (virtio-fs): 1 compares them
# with runc and checks a rw volume write (owner too) and a refused ro one; 2 a live host
# edit and exec writes; 3 `delete --force` after a monitor crash; no mount is left after any.
set -euo pipefail
RUNVM=$1
build=$2
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
require_root
require_tools qemu-system-x86_64
agent=$build/guest_agent/runvm-agent
broker=$build/broker/runvm-broker
require_built "$agent" "$broker"
tmp=$(mktemp -d /tmp/runvm-e2e.XXXXXX)
trap 'for c in $("$RUNVM" --root "$root" list -q 2>/dev/null); do "$RUNVM" --root "$root" delete --force "$c"; done; rm -rf "$tmp"' EXIT
root=$tmp/state
image=$(guest_image "$agent" "$tmp/image") || exit 77
export RUNVM_KERNEL=$image/vmlinuz RUNVM_INITRD=$image/initramfs.cpio RUNVM_BROKER=$broker
export RUNVM_HYPERVISOR=qemu
# TCG boots slow down a lot when ctest runs two VM tests at once on 2 cores.
export RUNVM_BOOT_TIMEOUT_MS=${RUNVM_BOOT_TIMEOUT_MS:-120000}
host_release=$(uname -r)

# Docker-style bind mounts of host files and directories (virtio-fs, docs/virtiofs.md):
# hosts, resolv.conf, hostname, a volume (rw) and a read-only one.
share=$tmp/share
mkdir -p "$share/vol" "$share/rovol"
chmod 0777 "$share/vol"
printf '127.0.0.1\tlocalhost\n10.1.2.3\te2e-host\n' > "$share/hosts"
printf 'nameserver 10.1.2.53\nsearch e2e.test\n' > "$share/resolv.conf"
echo e2e-hostname > "$share/hostname"
echo read-only-data > "$share/rovol/r"
binds="for d, n, o in (('/etc/hosts', 'hosts', []), ('/etc/resolv.conf', 'resolv.conf', []),
                      ('/etc/hostname', 'hostname', []), ('/vol', 'vol', []), ('/rovol', 'rovol', ['ro'])):
    c['mounts'].append({'destination': d, 'type': 'bind', 'source': '$share/' + n,
                        'options': ['rbind', 'rprivate'] + o})"
# Mount points in the image. b1 has none: its read-only rootfs gets them made, as runc
# makes them (in the image there, in the bundle's rootfs for runc).
bind_points() { touch "$1/rootfs/etc/hosts" "$1/rootfs/etc/resolv.conf" "$1/rootfs/etc/hostname"; mkdir -p "$1/rootfs/vol" "$1/rootfs/rovol"; }

# 1. run
make_bundle "$tmp/b1" '["sh","-c","read line; echo \"in=$line\"; echo err >&2; echo \"env=$FOO cwd=$(pwd) uid=$(id -u) host=$(hostname)\"; touch /ro 2>/dev/null || echo readonly; cat /etc/hosts /etc/resolv.conf /etc/hostname /rovol/r; echo \"written by $(id -u)\" > /vol/w && cat /vol/w; touch /rovol/x 2>/dev/null || echo rovol-refused; ls /vol /rovol; uname -r; exit 7"]' \
  'c["process"]["env"].append("FOO=bar"); c["process"]["cwd"]="/work"; c["process"]["user"]={"uid":1000,"gid":1000}; c["root"]["readonly"]=True
'"$binds"
set +e
echo piped | "$RUNVM" --root "$root" run --bundle "$tmp/b1" r1 >"$tmp/out" 2>"$tmp/err"
rc=$?
set -e
cat "$tmp/out" "$tmp/err" >&2
expect_eq "$rc" 7 "run exit status"
expect_contains "$(cat "$tmp/out")" "in=piped" "stdin piped in"
expect_contains "$(cat "$tmp/out")" "env=bar cwd=/work uid=1000 host=runvm-e2e" "env, cwd, user"
expect_contains "$(cat "$tmp/out")" "readonly" "read-only rootfs"
expect_contains "$(cat "$tmp/err")" "err" "stderr"
guest_release=$(tail -1 "$tmp/out")
[ "$guest_release" != "$host_release" ] || fail "guest kernel is the host's"
expect_contains "$(cat "$tmp/out")" "10.1.2.3	e2e-host
nameserver 10.1.2.53
search e2e.test
e2e-hostname
read-only-data
written by 1000
rovol-refused" "bind mounts of host files and directories"
expect_eq "$(cat "$share/vol/w")" "written by 1000" "a write into the rw volume, on the host"
expect_eq "$(stat -c %u "$share/vol/w")" 1000 "the file's owner on the host"
[ ! -e "$share/rovol/x" ] || fail "a file made in the read-only volume"
expect_gone "$root" r1 "after run"
if command -v runc >/dev/null; then
  rm "$share/vol/w"
  set +e
  echo piped | runc --root "$tmp/runc" run --bundle "$tmp/b1" r1runc >"$tmp/rout" 2>/dev/null
  rrc=$?
  set -e
  expect_eq "$rrc" 7 "runc exit status"
  # Everything but the kernel release (the last line): the binds too.
  expect_eq "$(head -n -1 "$tmp/rout")" "$(head -n -1 "$tmp/out")" "runc and runvm agree"
  expect_eq "$(stat -c %u "$share/vol/w")" 1000 "runc's file owner on the host"
fi

# 2. containerd's sequence
make_bundle "$tmp/b2" '["sh","-c","trap \"exit 42\" TERM; while true; do sleep 0.1; done"]' "$binds"
bind_points "$tmp/b2"
"$RUNVM" --root "$root" --log "$tmp/log.json" --log-format json create --bundle "$tmp/b2" \
  --pid-file "$tmp/pid" c2 </dev/null >"$tmp/c2.out" 2>&1
monitor=$(cat "$tmp/pid")
kill -0 "$monitor"
expect_eq "$("$RUNVM" --root "$root" state c2 | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')" created "state after create"
"$RUNVM" --root "$root" start c2
expect_eq "$("$RUNVM" --root "$root" state c2 | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["status"], s["pid"])')" "running $monitor" "state after start"
expect_eq "$("$RUNVM" --root "$root" exec c2 sh -c 'echo exec-ok; exit 3'; echo "rc=$?")" "exec-ok
rc=3" "exec output and status"
echo '{"args":["sh","-c","sleep 0.3; exit 5"],"cwd":"/","env":["PATH=/bin"],"user":{"uid":0,"gid":0}}' > "$tmp/proc.json"
# A host edit of a bound file while the container runs is seen in it (as with runc), once
# the guest's attribute cache (cache=auto: 1 s) has expired.
printf '10.9.9.9\tadded-live\n' >> "$share/hosts"
sleep 1.2
expect_eq "$("$RUNVM" --root "$root" exec c2 sh -c 'tail -1 /etc/hosts; echo c2 > /vol/c2; ls /vol')" "10.9.9.9	added-live
c2
w" "exec: a live host edit and a volume write"
expect_eq "$(cat "$share/vol/c2")" c2 "the exec's write, on the host"
"$RUNVM" --root "$root" exec --process "$tmp/proc.json" --detach --pid-file "$tmp/epid" c2
epid=$(cat "$tmp/epid")
kill -0 "$epid"
"$RUNVM" --root "$root" kill c2 TERM
for _ in $(seq 100); do kill -0 "$monitor" 2>/dev/null || break; sleep 0.1; done
kill -0 "$monitor" 2>/dev/null && fail "monitor still running after kill"
expect_eq "$("$RUNVM" --root "$root" state c2 | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["status"], s["runvm"]["exit_status"])')" "stopped 42" "state after kill"
"$RUNVM" --root "$root" delete c2
expect_gone "$root" c2 "after delete"

# 3. a tty through --console-socket (create and exec --tty, runc's contract), a second
#    container beside it, then delete --force of both while they run.
# c3's rootfs is an ext4 copy on the broker's blk device (rootfs: block); the others take
# the default, which for root is the bundle's directory over virtio-fs.
# io.runvm.rootfs is refused unless the runtime's configuration enables it (deny by default).
printf 'annotations:\n  enable: [io.runvm.rootfs]\n' >"$tmp/config.yaml"
export RUNVM_CONFIG=$tmp/config.yaml
make_bundle "$tmp/b4" '["sh"]' 'c["process"]["terminal"]=True; c.setdefault("annotations", {})["io.runvm.rootfs"]="block"'
if command -v runc >/dev/null; then
  console_receiver "$tmp/rcon" "$tmp/rcon.out" tty /dev/pts/ 'echo typed-$((1+2))' typed-3 'exit' ''
  runc --root "$tmp/runc" create --bundle "$tmp/b4" --console-socket "$tmp/rcon" tty-runc
  runc --root "$tmp/runc" start tty-runc
  wait_receiver "$receiver_pid" "$tmp/rcon.out" "runc tty"
  runc --root "$tmp/runc" delete --force tty-runc
fi
console_receiver "$tmp/con" "$tmp/con.out" tty /dev/pts/ 'echo typed-$((1+2))' typed-3
con_pid=$receiver_pid
"$RUNVM" --root "$root" create --bundle "$tmp/b4" --console-socket "$tmp/con" c3 </dev/null
"$RUNVM" --root "$root" start c3
[ -s "$(sandbox_dir "$root" c3)/rootfs.img" ] || fail "rootfs: block: no ext4 image for c3"
# c4's rootfs is the bundle's directory itself (rootfs: virtiofs, docs/config.md), writable.
# It shares the VM's UTS namespace (no hostname of its own): it sees the VM's, from Reinit.
make_bundle "$tmp/b3" '["sh","-c","cat /from-host > /seen-by-guest; cat /proc/mounts > /guest-mounts; echo written-in-guest > /guest-file; exec sleep 1000"]' \
  'c["root"]["readonly"]=False; c.setdefault("annotations", {})["io.runvm.rootfs"]="virtiofs"
del c["hostname"]; c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "uts"]
'"$binds"
bind_points "$tmp/b3"
echo put-there-by-host > "$tmp/b3/rootfs/from-host"
"$RUNVM" --root "$root" run --detach --bundle "$tmp/b3" c4 </dev/null
expect_eq "$("$RUNVM" --root "$root" list -q | tr '\n' ' ')" "c3 c4 " "two containers"
# Reinit (docs/agent.md), in both VMs: the guest's clock (adjtimex: microseconds) is the
# host's, read between two host readings; 16 bytes of /dev/urandom differ between the VMs;
# the VM's hostname is its name (c4 has no UTS namespace of its own).
probe='busybox adjtimex | busybox grep tv_; echo "rand=$(busybox head -c 16 /dev/urandom | busybox od -An -tx1 | busybox tr -d " \n")"; echo "name=$(hostname)"'
declare -A rand name
for c in c3 c4; do
  before=$(date +%s%6N)
  out=$("$RUNVM" --root "$root" exec "$c" sh -c "$probe")
  after=$(date +%s%6N)
  guest=$(awk '/tv_sec/ {s = $2} /tv_usec/ {u = $2} END {printf "%d%06d", s, u}' <<<"$out")
  rand[$c]=$(sed -n 's/^rand=//p' <<<"$out")
  name[$c]=$(sed -n 's/^name=//p' <<<"$out")
  echo "$c: guest clock $(((guest - before) / 1000)) ms after the exec began, $(((after - guest) / 1000)) ms before it ended; urandom ${rand[$c]}"
  [ "$guest" -ge $((before - 1000000)) ] && [ "$guest" -le $((after + 1000000)) ] ||
    fail "$c: the guest's clock ($guest us) is over 1 s outside the host's [$before, $after]"
  [ ${#rand[$c]} -eq 32 ] || fail "$c: no 16 bytes from /dev/urandom: $out"
done
[ "${rand[c3]}" != "${rand[c4]}" ] || fail "two VMs read the same 16 bytes from /dev/urandom"
expect_eq "${name[c4]}" c4 "the VM's hostname, set by Reinit"
expect_eq "${name[c3]}" runvm-e2e "c3's own UTS namespace keeps its hostname"
console_receiver "$tmp/econ" "$tmp/econ.out" tty /dev/pts/ 'echo exec-$((2+3))' exec-5 'exit 4' ''
set +e
"$RUNVM" --root "$root" exec --tty --console-socket "$tmp/econ" c3 sh
rc=$?
set -e
wait_receiver "$receiver_pid" "$tmp/econ.out" "exec --tty"
expect_eq "$rc" 4 "exec --tty exit status"
expect_contains "$(cat "$tmp/econ.out")" "echo exec-\$((2+3))" "exec --tty: the typed line echoed"
c4_dir=$(sandbox_dir "$root" c4)
for _ in $(seq 300); do [ -s "$tmp/b3/rootfs/guest-file" ] && break; sleep 0.1; done
expect_eq "$(cat "$tmp/b3/rootfs/guest-file" 2>/dev/null)" written-in-guest "rootfs: virtiofs: a container write, in the host's rootfs"
expect_eq "$(cat "$tmp/b3/rootfs/seen-by-guest")" put-there-by-host "rootfs: virtiofs: a host file, read in the container"
expect_eq "$(awk '$2 == "/" {print $1, $3}' "$tmp/b3/rootfs/guest-mounts")" "runvm virtiofs" "rootfs: virtiofs: the container's /"
[ ! -e "$c4_dir/rootfs.img" ] || fail "rootfs: virtiofs: an image was built"
# c4's broker serves from its own mount namespace: a tmpfs root, /proc, the VM directory
# (its vsock socket's, holding the share); the host's files are out of its reach.
c4_broker=$(pgrep -f "fs.vhost,dir=$c4_dir/shared" | head -1)
[ -n "$c4_broker" ] || fail "c4: no broker serving $c4_dir/shared"
# Jailed (the default; RUNVM_JAIL=off unjails), runvm-jail's root adds /usr, /etc/ld.so.cache and the broker's binary,
# each read-only.
jail_ro=""
[ "${RUNVM_JAIL:-on}" != on ] || jail_ro="/usr /etc/ld.so.cache $(readlink -f "$broker")"
expect_eq "$(awk -v d="$c4_dir" -v ro=" $jail_ro " '$5 != "/" && $5 != "/proc" && $5 != d && index($5, d "/") != 1 && !(index(ro, " " $5 " ") && $6 ~ /^ro,/)' "/proc/$c4_broker/mountinfo")" "" "c4's broker: no mount outside its VM directory"
[ ! -e "/proc/$c4_broker/root/etc/passwd" ] || fail "c4's broker reaches the host's /etc/passwd"
# c4's monitor crashes: its share stays mounted until `delete --force` clears it.
c4_monitor=$("$RUNVM" --root "$root" state c4 | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
grep -q " $c4_dir/shared/" /proc/self/mountinfo || fail "c4: no share mounted under $c4_dir"
kill -9 "$c4_monitor"
for _ in $(seq 100); do pgrep -f "$c4_dir" >/dev/null || break; sleep 0.1; done
"$RUNVM" --root "$root" delete --force c3
"$RUNVM" --root "$root" delete --force c4
# The VM is gone: the console's slave side closed, the receiver got EIO and finished.
wait_receiver "$con_pid" "$tmp/con.out" "create --console-socket"
expect_contains "$(cat "$tmp/con.out")" "echo typed-\$((1+2))" "tty: the typed line echoed"
expect_eq "$("$RUNVM" --root "$root" list -q)" "" "list after delete --force"
expect_gone "$root" c3 "after delete --force"
expect_gone "$root" c4 "after delete --force"
echo "qemu lifecycle: ok"
