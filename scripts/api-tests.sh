#!/usr/bin/env bash
# The API tests, against the platform that scripts/up.sh runs: schemathesis
# checks the responses of every operation in the published OpenAPI document
# against that document, then the Robot Framework suites in robot/ walk
# through the API contract, and
# scripts/docs-screenshot.sh looks at the /docs page in headless Chromium.
# All run, so one failure does not hide another; the exit status is non-zero
# if any failed. Reports: target/schemathesis/ (JUnit XML), target/docs-page/
# (screenshots) and target/robot/ (log.html, report.html, output.xml).
#
#   KHLANG_API_URL             the ingress (default http://127.0.0.1:8080)
#   KHLANG_API_FUZZ_EXAMPLES   generated cases per operation (default 100:
#                              ~1100 requests for the users API, which take
#                              schemathesis 15-20 s on a 2-core machine)
#   KHLANG_API_FUZZ_ROLE_EXAMPLES  the same for each other role (default 10)
#
# The tools come from the venv that scripts/bootstrap.sh builds; the admin's
# credentials from $KHLANG_HOME/secrets/admin.txt, written by scripts/up.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
home=${KHLANG_HOME:-$root/.khlang}
api=${KHLANG_API_URL:-http://127.0.0.1:8080}
examples=${KHLANG_API_FUZZ_EXAMPLES:-100}
role_examples=${KHLANG_API_FUZZ_ROLE_EXAMPLES:-10}
venv=$home/venv
admin_file=$home/secrets/admin.txt

if [ ! -x "$venv/bin/st" ] || [ ! -x "$venv/bin/robot" ]; then
  echo "api-tests: no test tools in $venv; run scripts/bootstrap.sh" >&2
  exit 1
fi
if [ ! -r "$admin_file" ]; then
  echo "api-tests: no $admin_file; start the platform with scripts/up.sh" >&2
  exit 1
fi

# The Robot suites read these; the password never goes on a command line.
KHLANG_ADMIN_LOGIN=$(sed -n 's/^login=//p' "$admin_file")
KHLANG_ADMIN_PASSWORD=$(sed -n 's/^password=//p' "$admin_file")
KHLANG_API_URL=$api
export KHLANG_ADMIN_LOGIN KHLANG_ADMIN_PASSWORD KHLANG_API_URL

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# An access token for schemathesis. A 401 is retried a few times because the
# ingress may be ready a moment before the users processor has applied the
# bootstrap admin; only a few, because failed logins are throttled (5 per
# account and address in 5 minutes) and a throttled admin would fail the
# Robot suites too.
admin_token() {
  local body status failures=0 waited=0
  body=$("$venv/bin/python" -c 'import json, os
print(json.dumps({"login": os.environ["KHLANG_ADMIN_LOGIN"], "password": os.environ["KHLANG_ADMIN_PASSWORD"]}))')
  while :; do
    status=$(curl -sS -o "$tmp/login.json" -w '%{http_code}' --max-time 10 \
      -H 'Content-Type: application/json' --data-binary @- \
      "$api/v1/auth/login" <<<"$body" 2>"$tmp/curl.err") || status=000
    case $status in
      200)
        "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["access_token"])' <"$tmp/login.json"
        return
        ;;
      401) failures=$((failures + 1)) ;;
      000 | 503) ;; # not listening yet, or Kafka not yet reachable: no failed login
      *) break ;;
    esac
    if [ "$failures" -ge 3 ] || [ "$waited" -ge 60 ]; then break; fi
    sleep 4
    waited=$((waited + 4))
  done
  echo "api-tests: the admin ($KHLANG_ADMIN_LOGIN) cannot log in at $api: HTTP $status" >&2
  cat "$tmp/login.json" "$tmp/curl.err" >&2 2>/dev/null || true
  echo >&2
  return 1
}
token=$(admin_token)

