#!/usr/bin/env bash
# Sets up a fresh clone: the Debian packages the production lines use (when missing) and the npm
# dependencies (npm ci, which also builds the TypeScript). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# the guest image is built from Debian's kernel and busybox packages with `apt-get download`,
# so the package lists must be there too; gcc and libc6-dev compile the QEMU guest's agent
# VNET tunnels: iproute2 makes taps and bridges, socat moves their frames, setpriv (util-linux)
# ties socat to its node; the tunnel tests ping through it and bench/vnet runs iperf3
debian_packages=(qemu-system-x86 qemu-utils user-mode-linux uml-utilities busybox-static e2fsprogs gcc libc6-dev iproute2 socat util-linux iputils-ping iperf3)

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for pkg in "${debian_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
fi
have_lists=0
ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1 && have_lists=1
if [ "${#missing[@]}" -gt 0 ] || [ "$have_lists" -eq 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]:-none} (and refreshing the package lists)" >&2
  if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "setup: not root and no sudo; install them yourself, or use --driver sim" >&2; sudo="skip"; fi
  if [ "$sudo" != "skip" ]; then
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    if [ "${#missing[@]}" -gt 0 ]; then
      $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
  fi
fi

npm ci --no-audit --no-fund
