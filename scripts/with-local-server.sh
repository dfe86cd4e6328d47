#!/usr/bin/env bash
# Runs a command against `accounts serve` on a free port, over the DynamoDB
# Local that DYNAMODB_ENDPOINT names, with a table, outbox and key file of
# its own: `scripts/with-local-server.sh NAME COMMAND...`. The command gets
# ACCOUNTS_URL, ACCOUNTS_OUTBOX and a scratch folder (ACCOUNTS_SCRATCH), and
# ACCOUNTS_BIN and ACCOUNTS_TABLE for operator commands on the same table
# (`TABLE_NAME=$ACCOUNTS_TABLE $ACCOUNTS_BIN tenant patch ...`); the server
# stops, and the folder goes, when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DYNAMODB_ENDPOINT:?set DYNAMODB_ENDPOINT to a running DynamoDB Local}"
name="$1"
shift
scratch="$(mktemp -d)"
port="$(scripts/dynamodb-local.sh free-port)"
# `make test` built it already (ACCOUNTS_BUILT), and runs clippy meanwhile:
# a build here would wait for clippy's lock on the target folder.
[ -n "${ACCOUNTS_BUILT:-}" ] || cargo build --quiet --bin accounts
TABLE_NAME="$name-$port" OUTBOX_DIR="$scratch/outbox" SIGNING_KEYS_FILE="$scratch/keys.json" \
  ISSUER_BASE_URL="http://127.0.0.1:$port" LOG_FORMAT=text RUST_LOG=warn \
  "${CARGO_TARGET_DIR:-target}/debug/accounts" serve --port "$port" > "$scratch/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$scratch"' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/.well-known/jwks.json" >/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$scratch/serve.log"; exit 1; }
  sleep 0.2
done
ACCOUNTS_URL="http://127.0.0.1:$port" ACCOUNTS_OUTBOX="$scratch/outbox" ACCOUNTS_SCRATCH="$scratch" \
  ACCOUNTS_BIN="${CARGO_TARGET_DIR:-target}/debug/accounts" ACCOUNTS_TABLE="$name-$port" "$@"
