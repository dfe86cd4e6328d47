#!/usr/bin/env bash
# An SES v2 emulator for the SES adapter's test: moto's server mode (PyPI
# moto[server], pinned in scripts/requirements-ses.txt) in the venv .venv-ses.
#   scripts/ses-emulator.sh start PORT PIDFILE [LOG]  start on 127.0.0.1:PORT, wait until ready
#   scripts/ses-emulator.sh stop PIDFILE
# Sent messages: GET /moto-api/data.json (ses.Message); reset: POST /moto-api/reset.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

start() {
  local port="$1" pidfile log bin
  pidfile="$(realpath -m "$2")"
  log="$(realpath -m "${3:-/dev/null}")"
  mkdir -p "$(dirname "$pidfile")"
  bin="$("$root/scripts/venv.sh" .venv-ses scripts/requirements-ses.txt)"
  "$bin/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 1 150); do
    code="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/moto-api/data.json" || true)"
    [ "$code" = "200" ] && return 0
    kill -0 "$(cat "$pidfile")" 2>/dev/null || { echo "moto exited; see $log" >&2; exit 1; }
    sleep 0.2
  done
  echo "moto did not become ready on port $port" >&2
  exit 1
}

stop() {
  local pidfile="$1"
  [ -f "$pidfile" ] || return 0
  kill "$(cat "$pidfile")" 2>/dev/null || true
  rm -f "$pidfile"
}

cmd="${1:-}"; shift || true
case "$cmd" in
  start) start "$@" ;;
  stop) stop "$@" ;;
  *) echo "usage: $0 start PORT PIDFILE [LOG]|stop PIDFILE" >&2; exit 2 ;;
esac
