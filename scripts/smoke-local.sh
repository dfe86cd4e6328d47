#!/usr/bin/env bash
# The smoke test (scripts/smoke.py) against `accounts serve` on a free port,
# over the DynamoDB Local that DYNAMODB_ENDPOINT names (make test starts it).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DYNAMODB_ENDPOINT:?set DYNAMODB_ENDPOINT to a running DynamoDB Local}"
scratch="$(mktemp -d)"
port="$(scripts/dynamodb-local.sh free-port)"
cargo build --quiet --bin accounts
TABLE_NAME="smoke-$port" OUTBOX_DIR="$scratch/outbox" SIGNING_KEYS_FILE="$scratch/keys.json" \
  ISSUER_BASE_URL="http://127.0.0.1:$port" LOG_FORMAT=text RUST_LOG=warn \
  "${CARGO_TARGET_DIR:-target}/debug/accounts" serve --port "$port" > "$scratch/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$scratch"' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/.well-known/jwks.json" >/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$scratch/serve.log"; exit 1; }
  sleep 0.2
done
python3 scripts/smoke.py --url "http://127.0.0.1:$port" --tenant demo --client storefront \
  --email demo@example.com --password demo-password-2026 --outbox "$scratch/outbox"
