#!/usr/bin/env bash
# VMM start-up benchmark: runvm-vmm beside QEMU (-accel kvm -machine microvm) booting the
# same Debian cloud bzImage and busybox initramfs, in one nested-KVM L1 run
# (scripts/kvm-nested.sh); runvm-vmm also boots the same build's vmlinux (QEMU cannot: it
# boots an ELF only through PVH). Rewrites the VMM section of docs/benchmarks.md unless
# NO_DOC=1.
# usage: scripts/bench/vmm.sh   (BUILD_DIR, default build/; ROUNDS, default 2;
#        KERNEL=cloud|minimal, default cloud: minimal is scripts/build-kernel.sh's bzImage;
#        EXTRA_CMDLINE: appended for both VMMs; DIAG=1: printk timestamps, dmesg,
#        /proc/interrupts, KVM exits by reason and the serial logs after each boot, implies
#        NO_DOC=1; L1_SHMEM_THP: the L1 host's shmem THP policy, default advise, "" keeps
#        the kernel's default (never); QEMU_ANON=0 skips QEMU's anonymous-RAM row)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build}
rounds=${ROUNDS:-2}
cmake --build "$build" --target runvm-vmm >/dev/null
case "${KERNEL:-cloud}" in
  cloud) kdir=$("$root/scripts/guest-kernel.sh")
         kernel=$kdir/vmlinuz
         kernel_label="Debian cloud bzImage" ;;
  minimal) kdir=${RUNVM_MINIMAL_KERNEL_DIR:-/var/cache/runvm/kernel-minimal}
           kernel=$kdir/bzImage
           [ -s "$kernel" ] || { echo "vmm bench: no $kernel (scripts/build-kernel.sh)" >&2; exit 1; }
           kernel_label="runvm's minimal bzImage (kernel_config/)" ;;
  *) echo "vmm bench: KERNEL wants cloud or minimal" >&2; exit 2 ;;
esac
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmm-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$root/tests/integration/vmm_initramfs.sh" "$tmp/l2.cpio.gz"
thp=${L1_SHMEM_THP-advise}
printf 'ROUNDS=%s DIAG=%s L1_SHMEM_THP=%s QEMU_ANON=%s EXTRA_CMDLINE="%s" sh /work/bench.sh\n' \
  "$rounds" "${DIAG:-0}" "$thp" "${QEMU_ANON:-1}" "${EXTRA_CMDLINE:-}" > "$tmp/run.sh"
vmlinux=()
[ -s "$kdir/vmlinux" ] && vmlinux=(--add "$kdir/vmlinux:/work/vmlinux")
"$root/scripts/kvm-nested.sh" --timeout 900 "${vmlinux[@]}" \
  --add "$build/vmm/runvm-vmm:/work/runvm-vmm" --add "$kernel:/work/vmlinuz" \
  --add "$tmp/l2.cpio.gz:/work/l2.cpio.gz" --add "$root/scripts/bench/vmm_inner.sh:/work/bench.sh" \
  --add "$tmp/run.sh:/work/run.sh" \
  --add "$(command -v qemu-system-x86_64):/usr/bin/qemu-system-x86_64" \
  --add "$(readlink -f /usr/share/qemu/bios-microvm.bin):/usr/share/qemu/bios-microvm.bin" \
  -- sh /work/run.sh | tee "$tmp/out.log"
grep '^RESULT' "$tmp/out.log" | tr -d '\r' > "$tmp/results"
no_doc=${NO_DOC:-0}
[ "${DIAG:-0}" = 1 ] && no_doc=1
python3 - "$tmp/results" "$root/docs/benchmarks.md" "$no_doc" "$(uptime | sed 's/.*load average: //')" "$kernel_label" "${EXTRA_CMDLINE:-}" "$thp" <<'PY'
import re, statistics, sys
rows = [dict(kv.split('=', 1) for kv in line.split()[1:]) for line in open(sys.argv[1])]
def med(vmm, key):
    vals = [float(r[key]) for r in rows if r['vmm'] == vmm and r.get(key) and float(r[key]) > 0]
    return statistics.median(vals) if vals else None
