#!/usr/bin/env python3
"""Differential test: the same bundle through runc and through runvm-launch (the agent's
launcher in host mode); what the container sees must match, except for the differences
listed in KNOWN_DIFFERENCES with their reason. Needs root, runc and busybox (else exit 77)."""
import argparse
import copy
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77

# Differences that stay, each with the reason; applied to both outputs before comparing.
KNOWN_DIFFERENCES = [
    ("cgroup mount",
     "runc on this cgroup-v1 host makes /sys/fs/cgroup a tmpfs with one bind per v1 "
     "hierarchy; the agent always mounts cgroup2, the only hierarchy of the guest kernel",
     lambda text: "\n".join(l for l in text.split("\n") if " /sys/fs/cgroup" not in l)),
    ("domainname",
     "runc 1.1 ignores the spec's domainname (runc 1.2 sets it); the agent sets it, so the "
     "second line of the hostname section is dropped",
     lambda text: re.sub(r"(== hostname\n[^\n]*\n)[^\n]*\n", r"\1", text)),
]
# A create that fails because args[0] is missing: runc's CLI exits 1, the agent reports 127
# (the shell convention the shim and docker expect); the message is the same.
MISSING_BINARY_EXIT = {"runc": 1, "agent": 127}


def base_spec(rootfs):
    spec = json.loads(subprocess.check_output(["runc", "spec", "--bundle", "/nonexistent"],
                                              stderr=subprocess.DEVNULL) or "{}") \
        if False else None
    tmp = tempfile.mkdtemp(prefix="runc-spec-")
    subprocess.check_call(["runc", "spec", "--bundle", tmp])
    with open(os.path.join(tmp, "config.json")) as f:
        spec = json.load(f)
    shutil.rmtree(tmp)
    spec["root"]["path"] = rootfs
    spec["process"]["terminal"] = False
    spec["process"]["args"] = ["/probe.sh"]
    return spec


def env_add(spec, *pairs):
    spec["process"]["env"] += list(pairs)


def extra(spec, cmd):
    env_add(spec, "PROBE_EXTRA=" + cmd)


def ns_remove(spec, kind):
    spec["linux"]["namespaces"] = [n for n in spec["linux"]["namespaces"] if n["type"] != kind]


def v_default(s):
    pass


def v_rw_root(s):
    s["root"]["readonly"] = False


def v_user(s):
    s["process"]["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [10, 20], "umask": 0o077}


def v_caps(s):
    caps = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_SYS_ADMIN", "CAP_NET_ADMIN", "CAP_KILL",
            "CAP_SETUID", "CAP_SETGID"]
    s["process"]["capabilities"] = {"bounding": caps, "effective": caps[:4], "permitted": caps,
                                    "inheritable": caps[:2], "ambient": caps[:2]}


def v_no_nnp(s):
    s["process"]["noNewPrivileges"] = False


def v_seccomp_errno(s):
    s["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
    extra(s, "mkdir /tmp/x; echo mkdir=$?")


def v_seccomp_args(s):
    s["root"]["readonly"] = False
    s["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["fchmodat", "chmod"], "action": "SCMP_ACT_ERRNO",
                      "errnoRet": 13,
                      "args": [{"index": 2 if True else 1, "value": 0o777, "op": "SCMP_CMP_EQ"}]},
                     {"names": ["chmod"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
                      "args": [{"index": 1, "value": 0o777, "op": "SCMP_CMP_EQ"}]}]}
    s["process"]["noNewPrivileges"] = False
    extra(s, "touch /tmp/f; chmod 777 /tmp/f; echo c777=$?; chmod 755 /tmp/f; echo c755=$?")


