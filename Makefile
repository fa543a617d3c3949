# The two commands of the README: `make demo` and `make test`. Both set up what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LAB_STATE := .cmlab/lab
LAB_TOPOLOGY := inventories/lab/cmlab.yml
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.collections
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help setup demo test lint unit static cmlab-tests integration molecule bench bench-fleet lab-start lab-stop clean

help:
	@echo "make demo   - set up, start the simulated lab, converge playbooks/site.yml twice, show the lab, stop"
	@echo "make test   - set up and run every test tier (lint, unit, static, cmlab, integration, molecule)"
	@echo "make bench  - engine invocations, WinRM requests and bytes per task, from cmlab's counters"
	@echo "make bench-fleet - concurrent WinRM shells and a converge of every hierarchy of a fleet lab"

setup: $(STAMP)

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

demo: setup
	$(BIN)/python tools/demo.py --topology $(LAB_TOPOLOGY) --state-dir $(LAB_STATE)

lab-start: setup
	$(BIN)/python -m cmlab start --topology $(LAB_TOPOLOGY) --state-dir $(LAB_STATE)

lab-stop: setup
	$(BIN)/python -m cmlab stop --state-dir $(LAB_STATE)

test: setup lint unit static cmlab-tests integration molecule
	@echo "make test: all tiers passed"

lint: setup
	$(BIN)/ruff check plugins cmlab tests tools
	$(BIN)/ansible-lint --offline

unit: setup
	$(BIN)/python -m pytest -q tests/unit

static: setup
	$(BIN)/python -m pytest -q tests/static

cmlab-tests: setup
	$(BIN)/python -m pytest -q tests/cmlab

integration: setup
	$(BIN)/python -m pytest -q tests/integration

molecule: setup
	$(BIN)/python tests/molecule/run_scenarios.py

bench: setup
	$(BIN)/python tools/bench.py --topology $(LAB_TOPOLOGY)

bench-fleet: setup
	$(BIN)/python tools/bench_fleet.py $(BENCH_FLEET_ARGS)

clean:
	-$(BIN)/python -m cmlab stop --state-dir $(LAB_STATE) 2>/dev/null
	rm -rf .cmlab .pytest_cache .ruff_cache