# A user of the fuzzer's own: robot/schemathesis.toml puts its id, and the id
# of the command that created it, into the paths that need an id, so that
# those operations get past 404 and their 200 and 202 answers are checked
# too. The fuzzer may change that user in any way; nothing else uses it.
fuzz_ids=$(KHLANG_API_TOKEN=$token "$venv/bin/python" - <<'PY'
import os, secrets, time
import requests

api, token = os.environ["KHLANG_API_URL"], os.environ["KHLANG_API_TOKEN"]
auth = {"Authorization": f"Bearer {token}"}
name = f"fuzz{int(time.time())}{secrets.token_hex(3)}"
user = {"email": f"{name}@example.com", "username": name, "display_name": "Schemathesis",
        "password": secrets.token_urlsafe(18), "role": "report_viewer"}
resp = requests.post(f"{api}/v1/users", json=user, headers=auth, timeout=30)
if resp.status_code != 202:
    raise SystemExit(f"api-tests: creating the fuzzer's user: HTTP {resp.status_code} {resp.text}")
accepted = resp.json()
for _ in range(6):
    command = requests.get(f"{api}{accepted['location']}", params={"wait": 5}, headers=auth, timeout=30).json()
    if command["status"] != "pending":
        break
if command["status"] != "accepted":
    raise SystemExit(f"api-tests: creating the fuzzer's user: {command}")

# Its product too (robot/schemathesis.toml puts FUZZ-PRODUCT into the paths
# with a SKU), made once per database; the fuzzer may change or discontinue it.
sku = "FUZZ-PRODUCT"
if requests.get(f"{api}/v1/products/{sku}", headers=auth, timeout=30).status_code == 404:
    product = {"sku": sku, "name_th": "สินค้าของ schemathesis", "name_en": "Schemathesis product",
               "category": "fuzz", "unit": "ชิ้น", "barcodes": [], "price": "1.00", "cost": "0.50",
               "min_stock": 0}
    resp = requests.post(f"{api}/v1/products", json=product, headers=auth, timeout=30)
    if resp.status_code != 202:
        raise SystemExit(f"api-tests: creating the fuzzer's product: HTTP {resp.status_code} {resp.text}")
    for _ in range(6):
        created = requests.get(f"{api}{resp.json()['location']}", params={"wait": 5}, headers=auth, timeout=30).json()
        if created["status"] != "pending":
            break
    if created["status"] != "accepted" and created.get("reason_code") != "sku_exists":
        raise SystemExit(f"api-tests: creating the fuzzer's product: {created}")
print(accepted["user_id"], accepted["command_id"])

# The fuzzer runs again as the other roles (robot/schemathesis.toml has no
# per-role setting): a person per role and a service and a device account
# granted everything their kind may hold, made for the fuzzer alone. Their
# tokens go to the next lines of the output.
def wait(location):
    for _ in range(6):
        command = requests.get(f"{api}{location}", params={"wait": 5}, headers=auth, timeout=30).json()
        if command["status"] != "pending":
            return command
    return command

def login(who, password):
    resp = requests.post(f"{api}/v1/auth/login", json={"login": who, "password": password}, timeout=30)
    if resp.status_code != 200:
        raise SystemExit(f"api-tests: {who} cannot log in: HTTP {resp.status_code} {resp.text}")
    return resp.json()["access_token"]

for role in ["manager", "warehouse_staff", "report_viewer"]:
    who, password = f"{name}{role[:3]}", secrets.token_urlsafe(18)
    body = {"email": f"{who}@example.com", "username": who, "display_name": f"Schemathesis {role}",
            "password": password, "role": role}
    resp = requests.post(f"{api}/v1/users", json=body, headers=auth, timeout=30)
    if resp.status_code != 202 or wait(resp.json()["location"])["status"] != "accepted":
        raise SystemExit(f"api-tests: creating the fuzzer's {role}: HTTP {resp.status_code} {resp.text}")
    print(role, login(who, password))
for kind, scopes in [("service", ["catalog:read", "catalog:write", "stock:read", "stock:write", "reports:read"]),
                     ("device", ["catalog:read", "stock:read", "scans:write"])]:
    who = f"{name}{kind[:3]}"
    body = {"username": who, "display_name": f"Schemathesis {kind}", "kind": kind, "scopes": scopes}
    resp = requests.post(f"{api}/v1/service-accounts", json=body, headers=auth, timeout=30)
    if resp.status_code != 202 or wait(resp.json()["location"])["status"] != "accepted":
        raise SystemExit(f"api-tests: creating the fuzzer's {kind}: HTTP {resp.status_code} {resp.text}")
    print(kind, login(who, resp.json()["client_secret"]))
PY
)
read -r KHLANG_FUZZ_USER_ID KHLANG_FUZZ_COMMAND_ID <<<"$(head -n 1 <<<"$fuzz_ids")"
export KHLANG_FUZZ_USER_ID KHLANG_FUZZ_COMMAND_ID
role_tokens=$(tail -n +2 <<<"$fuzz_ids")