def v_seccomp_kill(s):
    s["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                             "syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_KILL_PROCESS"}]}
    extra(s, "cat /proc/self/status | grep -c Seccomp; echo $PPID")


def v_rlimits(s):
    s["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "hard": 8192, "soft": 4096},
                               {"type": "RLIMIT_NPROC", "hard": 512, "soft": 256},
                               {"type": "RLIMIT_CORE", "hard": 0, "soft": 0}]


def v_env_cwd(s):
    s["process"]["env"] = ["PATH=/bin", "FOO=bar baz", "HOME=/home/x", "EMPTY="]
    s["process"]["cwd"] = "/tmp"


def v_new_cwd(s):
    s["process"]["cwd"] = "/made/by/runtime"


def v_identity(s):
    s["hostname"] = "diff-host"
    s["domainname"] = "example.org"


def v_mounts(s, host_dir):
    s["mounts"] += [
        {"destination": "/data", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "nodev", "noexec", "size=1m", "mode=700"]},
        {"destination": "/ro-bind", "type": "bind", "source": host_dir,
         "options": ["rbind", "ro", "nosuid"]},
        {"destination": "/rw-bind/file", "type": "bind", "source": host_dir + "/file",
         "options": ["bind"]},
        {"destination": "/ro-tmp", "type": "tmpfs", "source": "tmpfs", "options": ["ro"]},
    ]
    extra(s, "ls -ld /data | cut -c1-10; cat /rw-bind/file; touch /ro-bind/y; echo ro=$?")


def v_masked(s):
    s["linux"]["maskedPaths"] += ["/etc/group", "/root"]
    s["linux"]["readonlyPaths"] += ["/tmp"]
    s["root"]["readonly"] = False
    extra(s, "cat /etc/group | wc -c; ls /root | wc -l; touch /tmp/z; echo tmp=$?")


def v_sysctl(s):
    s["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1", "kernel.shm_rmid_forced": "1"}
    extra(s, "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shm_rmid_forced")


def v_userns(s):
    s["linux"]["namespaces"].append({"type": "user"})
    s["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]
    s["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]
    s["mounts"] = [m for m in s["mounts"] if m["type"] not in ("cgroup", "sysfs")]
    extra(s, "cat /proc/self/uid_map /proc/self/gid_map")


def v_devices(s):
    s["linux"]["devices"] = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229,
                              "fileMode": 0o640, "uid": 0, "gid": 0},
                             {"path": "/dev/extra/loopx", "type": "b", "major": 7, "minor": 0,
                              "fileMode": 0o600}]
    extra(s, "ls -ln /dev/extra | tail -n +2 | cut -c1-10")


def v_oom(s):
    s["process"]["oomScoreAdj"] = 500


def v_hooks(s, host_dir):
    marker = host_dir + "/hook.out"
    s["hooks"] = {"createContainer": [{"path": "/bin/sh", "args": [
        "sh", "-c", "cat > /dev/null; echo create >> " + marker]}]}
    extra(s, "true")


def v_exit1(s):
    env_add(s, "PROBE_EXIT=1")


def v_exit_missing_cmd(s):
    s["process"]["args"] = ["sh", "-c", "/probe.sh >/dev/null; no-such-command"]


def v_self_sigkill(s):
    ns_remove(s, "pid")  # pid 1 of a pid namespace cannot be killed from inside
    s["process"]["args"] = ["sh", "-c", "kill -KILL $$"]


def v_self_sigterm(s):
    ns_remove(s, "pid")
    s["process"]["args"] = ["sh", "-c", "kill -TERM $$"]


def v_missing_binary(s):
    s["process"]["args"] = ["no-such-binary"]


def v_missing_path(s):
    s["process"]["args"] = ["/bin/no/such/file"]


def v_rootfs_private(s):
    s["linux"]["rootfsPropagation"] = "private"
    extra(s, "grep ' / ' /proc/self/mountinfo | grep -c shared")


