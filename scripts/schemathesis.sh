#!/usr/bin/env bash
# `make test`: schemathesis (from PyPI, in the project venv) over openapi.yaml
# against `accounts serve` on a free port, over the DynamoDB Local that
# DYNAMODB_ENDPOINT names: every check (all are on unless the config turns
# one off for an operation), a fixed seed, a bounded number of
# examples (tests/schemathesis/schemathesis.toml). Fails on any 5xx or any
# answer the spec does not describe.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(scripts/venv.sh)"
root="$PWD"
# shellcheck disable=SC2016 # expanded by the inner shell, with the server's URL
exec scripts/with-local-server.sh schemathesis bash -c 'cd "$ACCOUNTS_SCRATCH" && \
  PYTHONPATH="$0/tests/schemathesis" SCHEMATHESIS_HOOKS=hooks "$1/schemathesis" \
  --config-file "$0/tests/schemathesis/schemathesis.toml" run "$0/openapi.yaml" --url "$ACCOUNTS_URL" \
  --no-color "${@:2}"' "$root" "$bin" "$@"
