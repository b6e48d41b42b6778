#!/usr/bin/env bash
# Issue 5's axon benchmark: our axon (subtensor-axon, release) against the Python bittensor
# 10.2.0 axon, on this machine, same synapses, same load generator, in one run:
#   * Dummy (one int in, one int out) and TextCausalLMNext answering a prebuilt k = 4096 answer;
#   * closed loop (max req/s with C connections) and open loop (fixed rate, latency from the
#     scheduled send time).
# Prints a table (server, synapse, mode, req/s, p50, p99, errors), the ratios ours/python and
# the issue's targets (>= 10x Python's req/s; p99 < 5 ms for Dummy at 1,000 req/s).
#
# Usage: scripts/bench-axon.sh [bench_load options...]
#   e.g. scripts/bench-axon.sh --duration 5 --concurrency 16 --rate 1000 --synapses dummy
# Environment: BENCH_OUR_PORT / BENCH_PY_PORT (default: free ports), BENCH_SERVER_THREADS
# (our axon's tokio workers; default: one per core), BENCH_JSON (write results as JSON there).
# Needs .venv-bt (bittensor 10.2.0): run scripts/setup.sh first.
# Servers: offchain-miner/axon/examples/bench_axon_server.rs, scripts/bench-axon-server.py;
# load generator: offchain-miner/axon/examples/bench_load.rs (see its docs for every option).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=env.sh
source scripts/env.sh

PY="$ROOT/.venv-bt/bin/python"
if [ ! -x "$PY" ] || ! "$PY" -c 'import bittensor' >/dev/null 2>&1; then
    echo "bench-axon: $ROOT/.venv-bt with bittensor 10.2.0 is missing or broken;" \
        "run scripts/setup.sh first" >&2
    exit 1
fi
BT_VERSION="$("$PY" -c 'import importlib.metadata as m; print(m.version("bittensor"))')"
if [ "$BT_VERSION" != "10.2.0" ]; then
    echo "bench-axon: warning: .venv-bt has bittensor $BT_VERSION, not 10.2.0" >&2
fi

echo "== building (release): bench_axon_server, bench_load" >&2
cargo build --release -p subtensor-axon --example bench_axon_server --example bench_load >&2
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
SERVER_BIN="$TARGET_DIR/release/examples/bench_axon_server"
LOAD_BIN="$TARGET_DIR/release/examples/bench_load"
for bin in "$SERVER_BIN" "$LOAD_BIN"; do
    [ -x "$bin" ] || { echo "bench-axon: $bin was not built" >&2; exit 1; }
done

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
OUR_PORT="${BENCH_OUR_PORT:-$(free_port)}"
PY_PORT="${BENCH_PY_PORT:-$(free_port)}"
if [ "$OUR_PORT" = "$PY_PORT" ]; then PY_PORT="$(free_port)"; fi

LOGS="$(mktemp -d -t bench-axon.XXXXXX)"
OUR_PID=""
PY_PID=""
cleanup() {
    local rc=$?
    for pid in $OUR_PID $PY_PID; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
        fi
    done
    for pid in $OUR_PID $PY_PID; do
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
        wait "$pid" 2>/dev/null || true
    done
    if [ "$rc" -ne 0 ]; then
        echo "bench-axon: failed (exit $rc); server logs kept in $LOGS" >&2
    else
        rm -rf "$LOGS"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_port NAME PID PORT LOG SECONDS: until PORT accepts connections; fails if PID dies.
wait_port() {
    local name=$1 pid=$2 port=$3 log=$4 deadline=$((SECONDS + $5))
    while [ "$SECONDS" -lt "$deadline" ]; do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "bench-axon: the $name server exited before listening; its log:" >&2
            cat "$log" >&2
            return 1
        fi
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.2
    done
    echo "bench-axon: the $name server is not listening on port $port after $5 s; its log:" >&2
    cat "$log" >&2
    return 1
}

SERVER_ARGS=(--port "$OUR_PORT" --uri //Bob)
if [ -n "${BENCH_SERVER_THREADS:-}" ]; then SERVER_ARGS+=(--threads "$BENCH_SERVER_THREADS"); fi
echo "== starting our axon on 127.0.0.1:$OUR_PORT and the Python axon on port $PY_PORT" >&2
"$SERVER_BIN" "${SERVER_ARGS[@]}" >"$LOGS/ours.log" 2>&1 &
OUR_PID=$!
"$PY" "$ROOT/scripts/bench-axon-server.py" "$PY_PORT" //Bob >"$LOGS/python.log" 2>&1 &
PY_PID=$!
wait_port ours "$OUR_PID" "$OUR_PORT" "$LOGS/ours.log" 30
wait_port python "$PY_PID" "$PY_PORT" "$LOGS/python.log" 120

LOAD_ARGS=(--target "ours=127.0.0.1:$OUR_PORT" --target "python=127.0.0.1:$PY_PORT")
if [ -n "${BENCH_JSON:-}" ]; then LOAD_ARGS+=(--json "$BENCH_JSON"); fi
echo "== machine: $(nproc) cores, $(uname -sr); load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$LOAD_BIN" "${LOAD_ARGS[@]}" "$@"
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg) (other work on this machine skews the figures)" >&2
