#!/usr/bin/env bash
# Installs what building and testing khlang needs on a fresh Debian machine
# that has the usual toolchains (Rust via rustup, Java 17, Maven, Python).
# Idempotent: installs only what is missing.
#
# Also builds the Python venv of the API test tools (robot/requirements.txt:
# Robot Framework, RequestsLibrary, schemathesis) at $KHLANG_HOME/venv
# (default .khlang/venv). A stamp in the venv records the hash of the
# requirements and the Python it was built with; while both match, this step
# costs one sha256sum.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
home=${KHLANG_HOME:-$root/.khlang}

need_apt=()
dpkg -s libcurl4-openssl-dev >/dev/null 2>&1 || need_apt+=(libcurl4-openssl-dev)  # librdkafka build
dpkg -s libssl-dev >/dev/null 2>&1 || need_apt+=(libssl-dev)
dpkg -s libsasl2-dev >/dev/null 2>&1 || need_apt+=(libsasl2-dev)
command -v cmake >/dev/null 2>&1 || need_apt+=(cmake)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)  # scripts/up.sh generates the demo admin password
# Debian splits `python3 -m venv` (ensurepip) into python3-venv; a python3 from
# pyenv or similar brings its own, so ask Python rather than dpkg.
if ! command -v python3 >/dev/null 2>&1; then
  need_apt+=(python3 python3-venv)
elif ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  need_apt+=(python3-venv)
fi
# --- the /docs page's screenshot test (scripts/docs-screenshot.sh, run by
# scripts/api-tests.sh) looks at the page in headless Chromium.
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
# ---
if [ "${#need_apt[@]}" -gt 0 ]; then
  echo "bootstrap: installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if ! rustup component list --installed 2>/dev/null | grep -q '^rustfmt'; then
  rustup component add rustfmt clippy >/dev/null
fi

# The API test tools.
requirements=$root/robot/requirements.txt
venv=$home/venv
python_id=$(python3 -c 'import sys; print(sys.executable, sys.version.split()[0])')
stamp="$(sha256sum <"$requirements" | cut -d' ' -f1) $python_id"
venv_current() {
  [ "$(cat "$venv/.khlang-stamp" 2>/dev/null)" = "$stamp" ] && "$venv/bin/python" -c '' 2>/dev/null
}
if ! venv_current; then
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { echo "bootstrap: the API test tools need Python >= 3.11, python3 is $python_id" >&2; exit 1; }
  mkdir -p "$home/run" "$home/logs"
  # `make up` and `make test` may bootstrap at the same time: one builds, the
  # other waits for it and then finds the stamp current.
  exec {venv_lock}>"$home/run/venv.lock"
  flock "$venv_lock"
  if ! venv_current; then
    echo "bootstrap: building the API test venv in $venv (log: $home/logs/venv.log)"
    rm -rf "$venv"
    if ! { python3 -m venv "$venv" \
      && "$venv/bin/pip" install --disable-pip-version-check --no-input -r "$requirements"; } \
      >"$home/logs/venv.log" 2>&1; then
      echo "bootstrap: building the venv failed; see $home/logs/venv.log" >&2
      tail -n 20 "$home/logs/venv.log" >&2
      exit 1
    fi
    # Written last: an interrupted build has no stamp and is redone next time.
    printf '%s\n' "$stamp" >"$venv/.khlang-stamp"
  fi
  exec {venv_lock}>&-
fi
