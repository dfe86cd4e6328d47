#!/usr/bin/env bash
# The account pages' tools: `scripts/account-pages.sh install` runs npm ci in
# account-pages/ (only when package-lock.json changed since the last one) and
# puts zxcvbn (the strength meter's estimator) and qrcode-generator (the QR
# code of an authenticator app's setup) into site/vendor/;
# `scripts/account-pages.sh browser` installs Debian's chromium when it is
# missing (apt-get, as root). Both return at once when done already.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=account-pages

install() {
  local stamp="$dir/node_modules/.lock-sha256" want
  want="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" > "$stamp"
  fi
  mkdir -p "$dir/site/vendor"
  vendor "$dir/node_modules/zxcvbn/dist/zxcvbn.js" zxcvbn.js
  # The ES module build, under .js: every static host serves that as JavaScript.
  vendor "$dir/node_modules/qrcode-generator/dist/qrcode.mjs" qrcode.js
}

vendor() {
  cmp -s "$1" "$dir/site/vendor/$2" || cp "$1" "$dir/site/vendor/$2"
}

browser() {
  if command -v "${CHROMIUM:-chromium}" >/dev/null 2>&1; then return; fi
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y -q --no-install-recommends chromium >/dev/null \
    || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q --no-install-recommends chromium >/dev/null; }
}

case "${1:-}" in
  install) install ;;
  browser) browser ;;
  *) echo "usage: $0 install|browser" >&2; exit 2 ;;
esac
