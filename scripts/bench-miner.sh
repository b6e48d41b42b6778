#!/usr/bin/env bash
# Issue 6's miner benchmark: requests/s of a real `stminer` (release) for TextCausalLMNext.
#
# A model directory from `stmodel init` (4 layers, width 256, 4 heads, context 128, vocabulary
# 4096 from a BPE tokenizer trained on the fortunes corpus), served by `stminer --offline` on
# loopback, loaded by bench_miner_load: signed, closed-loop TextCausalLMNext requests (batch 1
# x 64 tokens, topk 512) at concurrency 1, 8 and 32; then the same with `--max-batch 1`
# (dynamic batching off). Prints req/s, p50 and p99 for each run and the ratios
# batching / no batching, with the miner's own count of merged passes.
#
# Usage: scripts/bench-miner.sh [bench_miner_load options...]
#   e.g. scripts/bench-miner.sh --duration 5 --concurrency 1,32
# Environment: BENCH_THREADS (the miner's libtorch threads; default: libtorch's), BENCH_DEVICE
# (cpu), BENCH_BATCH_WAIT_MS (the miner's batching window; default 0), BENCH_LOAD_THREADS (the
# generator's tokio workers; default 1), BENCH_CORPUS (default /usr/share/games/fortunes),
# BENCH_PORT (default: a free port), BENCH_KEEP (keep the work directory).
# Load generator: offchain-miner/miner/examples/bench_miner_load.rs (see its docs).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=env.sh
source scripts/env.sh

CORPUS="${BENCH_CORPUS:-/usr/share/games/fortunes}"
if [ ! -e "$CORPUS" ]; then
    echo "bench-miner: no corpus at $CORPUS (apt-get install fortunes, or set BENCH_CORPUS)" >&2
    exit 1
fi

echo "== building (release): stminer, stmodel, stcli, bench_miner_load" >&2
cargo build --release -p subtensor-miner --bin stminer --example bench_miner_load >&2
cargo build --release -p subtensor-model --bin stmodel >&2
cargo build --release -p subtensor-cli --bin stcli >&2
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
STMINER="$TARGET_DIR/release/stminer"
STMODEL="$TARGET_DIR/release/stmodel"
STCLI="$TARGET_DIR/release/stcli"
LOAD="$TARGET_DIR/release/examples/bench_miner_load"
for bin in "$STMINER" "$STMODEL" "$STCLI" "$LOAD"; do
    [ -x "$bin" ] || { echo "bench-miner: $bin was not built" >&2; exit 1; }
done

WORK="$(mktemp -d -t bench-miner.XXXXXX)"
MINER_PID=""
stop_miner() {
    local pid=$MINER_PID
    MINER_PID=""
    [ -n "$pid" ] || return 0
    if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null || true; fi
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    local rc=$?
    stop_miner
    if [ "$rc" -ne 0 ] || [ -n "${BENCH_KEEP:-}" ]; then
        echo "bench-miner: exit $rc; work directory and miner logs kept in $WORK" >&2
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "== model: tokenizer (vocab 4096) on $CORPUS, stmodel init (4 layers, width 256, 4 heads, context 128)" >&2
"$STMODEL" tokenizer --corpus "$CORPUS" --vocab-size 4096 --out "$WORK/tokenizer.json" >&2
"$STMODEL" init --out "$WORK/model" --tokenizer "$WORK/tokenizer.json" \
    --layers 4 --width 256 --heads 4 --context 128 >&2
VOCAB="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["vocab_size"])' "$WORK/model/config.json")"

echo "== wallet: hotkey //Bob in $WORK/wallets" >&2
AXON_HOTKEY="$(env -u BT_WALLET_NAME -u BT_WALLET_HOTKEY -u BT_WALLET_PATH "$STCLI" --no-prompt --json \
    wallet regen-hotkey --uri //Bob --wallet-path "$WORK/wallets" --wallet-name bench |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["ss58"])')"

PORT="${BENCH_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"

# start_miner LOG [stminer flags...]: starts stminer and waits until its axon listens.
start_miner() {
    local log=$1
    shift
    local args=(--offline --model "$WORK/model" --device "${BENCH_DEVICE:-cpu}"
        --axon.ip 127.0.0.1 --axon.port "$PORT"
        --wallet.path "$WORK/wallets" --wallet.name bench --wallet.hotkey default
        --batch-wait-ms "${BENCH_BATCH_WAIT_MS:-0}" --threads "${BENCH_THREADS:-0}" "$@")
    echo "   stminer ${args[*]}" >&2
    env -u BT_WALLET_NAME -u BT_WALLET_HOTKEY -u BT_WALLET_PATH "$STMINER" "${args[@]}" >"$log" 2>&1 &
    MINER_PID=$!
    local deadline=$((SECONDS + 120))
    while [ "$SECONDS" -lt "$deadline" ]; do
        if ! kill -0 "$MINER_PID" 2>/dev/null; then
            echo "bench-miner: stminer exited before listening; its log:" >&2
            cat "$log" >&2
            return 1
        fi
        if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
            return 0
        fi
        sleep 0.2
    done
    echo "bench-miner: stminer is not listening on port $PORT after 120 s; its log:" >&2
    cat "$log" >&2
    return 1
}

LOAD_ARGS=(--target "127.0.0.1:$PORT" --axon-hotkey "$AXON_HOTKEY" --concurrency 1,8,32
    --batch 1 --seq-len 64 --topk 512 --vocab "$VOCAB" --threads "${BENCH_LOAD_THREADS:-1}")

echo "== machine: $(nproc) cores, $(uname -sr); load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for mode in batching no-batching; do
    flags=()
    if [ "$mode" = no-batching ]; then flags=(--max-batch 1); fi
    echo "== $mode: stminer ${flags[*]:-(default --max-batch 32)}" >&2
    start_miner "$WORK/$mode.log" "${flags[@]}"
    "$LOAD" "${LOAD_ARGS[@]}" --label "$mode" --json "$WORK/$mode.json" "$@" >&2
    stop_miner
    echo "   miner: $(grep -o 'stopped: .*' "$WORK/$mode.log" || echo 'no final statistics line')" >&2
done
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg) (other work on this machine skews the figures)" >&2
echo
"$LOAD" --compare "$WORK/batching.json" "$WORK/no-batching.json"
