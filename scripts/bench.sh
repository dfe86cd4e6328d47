#!/usr/bin/env bash
# `make bench`: release builds of every function and the two cold-start yardsticks,
# a DynamoDB Local of its own, wrk and the two reference stacks: fastapi-users in
# .venv-bench, and better-auth in bench/better-auth/node_modules
# (scripts/better-auth.sh: npm ci, better-sqlite3 compiled from source); then one
# run of the bench binary, which prints tables and writes target/bench/results.json.
# Not part of `make test`: it measures, it asserts nothing. Honours CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .local target/bench
args=("$@")
if ! scripts/ensure-wrk.sh || ! scripts/venv.sh .venv-bench bench/reference/requirements.txt >/dev/null; then
    echo "bench: no wrk or reference stack; throughput is skipped" >&2
    args+=(--skip-throughput)
elif ! scripts/better-auth.sh; then
    echo "bench: better-auth could not be installed; its throughput is skipped" >&2
    args+=(--skip-better-auth)
fi
target="${CARGO_TARGET_DIR:-target}"
# The functions exactly as shipped (their own feature set), the yardsticks with
# the same profile; the driver in its own profile directory.
cargo build --release -p login -p activation -p profile -p addresses -p password-reset -p hello-world -p hello-dynamodb
cargo build --profile bench-tool -p bench
# ARM64=1: also the arm64 bootstraps Lambda runs (cargo-lambda + zig from PyPI, as `make package`).
if [ "${ARM64:-0}" = 1 ]; then
  scripts/deploy-tools.sh
  PATH="$PWD/.venv-deploy/bin:$PATH" cargo lambda build --release --arm64 \
    --bin login --bin activation --bin profile --bin addresses --bin password-reset
  args+=(--arm64-dir "$target/lambda")
fi
port="$(scripts/dynamodb-local.sh free-port)"
pidfile=".local/dynamodb-bench-$port.pid"
trap 'scripts/dynamodb-local.sh stop "$pidfile"' EXIT
DYNAMODB_LOCAL_PEAK=1 scripts/dynamodb-local.sh start "$port" "$pidfile" ".local/dynamodb-bench.log"
export AWS_REGION=us-east-1
export RUST_LOG="${RUST_LOG:-warn}"
"$target/bench-tool/bench" --endpoint "http://127.0.0.1:$port" --bin-dir "$target/release" \
  --out target/bench/results.json "${args[@]}"
