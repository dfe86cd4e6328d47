#!/usr/bin/env bash
# The account pages in headless Chromium (Debian's package, driven by
# playwright-core): account-pages/test/walk.mjs against `accounts serve` on a
# free port, over the DynamoDB Local that DYNAMODB_ENDPOINT names. Screenshots
# go to target/account-pages/.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
scripts/account-pages.sh browser
scripts/account-pages.sh install
echo "account pages: chromium and npm packages ready in $(( $(date +%s) - start )) s"
exec scripts/with-local-server.sh pages node account-pages/test/walk.mjs
