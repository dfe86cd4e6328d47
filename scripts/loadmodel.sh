#!/usr/bin/env bash
# `make loadmodel` (not part of make test): a DynamoDB Local of its own, then
# bench's `loadmodel` drives the local server with many tenants and customers
# at a bounded rate and reports how DynamoDB item accesses spread over
# partition keys (target/loadmodel/report.md; the committed run is in
# docs/scale.md). Arguments go to the binary, e.g.
#   make loadmodel ARGS="--scales 1x50,32x50 --visits 400 --rate 20"
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .local
port="$(scripts/dynamodb-local.sh free-port)"
pidfile=".local/dynamodb-loadmodel-$port.pid"
trap 'scripts/dynamodb-local.sh stop "$pidfile"' EXIT
scripts/dynamodb-local.sh start "$port" "$pidfile" ".local/dynamodb-loadmodel.log"
export DYNAMODB_ENDPOINT="http://127.0.0.1:$port" AWS_REGION=us-east-1 RUST_LOG="${RUST_LOG:-error}"
# The test profile's build (dependencies, argon2 among them, are optimised there):
# the model counts keys, not milliseconds, and make test has built it already.
cargo run -p bench --bin loadmodel -- "$@"
