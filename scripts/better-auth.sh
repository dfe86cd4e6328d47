#!/usr/bin/env bash
# Installs make bench's second reference stack, better-auth on better-sqlite3
# (bench/better-auth), into bench/better-auth/node_modules (git-ignored), from
# the committed package-lock.json with `npm ci`. Quiet and quick when nothing
# changed: it reinstalls only when package.json, package-lock.json or the Node
# version change, or when the compiled better-sqlite3 addon is missing.
#
# better-sqlite3's install script first tries to download a prebuilt addon
# (prebuild-install); that cannot be fetched here, so it is always built from
# source (--build-from-source, which prebuild-install honours by not trying)
# with node-gyp, against the headers of the Node that runs the bench
# (--nodedir=<node's prefix>, i.e. <prefix>/include/node, so node-gyp does not
# try to download them either). That needs python3, make and a C++ compiler;
# the compile takes about two minutes on 2 cores.
#   scripts/better-auth.sh          install if needed; exit 1 (and say why) if it cannot
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/bench/better-auth"
modules="$dir/node_modules"
addon="$modules/better-sqlite3/build/Release/better_sqlite3.node"
stamp="$modules/.bench-install.sha256"

for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "better-auth.sh: $tool is not installed (Node 20+ and npm are needed)" >&2
    exit 1
  fi
done
node_version="$(node --version)"
want="$(cat "$dir/package.json" "$dir/package-lock.json" <(echo "$node_version") | sha256sum | cut -d' ' -f1)"
if [ -f "$addon" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi

# The prefix Node was installed under: its headers are <prefix>/include/node.
prefix="$(dirname "$(dirname "$(node -p 'process.execPath')")")"
if [ ! -f "$prefix/include/node/node_version.h" ]; then
  echo "better-auth.sh: no Node headers in $prefix/include/node (node-gyp needs them to build better-sqlite3;" \
    "Debian: apt-get install libnode-dev, or a Node distribution that ships include/node)" >&2
  exit 1
fi
for tool in python3 make c++; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "better-auth.sh: $tool is not installed (node-gyp needs python3, make and a C++ compiler)" >&2
    exit 1
  fi
done

echo "better-auth.sh: npm ci in bench/better-auth (Node $node_version; better-sqlite3 built from source against $prefix/include/node)" >&2
rm -rf "$modules"
(
  cd "$dir"
  npm_config_build_from_source=true npm_config_nodedir="$prefix" \
    npm ci --no-audit --no-fund --loglevel=error >&2
)
if [ ! -f "$addon" ]; then
  echo "better-auth.sh: npm ci finished but $addon was not built" >&2
  exit 1
fi
# The addon loads and works under this Node.
(cd "$dir" && node -e 'const D = require("better-sqlite3"); new D(":memory:").prepare("select 1").get();') >&2
echo "$want" >"$stamp"
