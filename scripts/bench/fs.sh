#!/usr/bin/env bash
# virtio-fs benchmark: the same workloads (scripts/bench/fs_bench.c: sequential write and
# read, 4 KiB random reads, create+stat+unlink, a tree walk) on a host directory and in a
# QEMU guest on that directory shared by runvm-broker; prints a markdown table.
# usage: scripts/bench/fs.sh [SEQ_MB] [RAND_OPS] [META_FILES]
#   env: BUILD_DIR (default build), ACCEL (tcg; kvm where /dev/kvm runs Linux guests well),
#        CACHE (auto), RUNVM_KERNEL_CACHE
set -euo pipefail
# Every container boots its own VM here unless asked (template: auto would start the later
# ones in pooled VMs booted in the background, docs/design/fast-start.md).
export RUNVM_TEMPLATE=${RUNVM_TEMPLATE:-off}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-$root/build}
seq_mb=${1:-256} rand_ops=${2:-20000} files=${3:-2000}
accel=${ACCEL:-tcg} cache=${CACHE:-auto}
kernel_dir=${RUNVM_KERNEL_CACHE:-/var/cache/runvm/kernel}
release=$(cat "$kernel_dir/release")
cmake --build "$build" --target runvm-broker >&2

work=$(mktemp -d "${TMPDIR:-/tmp}/runvm-fs-bench.XXXXXX")
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/initrd"/{bin,proc,sys,dev,mnt,lib/modules} "$work/share" "$work/host"
gcc -static -O2 -o "$work/initrd/bin/fs_bench" "$here/fs_bench.c"
cp /bin/busybox "$work/initrd/bin/busybox"
for m in virtio_ring virtio virtio_mmio fuse virtiofs; do
    cp "$(find "$kernel_dir/modules/$release" -name "$m.ko" | head -1)" "$work/initrd/lib/modules/"
done
cp "$here/fs_guest_init.sh" "$work/initrd/init"
chmod +x "$work/initrd/init"
(cd "$work/initrd" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/initrd.gz"

"$work/initrd/bin/fs_bench" "$work/host" "$seq_mb" "$rand_ops" "$files" > "$work/host.txt"

"$build/broker/runvm-broker" --log-file "$work/broker.log" \
    --fs "$work/fs.vu,dir=$work/share,tag=share,cache=$cache" &
pids+=($!)
for i in $(seq 50); do [ -S "$work/fs.vu" ] && break; sleep 0.1; done
tsc_khz=$(awk '/^cpu MHz/{printf "%d", $4*1000; exit}' /proc/cpuinfo)
timeout 900 qemu-system-x86_64 -accel "$accel" -M microvm -m 1024 -smp 1 -nodefaults \
    -no-user-config -display none -no-reboot -serial "file:$work/serial.log" \
    -object memory-backend-memfd,id=mem,size=1024M,share=on -machine memory-backend=mem \
    -chardev socket,id=fs,path="$work/fs.vu" -device vhost-user-fs-device,chardev=fs,tag=share \
    -kernel "$kernel_dir/vmlinuz" -initrd "$work/initrd.gz" \
    -append "console=ttyS0 panic=-1 quiet tsc_early_khz=$tsc_khz bench=$seq_mb,$rand_ops,$files"
tr -d '\r' < "$work/serial.log" | sed -n 's/^BENCH: //p' > "$work/guest.txt"

echo "virtio-fs ($accel guest, cache=$cache, $seq_mb MiB, $rand_ops random reads, $files files);"
echo "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date +%F)"
echo
echo "| workload | host dir | guest over virtio-fs | guest/host |"
echo "|---|---|---|---|"
while read -r name value unit; do
    g=$(awk -v n="$name" '$1 == n {print $2}' "$work/guest.txt")
    ratio=$(awk -v g="${g:-0}" -v h="$value" 'BEGIN {r = h > 0 ? 100 * g / h : 0; printf "%.0f%%", r}')
    echo "| $name | $value $unit | ${g:-failed} $unit | $ratio |"
done < "$work/host.txt"
