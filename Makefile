# customer-accounts: the two commands are `make dev` and `make test`.
SHELL := /bin/bash

.PHONY: dev test bench loadmodel smoke scan lint fmt package dynamodb-local clean-local

## Fetch DynamoDB Local, start it, and serve the whole API on 127.0.0.1:3000.
dev:
	@scripts/dev.sh

## Every test, against a DynamoDB Local of its own on a free port; fmt and clippy beside the HTTP checks.
test:
	@scripts/test.sh

## Cold start, size, memory, warm latency, throughput and cost, measured in one run (not part of test).
bench:
	@scripts/bench.sh

## Many tenants and customers at a bounded rate: how DynamoDB accesses spread over partition keys (not part of test; docs/scale.md).
loadmodel:
	@scripts/loadmodel.sh $(ARGS)

## A deployment answers end to end: make smoke URL=https://... [TENANT=shop CLIENT=web SMOKE_EMAIL=.. SMOKE_PASSWORD=..]
smoke:
	@python3 scripts/smoke.py

## checkov on template.yaml (from PyPI into .venv-scan); accepted findings are in .checkov.yaml and the README.
scan:
	@scripts/scan.sh

## sam build of every function (release, arm64, via cargo-lambda from PyPI) and their sizes.
package:
	@scripts/package.sh

## fmt + clippy only.
lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all

## Download DynamoDB Local into .tools/ (make dev and make test do this themselves).
dynamodb-local:
	@scripts/dynamodb-local.sh fetch

## Forget local data: the dev database, outbox and signing keys.
clean-local:
	rm -rf .local