def v_seccomp_same_arg(s):
    # Two conditions on one argument: runc adds a rule per condition (they OR), since
    # libseccomp refuses them in one rule. sig >= 10 or sig <= 0 fails; SIGTRAP (5) passes.
    s["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
                      "args": [{"index": 1, "value": 10, "op": "SCMP_CMP_GE"},
                               {"index": 1, "value": 0, "op": "SCMP_CMP_LE"}]}]}
    extra(s, 'trap "" TRAP USR2; kill -0 $$ 2>/dev/null; echo k0=$?; '
             'kill -TRAP $$ 2>/dev/null; echo k5=$?; kill -USR2 $$ 2>/dev/null; echo k12=$?')


def v_personality_linux(s):
    s["linux"]["personality"] = {"domain": "LINUX"}
    extra(s, "uname -m")


def v_personality_linux32(s):
    s["linux"]["personality"] = {"domain": "LINUX32"}
    extra(s, "uname -m")


VARIANTS = {
    "default": v_default, "rw-root": v_rw_root, "user": v_user, "caps": v_caps,
    "no-new-privs-off": v_no_nnp, "seccomp-errno": v_seccomp_errno,
    "seccomp-args": v_seccomp_args, "seccomp-kill": v_seccomp_kill, "rlimits": v_rlimits,
    "env-cwd": v_env_cwd, "new-cwd": v_new_cwd, "identity": v_identity, "mounts": v_mounts,
    "masked-readonly": v_masked, "sysctl": v_sysctl, "userns": v_userns, "devices": v_devices,
    "oom-score": v_oom, "hooks": v_hooks, "exit-1": v_exit1,
    "exit-127-shell": v_exit_missing_cmd, "exit-137-sigkill": v_self_sigkill,
    "exit-143-sigterm": v_self_sigterm, "missing-binary": v_missing_binary,
    "missing-path": v_missing_path, "rootfs-propagation": v_rootfs_private,
    "seccomp-same-arg": v_seccomp_same_arg, "personality-linux": v_personality_linux,
    "personality-linux32": v_personality_linux32,
}
# Variants where the agent is ahead of Debian's runc 1.1.5 on purpose: (reason, what runc
# prints, what the agent prints). Both must print theirs; then the agent's text is
# replaced by runc's and everything else must match.
VARIANT_DIFFERENCES = {
    "personality-linux32": ("runc 1.1 ignores linux.personality (runc 1.2 applies it)",
                            "\nx86_64\n", "\ni686\n"),
}
# Process LSM labels: the guest kernel has no LSM, so the agent ignores them with a warning
# (a host with AppArmor gets a profile from docker/containerd for every container); runc
# 1.1.5 on this host without AppArmor/SELinux fails the create. (variant, spec edit, the
# word runc's error must contain)
LSM_IGNORED = {
    "apparmor-profile": (lambda s: s["process"].__setitem__("apparmorProfile", "runvm-test"),
                         "apparmor"),
    "selinux-label": (lambda s: s["process"].__setitem__(
        "selinuxLabel", "system_u:system_r:container_t:s0:c1,c2"), "selinux"),
}
NEEDS_HOST_DIR = {"mounts", "hooks"}

# Bad input: both must fail; the agent's message names the field or step.
def b_invalid_spec(s):
    s["linux"]["namespaces"].append({"type": "bogus"})


def b_bad_user(s):
    v_userns(s)
    s["process"]["user"] = {"uid": 70000, "gid": 0}


def b_failed_mount(s):
    s["mounts"].append({"destination": "/x", "type": "bind", "source": "/no/such/dir",
                        "options": ["bind"]})


