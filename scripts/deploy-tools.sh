#!/usr/bin/env bash
# aws-sam-cli and cargo-lambda (+ ziglang for arm64 cross builds) from PyPI
# into .venv-deploy, once.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-deploy
if [ ! -x "$venv/bin/sam" ] || [ ! -x "$venv/bin/cargo-lambda" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r scripts/requirements-deploy.txt
fi
