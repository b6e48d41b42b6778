#!/usr/bin/env bash
# The network benchmarks, in release, each printing its figures against the issue's targets:
#
#   1. reorg: a 1,000-block reorg in the chain engine, and finality on the winning and on the
#      losing fork (node/chain/benches/reorg.rs; target: the switching import < 200 ms);
#   2. sync: a dev chain of BENCH_SYNC_BLOCKS blocks (default 10,000) with BENCH_SYNC_TXS signed
#      balance transfers each (default 10), written as an `export-blocks` file by
#      node/chain/benches/sync_chain.rs; then (i) `import-blocks` of it into an empty base path
#      (blocks/s; the database is exported back and compared with the file), (ii) a fresh full
#      node syncing it over libp2p from a node holding it (`--sealing manual`, no key) given as
#      `--bootnodes` (blocks/s from its start; targets: >= 200 blocks/s, >= 80 % of (i));
#   3. finality and propagation: the four authorities of `--chain local` with 1 s slots for
#      BENCH_FINALITY_SECONDS (default 60): from a block's import on its author to its import on
#      every other node (target p95 <= 300 ms), from import to finalization (target p95 <= 2 s).
#
# Steps 2 and 3 run real node processes on loopback (scripts/bench-network.py, standard
# library only), each on free ports with its own base path in a temporary directory; every
# process is stopped and the directory removed on exit or Ctrl-C. A summary table ends the run.
#
# Usage: scripts/bench-network.sh [all|reorg|sync|finality]   (default: all; about 6-8 minutes
# on 2 cores once built)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
WHAT="${1:-all}"
PYTHON="${PYTHON:-python3}"
NODE="$(pwd)/target/release/subtensor-node"
BLOCKS="${BENCH_SYNC_BLOCKS:-10000}"
TXS="${BENCH_SYNC_TXS:-10}"
SECONDS_FINALITY="${BENCH_FINALITY_SECONDS:-60}"
WORK="$(mktemp -d -t subtensor-bench-network-XXXXXX)"
HELPER_PID=""

cleanup() {
    # The helper stops its nodes on SIGTERM; wait for it before removing their directories.
    if [ -n "$HELPER_PID" ] && kill -0 "$HELPER_PID" 2>/dev/null; then
        kill "$HELPER_PID" 2>/dev/null || true
        wait "$HELPER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

case "$WHAT" in
    all | reorg | sync | finality) ;;
    *) echo "usage: $0 [all|reorg|sync|finality]" >&2; exit 2 ;;
esac

echo "[bench] cargo build --release -p subtensor-node"
cargo build --release -p subtensor-node

REORG=""
if [ "$WHAT" = all ] || [ "$WHAT" = reorg ]; then
    echo
    echo "== 1. reorg: 1,000-block forks of two authorities in the chain engine =="
    echo "\$ cargo bench -p subtensor-chain --bench reorg"
    cargo bench -q -p subtensor-chain --bench reorg | tee "$WORK/reorg.out"
    REORG="$(sed -n 's/^summary: //p' "$WORK/reorg.out")"
fi

PHASES=""
ARGS=()
if [ "$WHAT" = all ] || [ "$WHAT" = sync ]; then
    echo
    echo "== 2. the sync chain: $BLOCKS dev blocks of $TXS transfers each =="
    "$NODE" build-spec --chain dev --raw >"$WORK/dev-raw.json" 2>/dev/null
    echo "\$ cargo bench -p subtensor-chain --bench sync_chain -- --spec dev-raw.json --out blocks.bin --blocks $BLOCKS --txs $TXS"
    cargo bench -q -p subtensor-chain --bench sync_chain -- \
        --spec "$WORK/dev-raw.json" --out "$WORK/blocks.bin" --blocks "$BLOCKS" --txs "$TXS"
    PHASES="sync"
    ARGS+=(--blocks-file "$WORK/blocks.bin" --blocks "$BLOCKS")
fi
if [ "$WHAT" = all ] || [ "$WHAT" = finality ]; then
    PHASES="${PHASES:+$PHASES,}finality"
    ARGS+=(--seconds "$SECONDS_FINALITY" --slot-ms 1000)
fi
if [ -n "$PHASES" ]; then
    "$PYTHON" scripts/bench-network.py --node "$NODE" --work "$WORK" --phases "$PHASES" \
        ${REORG:+--reorg "$REORG"} "${ARGS[@]}" &
    HELPER_PID=$!
    wait "$HELPER_PID"
    HELPER_PID=""
elif [ -n "$REORG" ]; then
    "$PYTHON" scripts/bench-network.py --node "$NODE" --work "$WORK" --phases none --reorg "$REORG"
fi
