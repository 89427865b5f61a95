#!/usr/bin/env bash
# Installs the Debian packages listed in system-packages.txt that are missing.
# Needs root (or sudo); on other systems it prints what to install and carries on, because
# every feature that uses them says clearly at run time when they are absent.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
mapfile -t wanted < <(grep -vE '^\s*(#|$)' "$here/system-packages.txt")
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
else
  echo "install-system-packages: not a Debian system; please install the equivalents of: ${wanted[*]}" >&2
  exit 0
fi
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-system-packages: installing ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
  echo "install-system-packages: not root and no sudo; please install: ${missing[*]}" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# Another apt run (an unattended upgrade, a second `make`) holds the lock for a while: wait for it.
lock=(-o DPkg::Lock::Timeout=300)
$SUDO apt-get "${lock[@]}" update -qq || echo "install-system-packages: apt-get update failed; trying with the lists present" >&2
$SUDO apt-get "${lock[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
