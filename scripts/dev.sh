#!/usr/bin/env bash
# `make dev`: DynamoDB Local on 127.0.0.1:8000 (data kept in .local/dynamodb),
# then `accounts serve` on 127.0.0.1:3000 (PORT overrides). The server creates
# the table, the demo tenant, client and customer, and the signing key file.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .local/dynamodb
db_port="${DYNAMODB_PORT:-8000}"
pidfile=".local/dynamodb-dev.pid"
if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$db_port/" || true)" != "400" ]; then
  trap 'scripts/dynamodb-local.sh stop "$pidfile"' EXIT
  DYNAMODB_DATA_DIR=.local/dynamodb scripts/dynamodb-local.sh start "$db_port" "$pidfile" ".local/dynamodb-dev.log"
fi
# Swagger UI for /docs (optional: the page falls back to a link to /openapi.yaml).
if [ ! -f .tools/swagger-ui/swagger-ui-bundle.js ]; then
  tmp="$(mktemp -d)"
  if (cd "$tmp" && npm pack --silent swagger-ui-dist@5 >/dev/null 2>&1); then
    tar -xzf "$tmp"/*.tgz -C "$tmp" && mkdir -p .tools/swagger-ui \
      && cp "$tmp"/package/swagger-ui-bundle.js "$tmp"/package/swagger-ui.css .tools/swagger-ui/
  fi
  rm -rf "$tmp"
fi
# The account pages' vendored npm packages: zxcvbn (the strength meter; without it the pages check
# length only) and qrcode-generator (the authenticator QR code; without it the key and link remain).
scripts/account-pages.sh install || echo "account pages: npm ci failed, the strength meter checks length only and no QR code is drawn" >&2
export DYNAMODB_ENDPOINT="http://127.0.0.1:$db_port"
export AWS_REGION="${AWS_REGION:-us-east-1}"
export ISSUER_BASE_URL="${ISSUER_BASE_URL:-http://127.0.0.1:${PORT:-3000}}"
export LOG_FORMAT="${LOG_FORMAT:-text}"
cargo run --bin accounts -- serve
