#!/usr/bin/env bash
# Can a running runvm VM be saved, as a booted-VM template would need? Runs a container
# (`sleep 30`) under QEMU with a QMP socket added, asks QEMU to migrate the VM to a file and
# prints what QEMU answers: on Debian 12's QEMU 7.2 the vhost-user devices block it
# (docs/benchmarks.md, "booted-VM template"). Exits 0 when QEMU refused, 1 when it saved.
# usage: scripts/bench/snapshot-probe.sh   (as root, after a build in BUILD_DIR, default build/)
set -euo pipefail
# Every container boots its own VM here unless asked (template: auto would start the later
# ones in pooled VMs booted in the background, docs/design/fast-start.md).
export RUNVM_TEMPLATE=${RUNVM_TEMPLATE:-off}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build}
runvm=$build/shim/cli/runvm
tmp=$(mktemp -d /tmp/runvm-snapshot-probe.XXXXXX)
cleanup() {
  "$runvm" --root "$tmp/state" delete --force probe >/dev/null 2>&1 || true
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
image=$("$root/scripts/build-guest-image.sh" --agent "$build/guest_agent/runvm-agent" \
  --out "$tmp/image" --kernel "${RUNVM_GUEST_KERNEL:-auto}")
mkdir -p "$tmp/b/rootfs/bin"
cp /bin/busybox "$tmp/b/rootfs/bin/"; ln -s busybox "$tmp/b/rootfs/bin/sleep"
(cd "$tmp/b" && "$runvm" spec)
python3 -c 'import json,sys; p=sys.argv[1]; c=json.load(open(p)); c["process"]["terminal"]=False; c["process"]["args"]=["sleep","30"]; json.dump(c,open(p,"w"))' "$tmp/b/config.json"
printf '#!/bin/sh\nexec qemu-system-x86_64 "$@" -qmp unix:%s/qmp.sock,server=on,wait=off\n' "$tmp" > "$tmp/qemu"
chmod +x "$tmp/qemu"
RUNVM_KERNEL=$image/vmlinuz RUNVM_INITRD=$image/initramfs.cpio RUNVM_HYPERVISOR=qemu \
  RUNVM_QEMU=$tmp/qemu "$runvm" --root "$tmp/state" run --bundle "$tmp/b" probe </dev/null &
# The container runs once `state` says so; the VM's devices are all set up by then.
for _ in $(seq 300); do
  "$runvm" --root "$tmp/state" state probe 2>/dev/null | grep -q '"status": *"running"' && break
  sleep 0.1
done
"$runvm" --root "$tmp/state" state probe | grep -q '"status": *"running"' ||
  { echo "snapshot-probe: the container did not start" >&2; exit 2; }
python3 - "$tmp" <<'PY'
import json, socket, sys, time
tmp = sys.argv[1]
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(tmp + "/qmp.sock")
f = s.makefile("rw")
def cmd(name, **args):
    f.write(json.dumps({"execute": name, "arguments": args} if args else {"execute": name}) + "\n")
    f.flush()
    while True:
        r = json.loads(f.readline())
        if "event" not in r:
            return r
print("QEMU", json.loads(f.readline())["QMP"]["version"]["qemu"])
cmd("qmp_capabilities")
r = cmd("migrate", uri="exec:cat > %s/vm.state" % tmp)
print("migrate:", r.get("error", {}).get("desc", "accepted"))
time.sleep(1)
q = cmd("query-migrate")["return"]
for reason in q.get("blocked-reasons", []):
    print("blocked:", reason)
print("status:", q.get("status", "none"))
sys.exit(0 if "error" in r or q.get("status") == "failed" else 1)
PY
