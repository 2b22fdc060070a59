#!/usr/bin/env bash
# e2e without a guest: rootless runvm keeps its state under $XDG_RUNTIME_DIR/runvm (0700) and
# its VM directories under $XDG_RUNTIME_DIR/runvm-vm (0711); a run directory that is a
# symlink, another uid's or group-writable is refused, naming the path.
set -euo pipefail
RUNVM=$1
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
require_root "setpriv to uid 65534"
require_tools setpriv
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
nobody test -x "$RUNVM" || skip "uid 65534 cannot run $RUNVM"
xdg=$(mktemp -d /tmp/runvm-e2e-xdg.XXXXXX)
bundle=$(mktemp -d /tmp/runvm-e2e-bundle.XXXXXX)
trap 'rm -rf "$xdg" "$bundle"' EXIT
chown 65534:65534 "$xdg"
mkdir "$bundle/rootfs"
(cd "$bundle" && "$RUNVM" spec)
chmod -R a+rX "$bundle"
as_user() { nobody env -u XDG_RUNTIME_DIR ${XDG:+XDG_RUNTIME_DIR=$XDG} "$RUNVM" "$@" 2>&1; }
mode_owner() { stat -c '%a %u' "$1"; }

# No XDG_RUNTIME_DIR and no --root: an error that names it; spec needs no state.
set +e; out=$(XDG= as_user list); rc=$?; set -e
[ $rc -ne 0 ] || fail "rootless list without XDG_RUNTIME_DIR succeeded"
expect_contains "$out" "XDG_RUNTIME_DIR is not set" "no XDG_RUNTIME_DIR"
(cd /tmp && XDG= as_user spec --bundle "$xdg" >/dev/null) || fail "rootless spec needs XDG_RUNTIME_DIR"
rm -f "$xdg/config.json"

# A create that fails at the kernel still made the directories, each the user's own.
set +e; out=$(cd /tmp && XDG=$xdg RUNVM_KERNEL=$xdg/no-kernel as_user create --bundle "$bundle" c1)
rc=$?; set -e
[ $rc -ne 0 ] || fail "create with a missing kernel succeeded"
expect_contains "$out" "no-kernel" "missing kernel"
expect_eq "$(mode_owner "$xdg/runvm")" "700 65534" "state root"
expect_eq "$(mode_owner "$xdg/runvm-vm")" "711 65534" "VM base directory"
expect_eq "$(XDG=$xdg as_user list -q)" "" "list after the failed create"
set +e; out=$(XDG=$xdg as_user state c1); rc=$?; set -e
[ $rc -ne 0 ] || fail "a failed create left state behind"
expect_contains "$out" "does not exist" "state after the failed create"

# Group-writable: refused.
chmod 0770 "$xdg/runvm"
set +e; out=$(XDG=$xdg as_user list); rc=$?; set -e
[ $rc -ne 0 ] || fail "a group-writable state root was used"
expect_contains "$out" "run directory $xdg/runvm: mode 0770 lets group or others write" "mode"
chmod 0700 "$xdg/runvm"

# A symlink planted at the state root's name: refused, not followed.
mkdir "$xdg/elsewhere" && chown 65534:65534 "$xdg/elsewhere"
mv "$xdg/runvm" "$xdg/runvm.moved" && ln -s elsewhere "$xdg/runvm"
set +e; out=$(XDG=$xdg as_user list); rc=$?; set -e
[ $rc -ne 0 ] || fail "a symlinked state root was followed"
expect_contains "$out" "run directory $xdg/runvm: is a symlink" "symlink"

# Root given another uid's directory as --root: refused.
set +e; out=$("$RUNVM" --root "$xdg/runvm.moved" list 2>&1); rc=$?; set -e
[ $rc -ne 0 ] || fail "root used a state root owned by uid 65534"
expect_contains "$out" "owned by uid 65534, not by uid 0" "owner"
echo "rootless dirs: ok"
