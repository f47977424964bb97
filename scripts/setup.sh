#!/usr/bin/env bash
# Sets up a fresh clone: the Debian packages the production lines use (when missing), Node 24 from
# the npm registry when the machine's Node is too old (scripts/install-node.sh), and the npm
# dependencies (npm ci, which also builds the TypeScript). Safe to run again; needs no terminal.
set -euo pipefail
cd "$(dirname "$0")/.."

# the guest image is built from Debian's kernel and busybox packages with `apt-get download`,
# so the package lists must be there too; gcc and libc6-dev compile the QEMU guest's agent
# VNET tunnels: iproute2 makes taps and bridges, socat moves their frames, setpriv (util-linux)
# ties socat to its node; the tunnel tests ping through it and bench/vnet runs iperf3; strace counts the store's fsyncs in a test; zsh runs the zsh completion's test
debian_packages=(qemu-system-x86 qemu-utils user-mode-linux uml-utilities busybox-static e2fsprogs gcc libc6-dev iproute2 socat util-linux iputils-ping iperf3 strace zsh)

missing=()
# npm fetches Node 24 below; where there is none yet, Debian's npm (and its nodejs) come first
command -v npm >/dev/null 2>&1 || debian_packages+=(npm)
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

# The tests need a Node that ava 8 supports (22.20+, 24.12+ or 26+); vmplant itself needs 22.12+ (package.json engines).
node_is_recent () {
  command -v node >/dev/null 2>&1 && node -e '
    const [major, minor] = process.versions.node.split(".").map(Number)
    process.exit((major === 22 && minor >= 20) || (major === 24 && minor >= 12) || major >= 26 ? 0 : 1)
  '
}
if ! node_is_recent; then
  if [ "$(id -u)" -eq 0 ]; then node_prefix=/usr/local; else node_prefix="$PWD/.node"; fi
  bash scripts/install-node.sh --prefix "$node_prefix" --major 24
  user_path="$PATH"
  export PATH="$node_prefix/bin:$PATH"
  hash -r
  # npm and npx start through `#!/usr/bin/env node`, so they run on the first node in PATH
  npm_node="$(npm version --json | sed -n 's/^ *"node": "\(.*\)",*$/v\1/p')"
  if [ "$npm_node" != "$(node --version)" ] || ! node_is_recent; then
    echo "setup: npm runs on Node $npm_node, not on the installed $(node --version)" >&2
    exit 1
  fi
  if [ "$(PATH="$user_path" command -v node)" != "$node_prefix/bin/node" ]; then
    echo "setup: your PATH does not find it first yet; run: export PATH=\"$node_prefix/bin:\$PATH\"" >&2
  fi
fi

npm ci --no-audit --no-fund
