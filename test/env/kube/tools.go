//go:build tools

// Package tools pins the binaries built for the test environment.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
)
