#!/usr/bin/env bash
# The GPU checks of issue 9 in one call: exact batching on CUDA, then benchmarks/bench_gpu.py.
#
# Two steps (see BENCHMARKS.md, "GPU inference"):
#
#   1. here, on a machine with PyPI (once per checkout):
#        bash benchmarks/run_on_gpu.sh fetch
#      downloads the cp312 wheels asrlens needs beyond what the GPU image has (duckdb,
#      duckdb-engine, sqlalchemy, jiwer, rapidfuzz, soundfile, cffi, pycparser; about 33 MB)
#      into .whl/ (git-ignored), and copies the LJSpeech sample into .bench-data/ (ignored;
#      ../shared does not travel to the device machine).
#
#   2. on the GPU machine, from the repository root, with .whl and .bench-data carried:
#        bash benchmarks/run_on_gpu.sh
#      installs the wheels with pip --no-index into /tmp/site, puts the source tree on
#      PYTHONPATH, runs the batching tests on CUDA, then bench_gpu.py (640 files), and writes
#      the logs and bench_gpu.json to $OUT (or ./gpu-out without $OUT).
#
# Extra arguments go to bench_gpu.py (e.g. --files 64 for a quick try).
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
WHEELS=(duckdb==2.0.1 duckdb-engine==0.17.0 sqlalchemy==2.1.9 jiwer==4.0.0 rapidfuzz==3.14.6
        soundfile==0.14.0 cffi==2.1.1 pycparser==3.12)

if [[ "${1:-}" == "fetch" ]]; then
    mkdir -p .whl
    "$PYTHON" -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
        --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
        --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
        --platform manylinux1_x86_64 -d .whl "${WHEELS[@]}"
    rm -rf .bench-data && mkdir -p .bench-data
    cp -r ../shared/data/ljspeech-sample .bench-data/
    du -sh .whl .bench-data
    exit 0
fi

OUT=${OUT:-$PWD/gpu-out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
"$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl
export PYTHONPATH="$PWD:/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
DATA=.bench-data/ljspeech-sample
[[ -d "$DATA" ]] || DATA=../shared/data/ljspeech-sample

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
"$PYTHON" -c "import torch, torchaudio; print(torch.__version__, torchaudio.__version__)" \
    | tee -a "$OUT/gpu.txt"

# batched log-probabilities and transcripts equal one file at a time, every bundle, on CUDA
# (tests/conftest.py looks for the sample in ../shared; point it at the carried copy)
mkdir -p ../shared/data
[[ -e ../shared/data/ljspeech-sample ]] || ln -s "$PWD/$DATA" ../shared/data/ljspeech-sample
set +e
timeout 240 "$PYTHON" -m pytest -q -p no:cacheprovider tests/test_batching.py -k cuda \
    2>&1 | tee "$OUT/batching_tests.log"
set -e

# speed and transcript agreement, batched against one file at a time
"$PYTHON" benchmarks/bench_gpu.py --data "$DATA" --json "$OUT/bench_gpu.json" "$@" \
    2>&1 | tee "$OUT/bench_gpu.log"