# Checks: all of them, among them that data valid by the document is
# accepted (positive_data_acceptance) and data it forbids is refused
# (negative_data_rejection), so that a client generated from the document
# never sends what the server refuses. First as the admin (every operation
# past authorization), then as each other role with fewer cases (mostly 403,
# which must also be documented).
# Phases: no stateful testing. It chains ids from responses into later
# requests, and as the admin would change the password of, demote or
# deactivate real users (the admin included); robot/schemathesis.toml turns
# off the same reuse in the other phases.
# POST /v1/auth/logout is left out: it would revoke the very session the
# fuzzer authenticates with, and every later request would be a 401.
# Run from the report directory: schemathesis keeps its cache (.schemathesis/)
# and Hypothesis its database of failing cases (.hypothesis/, replayed first
# on the next run) in the working directory.
fuzz() { # role token examples [more st options]
  local role=$1 role_token=$2 cases=$3
  shift 3
  echo "== schemathesis as $role: $api/openapi.json, up to $cases generated cases per operation"
  mkdir -p "target/schemathesis/$role"
  (
    cd "target/schemathesis/$role"
    KHLANG_FUZZ_TOKEN=$role_token PYTHONPATH="$root/robot${PYTHONPATH:+:$PYTHONPATH}" \
      SCHEMATHESIS_HOOKS=schemathesis_hooks \
      "$venv/bin/st" --config-file "$root/robot/schemathesis.toml" run "$api/openapi.json" \
      --url "$api" \
      --checks all \
      --phases examples,coverage,fuzzing \
      --max-examples "$cases" \
      --exclude-path /v1/auth/logout \
      --wait-for-schema 30 \
      --request-timeout 30 \
      --report junit --report-dir . "$@"
  )
}
mkdir -p target/schemathesis target/robot
st_status=0
fuzz admin "$token" "$examples" || st_status=$?
while read -r role role_token; do
  # The public operations answer every role alike, and failed logins are
  # throttled per address: one run of them (as the admin) is enough.
  fuzz "$role" "$role_token" "$role_examples" \
    --exclude-path /v1/auth/login --exclude-path /v1/auth/refresh \
    --exclude-path /.well-known/jwks.json || st_status=$?
done <<<"$role_tokens"

echo "== the docs page in headless Chromium: scripts/docs-screenshot.sh"
docs_status=0
KHLANG_API_URL=$api scripts/docs-screenshot.sh || docs_status=$?

echo "== Robot Framework: robot/"
robot_status=0
"$venv/bin/robot" --outputdir target/robot --consolewidth 100 robot/ || robot_status=$?

if [ "$st_status" -ne 0 ] || [ "$docs_status" -ne 0 ] || [ "$robot_status" -ne 0 ]; then
  echo "api-tests: FAILED (schemathesis exit $st_status: target/schemathesis/;" \
    "docs page exit $docs_status: target/docs-page/;" \
    "robot exit $robot_status: target/robot/log.html)" >&2
  exit 1
fi
echo "api-tests: passed"
