#!/usr/bin/env bash
# Sets up what is missing, then builds and runs every test: the Rust workspace (unit, golden,
# property and integration tests, libtorch models included) and the end-to-end tests that drive
# real node, miner and validator processes with third-party Python clients (substrate-interface,
# async-substrate-interface, bittensor 10.2.0, transformers).
# Usage: scripts/test.sh [extra cargo test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh

echo "[test] cargo test --workspace (the first run compiles the FRAME crates: minutes on 2 cores)"
cargo test --workspace --locked "$@"
echo "[test] the pallet's FRAME benchmarks as unit tests (feature runtime-benchmarks)"
cargo test --locked -p pallet-subtensor --features runtime-benchmarks
echo "[test] the benchmarked weights bound the heavy calls (release: the weights are release timings)"
cargo test --release --locked -p subtensor-runtime --test weights_bound

echo "[test] building the binaries the end-to-end tests run"
cargo build --locked -p subtensor-node -p subtensor-cli -p subtensor-model -p subtensor-miner \
    -p subtensor-validator -p subtensor-gateway
cargo build --locked -p subtensor-axon --example interop
cargo build --locked -p subtensor-miner --example evil_miner
cargo build --locked -p subtensor-miner --example grid_cheater --features test-utils
cargo build --locked -p subtensor-validator --example distill_collect
cargo build --locked -p subtensor-sync --example evil_peer
echo "[test] building the release node (the multi-node tests run four authorities with 1 s slots)"
cargo build --release --locked -p subtensor-node

echo "[test] end-to-end tests (tests/, pytest, real processes)"
export SUBTENSOR_NODE_BIN="$(pwd)/target/debug/subtensor-node" STCLI_BIN="$(pwd)/target/debug/stcli" \
    STMODEL_BIN="$(pwd)/target/debug/stmodel" STMINER_BIN="$(pwd)/target/debug/stminer" \
    STVALIDATOR_BIN="$(pwd)/target/debug/stvalidator" STGATEWAY_BIN="$(pwd)/target/debug/stgateway" \
    SUBTENSOR_NODE_RELEASE_BIN="$(pwd)/target/release/subtensor-node"
.venv/bin/python -m pytest -c tests/pytest.ini tests -q --ignore=tests/test_model_interop.py
echo "[test] model interop with PyTorch and transformers (.venv-torch)"
.venv-torch/bin/python -m pytest -c tests/pytest.ini tests/test_model_interop.py -q
