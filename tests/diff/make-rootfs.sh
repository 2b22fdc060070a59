#!/usr/bin/env bash
# Builds a busybox rootfs (bin/busybox + one symlink per applet) at $1 from busybox-static.
set -euo pipefail
root=$1
busybox=${BUSYBOX:-/bin/busybox}
[ -x "$busybox" ] || { echo "make-rootfs: no busybox at $busybox" >&2; exit 77; }
mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/proc" "$root/sys" "$root/dev" "$root/root"
cp "$busybox" "$root/bin/busybox.tmp" && mv "$root/bin/busybox.tmp" "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
