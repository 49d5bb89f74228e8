#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs build dependencies,
# starts the real infrastructure (Kafka, schema registry, PostgreSQL, Redis),
# then runs the checks and every test against it.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
step() { printf '\n== %s (%ss)\n' "$1" "$(( $(date +%s) - start ))"; }

step "bootstrap"
scripts/bootstrap.sh

step "infrastructure"
scripts/infra/up.sh
# shellcheck disable=SC1091
source .khlang/env

step "format"
cargo fmt --all -- --check

step "clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "build"
cargo build --workspace --bins

step "topics: apply topics.yaml, then the cluster must match it"
target/debug/khlangctl topics apply --yes
target/debug/khlangctl topics plan --check

step "schemas: every schema compatible with the registry"
target/debug/khlangctl schemas check

step "tests"
cargo test --workspace --no-fail-fast -- --test-threads=2

step "done"
