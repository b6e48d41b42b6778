#!/usr/bin/env bash
# Sets up what is missing, then builds and runs every test: the Rust workspace (unit, golden,
# property and integration tests) and the end-to-end tests that drive a real node with
# third-party Python clients.
# Usage: scripts/test.sh [extra cargo test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
[ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"

echo "[test] cargo test --workspace (the first run compiles the FRAME crates: minutes on 2 cores)"
cargo test --workspace --locked "$@"

echo "[test] end-to-end tests (tests/, pytest, real node processes)"
cargo build --locked -p subtensor-node -p subtensor-cli
cargo build --locked -p subtensor-axon --example interop
SUBTENSOR_NODE_BIN="$(pwd)/target/debug/subtensor-node" STCLI_BIN="$(pwd)/target/debug/stcli" \
    .venv/bin/python -m pytest -c tests/pytest.ini tests -q
