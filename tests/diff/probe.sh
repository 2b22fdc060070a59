#!/bin/sh
# What a container sees, printed section by section for the runc differential test.
echo "== id"; id
echo "== hostname"; hostname; cat /proc/sys/kernel/domainname
echo "== status"; grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status
echo "== ulimit"; ulimit -n; ulimit -Hn; ulimit -u
echo "== umask"; umask
echo "== pwd"; pwd
echo "== env"; env | sort
echo "== mounts"; cat /proc/self/mounts
echo "== rootfs write"; if touch /.probe-write 2>/dev/null; then echo writable; rm -f /.probe-write; else echo read-only; fi
echo "== masked"; for p in /proc/kcore /proc/keys /proc/acpi /sys/firmware /proc/timer_list; do
  printf '%s: ' "$p"; if [ -d "$p" ]; then ls -A "$p" | wc -l; else head -c 64 "$p" 2>&1 | wc -c; fi; done
echo "== readonly"; for p in /proc/sys /proc/bus /proc/irq; do
  printf '%s: ' "$p"; grep " $p " /proc/self/mounts | cut -d' ' -f4 | cut -d, -f1; done
echo "== dev"; ls -ln /dev | awk '{print $1, $3, $4, $5, $6, $NF}' | sort
echo "== oom"; cat /proc/self/oom_score_adj
echo "== pid"; echo $$
[ -n "$PROBE_EXTRA" ] && { echo "== extra"; sh -c "$PROBE_EXTRA" 2>&1; }
exit "${PROBE_EXIT:-0}"
