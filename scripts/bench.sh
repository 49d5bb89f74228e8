#!/usr/bin/env bash
# make bench: measures khlang on this machine beside the ceilings Kafka's own
# perf tools reach in the same run, and prints a Markdown table (also saved
# to target/bench/results.md). See docs/benchmark.md (Thai).
#
# Everything runs in its own corner: a fresh database khlang_bench_<ts>, the
# topic namespace bench<ts>. (topics, consumer groups), the Redis prefix
# bench<ts>:, release binaries on free ports. A platform started with
# `make up` keeps running untouched (it shares only the CPU). At the end
# the binaries are stopped and the database, topics, groups and keys go.
#
# Knobs (environment): BENCH_PERF_RECORDS (200000), BENCH_PREFILL (50000),
# BENCH_PRODUCTS (200), BENCH_WAREHOUSES (5), BENCH_CONCURRENCY (64),
# BENCH_SECONDS (20), BENCH_SCAN_BATCH (1000), BENCH_SCAN_CONCURRENCY (4),
# BENCH_SCAN_SECONDS (15), BENCH_E2E_RATE (1000), BENCH_E2E_SECONDS (15),
# BENCH_E2E_ITEMS (200), BENCH_E2E_POLL_US (1000), BENCH_E2E_LOW_RATE (200:
# a second e2e run below the aim's rate, first; 0 skips it),
# BENCH_E2E_LOW_SECONDS (20), BENCH_SKIP_BUILD (0),
# BENCH_KEEP (0: 1 keeps the database, topics and keys for a look).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
home=${KHLANG_HOME:-$root/.khlang}

perf_records=${BENCH_PERF_RECORDS:-200000}
prefill=${BENCH_PREFILL:-50000}
products=${BENCH_PRODUCTS:-200}
warehouses=${BENCH_WAREHOUSES:-5}
concurrency=${BENCH_CONCURRENCY:-64}
seconds=${BENCH_SECONDS:-20}
scan_batch=${BENCH_SCAN_BATCH:-1000}
scan_concurrency=${BENCH_SCAN_CONCURRENCY:-4}
scan_seconds=${BENCH_SCAN_SECONDS:-15}
e2e_rate=${BENCH_E2E_RATE:-1000}
e2e_seconds=${BENCH_E2E_SECONDS:-15}
e2e_items=${BENCH_E2E_ITEMS:-200}
e2e_poll_us=${BENCH_E2E_POLL_US:-1000}

step() { printf '\n== bench: %s (%s)\n' "$*" "$(date +%T)" >&2; }
t_start=$SECONDS

step "infrastructure"
scripts/bootstrap.sh
scripts/infra/up.sh
# shellcheck disable=SC1091
source "$home/env"

if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  step "release build"
  cargo build --release -p khlang-bench -p khlang-ingress -p khlang-stock -p khlang-catalog -p khlang-users
fi
bin=$root/target/release
bench=$bin/khlang-bench

ts=$(date +%Y%m%d%H%M%S)
ns=bench$ts
db=khlang_bench_$ts
prefix="$ns:"
out=$root/target/bench
run=$out/$ns
secrets=$run/secrets
mkdir -p "$run" "$secrets/jwt"
chmod 700 "$secrets" "$secrets/jwt"

