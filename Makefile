# `make demo` and `make test` work on a fresh Debian/Ubuntu machine with python3 (>= 3.11).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo lint test test-fast wordpress chromium bench scenarios clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $@

setup: $(STAMP)

demo: setup
	-@PYTHON=$(BIN)/python scripts/chromium-up.sh >/dev/null || echo "no Chromium: the demo skips page analysis" >&2
	$(BIN)/marketing-mcp demo

# The lint and type gate: ruff (lint and format) and pyright, configured in pyproject.toml.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pyright

# The lint and type gate, then the whole suite, including the integration tests against a real
# WordPress on loopback and real Chromium.
test: lint wordpress chromium
	@$(BIN)/python -m pytest -q; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest ran no tests: that is a failure" >&2; exit 1; fi; exit $$rc

# Everything that needs no system packages (the real-WordPress tests are skipped).
test-fast: setup
	$(BIN)/python -m pytest -q -m "not wordpress"

wordpress:
	scripts/wordpress-up.sh

chromium: setup
	PYTHON=$(BIN)/python scripts/chromium-up.sh

bench: setup chromium
	$(BIN)/python benchmarks/startup.py
	$(BIN)/python benchmarks/call_overhead.py
	$(BIN)/python benchmarks/rate_limiter.py
	$(BIN)/python benchmarks/vault_auth.py
	$(BIN)/python benchmarks/ga4_report.py
	$(BIN)/python benchmarks/ga4_vs_official.py
	$(BIN)/python benchmarks/page_analysis.py
	$(BIN)/python benchmarks/esp_upsert.py
	$(BIN)/python benchmarks/director.py

# The Director on sandbox scenarios (about a minute per world): detection, delay, A/A false wins, false alarms.
scenarios: setup chromium
	$(BIN)/python benchmarks/director_scenarios.py --seeds $(or $(SEEDS),5) --jobs $(or $(JOBS),1)

clean:
	rm -rf $(VENV) build .pytest_cache
