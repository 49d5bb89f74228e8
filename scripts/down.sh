#!/usr/bin/env bash
# Stops the khlang binaries (SIGTERM: they drain and commit), then the infrastructure.
#
#   scripts/down.sh               everything
#   scripts/down.sh --keep-infra  only the khlang binaries; Kafka, the registry,
#                                 PostgreSQL and Redis keep running (scripts/test.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
home=${KHLANG_HOME:-$(pwd)/.khlang}
keep_infra=0
case "${1:-}" in
  "") ;;
  --keep-infra) keep_infra=1 ;;
  *)
    echo "usage: scripts/down.sh [--keep-infra]" >&2
    exit 2
    ;;
esac
# The ingress first, so that no new commands arrive while the processors drain.
for name in ingress users catalog stock; do
  pidfile=$home/run/$name.pid
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  fi
  rm -f "$pidfile"
done
if [ "$keep_infra" -eq 0 ]; then
  scripts/infra/down.sh
fi
