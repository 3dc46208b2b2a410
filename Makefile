# Xietong — developer entry points. Every target installs what it needs, idempotently.
#   make run    local chain + contracts + demo + index + API and portal on http://127.0.0.1:8000
#   make test   lint + the whole test suite (real Hardhat and Anvil nodes)
#   make bench  benchmarks against their peers -> docs/BENCHMARKS.md;  make soak  a few minutes of steady traffic

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# make test's pytest-xdist workers: the suite mostly waits on nodes and browsers, so two workers
# on two cores take about half the time of one (each worker starts its own nodes; ports are sliced)
TEST_WORKERS ?= 2
XT := $(VENV)/bin/xietong
NODE_DIR := hardhat-node
PY_STAMP := $(VENV)/.installed
NPM_STAMP := $(NODE_DIR)/node_modules/.installed
FOUNDERS ?= scripts/founders.local.yaml

.PHONY: setup geth run stop test lint format artifacts portal-js offline-vectors gas screenshots bench soak clean

setup: $(PY_STAMP) $(NPM_STAMP)

$(PY_STAMP): pyproject.toml setup.py ledger/_keccak.c
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) (3.11+) is required"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

$(NPM_STAMP): $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	@command -v npm >/dev/null || { echo "error: Node.js 20+ and npm are required"; exit 1; }
	cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# geth for the consortium network (ledger/chain/network.py), built once from the Go module proxy
# and cached in build/. v1.13.15 is the last release whose Clique signers seal; -checklinkname=0
# because its github.com/fjl/memsize does not link on Go >= 1.23. The build time and the binary's
# size go to build/geth-$(GETH_VERSION)/BUILD.txt.
GETH_VERSION := v1.13.15
GETH_DIR := build/geth-$(GETH_VERSION)
GETH := $(GETH_DIR)/bin/geth

geth: $(GETH)

$(GETH):
	@command -v go >/dev/null || { echo "error: Go 1.22+ is required to build geth (make geth)"; exit 1; }
	@echo "building geth $(GETH_VERSION) with go install (once; a few minutes)"
	start=$$(date +%s); \
	GOBIN=$(abspath $(GETH_DIR))/bin go install -ldflags=-checklinkname=0 \
	    github.com/ethereum/go-ethereum/cmd/geth@$(GETH_VERSION); \
	echo "geth $(GETH_VERSION) built in $$(( $$(date +%s) - start )) s with $$(go version | cut -d' ' -f3), $$(stat -c %s $@) bytes" \
	    | tee $(GETH_DIR)/BUILD.txt

# The main job: chain node, contracts, demo scenario, index, API + portal on :8000 (Ctrl-C stops).
run: setup
	bash scripts/run.sh

stop: setup
	$(XT) node stop

artifacts: setup
	$(PY) scripts/compile.py

lint: setup
	$(VENV)/bin/ruff format --check ledger api scripts tests examples
	$(VENV)/bin/ruff check ledger api scripts tests examples
	$(VENV)/bin/mypy

format: setup
	$(VENV)/bin/ruff format ledger api scripts tests examples
	$(VENV)/bin/ruff check --fix ledger api scripts tests examples

test: lint geth
	bash scripts/ensure-postgres.sh
	bash scripts/ensure-chromium.sh
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

# The portal's offline verifier of proof bundles (docs/OFFLINE_PROOFS.md): hardhat-node/offline/ and
# the npm packages pinned in its lock file, bundled by esbuild into api/portal/static/offline-proof.js
# (and offline-proof.LICENSES.txt). Commit both: tests/portal_js checks they are this build.
portal-js: $(NPM_STAMP)
	cd $(NODE_DIR) && node offline/build.mjs

# tests/vectors/offline_bundles.json, the shared cases of both offline verifiers: real bundles from
# a 4-validator network and one tampered case per reason (about a minute).
offline-vectors: setup geth
	$(PY) scripts/make_offline_vectors.py

gas: setup
	$(PY) scripts/gas_table.py

# The portal's pages as the browser tests see them, into docs/screenshots/ (make test keeps its own
# screenshots in a temporary folder).
screenshots: setup
	bash scripts/ensure-chromium.sh
	XIETONG_SCREENSHOTS=$(CURDIR)/docs/screenshots $(PY) -m pytest tests/browser -q

# Benchmarks, each against its peers in the same run, into docs/BENCH_*.md and, gathered with the
# machine description, docs/BENCHMARKS.md. `make bench QUICK=1` runs a short version of each (figures
# under var/bench/, or $XIETONG_BENCH_DIR; committed docs untouched): what the test suite runs.
bench: setup geth
	$(PY) scripts/bench_gas.py $(if $(QUICK),--quick)
	$(PY) scripts/bench_merkle.py $(if $(QUICK),--quick)
	$(PY) scripts/bench_hashing.py $(if $(QUICK),--quick)
	$(PY) scripts/bench_anchoring.py $(if $(QUICK),--quick)
	$(PY) scripts/bench_indexer.py $(if $(QUICK),--quick)
	$(PY) scripts/bench_nodes.py $(if $(QUICK),--quick)
	$(PY) scripts/bench_network.py $(if $(QUICK),--quick)
	$(PY) scripts/bench_offline.py $(if $(QUICK),--quick)
	$(PY) scripts/bench_api.py $(if $(QUICK),--quick,--repeat 3)
	$(PY) scripts/bench_report.py $(if $(QUICK),--quick)

# Bounded soak (SOAK_SECONDS, default 300) on SQLite, then on PostgreSQL: steady verify and anchor
# traffic against `xietong serve`; fails on any error, memory growth or an unprovable hash.
SOAK_SECONDS ?= 300
soak: setup
	bash scripts/ensure-postgres.sh
	$(PY) scripts/soak.py --seconds $(SOAK_SECONDS) --database sqlite --out var/soak/sqlite.json
	$(PY) scripts/soak.py --seconds $(SOAK_SECONDS) --database postgresql --out var/soak/postgresql.json

clean:
	rm -rf $(VENV) $(NODE_DIR)/node_modules var deployments .pytest_cache .mypy_cache .ruff_cache
