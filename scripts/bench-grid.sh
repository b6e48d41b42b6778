#!/usr/bin/env bash
# Issue 13's grid benchmark: for 1000 held-out challenges, the miner's honest generate_grid
# against the validator's verify_grid_claim (default tolerance) of its output and per-token
# log-probabilities: generation and verification ms p50 / p99 and their ratio (target <= 25%),
# honest rejections (target 0), and the share of outputs of a copy of the model with perturbed
# weights (x0.01 of each tensor's RMS, and x0.001) that verification rejects (target >= 99%),
# on the tokens alone and with the copy's own log-probability claims.
#
# Builds offchain-miner/model/examples/bench_grid.rs in release and runs it (see its docs).
# The default model is .local/test-models/large, the "large" model of the end-to-end tests'
# "tiny" preset (2 layers x 96 wide, context 64, vocabulary 512, 150 steps on the corpus); it
# is trained here (scripts/localnet.py's prepare_models, release stmodel; about a minute) when
# missing and no --model is given. Prompts are cut from the corpus's held-out documents, as
# `stmodel grid-calibrate` cuts them.
#
# Usage: scripts/bench-grid.sh [bench_grid options...]
#   e.g. scripts/bench-grid.sh --challenges 200 --other-scales 0.001,0.03,0.1
#        scripts/bench-grid.sh --model DIR --prompt-len 24 --new-tokens 64 --threads 4
# --prompt-len + --new-tokens must fit the model's context (defaults 16 + 48 for context 64).
# Environment: BENCH_CORPUS (default /usr/share/games/fortunes; also passed as --corpus).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=env.sh
source scripts/env.sh

CORPUS="${BENCH_CORPUS:-/usr/share/games/fortunes}"
if [ ! -e "$CORPUS" ]; then
    echo "bench-grid: no corpus at $CORPUS (apt-get install fortunes, or set BENCH_CORPUS)" >&2
    exit 1
fi

echo "== building (release): subtensor-model example bench_grid" >&2
cargo build --release -p subtensor-model --example bench_grid >&2
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="$TARGET_DIR/release/examples/bench_grid"
[ -x "$BIN" ] || { echo "bench-grid: $BIN was not built" >&2; exit 1; }

has_model=""
for arg in "$@"; do
    case "$arg" in --model|--model=*) has_model=1 ;; esac
done
if [ -z "$has_model" ] && [ ! -f .local/test-models/large/model.safetensors ]; then
    echo "== training the tiny preset's models into .local/test-models (release stmodel)" >&2
    cargo build --release -p subtensor-model --bin stmodel >&2
    python3 - "$TARGET_DIR/release/stmodel" "$CORPUS" <<'PY' >&2
import sys
from pathlib import Path
sys.path.insert(0, "scripts")
from localnet import prepare_models
prepare_models(Path(sys.argv[1]), Path(sys.argv[2]), Path(".local/test-models"), "tiny")
PY
fi

exec "$BIN" --corpus "$CORPUS" "$@"
