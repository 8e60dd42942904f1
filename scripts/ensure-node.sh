#!/usr/bin/env bash
# Provisions the pinned Node.js 24 LTS into .tools/node from the npm registry's `node` package
# (it ships the real binary), so make, npm scripts and CI never depend on the machine's Node.
set -euo pipefail
NODE_VERSION="${NODE_VERSION:-24.21.0}"
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/.tools/node"
bin="$dir/node_modules/node/bin/node"
if [ -x "$bin" ] && [ "$("$bin" -v)" = "v$NODE_VERSION" ]; then
  exit 0
fi
echo "provisioning Node.js $NODE_VERSION into .tools/node" >&2
rm -rf "$dir"
mkdir -p "$dir"
# --foreground-scripts: the package's preinstall step is what puts the binary in place.
npm install --prefix "$dir" --no-save --no-audit --no-fund --foreground-scripts "node@$NODE_VERSION" >&2
"$bin" -v >/dev/null
