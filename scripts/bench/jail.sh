#!/usr/bin/env bash
# Benchmark: `runvm run` of `true` (busybox bundle, QEMU TCG) with the jail off and on
# (RUNVM_JAIL), interleaved, the order flipped every round; medians, their ratio (the goal:
# within 5%) and each round's ratio. The binaries are copied to a snapshot first, so a rebuild
# of the tree during the run cannot change what is measured. The table goes between this
# script's markers in docs/benchmarks.md.
# usage: scripts/bench/jail.sh [ROUNDS]   (as root, after a build in BUILD_DIR, default build/;
#        the jail user from scripts/setup.sh)
set -euo pipefail
# Every container boots its own VM here unless asked (template: auto would start the later
# ones in pooled VMs booted in the background, docs/design/fast-start.md).
export RUNVM_TEMPLATE=${RUNVM_TEMPLATE:-off}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build}
rounds=${1:-8}
getent passwd runvm >/dev/null || { echo "bench: no jail user runvm (scripts/setup.sh)" >&2; exit 1; }
tmp=$(mktemp -d /tmp/runvm-bench-jail.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# runvm finds runvm-broker and runvm-jail beside itself (config::find_helper).
snap=$tmp/bin
mkdir -p "$snap"
cp "$build/shim/cli/runvm" "$build/broker/runvm-broker" "$build/jail/runvm-jail" "$snap/"
cp "$build/guest_agent/runvm-agent" "$tmp/runvm-agent"
runvm=$snap/runvm
image=$("$root/scripts/build-guest-image.sh" --agent "$tmp/runvm-agent" --out "$tmp/image" \
  --kernel "${RUNVM_GUEST_KERNEL:-auto}")
mkdir -p "$tmp/b/rootfs/bin" "$tmp/b/rootfs/proc" "$tmp/b/rootfs/sys" "$tmp/b/rootfs/dev"
cp /bin/busybox "$tmp/b/rootfs/bin/"; ln -s busybox "$tmp/b/rootfs/bin/true"
(cd "$tmp/b" && "$runvm" spec)
python3 -c 'import json,sys; p=sys.argv[1]; c=json.load(open(p)); c["process"]["terminal"]=False; c["process"]["args"]=["true"]; json.dump(c,open(p,"w"))' "$tmp/b/config.json"
export RUNVM_KERNEL=$image/vmlinuz RUNVM_INITRD=$image/initramfs.cpio RUNVM_HYPERVISOR=qemu
elapsed_ms() { local a=${1/./} b=${2/./}; echo $(( (10#$b - 10#$a) / 1000 )); }
median() { sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
declare -A took
one() { # MODE ROUND
  local t0 t1
  t0=$EPOCHREALTIME
  RUNVM_JAIL=$1 "$runvm" --root "$tmp/state" run --bundle "$tmp/b" "j$1$2" </dev/null
  t1=$EPOCHREALTIME
  took[$1$2]=$(elapsed_ms "$t0" "$t1")
}
one off 0; one on 0 # warm-up: page cache, the jail user's first lookup
for i in $(seq "$rounds"); do
  if [ $((i % 2)) -eq 1 ]; then one off "$i"; one on "$i"; else one on "$i"; one off "$i"; fi
done
off=(); on=(); paired=()
for i in $(seq "$rounds"); do
  off+=("${took[off$i]}"); on+=("${took[on$i]}")
  paired+=("$(awk -v a="${took[on$i]}" -v b="${took[off$i]}" 'BEGIN{printf "%.4f", a/b}')")
done
echo "samples (ms): off ${off[*]}; on ${on[*]}" >&2
moff=$(printf '%s\n' "${off[@]}" | median)
mon=$(printf '%s\n' "${on[@]}" | median)
mpair=$(printf '%s\n' "${paired[@]}" | median)
table=$(cat <<EOT
<!-- jail-bench:start -->
### Jail: \`runvm run\` of \`true\`, median of $rounds each, interleaved

\`scripts/bench/jail.sh $rounds\` on $(date -u +%Y-%m-%d), $(nproc) cores, QEMU TCG; jailed:
QEMU and the broker through runvm-jail, each VM as its own uid (jail_vm_ids).

| jail | median | samples (ms) |
|---|---|---|
| off | $moff ms | ${off[*]} |
| on | $mon ms | ${on[*]} |
| ratio on/off (goal: <= 1.05) | $(awk -v a="$mon" -v b="$moff" 'BEGIN{printf "%.3f", a/b}') | median of each round's ratio: $(printf '%.3f' "$mpair") |
<!-- jail-bench:end -->
EOT
)
python3 "$root/scripts/bench/doc_section.py" "$root/docs/benchmarks.md" "$table" Jail
echo "$table"
