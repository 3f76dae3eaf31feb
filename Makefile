# Command one: `make demo`. Command two: `make test`. Both install what is missing first.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup demo test bench bench-services bench-metadata bench-exchange

setup:
	bash scripts/setup.sh

demo: setup
	$(VENV)/bin/sohoa demo $(if $(INPUT),$(INPUT),)

test: setup
	$(VENV)/bin/pytest -q -ra

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
