#!/usr/bin/env bash
# Prepare what a GPU machine without a package index needs, in two git-ignored folders of the checkout:
#   .whl/      wheels of msvdd's pure-Python dependencies that GPU images lack (Python 3.12, manylinux x86_64)
#   .gpudata/  a copy of MNIST and Fashion-MNIST from $MSVDD_DATA (about 42 MB)
# Then carry both to the machine (e.g. the device tool's `carry: [".whl", ".gpudata"]`) and run
# scripts/gpu_check.sh there. Usage: MSVDD_DATA=/path/to/data scripts/gpu_bundle.sh [python-version, default 3.12]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
PYVER=${1:-3.12}
# Versions pinned to what `make install` resolves today; the GPU image already has torch, numpy, scipy,
# scikit-learn, pandas, matplotlib, numba, joblib, tqdm, PyYAML, MarkupSafe, typing-extensions, cloudpickle.
PKGS=(hydra-core==1.3.8 omegaconf==2.3.1 optuna==5.0.0 alembic==1.20.1 SQLAlchemy==2.1.9 Mako==1.4.3
      colorlog==6.12.0 cmaes==0.13.1 hydra-joblib-launcher==1.2.0 hydra-submitit-launcher==1.2.0 submitit==1.5.4
      pynndescent==0.7.0 umap-learn==0.5.12 greenlet==3.5.6)
rm -rf .whl && mkdir -p .whl
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version "$PYVER" --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_24_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 -d .whl "${PKGS[@]}"
# antlr4-python3-runtime 4.9.3 (what omegaconf 2.3 needs) exists only as a source archive: build its wheel here.
"$PY" -m pip wheel -q --no-deps antlr4-python3-runtime==4.9.3 -w .whl
if [ -n "${MSVDD_DATA:-}" ]; then
  rm -rf .gpudata && mkdir -p .gpudata
  for d in MNIST FashionMNIST; do
    [ -d "$MSVDD_DATA/$d/raw" ] && mkdir -p ".gpudata/$d" && cp -r "$MSVDD_DATA/$d/raw" ".gpudata/$d/"
  done
fi
du -sh .whl .gpudata 2>/dev/null || true