def b_seccomp_notify(s):
    s["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW",
                             "listenerPath": "/run/runvm-diff-no-such-agent.sock",
                             "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}


BAD_INPUTS = {"invalid-spec": (b_invalid_spec, "linux.namespaces[5].type"),
              "seccomp-notify": (b_seccomp_notify, "linux.seccomp.listenerPath"),
              "bad-user": (b_bad_user, "setresuid 70000"),
              "failed-mount": (b_failed_mount, "mounts[7] /x")}


def run(cmd, timeout=60):
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def normalize(text):
    for _, _, fix in KNOWN_DIFFERENCES:
        text = fix(text)
    return text


def core_error(stderr):
    """The runtime-independent part of a create error: runc's msg= or the agent's line."""
    m = re.search(r'msg="(.*)"', stderr)
    text = m.group(1).replace('\\"', '"') if m else stderr.strip()
    m = re.search(r'exec: "[^"]*": .*', text)
    return m.group(0).strip() if m else text


def make_bundle(work, name, spec):
    b = os.path.join(work, name)
    os.makedirs(b, exist_ok=True)
    with open(os.path.join(b, "config.json"), "w") as f:
        json.dump(spec, f, indent=1)
    return b


def leftovers(cid):
    """Processes whose command line names the container id (a launcher child left behind)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if cid.encode() in f.read():
                    found.append(pid)
        except OSError:
            pass
    return found


def mount_count():
    with open("/proc/self/mountinfo") as f:
        return len(f.readlines())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--launcher", required=True)
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    if os.geteuid() != 0 or not shutil.which("runc"):
        print("SKIP: needs root and runc"); return SKIP
    if not os.access(a.launcher, os.X_OK):
        print("FAIL: no launcher at " + a.launcher); return 1
    work = tempfile.mkdtemp(prefix="runvm-diff-")
    os.chmod(work, 0o755)  # the userns variants' root (host uid 200000) must reach the rootfs
    rootfs = os.path.join(work, "rootfs")
    if subprocess.call([os.path.join(HERE, "make-rootfs.sh"), rootfs]) != 0:
        print("SKIP: no busybox"); return SKIP
    shutil.copy(os.path.join(HERE, "probe.sh"), os.path.join(rootfs, "probe.sh"))
    host_dir = os.path.join(work, "host")
    os.makedirs(host_dir)
    with open(os.path.join(host_dir, "file"), "w") as f:
        f.write("host file\n")
    base = base_spec(rootfs)
    failures = []
    names = a.only or list(VARIANTS)
    for name in names:
        if name not in VARIANTS:
            continue
        spec = copy.deepcopy(base)
        fn = VARIANTS[name]
        fn(spec, host_dir) if name in NEEDS_HOST_DIR else fn(spec)
        results = {}
        for runtime in ("runc", "agent"):
            if os.path.exists(os.path.join(host_dir, "hook.out")):
                os.remove(os.path.join(host_dir, "hook.out"))
            # Each run gets a pristine copy of the rootfs: runtimes create mount points and
            # cwds in it, which must not help (or change) the other run.
            run_spec = copy.deepcopy(spec)
            run_rootfs = os.path.join(work, "rootfs-%s-%s" % (name, runtime))
            subprocess.check_call(["cp", "-a", rootfs, run_rootfs])
            run_spec["root"]["path"] = run_rootfs
            b = make_bundle(work, "%s-%s" % (name, runtime), run_spec)
            cid = "diff-%s-%s-%d" % (name, runtime, os.getpid())
            cmd = (["runc", "run", "-b", b, cid] if runtime == "runc"
                   else [a.launcher, "run", "-b", b, cid])
            rc, out, err = run(cmd)
            hook = ""
            if os.path.exists(os.path.join(host_dir, "hook.out")):
                hook = open(os.path.join(host_dir, "hook.out")).read()
            results[runtime] = (rc, normalize(out), core_error(err) if rc and not out else "", hook)
        (rrc, rout, rerr, rhook), (arc, aout, aerr, ahook) = results["runc"], results["agent"]
        problems = []
        if name in VARIANT_DIFFERENCES:
            _, rtext, atext = VARIANT_DIFFERENCES[name]
            if rtext not in rout or atext not in aout:
                problems.append("expected runc to print %r and the agent %r" % (rtext, atext))
            aout = aout.replace(atext, rtext)
        if name.startswith("missing-"):
            if (rrc, arc) != (MISSING_BINARY_EXIT["runc"], MISSING_BINARY_EXIT["agent"]):
                problems.append("exit codes runc=%d agent=%d" % (rrc, arc))
            if rerr != aerr:
                problems.append("error runc=%r agent=%r" % (rerr, aerr))
        elif rrc != arc:
            problems.append("exit codes runc=%d agent=%d" % (rrc, arc))
        if rout != aout:
            problems.append("stdout differs:\n" + "".join(difflib.unified_diff(
                rout.splitlines(True), aout.splitlines(True), "runc", "agent")))
        if rhook != ahook:
            problems.append("hook output runc=%r agent=%r" % (rhook, ahook))
        status = "FAIL" if problems else "ok"
        print("%-20s %-4s exit runc=%d agent=%d" % (name, status, rrc, arc))
        for p in problems:
            print("    " + p.replace("\n", "\n    "))
        if problems:
            failures.append(name)
    for name, (fn, word) in LSM_IGNORED.items():
        if a.only and name not in a.only:
            continue
        spec = copy.deepcopy(base)
        fn(spec)
        cid = "lsm-%s-%d" % (name, os.getpid())
        rrc, _, rerr = run(["runc", "run", "-b", make_bundle(work, name + "-runc", spec), cid + "r"])
        arc, aout, aerr = run([a.launcher, "run", "-b", make_bundle(work, name + "-agent", spec),
                               cid + "a"])
        problems = []
        if rrc == 0 or word not in rerr.lower():
            problems.append("runc was expected to refuse it (%s): rc=%d %s" % (word, rrc, rerr))
        if arc != 0 or "== id" not in aout:
            problems.append("agent was expected to run it: rc=%d %s" % (arc, aerr.strip()))
        if word not in aerr.lower():
            problems.append("agent did not warn about the ignored %s label" % word)
        print("%-20s %-4s runc: %s | agent: exit %d" % (
            "lsm:" + name, "FAIL" if problems else "ok", core_error(rerr)[:70], arc))
        for p in problems:
            print("    " + p)
        if problems:
            failures.append("lsm:" + name)
    for name, (fn, expect) in BAD_INPUTS.items():
        if a.only and name not in a.only:
            continue
        spec = copy.deepcopy(base)
        fn(spec)
        before = mount_count()
        cid = "bad-%s-%d" % (name, os.getpid())
        rrc, _, rerr = run(["runc", "run", "-b", make_bundle(work, name + "-runc", spec), cid + "r"])
        arc, _, aerr = run([a.launcher, "run", "-b", make_bundle(work, name + "-agent", spec), cid + "a"])
        problems = []
        if rrc == 0 or arc == 0:
            problems.append("expected both to fail: runc=%d agent=%d" % (rrc, arc))
        if expect not in aerr:
            problems.append("agent error does not name %r: %s" % (expect, aerr.strip()))
        if mount_count() != before:
            problems.append("host mount table changed")
        left = leftovers(cid + "a")
        if left:
            problems.append("processes left behind: " + " ".join(left))
        print("%-20s %-4s runc: %s | agent: %s" % ("bad:" + name, "FAIL" if problems else "ok",
                                                  core_error(rerr)[:70], aerr.strip()[:110]))
        for p in problems:
            print("    " + p)
        if problems:
            failures.append("bad:" + name)
    print("known differences:")
    for what, why, _ in KNOWN_DIFFERENCES:
        print("  - %s: %s" % (what, why))
    print("  - missing binary exit code: runc's CLI exits 1, the agent reports 127 (same message)")
    for name, (why, _, _) in VARIANT_DIFFERENCES.items():
        print("  - %s: %s" % (name, why))
    print("  - apparmorProfile/selinuxLabel: runc 1.1.5 fails without the LSM; the guest has "
          "none and the agent ignores them with a warning")
    print("%d variants, %d failed%s" % (len(names) + len(BAD_INPUTS) + len(LSM_IGNORED),
                                        len(failures),
                                        (": " + " ".join(failures)) if failures else ""))
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
