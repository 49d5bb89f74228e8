# The two commands that matter: `make up` runs the platform with demo data,
# `make test` runs the whole test suite. Both start what they need.
.PHONY: up test down status build

up:
	scripts/up.sh

test:
	scripts/test.sh

down:
	scripts/down.sh

status:
	scripts/infra/status.sh

build:
	scripts/bootstrap.sh
	cargo build --workspace --bins
