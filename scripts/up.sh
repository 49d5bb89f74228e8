#!/usr/bin/env bash
# Runs the whole platform on this machine with demo data: the infrastructure,
# the topics and schemas, every khlang binary built so far, then prints
# where each endpoint is and the demo admin's credentials. Idempotent: what
# already runs is reused.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
home=${KHLANG_HOME:-$root/.khlang}

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

start_service() { # name port command...
  local name=$1 port=$2; shift 2
  local pidfile=$home/run/$name.pid log=$home/logs/$name.log
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "$name: already running (pid $(cat "$pidfile"))"
    return
  fi
  echo "$name: starting, log in $log"
  KHLANG__TELEMETRY_LISTEN=127.0.0.1:$port nohup "$@" >>"$log" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 1 60); do
    if curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null; then return; fi
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      echo "$name: exited during start; see $log" >&2; tail -n 20 "$log" >&2; exit 1
    fi
    sleep 1
  done
  echo "$name: not ready after 60 s; see $log" >&2
  exit 1
}
mkdir -p "$home/run" "$home/logs"
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
"$bin/khlang-seed-demo" --out "$secrets/demo-users.txt"
scripts/seed-demo.sh

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
  demo accounts      $secrets/demo-users.txt (passwords generated for this machine)
  logs               $home/logs/
Stop everything with: make down
TXT
