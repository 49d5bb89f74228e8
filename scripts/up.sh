#!/usr/bin/env bash
# Runs the whole platform on this machine with demo data: the infrastructure,
# the topics and schemas, every khlang binary built so far, then prints
# where each endpoint is and the demo admin's credentials. Idempotent: what
# already runs is reused.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export KHLANG_HOME=${KHLANG_HOME:-$root/.khlang}
home=$KHLANG_HOME

scripts/bootstrap.sh
scripts/infra/up.sh
# shellcheck disable=SC1091
source "$home/env"

echo "== building khlang"
cargo build --workspace --bins
bin=$root/target/debug

echo "== topics and schemas"
"$bin/khlangctl" topics apply --yes
"$bin/khlangctl" schemas register

# shellcheck source=lib/proc.sh
source scripts/lib/proc.sh
# start_service NAME TELEMETRY_PORT COMMAND...: started (or reused) with a
# pid file and log in $home, then ready when its /health/ready answers.
start_service() {
  local name=$1 port=$2
  shift 2
  proc_start "$name" env KHLANG__TELEMETRY_LISTEN="127.0.0.1:$port" "$@"
  proc_wait_ready "$name" "http://127.0.0.1:$port/health/ready" 60 || exit 1
}
start_service users 9101 "$bin/khlang-users"
start_service catalog 9102 "$bin/khlang-catalog"
start_service stock 9103 "$bin/khlang-stock"

# The ingress, the HTTP API. Its signing keys (made by the ingress on first
# start) and the first admin's password are generated on this machine, once,
# and kept in $home/secrets; the ingress creates that admin at startup if no
# active admin exists. No newline in the password file: it holds the
# password, byte for byte.
secrets=$home/secrets
mkdir -p "$secrets/jwt"
chmod 700 "$secrets" "$secrets/jwt"
admin_login=admin@khlang.local
if [ ! -s "$secrets/admin-password" ]; then
  (umask 077 && openssl rand -base64 18 | tr -d '\n' >"$secrets/admin-password")
fi
admin_password=$(cat "$secrets/admin-password")
# For scripts/api-tests.sh and for people: where to log in as the admin.
(umask 077 && printf 'login=%s\npassword=%s\n' "$admin_login" "$admin_password" >"$secrets/admin.txt")
start_service ingress 9100 env \
  KHLANG__AUTH__KEYS_DIR="$secrets/jwt" \
  KHLANG_BOOTSTRAP_ADMIN_EMAIL="$admin_login" \
  KHLANG_BOOTSTRAP_ADMIN_PASSWORD_FILE="$secrets/admin-password" \
  "$bin/khlang-ingress"

echo "== demo data"
"$bin/khlang-seed-demo" --admin-file "$secrets/admin.txt" --out "$secrets/demo-users.txt"

cat <<TXT

khlang is up.
  Kafka              $KHLANG_KAFKA_BROKERS
  Schema registry    $KHLANG_REGISTRY_URL
  PostgreSQL         (URL with password in $home/env)
  Redis              (URL with password in $home/env)
  users processor    http://127.0.0.1:9101/metrics  /health/live  /health/ready
  catalog processor  http://127.0.0.1:9102/metrics  /health/live  /health/ready
  stock processor    http://127.0.0.1:9103/metrics  /health/live  /health/ready
  ingress (the API)  http://127.0.0.1:8080
    API docs         http://127.0.0.1:8080/docs
    OpenAPI          http://127.0.0.1:8080/openapi.json
    telemetry        http://127.0.0.1:9100/metrics  /health/live  /health/ready
  demo admin         login $admin_login  password $admin_password
                     (generated for this machine; also in $secrets/admin.txt)
  demo accounts      $secrets/demo-users.txt (manager, staff, viewer, erp, scanner01;
                     passwords and secrets generated for this machine)
  logs               $home/logs/
Stop everything with: make down
TXT
for name in users catalog stock ingress; do proc_status "$name"; done
