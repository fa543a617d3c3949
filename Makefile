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

# Every ansible-core meta/runtime.yml claims that runs on this Python (3.11): each gets its own venv
# from PyPI for the smoke tier `make versions` (tests/versions/).
ANSIBLE_CORE_VERSIONS := 2.16.19 2.17.14 2.18.19 2.19.14
VERSION_VENVS := .venv-ansible
VERSION_STAMPS := $(foreach v,$(ANSIBLE_CORE_VERSIONS),$(VERSION_VENVS)/$(v)/.installed)

.PHONY: help setup demo test lint unit static sanity packaging cmlab-tests integration fault-matrix versions versions-next molecule bench bench-fleet lab-start lab-stop clean

help:
	@echo "make demo   - set up, start the simulated lab, converge playbooks/site.yml twice, show the lab, stop"
	@echo "make test   - set up and run every test tier (lint, unit, static, sanity, packaging, cmlab, integration, versions, molecule)"
	@echo "make versions - a smoke subset (winrm and psrp) under every claimed ansible-core ($(ANSIBLE_CORE_VERSIONS))"
	@echo "make versions-next - the same under ansible-core 2.20 and 2.21 (Python 3.13, Debian 13 chroot; root)"
	@echo "make fault-matrix - every fault cmlab injects at every step of site, move and remove (nightly; long)"
	@echo "make bench  - engine invocations, WinRM requests and bytes per task, from cmlab's counters"
	@echo "              (BENCH_ARGS=\"--connection psrp\" over psrp);"
	@echo "              the CMTrace log parser's throughput (MB/s on one core)"
	@echo "make bench-fleet - concurrent WinRM shells and a converge of every hierarchy of a fleet lab"

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	# cmlab, with the collection's plugin_utils and module_utils as packages (docs/cmlab.md "Installing cmlab")
	$(BIN)/python -m pip install --quiet --no-deps --editable .
	touch $@

demo: setup
	$(BIN)/python tools/demo.py --topology $(LAB_TOPOLOGY) --state-dir $(LAB_STATE)

lab-start: setup
	$(BIN)/python -m cmlab start --topology $(LAB_TOPOLOGY) --state-dir $(LAB_STATE)

lab-stop: setup
	$(BIN)/python -m cmlab stop --state-dir $(LAB_STATE)

test: setup lint unit static sanity packaging cmlab-tests integration versions molecule
	@echo "make test: all tiers passed"

# ansible-lint's cache (collections it resolves first) in this checkout, not the user's ~/.ansible: a copy of the
# collection installed there earlier would hide this checkout's modules from its syntax check.
lint: setup
	$(BIN)/ruff check plugins cmlab tests tools
	$(BIN)/ruff format --check plugins cmlab tests tools
	ANSIBLE_HOME=$(CURDIR)/.ansible $(BIN)/ansible-lint --offline

unit: setup
	$(BIN)/python -m pytest -q tests/unit

static: setup
	$(BIN)/python -m pytest -q tests/static

# ansible-test sanity on the collection as it ships (HOME under .sanity/, get-pip replaced by ensurepip;
# pslint cannot run here: no PowerShell). See tests/sanity/run_sanity.py.
sanity: setup
	$(BIN)/python tests/sanity/run_sanity.py

# The tarball (build_ignore, licence, ansible-doc from the installed tarball), the changelog
# (antsibull-changelog lint and a release into a copy), the EE build context, the facts document's anchors.
packaging: setup
	$(BIN)/python -m pytest -q tests/packaging

cmlab-tests: setup
	$(BIN)/python -m pytest -q tests/cmlab

# Three at a time: each test has its own lab on ephemeral ports, and most of a test's time is the lab's real-time
# waits (installs, polls), which overlap; the controller's CPU is the limit beyond that (measured: 594 s in
# sequence, 308 s with -n 3, on two shared cores).
integration: setup
	$(BIN)/python -m pytest -q -n 4 --dist worksteal tests/integration

# Every fault cmlab can inject at every step of site.yml, move.yml and remove.yml (tests/integration/test_fault_matrix.py);
# make test runs a covering subset of it. Several hundred cases: a nightly job, not make test.
fault-matrix: setup
	CMSCP_FAULT_MATRIX=full $(BIN)/python -m pytest -q -n 4 tests/integration/test_fault_matrix.py

$(VERSION_VENVS)/%/.installed: tests/versions/requirements.txt
	$(PYTHON) -m venv $(VERSION_VENVS)/$*
	$(VERSION_VENVS)/$*/bin/python -m pip install --quiet "ansible-core==$*" -r tests/versions/requirements.txt
	touch $@

versions: setup $(VERSION_STAMPS)
	CMSCP_ANSIBLE_CORE_VERSIONS="$(ANSIBLE_CORE_VERSIONS)" $(BIN)/python -m pytest -q -n 4 tests/versions

# ansible-core 2.20 and 2.21 need Python >= 3.12: the same tier in a Debian 13 chroot (root; not in make test).
versions-next: setup
	bash tests/versions/run_next.sh

molecule: setup
	$(BIN)/python tests/molecule/run_scenarios.py

bench: setup
	$(BIN)/python tools/bench.py --topology $(LAB_TOPOLOGY) $(BENCH_ARGS)
	$(BIN)/python tools/bench_logparse.py

bench-fleet: setup
	$(BIN)/python tools/bench_fleet.py $(BENCH_FLEET_ARGS)

clean:
	-$(BIN)/python -m cmlab stop --state-dir $(LAB_STATE) 2>/dev/null
	rm -rf .cmlab .pytest_cache .ruff_cache $(VERSION_VENVS)
