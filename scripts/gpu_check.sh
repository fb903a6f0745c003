#!/usr/bin/env bash
# A measured slice of `make table-mnist` at the full protocol on one GPU, in one command:
#   1. installs the carried wheels (.whl/, from scripts/gpu_bundle.sh) when hydra is missing;
#   2. checks that CUDA-graph steps train the same model as eager ones (scripts/gpu_selfcheck.py);
#   3. runs the slice (default: group size 2, 10 groups, seed 0, every method of table_mnist, 150+150 epochs)
#      through joblib with JOBS processes sharing the GPU, sampling nvidia-smi every 0.5 s;
#   4. prints runs/minute, per-phase times, GPU utilisation and the extrapolated wall time of the full table.
# Environment: JOBS (default 8), SIZE (2), NGROUPS (10), EPOCHS (150; both phases), EXTRA (more overrides),
# SELFCHECK_EPOCHS (3), PYTHON (python3), MSVDD_DATA (default .gpudata), MSVDD_OUTPUTS (default /tmp/msvdd_gpu), OUT (where logs go; default outputs dir).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if ! $PY -c "import hydra, optuna, pynndescent" 2>/dev/null; then
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH=$PWD:${PYTHONPATH:-} PYTHONUNBUFFERED=1
export MSVDD_DATA=${MSVDD_DATA:-$PWD/.gpudata} MSVDD_OUTPUTS=${MSVDD_OUTPUTS:-/tmp/msvdd_gpu}
export NUMBA_CACHE_DIR=${NUMBA_CACHE_DIR:-$MSVDD_OUTPUTS/cache/numba}
JOBS=${JOBS:-8} SIZE=${SIZE:-2} NGROUPS=${NGROUPS:-10} EPOCHS=${EPOCHS:-150}
LOGS=${OUT:-$MSVDD_OUTPUTS/gpu_check}
mkdir -p "$LOGS"
NAME=gpu_check_s${SIZE}_g${NGROUPS}_e${EPOCHS}_j${JOBS}

$PY scripts/gpu_selfcheck.py --epochs "${SELFCHECK_EPOCHS:-3}"

nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader,nounits -lms 500 > "$LOGS/gpu_util.csv" &
SMI=$!
trap 'kill $SMI 2>/dev/null || true' EXIT
start=$(date +%s.%N)
# shellcheck disable=SC2086
$PY -m msvdd -m experiment=table_mnist hydra/launcher=joblib hydra.launcher.n_jobs="$JOBS" name="$NAME" \
  group.size="$SIZE" "group.index=range(0,$NGROUPS)" seed=0 pretrain.epochs="$EPOCHS" train.epochs="$EPOCHS" \
  threads=1 plots=false ${EXTRA:-} > "$LOGS/sweep.log" 2>&1 || echo "sweep exited with $? (see sweep.log)"
wall=$($PY -c "import time; print(time.time() - $start)")
kill $SMI 2>/dev/null || true
$PY scripts/gpu_report.py "$MSVDD_OUTPUTS/sweeps/$NAME" --wall "$wall" --util "$LOGS/gpu_util.csv" \
  --out "$LOGS/report.json"
