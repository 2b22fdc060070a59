# Shared helpers of the e2e scripts: busybox bundles, checks, cleanup checks.
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_eq() { [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"; }
expect_contains() { case "$1" in *"$2"*) ;; *) fail "$3: '$2' not in '$1'";; esac; }

# make_bundle DIR ARGS_JSON [EXTRA_JQ_PYTHON]: a busybox rootfs and runc's default config
# with process.args = ARGS_JSON, terminal off.
make_bundle() {
  local dir=$1 args=$2 edit=${3:-}
  mkdir -p "$dir/rootfs/bin" "$dir/rootfs/proc" "$dir/rootfs/sys" "$dir/rootfs/dev" \
           "$dir/rootfs/tmp" "$dir/rootfs/etc" "$dir/rootfs/work"
  cp /bin/busybox "$dir/rootfs/bin/busybox"
  for a in sh echo cat id pwd hostname uname sleep true false ls env read touch; do
    ln -sf busybox "$dir/rootfs/bin/$a"
  done
  echo 'root:x:0:0:root:/:/bin/sh' > "$dir/rootfs/etc/passwd"
  (cd "$dir" && "$RUNVM" spec)
  python3 - "$dir/config.json" "$args" "$edit" <<'PY'
import json, sys
path, args, edit = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
c = json.load(open(path))
c["process"]["terminal"] = False
c["process"]["args"] = args
c["hostname"] = "runvm-e2e"
if edit:
    exec(edit)
json.dump(c, open(path, "w"), indent=1)
PY
}

# Nothing of a sandbox may outlive it: no broker/qemu child, no VM dir.
expect_clean() {
  local what=$1
  if pgrep -f "runvm-vm/" >/dev/null 2>&1; then
    pgrep -af "runvm-vm/" >&2; fail "$what: processes of a sandbox left behind"
  fi
  if [ -d /run/runvm-vm ] && [ -n "$(ls -A /run/runvm-vm 2>/dev/null)" ]; then
    ls -la /run/runvm-vm >&2; fail "$what: sandbox directory left behind"
  fi
}
