#!/usr/bin/env bash
# The node's benchmarks, in release, each printing its figures against the issue's targets:
#
#   1. block throughput: build and import a block of 1,000 set_weights x 256 weights
#      (node/chain/benches/set_weights_block.rs; target: authoring + import < 1 s);
#   2. RPC throughput: state_getStorage over WebSocket from 8 concurrent clients against a
#      running release node (Rust load generator node/rpc/benches/rpc_load.rs; target >= 20,000
#      requests/s; BENCH_PYTHON=1 also runs the Python one, scripts/bench-node-rpc.py);
#   3. metagraph: subtensor_getMetagraph of a 4096-uid subnet on a running release node whose
#      chain spec node/chain/benches/metagraph_genesis.rs writes (scripts/bench-node-metagraph.py;
#      target < 50 ms);
#   4. sdk: the bittensor SDK's metagraph(netuid) sync of the same 4096-uid subnet, split into
#      RPC, SCALE decoding and the SDK's own Python, against subtensor_getMetagraph in the same
#      run (scripts/bench-sdk-metagraph.py, .venv-bt).
#
# Usage: scripts/bench-node.sh [all|block|rpc|metagraph|sdk]   (default: all)
# The RPC nodes run with `--sealing manual` on temporary base paths, on loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
WHAT="${1:-all}"
PYTHON="${PYTHON:-.venv/bin/python}"
NODE="$(pwd)/target/release/subtensor-node"
WORK="$(mktemp -d -t subtensor-bench-XXXXXX)"
NODE_PID=""

cleanup() {
    if [ -n "$NODE_PID" ] && kill -0 "$NODE_PID" 2>/dev/null; then
        kill "$NODE_PID" && wait "$NODE_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
    "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_node LOG ARGS...: start the release node on a free loopback port; sets PORT, NODE_PID.
start_node() {
    local log="$1"
    shift
    PORT="$(free_port)"
    "$NODE" --alice --rpc-port "$PORT" --sealing manual "$@" >"$log" 2>&1 &
    NODE_PID=$!
    for _ in $(seq 1 300); do
        if curl -sf -H 'Content-Type: application/json' \
            -d '{"jsonrpc":"2.0","id":1,"method":"system_health","params":[]}' \
            "http://127.0.0.1:$PORT" >/dev/null 2>&1; then
            return 0
        fi
        kill -0 "$NODE_PID" 2>/dev/null || { cat "$log"; echo "the node exited" >&2; exit 1; }
        sleep 0.1
    done
    cat "$log"
    echo "the node did not answer within 30 s" >&2
    exit 1
}

stop_node() {
    kill "$NODE_PID" && wait "$NODE_PID" 2>/dev/null || true
    NODE_PID=""
}

echo "[bench] cargo build --release -p subtensor-node"
cargo build --release -p subtensor-node

if [ "$WHAT" = all ] || [ "$WHAT" = block ]; then
    echo
    echo "== 1. block throughput: 1,000 set_weights x 256 weights =="
    echo "\$ cargo bench -p subtensor-chain --bench set_weights_block"
    cargo bench -q -p subtensor-chain --bench set_weights_block
fi

if [ "$WHAT" = all ] || [ "$WHAT" = rpc ]; then
    echo
    echo "== 2. RPC throughput: state_getStorage over WebSocket, 8 clients =="
    cargo bench -q -p subtensor-rpc --bench rpc_load --no-run
    start_node "$WORK/rpc-node.log" --chain dev --base-path "$WORK/rpc-node"
    echo "\$ subtensor-node --chain dev --alice --sealing manual --base-path \$TMP --rpc-port $PORT"
    echo "\$ cargo bench -p subtensor-rpc --bench rpc_load -- --url ws://127.0.0.1:$PORT --clients 8 --depth 16 --seconds 10"
    cargo bench -q -p subtensor-rpc --bench rpc_load -- \
        --url "ws://127.0.0.1:$PORT" --clients 8 --depth 16 --seconds 10
    if [ "${BENCH_PYTHON:-0}" = 1 ]; then
        echo "\$ $PYTHON scripts/bench-node-rpc.py ws://127.0.0.1:$PORT --clients 8 --depth 16 --seconds 10"
        "$PYTHON" scripts/bench-node-rpc.py "ws://127.0.0.1:$PORT" --clients 8 --depth 16 --seconds 10
    fi
    stop_node
fi

# The 4096-uid chain spec of benchmarks 3 and 4.
metagraph_spec() {
    if [ ! -f "$WORK/bench-4096.json" ]; then
        "$NODE" build-spec --chain dev --raw >"$WORK/dev-raw.json" 2>/dev/null
        echo "\$ cargo bench -p subtensor-chain --bench metagraph_genesis -- --in dev-raw.json --out bench-4096.json"
        cargo bench -q -p subtensor-chain --bench metagraph_genesis -- \
            --in "$WORK/dev-raw.json" --out "$WORK/bench-4096.json"
    fi
}

if [ "$WHAT" = all ] || [ "$WHAT" = metagraph ]; then
    echo
    echo "== 3. metagraph: subtensor_getMetagraph of a 4096-uid subnet =="
    metagraph_spec
    start_node "$WORK/metagraph-node.log" --chain "$WORK/bench-4096.json" --base-path "$WORK/metagraph-node"
    echo "\$ subtensor-node --chain bench-4096.json --alice --sealing manual --base-path \$TMP --rpc-port $PORT"
    echo "\$ $PYTHON scripts/bench-node-metagraph.py http://127.0.0.1:$PORT --calls 15"
    "$PYTHON" scripts/bench-node-metagraph.py "http://127.0.0.1:$PORT" --calls 15
    stop_node
fi

if [ "$WHAT" = all ] || [ "$WHAT" = sdk ]; then
    echo
    echo "== 4. sdk: the bittensor SDK's metagraph(netuid) of the 4096-uid subnet =="
    [ -x .venv-bt/bin/python ] || { echo "run scripts/setup.sh first (.venv-bt)" >&2; exit 1; }
    metagraph_spec
    start_node "$WORK/sdk-node.log" --chain "$WORK/bench-4096.json" --base-path "$WORK/sdk-node"
    echo "\$ subtensor-node --chain bench-4096.json --alice --sealing manual --base-path \$TMP --rpc-port $PORT"
    echo "\$ .venv-bt/bin/python scripts/bench-sdk-metagraph.py ws://127.0.0.1:$PORT --runs ${SDK_RUNS:-5}"
    .venv-bt/bin/python scripts/bench-sdk-metagraph.py "ws://127.0.0.1:$PORT" --runs "${SDK_RUNS:-5}"
    stop_node
fi
