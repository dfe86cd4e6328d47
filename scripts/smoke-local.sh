#!/usr/bin/env bash
# The smoke test (scripts/smoke.py) against `accounts serve` on a free port,
# over the DynamoDB Local that DYNAMODB_ENDPOINT names (make test starts it).
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/with-local-server.sh smoke bash -c 'python3 scripts/smoke.py --url "$ACCOUNTS_URL" --tenant demo \
  --client storefront --email demo@example.com --password demo-password-2026 --outbox "$ACCOUNTS_OUTBOX"'
