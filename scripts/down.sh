#!/usr/bin/env bash
# Stops the khlang binaries (SIGTERM: they drain and commit), then the infrastructure.
set -euo pipefail
cd "$(dirname "$0")/.."
home=${KHLANG_HOME:-$(pwd)/.khlang}
for pidfile in "$home"/run/users.pid; do
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  fi
  rm -f "$pidfile"
done
scripts/infra/down.sh
