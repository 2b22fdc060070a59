#!/usr/bin/env bash
# runvm-vmm templates on nested KVM (issue #23): to "agent ready", a cold boot (template off:
# `runvm run`'s own VM) beside a pooled VM restored from the template, ROUNDS rounds
# interleaved in one L1 run (tests/e2e/kvm_nested.sh with RUNVM_KVM_NESTED_BENCH; the jail
# on, as by default). Both times are the sandbox's boot timeline, from its start: broker,
# VMM, then the agent's first answer. Rewrites the section between this script's markers
# in docs/benchmarks.md unless NO_DOC=1. Each round also restores a second VM right after the
# first, with no cold boot just before it.
# usage: scripts/bench/template-kvm.sh [ROUNDS]   (default 5; BUILD_DIR, default build/)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build}
rounds=${1:-5}
cmake --build "$build" --target runvm runvm-agent runvm-broker runvm-vmm runvm-jail >/dev/null
out=$(mktemp "${TMPDIR:-/tmp}/template-kvm.XXXXXX")
trap 'rm -f "$out"' EXIT
RUNVM_KVM_NESTED_BENCH=$rounds RUNVM_KVM_NESTED_TIMEOUT=$((200 + rounds * 40)) \
  "$root/tests/e2e/kvm_nested.sh" "$build/shim/cli/runvm" "$build" > "$out" 2>&1 ||
  { tail -40 "$out"; echo "template-kvm bench: the L1 run failed" >&2; exit 1; }
tr -d '\r' < "$out" | grep '^BENCH' | tee /dev/stderr > "$out.bench"
if grep -q '^BENCH error' "$out.bench"; then rm -f "$out.bench"; exit 1; fi
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
cold=$(awk '$2 == "round" {print $5}' "$out.bench")
restore=$(awk '$2 == "round" {print $7}' "$out.bench")
ratios=$(awk '$2 == "round" {printf "%.3f\n", $7 / $5}' "$out.bench")
size=$(awk '$2 == "template" {print $3}' "$out.bench")
memory=$(awk '$2 == "memory" {print $4}' "$out.bench")
saving=$(awk '$2 == "saving-boot" {printf "agent ready at %.0f ms, saved at %.0f ms", $3, $4}' "$out.bench")
again=$(awk '$2 == "again" {print $5}' "$out.bench")
rm -f "$out.bench"
mcold=$(echo "$cold" | median)
mrestore=$(echo "$restore" | median)
table=$(cat <<EOT
<!-- template-kvm-bench:start -->
### runvm-vmm: restore from a template against a cold boot, to agent ready, nested KVM

\`scripts/bench/template-kvm.sh $rounds\` on $(date -u +%Y-%m-%d), $(nproc) cores; L1 is QEMU/TCG
with nested SVM, so only the ratio means anything. Jailed; Debian's cloud kernel; 1 vCPU,
256 MiB. Each time is from the sandbox's start (broker, VMM, agent) to the agent's first answer.

| start | median | samples (ms) |
|---|---|---|
| cold boot (template: off) | $(printf '%.0f' "$mcold") ms | $(echo $cold | xargs printf '%.0f ') |
| restore from the template | $(printf '%.0f' "$mrestore") ms | $(echo $restore | xargs printf '%.0f ') |
| ratio restore/cold (goal: <= 0.2) | $(awk -v a="$mrestore" -v b="$mcold" 'BEGIN{printf "%.3f", a/b}') | median of each round's ratio: $(echo "$ratios" | median) |
| a second restore right after the first (no cold boot just before it) | $(printf '%.0f' "$(echo "$again" | median)") ms | $(echo $again | xargs printf '%.0f ') |
| the boot that saves the template (init_on_free=1, then the save; once per key) | $saving | |
| template on disk (sparse: zero pages are holes) | $((size / 1024)) MiB | |
| host memory of an idle restored VM (its guest RAM memfd's pages, and the Pss of its VMM, broker and monitor without shared memory) | $(( $(echo "$memory" | median | cut -d. -f1) / 1024 )) MiB | $(echo $memory | xargs -n1 | awk '{printf "%d ", $1 / 1024}')(MiB) |
<!-- template-kvm-bench:end -->
EOT
)
if [ "${NO_DOC:-0}" != 1 ]; then
  python3 "$root/scripts/bench/doc_section.py" "$root/docs/benchmarks.md" "$table" \
    "Templates on runvm-vmm"
fi
echo "$table"
