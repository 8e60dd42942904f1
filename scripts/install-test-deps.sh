#!/usr/bin/env bash
# Test infrastructure only (the product is TypeScript): Redis from Debian, and a real
# kube-apiserver + etcd + helm built with Go into .testenv/bin (see test/env/build.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
need_apt=()
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing ${need_apt[*]} from Debian" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >&2
    # The package starts a system instance; tests run their own on free ports.
    (systemctl stop redis-server 2>/dev/null || service redis-server stop 2>/dev/null || true) >/dev/null 2>&1
  else
    echo "missing ${need_apt[*]}: install with apt-get (needs root)" >&2
    exit 1
  fi
fi
"$root/test/env/build.sh"
