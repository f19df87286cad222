# The two quick-start targets (README) and the checks. Everything installs itself.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test test-deps lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

## Dry-run preview of the example drafts: nothing is sent, no account needed.
demo: $(STAMP)
	$(VENV)/bin/threadpost preview --offline drafts/cameras-fr.md
	$(VENV)/bin/threadpost publish --dry-run --offline drafts/launch-notes.md

## Everything the tests need (Python packages, Node 22 + the Bluesky PDS, Chromium).
test-deps: $(STAMP)
	bash tests/pds/install.sh
	bash scripts/install-chromium.sh

## Lint, type-check, then the whole test suite, integration tests included.
test: test-deps lint
	$(PY) -m pytest -n 2

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy

## Benchmarks (print their tables; results are kept in BENCHMARKS.md). The Bluesky one
## needs the local PDS.
bench: test-deps
	$(PY) bench/bench_plan.py
	$(PY) bench/bench_plan_speed.py
	$(PY) bench/bench_check.py
	$(PY) bench/bench_run.py
	$(PY) bench/bench_bluesky.py
	$(PY) bench/bench_bluesky_start.py
	$(PY) bench/bench_e2e.py
	$(PY) bench/bench_images.py
	$(PY) bench/bench_images.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
