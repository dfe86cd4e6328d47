#!/usr/bin/env bash
# `make package`: `sam build` of every function (cargo-lambda, release, arm64,
# cross-compiled with zig), then the size of each bootstrap and its zip.
# Tools come from PyPI into .venv-deploy (aws-sam-cli, cargo-lambda + ziglang).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-deploy
scripts/deploy-tools.sh
# sam runs cargo-lambda, which needs the python that has ziglang first on PATH.
export PATH="$PWD/$venv/bin:$PATH"
export SAM_CLI_TELEMETRY=0
sam build --beta-features
printf '\n%-16s %12s %12s\n' function bootstrap zip
for dir in .aws-sam/build/*Function; do
  name="$(basename "$dir")"
  size="$(stat -c %s "$dir/bootstrap")"
  zipped="$(cd "$dir" && python3 -c 'import io,zipfile,sys; b=io.BytesIO(); z=zipfile.ZipFile(b,"w",zipfile.ZIP_DEFLATED); z.write("bootstrap"); z.close(); print(len(b.getvalue()))')"
  printf '%-16s %12s %12s\n' "$name" "$size" "$zipped"
done
