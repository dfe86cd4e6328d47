#!/usr/bin/env bash
# `make test`: schemathesis (from PyPI, in the project venv) over openapi.yaml
# against `accounts serve` on a free port, over the DynamoDB Local that
# DYNAMODB_ENDPOINT names: every check, a fixed seed, a bounded number of
# examples (tests/schemathesis/schemathesis.toml). Fails on any 5xx or any
# answer the spec does not describe.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DYNAMODB_ENDPOINT:?set DYNAMODB_ENDPOINT to a running DynamoDB Local}"
bin="$(scripts/venv.sh)"
scratch="$(mktemp -d)"
port="$(scripts/dynamodb-local.sh free-port)"
cargo build --quiet --bin accounts
TABLE_NAME="schemathesis-$port" OUTBOX_DIR="$scratch/outbox" SIGNING_KEYS_FILE="$scratch/keys.json" \
  ISSUER_BASE_URL="http://127.0.0.1:$port" LOG_FORMAT=text RUST_LOG=warn \
  "${CARGO_TARGET_DIR:-target}/debug/accounts" serve --port "$port" > "$scratch/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$scratch"' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/.well-known/jwks.json" >/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$scratch/serve.log"; exit 1; }
  sleep 0.2
done
cd "$scratch"
ACCOUNTS_URL="http://127.0.0.1:$port" PYTHONPATH="$OLDPWD/tests/schemathesis" SCHEMATHESIS_HOOKS=hooks \
  "$bin/schemathesis" --config-file "$OLDPWD/tests/schemathesis/schemathesis.toml" \
  run "$OLDPWD/openapi.yaml" --url "http://127.0.0.1:$port" --checks all --no-color "$@"
