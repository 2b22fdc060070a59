#!/usr/bin/env python3
"""Translated-instruction profile of one runvm boot under QEMU TCG.

Reads QEMU's `-d in_asm` log (every translation block QEMU compiled, in order) and splits
what was translated after the agent's entry point by the agent's steps (the first block of
each marker function), counting guest instructions in the kernel and in the agent. Under
TCG, first-time code is most of the cost (docs/benchmarks.md), and unlike wall time this
count barely moves between runs on a noisy machine.

usage: tcg_profile.py IN_ASM_LOG AGENT_ELF VMLINUX [FROM_MARKER TO_MARKER [N]]
  with the two markers: the N functions that translated most between them.
A user binary that loads at the agent's addresses (busybox in the container) counts as
"agent" in the last phase.
"""
import bisect
import collections
import subprocess
import sys

MARKERS = ['main', 'runvm::init_logging(', 'run_pid1_boot', 'mount_early_filesystems',
           'bring_up_loopback', 'Reaper::start', 'AgentService::AgentService', 'Server::start',
           'AgentService::version', 'AgentService::create_container', 'plan_launch',
           'Cgroup::create', 'ContainerProcess::launch', 'run_intermediate',
           'run_container_init', 'pivot_into', 'mask_paths', 'setup_process',
           'AgentService::start_container', 'exec_target', 'AgentService::wait_process']
KERNEL_BASE = 0xffffffff80000000


def symbols(path):
    out = subprocess.run(['nm', '-n', '-C', path], capture_output=True, text=True,
                         check=True).stdout
    addrs, names = [], []
    for line in out.splitlines():
        parts = line.split(' ', 2)
        if len(parts) == 3 and parts[1] in 'tTwW':
            addrs.append(int(parts[0], 16))
            names.append(parts[2])
    return addrs, names


def lookup(table, addr):
    i = bisect.bisect_right(table[0], addr) - 1
    return table[1][i] if i >= 0 else '?'


def elf_layout(path):
    out = subprocess.run(['readelf', '-hlW', path], capture_output=True, text=True,
                         check=True).stdout
    entry = int(out.split('Entry point address:')[1].split()[0], 16)
    lo, hi = None, None
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == 'LOAD' and 'E' in f[6:-1]:
            lo, hi = int(f[2], 16), int(f[2], 16) + int(f[5], 16)
    return entry, lo, hi


def blocks(log):
    tbs, start, count = [], None, 0
    for line in open(log, errors='replace'):
        if line.startswith('IN:'):
            if start is not None:
                tbs.append((start, count))
            start, count = None, 0
        elif line.startswith('0x'):
            if start is None:
                start = int(line.split(':')[0], 16)
            count += 1
    if start is not None:
        tbs.append((start, count))
    return tbs


def main(argv):
    if len(argv) not in (4, 6, 7):
        sys.exit(__doc__)
    log, agent, vmlinux = argv[1:4]
    usyms, ksyms = symbols(agent), symbols(vmlinux)
    entry, lo, hi = elf_layout(agent)
    tbs = blocks(log)
    starts = [i for i, (a, _) in enumerate(tbs) if a == entry]
    if not starts:
        sys.exit('tcg_profile: the agent entry point was never translated: wrong agent?')
    first = starts[0]
    seen = {}
    for i in range(first, len(tbs)):
        a = tbs[i][0]
        if lo <= a < hi:
            name = lookup(usyms, a)
            for m in MARKERS:
                if m not in seen and (name.startswith('main(') if m == 'main' else m in name):
                    seen[m] = i
    cuts = [(first, '_start')] + sorted((i, m) for m, i in seen.items()) + [(len(tbs), 'end')]

    def kind(a):
        if a >= KERNEL_BASE:
            return 'kernel'
        return 'agent' if lo <= a < hi else 'user'

    boot_kernel = sum(n for a, n in tbs[:first] if a >= KERNEL_BASE)
    print(f"{'from':34s} {'kernel':>7s} {'agent':>7s} {'user':>6s}")
    total = collections.Counter()
    for (i0, m0), (i1, _) in zip(cuts, cuts[1:]):
        c = collections.Counter()
        for a, n in tbs[i0:i1]:
            c[kind(a)] += n
        total.update(c)
        print(f"{m0[:34]:34s} {c['kernel']:7d} {c['agent']:7d} {c['user']:6d}")
    print(f"{'after /init, in all':34s} {total['kernel']:7d} {total['agent']:7d} {total['user']:6d}")
    print(f"{'before /init (the boot)':34s} {boot_kernel:7d}")
    if len(argv) >= 6:
        i0 = seen.get(argv[4], first)
        i1 = len(tbs) if argv[5] == 'end' else seen.get(argv[5], len(tbs))
        top = collections.Counter()
        for a, n in tbs[i0:i1]:
            if a >= KERNEL_BASE:
                top['kernel ' + lookup(ksyms, a)] += n
            elif lo <= a < hi:
                top['agent  ' + lookup(usyms, a)[:110]] += n
        for name, n in top.most_common(int(argv[6]) if len(argv) > 6 else 25):
            print(f'{n:6d} {name}')


if __name__ == '__main__':
    main(sys.argv)
