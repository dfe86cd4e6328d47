#!/usr/bin/env bash
# `make test`: starts a DynamoDB Local and an SES v2 emulator (moto) of its own
# on free ports, runs every test of the workspace against them, stops them,
# with fmt and clippy beside the slow HTTP checks.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .local
port="$(scripts/dynamodb-local.sh free-port)"
pidfile=".local/dynamodb-test-$port.pid"
ses_port="$(scripts/dynamodb-local.sh free-port)"
ses_pidfile=".local/ses-test-$ses_port.pid"
trap 'jobs -p | xargs -r kill 2>/dev/null; scripts/dynamodb-local.sh stop "$pidfile"; scripts/ses-emulator.sh stop "$ses_pidfile"' EXIT
scripts/dynamodb-local.sh start "$port" "$pidfile" ".local/dynamodb-test.log"
echo "DynamoDB Local on 127.0.0.1:$port"
# The SES adapter's test (tests/tests/ses_mail.rs) sends through moto's SES v2. It
# starts (and its venv installs, the first time) while the tests build.
scripts/ses-emulator.sh start "$ses_port" "$ses_pidfile" ".local/ses-test.log" &
ses_starting=$!
# Chromium (apt) and the pages' npm packages install while the tests build, too.
(scripts/account-pages.sh browser && scripts/account-pages.sh install) > .local/browser-install.log 2>&1 &
browser_installing=$!
export SES_ENDPOINT="http://127.0.0.1:$ses_port" SES_EMULATOR_REQUIRED=1
export DYNAMODB_ENDPOINT="http://127.0.0.1:$port"
export AWS_REGION=us-east-1
export RUST_LOG="${RUST_LOG:-warn}"
cargo test --workspace --all-targets --no-run
# The Runtime API test (bench/src/main.rs) starts the login binary itself.
cargo build --quiet -p login
wait "$ses_starting"
echo "SES v2 emulator (moto) on 127.0.0.1:$ses_port"
cargo test --workspace --all-targets
# clippy runs beside the smoke test, the browser walk and schemathesis, which
# mostly wait on requests. It shares the target folder (build scripts and
# proc macros are the test build's), so nothing else may build meanwhile:
# the servers run the `accounts` binary built here first.
cargo fmt --all -- --check
cargo build --quiet --bin accounts
export ACCOUNTS_BUILT=1
cargo clippy --workspace --all-targets -- -D warnings > .local/clippy.log 2>&1 &
linting=$!
# The deploy checklist's smoke test, against the local server.
scripts/smoke-local.sh
# The account pages, walked in headless Chromium, beside schemathesis (each
# has a server and a table of its own; both mostly wait on requests).
wait "$browser_installing" || { cat .local/browser-install.log; exit 1; }
scripts/browser-test.sh > .local/browser-test.log 2>&1 &
walking=$!
# openapi.yaml is what the code does: schemathesis over it against the local server.
scripts/schemathesis.sh
wait "$walking" || { cat .local/browser-test.log; echo "the account pages' walk failed"; exit 1; }
cat .local/browser-test.log
# The deployment description: template.yaml lints clean, openapi.yaml is valid OpenAPI 3.1.
bin="$(scripts/venv.sh)"
"$bin/cfn-lint" --include-checks I -- template.yaml
"$bin/python" tests/template_domain.py
# Multi-region: the template with two replica regions and as a replica region's stack (and cfn-lint with replicas).
"$bin/python" tests/template_regions.py
"$bin/python" -c "from openapi_spec_validator import validate; from openapi_spec_validator.readers import read_from_filename; validate(read_from_filename('openapi.yaml')[0]); print('openapi.yaml is valid OpenAPI 3.1')"
wait "$linting" || { cat .local/clippy.log; echo "clippy found warnings"; exit 1; }
echo "fmt and clippy: clean"
