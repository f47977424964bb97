#!/usr/bin/env bash
# Sets up a fresh clone: the Debian packages the production lines use (when missing) and the npm
# dependencies (npm ci, which also builds the TypeScript). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

debian_packages=(qemu-system-x86 qemu-utils user-mode-linux busybox-static cpio e2fsprogs)

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for pkg in "${debian_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "setup: not root and no sudo; install them yourself, or use --driver sim" >&2; sudo="skip"; fi
  if [ "$sudo" != "skip" ]; then
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

npm ci --no-audit --no-fund
