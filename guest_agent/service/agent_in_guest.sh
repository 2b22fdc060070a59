#!/usr/bin/env bash
# Runs agent_service_test inside a QEMU (TCG) guest on Debian's cloud kernel, where cgroup2
# has the memory, pids and cpu controllers that a cgroup-v1/hybrid host lacks: the limits,
# stats and update case must run there (RUNVM_REQUIRE_CONTROLLERS=1). One boot.
# usage: agent_in_guest.sh AGENT_SERVICE_TEST   (exit 77: no QEMU, kernel or busybox)
set -euo pipefail
test_bin=$(readlink -f "$1")
here=$(cd "$(dirname "$0")" && pwd)
make_rootfs="$here/../../tests/diff/make-rootfs.sh"
kernel=${RUNVM_KERNEL_CACHE:-/var/cache/runvm/kernel}/vmlinuz
for tool in qemu-system-x86_64 cpio gzip ldd strip; do
  command -v $tool >/dev/null || { echo "SKIP: $tool missing"; exit 77; }
done
[ -s "$kernel" ] || { echo "SKIP: no guest kernel at $kernel (scripts/guest-kernel.sh)"; exit 77; }

work=$(mktemp -d "${TMPDIR:-/tmp}/agent-in-guest.XXXXXX")
qemu_pid=
cleanup() {
  [ -n "$qemu_pid" ] && kill -9 "$qemu_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Initramfs: busybox, the test binary with its shared libraries, a container rootfs.
root=$work/initrd
"$make_rootfs" "$root" || exit $?
"$make_rootfs" "$root/rootfs" || exit $?
mkdir -p "$root/newroot" "$root/lib64"
# Without its debug info (61 MB of 66): TCG unpacks and copies every byte of the image.
strip --strip-debug -o "$root/agent_service_test" "$test_bin"
ldd "$test_bin" | awk '/=> \//{print $3} /^\t\/lib64/{print $1}' | while read -r lib; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
# pivot_root cannot leave the initramfs: stage 1 copies it to a tmpfs and switches root.
cat > "$root/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t tmpfs -o size=80% tmpfs /newroot
for d in /*; do
  case $d in /proc|/newroot|/sys|/dev) ;; *) cp -a "$d" /newroot/ ;; esac
done
mkdir -p /newroot/proc /newroot/sys /newroot/dev
umount /proc
exec switch_root /newroot /stage2
INIT
cat > "$root/stage2" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmpfs /tmp
mkdir -p /sys/fs/cgroup && mount -t cgroup2 cgroup2 /sys/fs/cgroup
echo "AGENT-GUEST: controllers $(cat /sys/fs/cgroup/cgroup.controllers)"
RUNVM_TEST_ROOTFS=/rootfs RUNVM_REQUIRE_CONTROLLERS=1 /agent_service_test \
  --log_level=test_suite --color_output=no
echo "AGENT-GUEST-RC=$?"
sleep 1   # let the UART drain before powering off
poweroff -f
INIT
chmod +x "$root/init" "$root/stage2"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/initrd.gz"
echo "initramfs: $(du -h "$work/initrd.gz" | cut -f1), ${SECONDS}s"

tsc_khz=$(awk '/^cpu MHz/{printf "%d", $4*1000; exit}' /proc/cpuinfo)
qemu-system-x86_64 -accel tcg -M microvm,acpi=on -m 1024 -smp 2 -nodefaults -no-user-config \
  -display none -no-reboot -serial "file:$work/serial.log" \
  -kernel "$kernel" -initrd "$work/initrd.gz" \
  -append "console=ttyS0 panic=-1 quiet tsc_early_khz=$tsc_khz" &
qemu_pid=$!
# Done when QEMU exits or the result line is out (then the power-off is only a courtesy).
deadline=$((SECONDS + ${RUNVM_GUEST_TIMEOUT:-240}))
while [ $SECONDS -lt $deadline ]; do
  kill -0 $qemu_pid 2>/dev/null || break
  grep -q '^AGENT-GUEST-RC=' "$work/serial.log" 2>/dev/null && { sleep 1; break; }
  sleep 0.2
done
if ! grep -q '^AGENT-GUEST-RC=' "$work/serial.log"; then
  echo "FAIL: no result from the guest after ${SECONDS}s"; tr -d '\r' < "$work/serial.log" | tail -40
  exit 1
fi
kill -9 $qemu_pid 2>/dev/null || true
wait $qemu_pid 2>/dev/null || true
qemu_pid=
tr -d '\r' < "$work/serial.log" | grep -v '^\[ *[0-9.]*\]' | tail -60
rc=$(tr -d '\r' < "$work/serial.log" | sed -n 's/^AGENT-GUEST-RC=//p')
[ "$rc" = 0 ] || { echo "FAIL: agent_service_test in the guest: rc=${rc:-none}"; exit 1; }
if grep -q 'is skipped' "$work/serial.log"; then
  echo "FAIL: a case was skipped in the guest"; exit 1
fi
echo "ok: agent_service_test passed in the guest, cgroup limits case included (${SECONDS}s)"
