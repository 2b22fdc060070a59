#!/usr/bin/env bash
# Creates the jail's system user and group `runvm` (docs/security.md, "Jail"): no home, no
# shell, in group kvm when it exists, subordinate ids runvm:1879048192:65536 in /etc/subuid
# and /etc/subgid unless it has some or that range overlaps another's. Idempotent; as root.
# usage: scripts/jail-user.sh [NAME]   (setup.sh and install.sh run it)
set -euo pipefail
user=${1:-runvm}
first=1879048192
count=65536
if [ "$(id -u)" -ne 0 ]; then
  echo "jail-user: not root: the jail user $user is not created (runvm's jail needs it)" >&2
  exit 0
fi
if ! getent group "$user" >/dev/null; then
  groupadd --system "$user"
fi
if ! getent passwd "$user" >/dev/null; then
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
    --gid "$user" "$user"
  echo "jail-user: created the system user $user"
fi
if getent group kvm >/dev/null && ! id -nG "$user" | tr ' ' '\n' | grep -qx kvm; then
  usermod -a -G kvm "$user"
fi
# One range per file; a range someone else holds that overlaps ours leaves the file alone.
for file in /etc/subuid /etc/subgid; do
  touch "$file"
  if grep -q "^$user:" "$file"; then
    continue
  fi
  if awk -F: -v a="$first" -v n="$count" \
       'NF == 3 && $2 < a + n && a < $2 + $3 { found = 1 } END { exit !found }' "$file"; then
    echo "jail-user: $file: $first-$((first + count - 1)) overlaps another range; add one" \
         "for $user by hand" >&2
    continue
  fi
  echo "$user:$first:$count" >> "$file"
done
