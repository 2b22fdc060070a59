#!/usr/bin/env bash
# Installs every build and test dependency of runvm from Debian 12's packages, idempotently.
# Nothing is downloaded from anywhere else.
set -euo pipefail

packages=(
  # build
  g++ cmake ninja-build pkg-config git
  clang libclang-rt-14-dev          # libFuzzer targets and their sanitizers
  libseccomp-dev libyaml-cpp-dev libcap-dev libboost-test-dev nlohmann-json3-dev
  libprotobuf-dev protobuf-compiler libcli11-dev libspdlog-dev
  # interop peers: containerd's Go ttrpc, built offline from Debian's Go packages
  golang-go golang-github-containerd-ttrpc-dev
  # tools the tests and scripts use
  clang-format python3 e2fsprogs cpio kmod
)
# Extra groups a later part of the suite needs are listed in scripts/setup.d/*.list,
# one package a line, so each part of the tree declares its own.
here=$(cd "$(dirname "$0")" && pwd)
if [ -d "$here/setup.d" ]; then
  while read -r p; do
    [ -n "$p" ] && packages+=("$p")
  done < <(cat "$here"/setup.d/*.list 2>/dev/null | sed 's/#.*//' | tr -s ' \t' '\n')
fi

# The jail's user (runvm-jail runs every broker and hypervisor as it), before any early exit.
"$here/jail-user.sh"

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  sudo=sudo
else
  sudo=
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
