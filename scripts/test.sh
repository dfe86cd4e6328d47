#!/usr/bin/env bash
# `make test`: starts a DynamoDB Local of its own on a free port, runs every
# test of the workspace against it, stops it, then checks fmt and clippy.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .local
port="$(scripts/dynamodb-local.sh free-port)"
pidfile=".local/dynamodb-test-$port.pid"
trap 'scripts/dynamodb-local.sh stop "$pidfile"' EXIT
scripts/dynamodb-local.sh start "$port" "$pidfile" ".local/dynamodb-test.log"
echo "DynamoDB Local on 127.0.0.1:$port"
export DYNAMODB_ENDPOINT="http://127.0.0.1:$port"
export AWS_REGION=us-east-1
export RUST_LOG="${RUST_LOG:-warn}"
cargo test --workspace --all-targets
# The deploy checklist's smoke test, against the local server.
scripts/smoke-local.sh
# The account pages, walked in headless Chromium (installs chromium and the npm packages when missing).
scripts/browser-test.sh
# openapi.yaml is what the code does: schemathesis over it against the local server.
scripts/schemathesis.sh
# The deployment description: template.yaml lints clean, openapi.yaml is valid OpenAPI 3.1.
bin="$(scripts/venv.sh)"
"$bin/cfn-lint" --include-checks I -- template.yaml
"$bin/python" tests/template_domain.py
"$bin/python" -c "from openapi_spec_validator import validate; from openapi_spec_validator.readers import read_from_filename; validate(read_from_filename('openapi.yaml')[0]); print('openapi.yaml is valid OpenAPI 3.1')"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
