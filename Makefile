# Xietong — developer entry points. Every target installs what it needs, idempotently.
#   make run    start the local chain, deploy the contracts, print the manifest
#   make test   lint + the whole test suite (real Hardhat and Anvil nodes)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
XT := $(VENV)/bin/xietong
NODE_DIR := hardhat-node
PY_STAMP := $(VENV)/.installed
NPM_STAMP := $(NODE_DIR)/node_modules/.installed
FOUNDERS ?= scripts/founders.local.yaml

.PHONY: setup run stop test lint format artifacts gas clean

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

# The main job: a local chain with the four contracts deployed (development keys).
run: setup
	@export XIETONG_ENV=local; \
	$(XT) node status >/dev/null 2>&1 || $(XT) node start; \
	$(XT) deploy --founders $(FOUNDERS) --reuse; \
	$(XT) demo --once; \
	$(XT) index; \
	echo; echo "manifest (deployments/31337.json):"; cat deployments/31337.json; \
	echo; echo "The node keeps running in the background; stop it with: make stop"

stop: setup
	$(XT) node stop

artifacts: setup
	$(PY) scripts/compile.py

lint: setup
	$(VENV)/bin/ruff format --check ledger api scripts tests
	$(VENV)/bin/ruff check ledger api scripts tests
	$(VENV)/bin/mypy

format: setup
	$(VENV)/bin/ruff format ledger api scripts tests
	$(VENV)/bin/ruff check --fix ledger api scripts tests

test: lint
	bash scripts/ensure-postgres.sh
	$(PY) -m pytest

gas: setup
	$(PY) scripts/gas_table.py

clean:
	rm -rf $(VENV) $(NODE_DIR)/node_modules var deployments .pytest_cache .mypy_cache .ruff_cache
