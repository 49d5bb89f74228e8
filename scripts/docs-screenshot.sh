#!/usr/bin/env bash
# The /docs page as a person sees it: loads it in headless Chromium (with
# background networking off, so nothing from the internet can help it),
# takes screenshots, and checks the DOM that Swagger UI rendered: every tag
# of /openapi.json as a section, the table of contents, an operation opened
# by its deep link with its description rendered from Markdown (the scope it
# needs as <code>), its request body example, "Try it out" and Authorize.
#
#   KHLANG_API_URL   the ingress (default http://127.0.0.1:8080)
#   out dir          target/docs-page/ (docs.png, docs-operation.png and the
#                    DOMs as .html)
#
# Run by scripts/api-tests.sh against the platform scripts/up.sh runs;
# Chromium comes from scripts/bootstrap.sh (Debian package `chromium`).
set -euo pipefail
cd "$(dirname "$0")/.."
api=${KHLANG_API_URL:-http://127.0.0.1:8080}
out=target/docs-page
mkdir -p "$out"

browser=""
for candidate in chromium chromium-browser google-chrome; do
  if command -v "$candidate" >/dev/null 2>&1; then browser=$candidate; break; fi
done
if [ -z "$browser" ]; then
  echo "docs-screenshot: no chromium; run scripts/bootstrap.sh (Debian package chromium)" >&2
  exit 1
fi

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
# --virtual-time-budget lets the page's scripts run (fetch /openapi.json,
# render) before the DOM is dumped or the screenshot taken, without a sleep.
# A hard limit too: a wedged browser fails the check instead of the run.
chrome() {
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --no-first-run --disable-default-apps --disable-sync \
    --hide-scrollbars --user-data-dir="$profile" --window-size=1400,1800 \
    --disable-features=OptimizationGuideOnDeviceModel,OnDeviceModelService \
    --virtual-time-budget=10000 "$@" 2>>"$out/chromium.log"
}

failures=0
fail() { echo "docs-screenshot: $*" >&2; failures=$((failures + 1)); }

# The tags and operations to find, from the document the page renders.
curl -sSf --max-time 10 "$api/openapi.json" >"$out/openapi.json"
mapfile -t tags < <(python3 -c 'import json, sys
spec = json.load(open(sys.argv[1]))
for tag in spec.get("tags", []):
    print(tag["name"])' "$out/openapi.json")
[ "${#tags[@]}" -gt 0 ] || fail "no tags in $api/openapi.json"

# 1. The whole page: a section per tag, the table of contents, Authorize.
chrome --dump-dom "$api/docs" >"$out/docs.html"
chrome --screenshot="$out/docs.png" "$api/docs" >/dev/null
for tag in "${tags[@]}"; do
  grep -q "id=\"operations-tag-$tag\"" "$out/docs.html" || fail "tag $tag is not a section of the page"
done
grep -q 'data-path="/v1/stock/receipts"' "$out/docs.html" || fail "POST /v1/stock/receipts is not on the page"
grep -q 'id="toc"' "$out/docs.html" || fail "no table of contents"
grep -q 'class="btn authorize' "$out/docs.html" || fail "no Authorize button (bearer token)"

# 2. One operation opened by its deep link: Markdown rendered, the scope it
# needs, a request body example, and "Try it out".
op_url="$api/docs#/stock/receive"
chrome --dump-dom "$op_url" >"$out/docs-operation.html"
chrome --screenshot="$out/docs-operation.png" "$op_url" >/dev/null
grep -q '<code>stock:write</code>' "$out/docs-operation.html" \
  || fail "the scope of POST /v1/stock/receipts is not rendered from Markdown"
grep -q 'try-out__btn' "$out/docs-operation.html" || fail "no Try it out button"
grep -q '&quot;sku&quot;\|"sku"' "$out/docs-operation.html" || fail "no request body example with sku"
grep -q 'response-col_status' "$out/docs-operation.html" || fail "no responses listed"
if grep -q 'Failed to load API definition' "$out/docs.html"; then
  fail "Swagger UI could not load /openapi.json"
fi

if [ "$failures" -gt 0 ]; then
  echo "docs-screenshot: FAILED ($failures); see $out/" >&2
  exit 1
fi
echo "docs-screenshot: passed ($out/docs.png, $out/docs-operation.png)"
