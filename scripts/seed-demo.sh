#!/usr/bin/env bash
# Demo data through the API, for scripts/up.sh (which runs it once the
# ingress is up): 3 warehouses and a dozen products with Thai names, valid
# EAN-13 barcodes and prices. It signs in as the demo admin
# ($KHLANG_HOME/secrets/admin.txt, written by scripts/up.sh) and writes only
# through the public API, like any client, so the data goes through Kafka and
# the processors.
#
# Idempotent: what already exists is left alone (a product or warehouse that
# someone changed since keeps the change), and every write carries its own
# Idempotency-Key, so a run that is interrupted and started again publishes
# each command at most once.
#
#   KHLANG_API_URL   the ingress (default http://127.0.0.1:8080)
#
# Needs only python3 (its standard library).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
home=${KHLANG_HOME:-$root/.khlang}
KHLANG_API_URL=${KHLANG_API_URL:-http://127.0.0.1:8080}
KHLANG_ADMIN_FILE=$home/secrets/admin.txt
export KHLANG_API_URL KHLANG_ADMIN_FILE

if [ ! -r "$KHLANG_ADMIN_FILE" ]; then
  echo "seed-demo: no $KHLANG_ADMIN_FILE; start the platform with scripts/up.sh" >&2
  exit 1
fi

exec python3 - <<'PY'
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

API = os.environ["KHLANG_API_URL"].rstrip("/")

WAREHOUSES = [
    # code, name_th, name_en, address
    ("BKK1", "คลังกรุงเทพ (บางนา)", "Bangkok (Bang Na)",
     "99 ถนนบางนา-ตราด แขวงบางนา เขตบางนา กรุงเทพฯ 10260"),
    ("CNX1", "คลังเชียงใหม่", "Chiang Mai",
     "199 ถนนซุปเปอร์ไฮเวย์ ตำบลป่าตัน อำเภอเมือง เชียงใหม่ 50300"),
    ("HKT1", "คลังภูเก็ต", "Phuket",
     "45 ถนนเทพกระษัตรี ตำบลรัษฎา อำเภอเมือง ภูเก็ต 83000"),
]

PRODUCTS = [
    # sku, name_th, name_en, category, unit, barcode (EAN-13), price, cost, min_stock
    ("WATER-600", "น้ำดื่ม 600 มล.", "Drinking water 600 ml",
     "เครื่องดื่ม", "ขวด", "8851234000012", "7.00", "4.50", 120),
    ("WATER-1500", "น้ำดื่ม 1.5 ลิตร", "Drinking water 1.5 l",
     "เครื่องดื่ม", "ขวด", "8851234000029", "14.00", "9.00", 60),
    ("GREENTEA-500", "ชาเขียวพร้อมดื่ม 500 มล.", "Green tea 500 ml",
     "เครื่องดื่ม", "ขวด", "8851234000036", "20.00", "13.50", 48),
    ("COFFEE-3IN1-27", "กาแฟปรุงสำเร็จ 3in1 (27 ซอง)", "3-in-1 instant coffee, 27 sachets",
     "เครื่องดื่ม", "แพ็ก", "8851234000043", "125.50", "98.00", 20),
    ("RICE-HOMMALI-5KG", "ข้าวหอมมะลิ 5 กก.", "Hom Mali jasmine rice 5 kg",
     "ข้าวและธัญพืช", "ถุง", "8851234000050", "185.00", "150.00", 30),
    ("RICE-STICKY-2KG", "ข้าวเหนียว 2 กก.", "Glutinous rice 2 kg",
     "ข้าวและธัญพืช", "ถุง", "8851234000067", "79.00", "61.25", 20),
    ("FISHSAUCE-700", "น้ำปลาแท้ 700 มล.", "Fish sauce 700 ml",
     "เครื่องปรุง", "ขวด", "8851234000074", "35.00", "26.00", 36),
    ("SUGAR-1KG", "น้ำตาลทรายขาว 1 กก.", "White sugar 1 kg",
     "เครื่องปรุง", "ถุง", "8851234000081", "26.00", "21.50", 40),
    ("CHILIPASTE-200", "น้ำพริกเผา 200 ก.", "Roasted chili paste 200 g",
     "เครื่องปรุง", "กระปุก", "8851234000098", "45.00", "32.00", 24),
    ("NOODLE-TOMYUM", "บะหมี่กึ่งสำเร็จรูป รสต้มยำกุ้ง", "Instant noodles, tom yum goong",
     "อาหารแห้ง", "ซอง", "8851234000104", "6.00", "4.20", 200),
    ("SOAP-JASMINE", "สบู่ก้อนกลิ่นมะลิ 100 ก.", "Jasmine soap bar 100 g",
     "ของใช้ในบ้าน", "ก้อน", "8851234000111", "19.00", "12.00", 50),
    ("DETERGENT-900", "ผงซักฟอก 900 ก.", "Washing powder 900 g",
     "ของใช้ในบ้าน", "ถุง", "8851234000128", "89.00", "68.75", 24),
]


def fail(message):
    print(f"seed-demo: {message}", file=sys.stderr)
    sys.exit(1)


def call(method, path, token=None, body=None, key=None):
    """(status, JSON body or None); a connection failure is status 0."""
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if key:
        headers["Idempotency-Key"] = key
    request = urllib.request.Request(API + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        try:
            return error.code, json.loads(error.read() or b"null")
        except ValueError:
            return error.code, None
    except (urllib.error.URLError, OSError):
        return 0, None


def login():
    """The admin's access token. A 401 is retried a few times: the ingress
    may be ready a moment before the users processor has applied the
    bootstrap admin. Only a few, because failed logins are throttled."""
    with open(os.environ["KHLANG_ADMIN_FILE"], encoding="utf-8") as f:
        fields = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
    body = {"login": fields.get("login", ""), "password": fields.get("password", "")}
    failures, waited = 0, 0
    while True:
        status, answer = call("POST", "/v1/auth/login", body=body)
        if status == 200:
            return answer["access_token"]
        if status == 401:
            failures += 1
        elif status not in (0, 503):
            break
        if failures >= 3 or waited >= 60:
            break
        time.sleep(4)
        waited += 4
    fail(f"the admin ({body['login']}) cannot log in at {API}: HTTP {status} {answer}")


def exists(token, path):
    status, answer = call("GET", path, token)
    if status == 200:
        return True
    if status == 404:
        return False
    fail(f"GET {path}: HTTP {status} {answer}")


def write(token, method, path, body, key):
    """Publishes one command; its id."""
    for _ in range(5):
        status, answer = call(method, path, token, body, key)
        if status == 202:
            return answer["command_id"]
        if status in (0, 409, 503):  # in flight, or Kafka not ready: same key again
            time.sleep(2)
            continue
        break
    fail(f"{method} {path}: HTTP {status} {answer}")


def wait_for(token, commands):
    """Waits for every command's outcome. A product that exists by now
    (created by a concurrent run) is fine; any other rejection is not."""
    for what, command_id in commands:
        for _ in range(12):
            status, answer = call("GET", f"/v1/commands/{command_id}?wait=5", token)
            if status == 200 and answer["status"] != "pending":
                break
        else:
            fail(f"{what}: command {command_id} is still pending; is the catalog processor running?")
        if answer["status"] == "rejected" and answer.get("reason_code") != "sku_exists":
            fail(f"{what}: rejected: {answer.get('reason_code')} {answer.get('message')}")


def seed_catalog(token):
    commands, kept = [], 0
    for code, name_th, name_en, address in WAREHOUSES:
        path = f"/v1/warehouses/{code}"
        if exists(token, path):
            kept += 1
            continue
        body = {"name_th": name_th, "name_en": name_en, "address": address, "active": True}
        commands.append((f"warehouse {code}",
                         write(token, "PUT", path, body, f"seed-demo-warehouse-{code}")))
    for sku, name_th, name_en, category, unit, barcode, price, cost, min_stock in PRODUCTS:
        if exists(token, f"/v1/products/{urllib.parse.quote(sku)}"):
            kept += 1
            continue
        body = {
            "sku": sku, "name_th": name_th, "name_en": name_en, "category": category,
            "unit": unit, "barcodes": [barcode], "price": price, "cost": cost,
            "min_stock": min_stock,
        }
        commands.append((f"product {sku}",
                         write(token, "POST", "/v1/products", body, f"seed-demo-product-{sku}")))
    wait_for(token, commands)
    print(f"demo catalog: {len(WAREHOUSES)} warehouses, {len(PRODUCTS)} products "
          f"({len(commands)} created, {kept} already there)")


# ---------------------------------------------------------------------------
# Stock: receipts into every warehouse, a transfer, a damaged-goods
# adjustment, an open reservation, and one product left below its minimum
# (so a LowStock event shows up). Skipped when the ledger already has the
# demo's first receipt; each movement has its own Idempotency-Key.
def seed_stock(token):
    status, page = call("GET", "/v1/stock/ledger?movement=Received&page_size=1", token)
    if status == 200 and page["items"]:
        print("demo stock: already there")
        return
    commands = []
    for i, (sku, *_rest, min_stock) in enumerate(PRODUCTS):
        for j, (code, *_w) in enumerate(WAREHOUSES):
            # the last product stays below its minimum in HKT1
            quantity = min_stock * (3 + (i + j) % 4)
            if i == len(PRODUCTS) - 1 and code == "HKT1":
                quantity = max(min_stock // 2, 1)
            body = {"sku": sku, "warehouse": code, "quantity": quantity,
                    "reference": f"PO-DEMO-{i + 1:03d}"}
            commands.append((f"receipt {sku}@{code}",
                             write(token, "POST", "/v1/stock/receipts", body,
                                   f"seed-demo-receipt-{sku}-{code}")))
    wait_for(token, commands)
    first = PRODUCTS[0][0]
    movements = [
        ("/v1/stock/transfers", {"transfer_id": "DEMO-T1", "sku": first, "from_warehouse": "BKK1",
                                 "to_warehouse": "CNX1", "quantity": 24}),
        ("/v1/stock/adjustments", {"sku": first, "warehouse": "BKK1", "delta": -6,
                                   "reason": "damaged", "note": "แพ็กแตกระหว่างขนย้าย"}),
        ("/v1/stock/reservations", {"reservation_id": "DEMO-R1", "sku": first, "warehouse": "BKK1",
                                    "quantity": 12, "ttl_seconds": 86400, "order_ref": "SO-DEMO-1/1"}),
    ]
    commands = [(path, write(token, "POST", path, body, f"seed-demo-{path.rsplit('/', 1)[-1]}"))
                for path, body in movements]
    wait_for(token, commands)
    print(f"demo stock: {len(PRODUCTS) * len(WAREHOUSES)} receipts, a transfer BKK1 -> CNX1 "
          f"(in transit: receive it with POST /v1/stock/transfers/DEMO-T1/receive), "
          f"an adjustment and a reservation")


token = login()
seed_catalog(token)
seed_stock(token)
PY