q_init, q_byte = med('qemu', 'init_ms'), med('qemu', 'first_byte_ms')
v_rss, q_rss = med('runvm-vmm', 'rss_kib'), med('qemu', 'rss_kib')
fmt = lambda x, unit='': '–' if x is None else f'{x:,.0f}{unit}'
ratio = lambda a, b: '–' if a is None or b is None or b == 0 else f'{a / b:.2f}x'
n = len([r for r in rows if r['vmm'] == 'runvm-vmm'])
extra = f" + `{sys.argv[6]}` for both" if sys.argv[6] else ""
thp = f"L1 shmem THP `{sys.argv[7]}`" if sys.argv[7] else "L1 shmem THP off (kernel default)"
init_rows = f"""| spawn → "reached /init" on the console (ms, wall), bzImage | {fmt(med('runvm-vmm', 'init_ms'))} | {fmt(q_init)} | {ratio(med('runvm-vmm', 'init_ms'), q_init)} | ≤ 0.5x | – |
"""
if med('runvm-vmm-vmlinux', 'init_ms') is not None:
    init_rows += f"""| spawn → "reached /init" (ms, wall), runvm-vmm: vmlinux of the same build, QEMU: bzImage | {fmt(med('runvm-vmm-vmlinux', 'init_ms'))} | {fmt(q_init)} | {ratio(med('runvm-vmm-vmlinux', 'init_ms'), q_init)} | ≤ 0.5x | – |
"""
a_init = med('qemu-anon', 'init_ms')
if a_init is not None:
    init_rows += f"""| spawn → "reached /init" (ms, wall), bzImage, QEMU with its default anonymous RAM (no vhost-user possible) | {fmt(med('runvm-vmm', 'init_ms'))} | {fmt(a_init)} | {ratio(med('runvm-vmm', 'init_ms'), a_init)} | | |
"""
init_rows += f"""| spawn → first console byte (ms, wall), bzImage | {fmt(med('runvm-vmm', 'first_byte_ms'))} | {fmt(q_byte)} | {ratio(med('runvm-vmm', 'first_byte_ms'), q_byte)} | | |
"""
table = f"""{sys.argv[5]} + 1 MB busybox initramfs, 256 MiB, 1 vCPU, `quiet`{extra}; L2 guests on
KVM nested in a QEMU/TCG L1 (AMD SVM, nested paging), {thp}, on this 2-core machine;
median of {n} rounds; load average {sys.argv[4]} at the end.

| measure | runvm-vmm | QEMU microvm | runvm-vmm / QEMU | goal | Firecracker's published bar |
|---|---:|---:|---:|---:|---:|
{init_rows}| VMM RSS outside guest memory (KiB, RssAnon+RssFile) | {fmt(v_rss)} | {fmt(q_rss)} | {ratio(v_rss, q_rss)} | ≤ 0.2x | 5 MiB overhead |
| main() → first KVM_RUN (ms, wall) | {fmt(med('runvm-vmm', 'first_run_wall_ms'))} | – | | | 8 CPU ms to API ready |
| main() → first KVM_RUN (ms, CPU) | {fmt(med('runvm-vmm', 'first_run_cpu_ms'))} | – | | | |
| main() → boot-timer write at /init (ms), bzImage | {fmt(med('runvm-vmm', 'boot_timer_ms'))} | – | | | |
"""
print(table)
if sys.argv[3] == '1':
    sys.exit(0)
doc = open(sys.argv[2]).read()
start, end = '<!-- vmm-bench:start -->', '<!-- vmm-bench:end -->'
if start in doc:
    doc = re.sub(re.escape(start) + '.*?' + re.escape(end), lambda _: start + '\n' + table + end, doc, flags=re.S)
    open(sys.argv[2], 'w').write(doc)
else:
    print('docs/benchmarks.md: no VMM markers; add the section first', file=sys.stderr)
PY
