#!/usr/bin/env bash
# A project-local Python venv with pinned tools; prints its bin directory and
# reinstalls only when the requirements change.
#   scripts/venv.sh                 .venv: cfn-lint and openapi-spec-validator (make test)
#   scripts/venv.sh .venv-bench bench/reference/requirements.txt
#                                   the reference stack make bench compares against
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/${1:-.venv}"
req="$root/${2:-scripts/requirements-check.txt}"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$req" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req" >&2
  echo "$want" >"$stamp"
fi
echo "$venv/bin"
