# Command one: `make demo`. Command two: `make test` (everything, servers included) or
# `make test-fast` (no servers, no slow OCR tests). All install what is missing first.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup demo test test-fast lint install-check bench bench-services bench-metadata bench-exchange bench-known-item

setup:
	bash scripts/setup.sh

demo: setup
	$(VENV)/bin/sohoa demo $(if $(INPUT),$(INPUT),)

# --durations=30: every CI log shows the 30 slowest tests, so the suite's time stays visible.
test: setup
	$(VENV)/bin/pytest -q -ra --durations=30

# Tests marked `slow` left out: those that start the servers or OCR many pages (pyproject).
test-fast: setup
	$(VENV)/bin/pytest -q -ra --durations=30 -m "not slow"

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# `pip install .` without extras in a fresh virtualenv, then `sohoa` ingests and searches.
install-check: setup
	bash scripts/install-check.sh

bench:
	SOHOA_EXTRAS=test,bench bash scripts/setup.sh
	$(PY) bench/ocr.py

bench-services: setup
	bash scripts/services.sh up >/dev/null
	$(PY) bench/services.py

bench-metadata: setup
	$(PY) bench/metadata.py

bench-exchange: setup
	$(PY) bench/exchange_bench.py

# Known-item search (trích yếu typed without accents) on SQLite and OpenSearch: MRR, hits@1.
bench-known-item: setup
	bash scripts/services.sh up >/dev/null
	$(PY) bench/known_item.py
