#!/usr/bin/env bash
# Forward-pass throughput of `stmodel` (tch/libtorch) against Hugging Face transformers'
# GPT2LMHeadModel (PyTorch) on the same weights, on the CPU, with the same thread count, in
# one run: builds stmodel in release, makes (or reuses) a random model directory of the given
# size, then runs scripts/bench-model.py, which prints both tokens/s and their ratio.
#
# Usage: scripts/bench-model.sh [--layers 6] [--width 384] [--heads 6] [--vocab 4096]
#            [--context 128] [--batch 16] [--seq 128] [--iters 20] [--threads N] [--dir DIR]
# Defaults as shown; --threads defaults to the number of CPUs; the model directory defaults to
# target/bench-model/<shape> and is reused when it exists.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
cargo build --release -p subtensor-model --bin stmodel
exec .venv-torch/bin/python scripts/bench-model.py --stmodel target/release/stmodel "$@"
