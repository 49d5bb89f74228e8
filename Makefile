# The two commands that matter: `make up` runs the platform with demo data,
# `make test` runs the whole test suite. Both start what they need.
.PHONY: up test down status build bench

up:
	scripts/up.sh

test:
	scripts/test.sh

down:
	scripts/down.sh

status:
	scripts/infra/status.sh

# Throughput, latency and memory beside Kafka's own perf tools, in one run
# on this machine (docs/benchmark.md); the table lands in target/bench/results.md.
bench:
	scripts/bench.sh

build:
	scripts/bootstrap.sh
	cargo build --workspace --bins
