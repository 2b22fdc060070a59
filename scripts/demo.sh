#!/usr/bin/env bash
# On a fresh Debian 12 machine: installs, builds, builds the guest image, makes a busybox
# bundle and runs a container in its own VM that prints its kernel release and hostname,
# then the boot timeline; then the same container from a VM booted ahead (the VM pool).
# usage: scripts/demo.sh   (as root; BUILD_DIR, default build/; RUNVM_HYPERVISOR, default
#        qemu: QEMU with TCG, which runs anywhere; auto picks runvm-vmm where /dev/kvm opens;
#        RUNVM_GUEST_KERNEL, default auto: runvm's minimal kernel where scripts/install.sh or
#        scripts/build-kernel.sh built it, else Debian's cloud kernel, taken at once)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
"$root/scripts/setup.sh"
cmake -S "$root" -B "$build" -G Ninja -DRUNVM_FUZZERS=OFF >/dev/null
export RUNVM_HYPERVISOR=${RUNVM_HYPERVISOR:-qemu}
targets=(runvm runvm-broker runvm-agent)
[ "$RUNVM_HYPERVISOR" = qemu ] || targets+=(runvm-vmm)
cmake --build "$build" -j "$(nproc)" --target "${targets[@]}"
bundle=$(mktemp -d /tmp/runvm-demo.XXXXXX)
state=$(mktemp -d /tmp/runvm-demo-state.XXXXXX)
trap 'RUNVM_TEMPLATE=off "$build/shim/cli/runvm" --root "$state" template rm >/dev/null 2>&1 || true; rm -rf "$bundle" "$state"' EXIT
# The guest image in /var/cache/runvm/image (runvm's default); the script strips the agent.
image=$("$root/scripts/build-guest-image.sh" --agent "$build/guest_agent/runvm-agent" \
  --kernel "${RUNVM_GUEST_KERNEL:-auto}")
runvm=$build/shim/cli/runvm
mkdir -p "$bundle/rootfs/bin" "$bundle/rootfs/proc" "$bundle/rootfs/sys" "$bundle/rootfs/dev"
cp /bin/busybox "$bundle/rootfs/bin/"
for a in sh uname hostname echo; do ln -sf busybox "$bundle/rootfs/bin/$a"; done
(cd "$bundle" && "$runvm" spec)
python3 - "$bundle/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["terminal"] = False
c["process"]["args"] = ["sh", "-c", "echo kernel: $(uname -r); echo hostname: $(hostname)"]
c["hostname"] = "runvm-demo"
json.dump(c, open(sys.argv[1], "w"), indent=1)
PY
echo "host kernel: $(uname -r)"
export RUNVM_KERNEL=$image/vmlinuz RUNVM_INITRD=$image/initramfs.cpio
"$runvm" --root "$state" run --keep --bundle "$bundle" demo
"$runvm" --root "$state" state demo | python3 -c '
import json, sys
s = json.load(sys.stdin)["runvm"]
print("hypervisor:", s["hypervisor"])
for p in s["boot_timeline"]:
    print("  %-20s %8.1f ms" % (p["phase"], p["ms"]))'
"$runvm" --root "$state" delete demo
# The same container again, started in a VM booted ahead of it (template: auto: a pool of
# booted VMs under QEMU, docs/design/fast-start.md) instead of booting one.
export RUNVM_TEMPLATE=auto
"$runvm" --root "$state" template build >/dev/null
t0=$EPOCHREALTIME
"$runvm" --root "$state" run --keep --bundle "$bundle" demo2
t1=$EPOCHREALTIME
"$runvm" --root "$state" state demo2 | python3 -c '
import json, sys
s = json.load(sys.stdin)["runvm"]
print("from a pooled VM (%s): %.0f ms" % (s["vm"], (float(sys.argv[2]) - float(sys.argv[1])) * 1000))
for p in s["boot_timeline"]:
    print("  %-20s %8.1f ms" % (p["phase"], p["ms"]))' "$t0" "$t1"
"$runvm" --root "$state" delete demo2
"$runvm" --root "$state" template rm >/dev/null # after the refill the run started
if grep -q '^module ' "$image/manifest"; then
  echo "This ran Debian's cloud kernel. scripts/install.sh builds runvm's own kernel once (about"
  echo "6 min on 2 cores): a cold start in about 1.2 s instead of 1.8-2 s; the demo then takes it."
fi
