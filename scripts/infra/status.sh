#!/usr/bin/env bash
# Print one line per service (kafka, registry, postgres, redis).
# Exit 0 when all four are up, 3 otherwise.
set -euo pipefail
SERVICE=status
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

khl_init
rc=0
for s in kafka registry postgres redis; do
    "$INFRA_DIR/$s.sh" status || rc=3
done
if [[ -f "$KHLANG_HOME/env" ]]; then
    echo "env file: $KHLANG_HOME/env   logs: $LOG_DIR/"
else
    echo "env file: none yet (run scripts/infra/up.sh)   logs: $LOG_DIR/"
fi
exit "$rc"
