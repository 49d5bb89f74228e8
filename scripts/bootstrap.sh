#!/usr/bin/env bash
# Installs what building and testing khlang needs on a fresh Debian machine
# that has the usual toolchains (Rust 1.95.0 via rustup, Java 17 and 21+,
# Maven, Python). Idempotent: installs only what is missing; runs as root
# (apt-get directly) or as a user with sudo. Never downloads Rust: the
# toolchain pinned in rust-toolchain.toml must be installed already.
#
# Also builds the Python venv of the API test tools (robot/requirements.txt:
# Robot Framework, RequestsLibrary, schemathesis) at $KHLANG_HOME/venv
# (default .khlang/venv). A stamp in the venv records the hash of the
# requirements and the Python it was built with; while both match, this step
# costs one sha256sum.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
home=${KHLANG_HOME:-$root/.khlang}

# What the build needs, by command or Debian package: a C and C++ compiler,
# make and cmake (rdkafka's cmake-build compiles librdkafka), pkg-config
# (libz-sys finds the system zlib with it; zlib1g-dev so it does), curl and
# jq (scripts, and the README's first request), openssl (scripts/up.sh
# generates the demo admin's password). librdkafka is built without SSL,
# SASL, libcurl or zstd (rdkafka's default features: zlib only), so none
# of their -dev packages is needed.
need_apt=()
need_cmd() { # COMMAND PACKAGE
  command -v "$1" >/dev/null 2>&1 || need_apt+=("$2")
}
need_cmd cc gcc
need_cmd c++ g++
need_cmd make make
need_cmd cmake cmake
need_cmd pkg-config pkg-config
need_cmd curl curl
need_cmd jq jq
need_cmd openssl openssl
need_cmd flock util-linux
dpkg -s zlib1g-dev >/dev/null 2>&1 || need_apt+=(zlib1g-dev)
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
  # As root (a fresh machine, CI) apt-get runs as is; otherwise through sudo.
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 \
      || { echo "bootstrap: need root (or sudo) to install ${need_apt[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# The Rust toolchain pinned in rust-toolchain.toml, resolved without the
# network (rustup cannot download anything on these machines; see the
# comment in rust-toolchain.toml for why a symlink is made).
rust_channel=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' "$root/rust-toolchain.toml")
if command -v rustup >/dev/null 2>&1; then
  export RUSTUP_AUTO_INSTALL=0
  rustup_home=${RUSTUP_HOME:-$HOME/.rustup}
  host=$(cd / && rustup show 2>/dev/null | sed -n 's/^Default host: //p')
  is_channel() { # TOOLCHAIN: true if its rustc is $rust_channel
    rustup run "$1" rustc --version 2>/dev/null | grep -q "^rustc $rust_channel "
  }
  if ! is_channel "$rust_channel"; then
    found=""
    for toolchain in $(rustup toolchain list 2>/dev/null | awk '{print $1}'); do
      if is_channel "$toolchain"; then found=$toolchain; break; fi
    done
    if [ -z "$found" ]; then
      echo "bootstrap: Rust $rust_channel is not installed (rust-toolchain.toml pins it) and rustup" \
        "cannot download it here; on a machine with network: rustup toolchain install $rust_channel" \
        "--component clippy,rustfmt" >&2
      exit 1
    fi
    echo "bootstrap: using the installed toolchain $found (rustc $rust_channel) as $rust_channel"
    ln -sfn "$found" "$rustup_home/toolchains/$rust_channel-$host"
    is_channel "$rust_channel" \
      || { echo "bootstrap: rustup does not resolve $rust_channel after linking it to $found" >&2; exit 1; }
  fi
  for component in clippy rustfmt; do
    rustup component list --installed --toolchain "$rust_channel" 2>/dev/null | grep -q "^$component" \
      || { echo "bootstrap: the $rust_channel toolchain has no $component; on a machine with network:" \
        "rustup component add $component --toolchain $rust_channel" >&2; exit 1; }
  done
elif ! rustc --version 2>/dev/null | grep -q "^rustc $rust_channel "; then
  echo "bootstrap: khlang builds with Rust $rust_channel (rust-toolchain.toml); found:" \
    "$(rustc --version 2>/dev/null || echo 'no rustc')" >&2
  exit 1
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
