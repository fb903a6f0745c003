# msvdd: the two set-up commands are `make demo` and `make test`; both create .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test test-fast lint bench clean tune-demo gpu-bundle gpu-check

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]' --config-settings editable_mode=compat
	touch $(STAMP)

JOBS ?= 2
SWEEP = $(PY) -m msvdd -m hydra/launcher=joblib hydra.launcher.n_jobs=$(JOBS)

## demo: the main job on the embedded digits: Deep SVDD variants and baselines; the sweep prints the table
demo: $(STAMP)
	$(SWEEP) experiment=table_digits

# table-%: a results table on real data (MSVDD_DATA must point at the data root); re-running resumes.
# The sweep writes outputs/tables/table_NAME and prints it when it ends (a Hydra callback).
# SEEDS=0,1,2 sweeps those seeds instead of the experiment's own (the seed ensembles need two or more).
table-%: $(STAMP)
	@test -n "$(MSVDD_DATA)" || { echo "set MSVDD_DATA to the folder holding MNIST/, FashionMNIST/, cifar-10-batches-py/"; exit 2; }
	$(SWEEP) experiment=table_$(subst -,_,$*) $(if $(SEEDS),seed=$(SEEDS))

## test: the whole test suite, one worker per core (a test file stays on one worker: its fixtures are built once)
test: $(STAMP)
	$(PY) -m pytest -q -n auto --dist loadfile --durations=25

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

lint: $(STAMP)
	$(PY) -m ruff check .

bench: $(STAMP)
	$(PY) scripts/bench_finch.py
	$(PY) scripts/bench_train.py

clean:
	rm -rf outputs/runs outputs/sweeps outputs/tables .pytest_cache

## tune-demo: an Optuna search on the digits' dev groups (resumes when run again)
tune-demo: $(STAMP)
	$(PY) -m msvdd -m hparams_search=digits_optuna

## gpu-bundle: wheels (.whl/) and MNIST + Fashion-MNIST (.gpudata/) for a GPU machine without a package index
gpu-bundle: $(STAMP)
	PYTHON=$(PY) scripts/gpu_bundle.sh

## gpu-check: on a GPU machine, a timed full-protocol slice of table_mnist and the full table's extrapolated time
gpu-check:
	scripts/gpu_check.sh
