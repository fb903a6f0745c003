# msvdd: the two set-up commands are `make demo` and `make test`; both create .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
DATA ?= $(MSVDD_DATA)

.PHONY: install demo test test-fast lint bench clean \
	table-mnist table-fashion-mnist table-cifar10 \
	table-mnist-quick table-fashion-mnist-quick table-cifar10-quick tune-demo

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]' --config-settings editable_mode=compat
	touch $(STAMP)

## demo: the main job on the embedded digits data (one-radius vs multi-radius table)
demo: $(STAMP)
	$(PY) scripts/demo.py

## test: the whole test suite
test: $(STAMP)
	$(PY) -m pytest -q

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

lint: $(STAMP)
	$(PY) -m ruff check .

bench: $(STAMP)
	$(PY) scripts/bench_finch.py
	$(PY) scripts/bench_train.py

clean:
	rm -rf outputs/runs outputs/sweeps outputs/tables .pytest_cache
