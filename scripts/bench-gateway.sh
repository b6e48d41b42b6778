#!/usr/bin/env bash
# Issue 14's gateway benchmark, on loopback with release builds:
#   (a) gateway overhead: one completion (8 tokens, greedy) through stgateway against the same
#       signed TextSeq2Seq straight to the miner's axon, p50 / p99 (target < 5 ms added);
#   (b) completions/s through the gateway with 1, 8 and 32 concurrent clients;
#   (c) streaming time to first token p50 / p99 / max through gateways over two miners, one of
#       them stalled (--test-added-latency-ms 2000), with hedging and with --no-hedge.
#
# Starts two `stminer --offline` (the tiny preset's `large` model, .local/test-models, trained
# with release stmodel when missing) and three `stgateway --offline --no-auth` (one over the
# fast miner for (a) and (b); over both with and without hedging for (c)), then runs
# offchain-miner/gateway/examples/bench_gateway.rs (see its docs) and prints its tables.
#
# Usage: scripts/bench-gateway.sh [--requests N] [--seconds S]
# Environment: BENCH_CORPUS (default /usr/share/games/fortunes), BENCH_PORT (first of six
# loopback ports, default 18400), BENCH_THREADS (libtorch threads per miner, default 1).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=env.sh
source scripts/env.sh

CORPUS="${BENCH_CORPUS:-/usr/share/games/fortunes}"
PORT="${BENCH_PORT:-18400}"
THREADS="${BENCH_THREADS:-1}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
REL="$TARGET_DIR/release"

echo "== building (release): stminer, stgateway, stcli, stmodel, example bench_gateway" >&2
cargo build --release -p subtensor-miner -p subtensor-cli -p subtensor-model --bins >&2
cargo build --release -p subtensor-gateway --bins --example bench_gateway >&2

MODELS="$ROOT/.local/test-models"
if [ ! -f "$MODELS/large/model.safetensors" ] || [ ! -f "$MODELS/tokenizer.json" ]; then
    [ -e "$CORPUS" ] || { echo "bench-gateway: no corpus at $CORPUS (set BENCH_CORPUS)" >&2; exit 1; }
    echo "== training the tiny preset's models into $MODELS" >&2
    python3 - "$REL/stmodel" "$CORPUS" "$MODELS" <<'PY' >&2
import sys
from pathlib import Path
sys.path.insert(0, "scripts")
from localnet import prepare_models
prepare_models(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), "tiny")
PY
fi
TOKENIZER="$MODELS/tokenizer.json"
MODEL="$MODELS/large"

WORK="$(mktemp -d)"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
export BT_WALLET_PATH="$WORK/wallets" STCLI_PASSWORD=bench-gateway
for w in bench-fast bench-stalled bench-gateway; do
    "$REL/stcli" --no-prompt --json wallet create --wallet-name "$w" >/dev/null
done

MINER_FAST=$PORT MINER_STALLED=$((PORT + 1))
GW=$((PORT + 2)) GW_HEDGE=$((PORT + 3)) GW_NO_HEDGE=$((PORT + 4))
miner() { # name port [extra flags...]
    local name=$1 port=$2
    shift 2
    "$REL/stminer" --offline --model "$MODEL" --tokenizer "$TOKENIZER" --wallet.name "$name" \
        --axon.ip 127.0.0.1 --axon.port "$port" --threads "$THREADS" --hotkey-rate 1000000 \
        --hotkey-burst 1000000 --hotkey-in-flight 4096 --queue 4096 --log warn "$@" \
        >"$WORK/$name.log" 2>&1 &
    PIDS+=($!)
}
gateway() { # port [extra flags...]
    local port=$1
    shift
    "$REL/stgateway" --offline --tokenizer "$TOKENIZER" --no-auth --rate 1000000000 \
        --burst 1000000000 --wallet.name bench-gateway --port "$port" --log warn "$@" \
        >"$WORK/gateway-$port.log" 2>&1 &
    PIDS+=($!)
}
miner bench-fast "$MINER_FAST"
miner bench-stalled "$MINER_STALLED" --test-added-latency-ms 2000
gateway "$GW" --miner "127.0.0.1:$MINER_FAST"
gateway "$GW_HEDGE" --miner "127.0.0.1:$MINER_FAST" --miner "127.0.0.1:$MINER_STALLED"
gateway "$GW_NO_HEDGE" --miner "127.0.0.1:$MINER_FAST" --miner "127.0.0.1:$MINER_STALLED" \
    --no-hedge
for port in "$GW" "$GW_HEDGE" "$GW_NO_HEDGE"; do
    for _ in $(seq 1 300); do
        python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/health', timeout=1)" \
            2>/dev/null && break
        sleep 0.3
    done
done
python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$GW_NO_HEDGE/health', timeout=1)" || {
    echo "bench-gateway: the gateways did not start; logs:" >&2
    tail -n 5 "$WORK"/*.log >&2
    exit 1
}

echo "== machine: $(nproc) cores, loopback; miners: tiny 'large' model, $THREADS libtorch thread(s)"
"$REL/examples/bench_gateway" --tokenizer "$TOKENIZER" --miner "127.0.0.1:$MINER_FAST" \
    --gateway "http://127.0.0.1:$GW" --hedged "http://127.0.0.1:$GW_HEDGE" \
    --unhedged "http://127.0.0.1:$GW_NO_HEDGE" "$@"
