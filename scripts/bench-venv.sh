#!/usr/bin/env bash
# A project-local Python venv (.venv-bench) with the reference stack make bench
# compares against: fastapi-users' example app (bench/reference/app.py) on uvicorn.
# Prints the venv's bin directory. Reinstalls only when requirements change.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv-bench"
req="$root/bench/reference/requirements.txt"
stamp="$venv/.requirements-bench.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req" >&2
  echo "$want" >"$stamp"
fi
echo "$venv/bin"
