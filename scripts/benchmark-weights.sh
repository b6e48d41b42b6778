#!/usr/bin/env bash
# Regenerates pallets/subtensor/src/weights.rs from the pallet's FRAME benchmarks
# (pallets/subtensor/src/benchmarking.rs): builds the release node with the `runtime-benchmarks`
# feature and runs its `benchmark pallet` subcommand, which measures every benchmark natively
# on the `dev` genesis state and writes the weights file (header: machine, date, command).
#
# Usage: scripts/benchmark-weights.sh [extra `benchmark pallet` options]
# STEPS and REPEAT (environment) override the sampling. The defaults, FRAME's 50 steps but 8
# repeats instead of 20, keep a run at about 10 minutes on this project's 2-core machines
# (`REPEAT=20` takes about 25 minutes).
#
# The release binary target/release/subtensor-node then carries the benchmark subcommand;
# scripts/test.sh rebuilds it without the feature before the end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

STEPS="${STEPS:-50}"
REPEAT="${REPEAT:-8}"
OUTPUT=pallets/subtensor/src/weights.rs

echo "[weights] building the release node with --features runtime-benchmarks"
cargo build --release --locked -p subtensor-node --features runtime-benchmarks

echo "[weights] running the benchmarks (steps $STEPS, repeat $REPEAT) into $OUTPUT"
target/release/subtensor-node benchmark pallet --pallet pallet_subtensor --extrinsic '*' \
    --steps "$STEPS" --repeat "$REPEAT" --output "$OUTPUT" "$@"
rustfmt --edition 2021 "$OUTPUT"
echo "[weights] wrote $OUTPUT"
