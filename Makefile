# LiveKit for Datadog: every target creates what it needs by itself, from nothing.
#   make test   pytest (integration + companion) and ddev's validators
#   make demo   a real LiveKit agent worker and real conversations, as Datadog would receive them
#   make bench  ingestion speed and memory, and billable series, recorded in bench/RESULTS.md

SHELL := /bin/bash
.DEFAULT_GOAL := test

# The Datadog Agent embeds Python 3.13; the tests and ddev run on it.
PY313 ?= $(shell PYENV_VERSION=3.13.0 pyenv which python3.13 2>/dev/null || command -v python3.13 2>/dev/null)
VENV := .venv
PY := $(VENV)/bin/python
DDEV_VENV := .venv-ddev
DDEV := $(DDEV_VENV)/bin/ddev
NODE_TOOLS := tools/node
DDEV_VALIDATORS := metadata config models dashboards service-checks saved-views readmes package openmetrics http imports

.PHONY: test pytest validate demo bench fixtures clean python313

python313:
	@if [ -z "$(PY313)" ]; then \
	  echo "make: Python 3.13 is required (the Datadog Agent embeds 3.13) but python3.13 was not found."; \
	  echo "      Install it (for example 'pyenv install 3.13.0') or run 'make PY313=/path/to/python3.13'."; \
	  exit 1; fi

# The producers of real LiveKit output (livekit/tests/producers, package `lk_producers`) are installed
# too: the tests of both packages, demo/ and bench/ import them, and run them with `python -m`.
PRODUCERS := livekit/tests/producers

$(VENV)/.installed: requirements/test.txt livekit/pyproject.toml livekit-plugins-datadog/pyproject.toml \
  $(PRODUCERS)/pyproject.toml | python313
	rm -rf $(VENV)
	$(PY313) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements/test.txt \
	  -e 'livekit[cli]' -e livekit-plugins-datadog -e $(PRODUCERS)
	touch $@

$(DDEV_VENV)/.installed: requirements/ddev.txt | python313
	rm -rf $(DDEV_VENV)
	$(PY313) -m venv $(DDEV_VENV)
	$(DDEV_VENV)/bin/pip install -q --disable-pip-version-check -r requirements/ddev.txt
	touch $@

$(NODE_TOOLS)/node_modules/.installed: $(NODE_TOOLS)/package.json $(NODE_TOOLS)/package-lock.json
	cd $(NODE_TOOLS) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

test: pytest validate node-companion-test

# The Node companion (livekit-plugins-datadog-node): `npm ci` of its pinned @livekit/agents 1.9.0, and
# of the oldest supported release (1.6.4) in .oldest with the packed companion installed there; then
# its tests with Node's own runner (real workers run through the repository's session generator).
NODE_COMPANION := livekit-plugins-datadog-node

$(NODE_COMPANION)/node_modules/.installed: $(NODE_COMPANION)/package.json $(NODE_COMPANION)/package-lock.json
	cd $(NODE_COMPANION) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(NODE_COMPANION)/.oldest/node_modules/.installed: $(NODE_COMPANION)/test/oldest/package.json \
  $(NODE_COMPANION)/test/oldest/package-lock.json $(wildcard $(NODE_COMPANION)/src/*) $(NODE_COMPANION)/package.json
	rm -rf $(NODE_COMPANION)/.oldest && mkdir -p $(NODE_COMPANION)/.oldest
	cp $(NODE_COMPANION)/test/oldest/package.json $(NODE_COMPANION)/test/oldest/package-lock.json $(NODE_COMPANION)/.oldest/
	cd $(NODE_COMPANION)/.oldest && npm ci --no-audit --no-fund --loglevel=error
	cd $(NODE_COMPANION) && npm pack --pack-destination .oldest --loglevel=error >/dev/null
	cd $(NODE_COMPANION)/.oldest && npm install --no-save --legacy-peer-deps --no-audit --no-fund --loglevel=error \
	  ./livekit-plugins-datadog-*.tgz
	touch $@

node-companion-test: $(VENV)/.installed $(NODE_COMPANION)/node_modules/.installed $(NODE_COMPANION)/.oldest/node_modules/.installed
	cd $(NODE_COMPANION) && LK_COMPANION_REQUIRE_ALL=1 PYTHON=$(CURDIR)/$(PY) node --test --test-concurrency=1 test/*.test.mjs

# The companion supports livekit-agents 1.2 and later: its tests also run on 1.2.x (.venv-lk12).
LK12_VENV := .venv-lk12

pytest: $(VENV)/.installed $(NODE_TOOLS)/node_modules/.installed
	livekit-plugins-datadog/tests/make_venv_1_2.sh $(PY313)
	$(PY) -m pytest livekit/tests livekit-plugins-datadog/tests -q -p no:cacheprovider
	$(LK12_VENV)/bin/python -m pytest livekit-plugins-datadog/tests -q -p no:cacheprovider

# ddev reads the repository kind from pyproject.toml ([tool.ddev] repo = "extras"); `config override`
# writes the machine-specific .ddev.toml so that the extras rules (openmetrics among them) really run.
validate: $(DDEV_VENV)/.installed $(VENV)/.installed
	$(DDEV) config override >/dev/null
	@set -e; for v in $(DDEV_VALIDATORS); do echo "ddev validate $$v livekit"; $(DDEV) validate $$v livekit; done
	$(VENV)/bin/livekit-datadog assets validate

demo: $(VENV)/.installed
	$(PY) demo/run_demo.py

bench: $(VENV)/.installed
	$(PY) bench/run_bench.py
	$(PY) bench/series_budget.py --results bench/RESULTS.md

# Re-capture the committed LiveKit samples (older livekit-agents versions, worker /metrics).
fixtures: $(VENV)/.installed $(NODE_TOOLS)/node_modules/.installed
	$(PY) livekit/tests/producers/capture_all.py

clean:
	rm -rf $(VENV) $(DDEV_VENV) $(NODE_TOOLS)/node_modules .livekit-datadog-state .demo bench/work
