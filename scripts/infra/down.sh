#!/usr/bin/env bash
# Stop everything scripts/infra/up.sh started (clean shutdowns; data is kept).
#
#   scripts/infra/down.sh           stop registry, Kafka, Redis, PostgreSQL
#   scripts/infra/down.sh --purge   stop, then delete their data (Kafka log
#                                   dirs, registry H2, PostgreSQL cluster, Redis
#                                   AOF) and the env file; keeps secrets, logs
#                                   and the download cache
set -euo pipefail
SERVICE=down
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

purge=0
case "${1:-}" in
    "") ;;
    --purge) purge=1 ;;
    *)
        echo "usage: scripts/infra/down.sh [--purge]" >&2
        exit 2
        ;;
esac

khl_init
failed=()
for s in registry kafka redis postgres; do
    rc=0
    "$INFRA_DIR/$s.sh" stop || rc=$?
    # 4: the port is served by something not started from this KHLANG_HOME;
    # it is not ours to stop, and nothing of ours runs, so that is fine here.
    ((rc == 0 || rc == 4)) || failed+=("$s")
done
((${#failed[@]} == 0)) || die "could not stop: ${failed[*]} (messages above; logs in $LOG_DIR)"

if ((purge)); then
    info "deleting service data under $KHLANG_HOME"
    for d in pg redis; do
        # Relocated for an OS user that cannot traverse KHLANG_HOME (lib.sh service_dirs).
        if [[ -L "$KHLANG_HOME/$d" ]]; then
            rm -rf "$(readlink -f "$KHLANG_HOME/$d")"
            rm -f "$LOG_DIR/postgres.log" "$LOG_DIR/redis.log"
        fi
    done
    rm -rf "$KHLANG_HOME/kafka" "$KHLANG_HOME/registry" "$KHLANG_HOME/pg" \
        "$KHLANG_HOME/redis" "$KHLANG_HOME/env"
fi
info "all stopped"
