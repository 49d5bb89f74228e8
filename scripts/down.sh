#!/usr/bin/env bash
# Stops the khlang binaries (SIGTERM: they drain and commit), then the infrastructure.
#
#   scripts/down.sh               everything
#   scripts/down.sh --keep-infra  only the khlang binaries; Kafka, the registry,
#                                 PostgreSQL and Redis keep running (scripts/test.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
export KHLANG_HOME=${KHLANG_HOME:-$(pwd)/.khlang}
keep_infra=0
case "${1:-}" in
  "") ;;
  --keep-infra) keep_infra=1 ;;
  *)
    echo "usage: scripts/down.sh [--keep-infra]" >&2
    exit 2
    ;;
esac
# shellcheck source=lib/proc.sh
source scripts/lib/proc.sh
# The ingress first, so that no new commands arrive while the processors
# drain; each gets 30 s to commit and exit before SIGKILL.
for name in ingress users catalog stock; do
  proc_stop "$name" 30 || true
done
if [ "$keep_infra" -eq 0 ]; then
  scripts/infra/down.sh
fi
