# plansync — every target provisions what it needs (Node 24 into .tools/, test servers into .testenv/).
SHELL := /bin/bash
NODE_DIR := $(CURDIR)/.tools/node/node_modules/node/bin
export PATH := $(NODE_DIR):$(CURDIR)/.testenv/bin:$(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: setup build run test test-unit testenv testenv-up typecheck bench compose-check clean

setup: node_modules/.install-stamp

.tools/node/node_modules/node/bin/node: scripts/ensure-node.sh
	@scripts/ensure-node.sh

node_modules/.install-stamp: package.json package-lock.json .tools/node/node_modules/node/bin/node
	npm ci --no-audit --no-fund --foreground-scripts
	@touch $@

build: setup
	npx tsc -p tsconfig.json

## run: the whole system in one process (embedded Postgres, provider simulator, API on :8080)
run: build
	node dist/services/cli.js dev

## test: unit + integration tests against real Postgres, Redis, kube-apiserver and helm
test: build testenv
	npx tsc -p tsconfig.test.json
	npm test

test-unit: build
	npm test -- test/unit

testenv:
	@scripts/install-test-deps.sh

## testenv-up: a local kube-apiserver + etcd with the CRD applied (prints KUBECONFIG), until Ctrl-C
testenv-up: build testenv
	node test/env/kube/kube-env.mjs up

typecheck: setup
	npx tsc -p tsconfig.test.json

## bench: search, ingest and controller benchmarks (JSON lines on stdout); BENCH_ONLY=search to pick
bench: build testenv
	npm run bench

compose-check: setup
	node scripts/check-compose.mjs docker-compose.dev.yml

clean:
	rm -rf dist .data coverage