# The binaries run through scripts/lib/proc.sh, with their pid files in
# $run/run and their logs in $run (NAME.log).
PROC_RUN_DIR=$run/run
PROC_LOG_DIR=$run
PROC_TAG=bench
# shellcheck source=lib/proc.sh
source scripts/lib/proc.sh
started=()
db_made=0
cleanup() {
  local rc=$?
  step "stopping and cleaning up"
  for name in "${started[@]}"; do
    proc_stop "$name" 15 || true
  done
  if [ "${BENCH_KEEP:-0}" = 1 ]; then
    echo "bench: kept database $db, topics $ns.*, redis keys $prefix* (BENCH_KEEP=1)" >&2
  else
    "$bench" cleanup --namespace "$ns" --redis-prefix "$prefix" || true
    if [ "$db_made" = 1 ]; then "$bench" db-drop --name "$db" || true; fi
  fi
  rm -rf "$secrets"
  echo "bench: done in $((SECONDS - t_start)) s; logs and results in $run" >&2
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Ports nobody listens on (the platform's 8080, 9100-9103 stay free for it).
used_ports=$(ss -ltnH 2>/dev/null | awk '{print $4}' | sed 's/.*://' | sort -u)
next_port=18080
pick_port() { # VAR
  while grep -qx "$next_port" <<<"$used_ports"; do next_port=$((next_port + 1)); done
  printf -v "$1" '%s' "$next_port"
  next_port=$((next_port + 1))
}
pick_port api_port
pick_port ingress_tport
pick_port users_tport
pick_port catalog_tport
pick_port stock_tport

# start NAME TELEMETRY_PORT [wait] COMMAND...: a release binary on the
# bench's database, namespace and Redis prefix, logging to $run/NAME.log.
start() {
  local name=$1 tport=$2 mode=$3
  shift 3
  proc_start "$name" env KHLANG_DATABASE_URL="$db_url" \
    KHLANG__TOPIC_NAMESPACE="$ns" \
    KHLANG__REDIS__PREFIX="$prefix" \
    KHLANG__SERVICE="$name-$ns" \
    KHLANG__TELEMETRY_LISTEN="127.0.0.1:$tport" \
    "$@"
  started+=("$name")
  [ "$mode" = wait ] || return 0
  proc_wait_ready "$name" "http://127.0.0.1:$tport/health/ready" 60 || exit 1
}

# memory NAME PHASE: the peak resident memory (VmHWM, kB) of a binary we
# started, since its start or the previous reading; then the peak is reset
# (clear_refs 5), so each reading covers one phase.
memory() {
  local pid
  pid=$(proc_pid "$1") && [ -r "/proc/$pid/status" ] || return 0
  awk -v n="$1" -v p="$2" '/^VmHWM:/ { print n, p, $2 }' "/proc/$pid/status" >>"$run/memory.txt"
  echo 5 >"/proc/$pid/clear_refs" 2>/dev/null || true
}

# cpu PHASE before|after: CPU time of every process, grouped (ours by pid).
cpu() {
  local args=() name pid
  for name in "${started[@]}"; do
    if pid=$(proc_pid "$name"); then args+=(--pid "khlang-$name=$pid"); fi
  done
  for name in kafka registry; do
    [ -r "$home/run/$name.pid" ] && args+=(--pid "$name=$(cat "$home/run/$name.pid")")
  done
  "$bench" cpu "${args[@]}" --database "$db" --out "$run/cpu-$1-$2.json"
}

stop() { proc_stop "$1" 15; } # NAME: SIGTERM (graceful), SIGKILL after 15 s

kafka_tool() { scripts/infra/kafka-run-class.sh "$@"; }

cat >"$run/meta.txt" <<EOF
started=$(date '+%Y-%m-%d %H:%M %Z')
host=$(hostname)
cpus=$(nproc)
kernel=$(uname -sr)
kafka=${KHLANG_KAFKA_VERSION:-4.1.1}
commit=$(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD 2>/dev/null || echo '+changes')
items=$((products * warehouses))
clk_tck=$(getconf CLK_TCK)
namespace=$ns
EOF

step "database $db, topics $ns.*"
db_url=$("$bench" db-create --name "$db")
db_made=1
"$bench" topics --namespace "$ns" --extra bench.producer-perf:12

step "ingress (:$api_port), users and catalog processors"
admin_login=bench-admin@khlang.invalid
(umask 077 && openssl rand -base64 24 | tr -d '\n' >"$secrets/admin-password")
start_ingress() {
  start ingress "$ingress_tport" wait \
    KHLANG__LISTEN="127.0.0.1:$api_port" \
    KHLANG__AUTH__KEYS_DIR="$secrets/jwt" \
    KHLANG_BOOTSTRAP_ADMIN_EMAIL="$admin_login" \
    KHLANG_BOOTSTRAP_ADMIN_PASSWORD_FILE="$secrets/admin-password" \
    "$bin/khlang-ingress"
}
start_ingress
start users "$users_tport" wait "$bin/khlang-users"
start catalog "$catalog_tport" wait "$bin/khlang-catalog"
base=http://127.0.0.1:$api_port
admin_args=(--base "$base" --login "$admin_login" --password-file "$secrets/admin-password")
grid=(--products "$products" --warehouses "$warehouses")

step "catalog: $warehouses warehouses, $products products, a scanner device"
"$bench" seed "${admin_args[@]}" "${grid[@]}" --device-out "$secrets/device"

step "pre-filling $prefill stock commands"
record_size=$("$bench" prefill --namespace "$ns" --records "$prefill" "${grid[@]}" --out "$run/prefill.json")

step "ceiling: Kafka ProducerPerformance, $perf_records × $record_size B, acks=all, idempotent"
kafka_tool producer-perf --topic "$ns.bench.producer-perf" --num-records "$perf_records" \
  --record-size "$record_size" --throughput -1 \
  --producer-props "bootstrap.servers=$KHLANG_KAFKA_BROKERS" acks=all enable.idempotence=true \
  | tee "$run/producer-perf.txt" | tail -n 1

step "ceiling: Kafka ConsumerPerformance on the pre-filled stock commands"
kafka_tool consumer-perf --bootstrap-server "$KHLANG_KAFKA_BROKERS" \
  --topic "$ns.khlang.stock.commands" --messages "$prefill" --group "cperf-$ns" --timeout 30000 \
  | tee "$run/consumer-perf.txt"

for name in ingress users catalog; do memory "$name" setup; done

step "khlang-stock applying the $prefill pre-filled commands"
cpu apply before
start stock "$stock_tport" nowait "$bin/khlang-stock"
"$bench" apply-wait --metrics "http://127.0.0.1:$stock_tport/metrics" --expect "$prefill" \
  --pid "$(proc_pid stock)" --out "$run/apply.json"
cpu apply after
memory stock apply

e2e() { # NAME RATE SECONDS
  cpu "$1" before
  "$bench" e2e "${admin_args[@]}" "${grid[@]}" --redis-prefix "$prefix" --rate "$2" \
    --seconds "$3" --items "$e2e_items" --poll-us "$e2e_poll_us" --out "$run/$1.json" \
    --samples "$run/$1-samples.csv"
  cpu "$1" after
  for name in ingress stock; do memory "$name" "$1"; done
}
e2e_low_rate=${BENCH_E2E_LOW_RATE:-200}
e2e_low_seconds=${BENCH_E2E_LOW_SECONDS:-20}
if [ "$e2e_low_rate" -gt 0 ]; then
  step "end to end, below the aim's rate: $e2e_low_rate receipts/s for $e2e_low_seconds s"
  e2e e2e-low "$e2e_low_rate" "$e2e_low_seconds"
fi
step "end to end: $e2e_rate receipts/s for $e2e_seconds s, 202 → Redis"
e2e e2e "$e2e_rate" "$e2e_seconds"
# The stock processor stops here: the loads below measure the ingress
# alone (on two cores, applying at the same time would halve both). The
# ingress starts afresh (same database, keys and admin): what an overloaded
# e2e run queued up (memory, connections) must not carry over.
stop stock
stop ingress
mv "$run/ingress.log" "$run/ingress-1.log"
start_ingress

step "sign-in latency (argon2id) and command 202 latency at a modest 200/s"
KHLANG_ADMIN_PASSWORD=$(cat "$secrets/admin-password") "$bench" ingress --base "$base" \
  --login "$admin_login" --logins 20 --commands 3000 --rate 200 | tee "$run/signin.md"

step "single commands: $concurrency connections, $seconds s"
cpu ingress before
"$bench" ingress-load "${admin_args[@]}" "${grid[@]}" --concurrency "$concurrency" \
  --seconds "$seconds" --out "$run/ingress.json"
cpu ingress after
memory ingress single

step "scanner batches: $scan_batch lines, $scan_concurrency at a time, $scan_seconds s"
cpu scans before
"$bench" scans-load --base "$base" --device-file "$secrets/device" "${grid[@]}" \
  --batch "$scan_batch" --concurrency "$scan_concurrency" --seconds "$scan_seconds" \
  --out "$run/scans.json"
cpu scans after
memory ingress scans
for name in users catalog; do memory "$name" end; done

step "results"
echo "stock_listoffsets_timeouts=$(grep -c 'Timed out ListOffsetsRequest' "$run/stock.log" || true)" >>"$run/meta.txt"
"$bench" report --dir "$run" --out "$run/results.md"
{ echo; cat "$run/signin.md"; } >>"$run/results.md"
cp "$run/results.md" "$out/results.md"
echo "bench: table saved to $out/results.md" >&2
