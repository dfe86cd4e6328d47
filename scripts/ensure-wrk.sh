#!/usr/bin/env bash
# Makes wrk (HTTP load generator, used by make bench) available on PATH.
# Installs Debian's package when it is missing; runs apt-get update only
# when a first install attempt fails (stale or empty package lists).
# Quiet when wrk is already there.
set -euo pipefail
if command -v wrk >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-wrk: wrk is not installed and apt-get is not available; install wrk by hand" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "ensure-wrk: wrk is not installed and we are not root (no sudo) to apt-get install it" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
echo "ensure-wrk: installing wrk with apt-get" >&2
if ! $sudo apt-get install -y -qq wrk >/dev/null 2>&1; then
  echo "ensure-wrk: first install failed; running apt-get update and retrying" >&2
  $sudo apt-get update -qq >&2 || true
  $sudo apt-get install -y -qq wrk >&2 || true
fi
if ! command -v wrk >/dev/null 2>&1; then
  echo "ensure-wrk: could not install wrk (apt-get install -y wrk failed); install it by hand" >&2
  exit 1
fi
