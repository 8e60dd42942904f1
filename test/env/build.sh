#!/usr/bin/env bash
# Builds the controller test environment once into .testenv/bin (ignored by git):
#  - kube-apiserver from the pinned k8s.io/kubernetes module (test/env/kube/go.mod replaces its staging modules)
#  - etcd from the etcd server module that kubernetes itself pins
#  - helm from its Go module
#  - compose-check (compose-go, the loader Docker Compose uses) to validate docker-compose.dev.yml
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/.testenv/bin"
mkdir -p "$out"
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
cd "$root/test/env/kube"
export GOFLAGS=-mod=mod
stamp="$out/.kube-stamp"
want="$(sha256sum go.mod go.sum etcd/main.go | sha256sum | cut -c1-16)"
if [ ! -x "$out/kube-apiserver" ] || [ ! -x "$out/etcd" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "building kube-apiserver and etcd (first time takes a few minutes)" >&2
  go build -trimpath -o "$out/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
  go build -trimpath -o "$out/etcd" ./etcd
  echo "$want" > "$stamp"
fi
cd "$root/test/env/compose-check"
if [ ! -x "$out/compose-check" ] || [ "$(cat "$out/.compose-stamp" 2>/dev/null)" != "$(sha256sum go.mod go.sum main.go | sha256sum | cut -c1-16)" ]; then
  echo "building compose-check" >&2
  go build -trimpath -o "$out/compose-check" .
  sha256sum go.mod go.sum main.go | sha256sum | cut -c1-16 > "$out/.compose-stamp"
fi
if [ ! -x "$out/helm" ] || [ "$(cat "$out/.helm-stamp" 2>/dev/null)" != "$HELM_VERSION" ]; then
  echo "building helm $HELM_VERSION" >&2
  GOFLAGS= GOBIN="$out" go install "helm.sh/helm/v3/cmd/helm@${HELM_VERSION}"
  echo "$HELM_VERSION" > "$out/.helm-stamp"
fi
