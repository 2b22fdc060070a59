# Shared by the broker's QEMU tests (broker_qemu_test.sh, broker_net_qemu_test.sh,
# broker_fs_qemu_test.sh): the skip
# checks, a busybox initramfs with cloud-kernel modules, the QEMU TCG microvm boot (memfd
# RAM shared with the broker) and the checks read from the guest's serial log.
# Source it after `set -euo pipefail`, with `here` set; it sets kernel_dir and release.

# require_guest_tools TOOL...: skip (77) unless the tools, a static busybox and the cached
# guest kernel are here.
require_guest_tools() {
    local tool
    for tool in qemu-system-x86_64 cpio gcc "$@"; do
        command -v "$tool" >/dev/null || { echo "SKIP: $tool missing"; exit 77; }
    done
    [ -x /bin/busybox ] && file -L /bin/busybox | grep -q 'statically linked' ||
        { echo "SKIP: static busybox missing (busybox-static)"; exit 77; }
    kernel_dir=${RUNVM_KERNEL_CACHE:-/var/cache/runvm/kernel}
    [ -s "$kernel_dir/vmlinuz" ] || { echo "SKIP: no guest kernel (run scripts/guest-kernel.sh)"; exit 77; }
    release=$(cat "$kernel_dir/release")
}

# make_guest_initrd INIT HELPER_C HELPER_NAME MODULE...: $work/initrd.gz with busybox, the
# helper compiled statically as /bin/HELPER_NAME (and as $work/HELPER_NAME for the host),
# the modules (skip when one is missing), the "SRC:DEST" pairs of the initrd_extra array
# and INIT as /init.
initrd_extra=()
make_guest_initrd() {
    local init=$1 helper_c=$2 helper_name=$3 m ko extra
    shift 3
    mkdir -p "$work/initrd"/{bin,proc,sys,dev,mnt,tmp,lib/modules}
    cp /bin/busybox "$work/initrd/bin/busybox"
    gcc -static -O2 -o "$work/$helper_name" "$helper_c"
    cp "$work/$helper_name" "$work/initrd/bin/$helper_name"
    for extra in "${initrd_extra[@]}"; do
        cp "${extra%%:*}" "$work/initrd/${extra#*:}"
    done
    for m in "$@"; do
        ko=$(find "$kernel_dir/modules/$release" -name "$m.ko" | head -1)
        [ -n "$ko" ] || { echo "SKIP: guest module $m.ko missing"; exit 77; }
        cp "$ko" "$work/initrd/lib/modules/"
    done
    cp "$init" "$work/initrd/init"
    chmod +x "$work/initrd/init"
    (cd "$work/initrd" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/initrd.gz"
}

# boot_guest APPEND QEMU_ARGS...: QEMU in the background (qemu_pid, added to pids) with the
# devices in QEMU_ARGS and APPEND added to the kernel command line.
boot_guest() {
    local append=$1 tsc_khz
    shift
    tsc_khz=$(awk '/^cpu MHz/{printf "%d", $4*1000; exit}' /proc/cpuinfo)
    qemu-system-x86_64 -accel tcg -M microvm -m 512 -smp 1 -nodefaults -no-user-config \
        -display none -no-reboot -serial "file:$work/serial.log" \
        -object memory-backend-memfd,id=mem,size=512M,share=on -machine memory-backend=mem \
        "$@" -kernel "$kernel_dir/vmlinuz" -initrd "$work/initrd.gz" \
        -append "console=ttyS0 panic=-1 quiet tsc_early_khz=$tsc_khz${append:+ $append}" &
    qemu_pid=$!
    pids+=($qemu_pid)
}

# wait_guest [SECONDS]: until the guest powers off (default 150 s); status=1 when it did not.
wait_guest() {
    local i limit=${1:-150}
    for i in $(seq $((limit * 10))); do kill -0 "$qemu_pid" 2>/dev/null || break; sleep 0.1; done
    status=0
    if kill -0 "$qemu_pid" 2>/dev/null; then
        echo "FAIL: QEMU still running after $limit s"; status=1
    fi
}

check() { # name expected actual
    if [ "$2" = "$3" ]; then echo "ok: $1"; else echo "FAIL: $1: want '$2' got '$3'"; status=1; fi
}
# value NAME: what the guest printed as NAME=... on the serial console.
value() { tr -d '\r' < "$work/serial.log" | grep -a "^$1=" | head -1 | cut -d= -f2-; }
