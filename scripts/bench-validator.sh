#!/usr/bin/env bash
# Issue 7's validator benchmark: complete validator steps over 256 miners (sign + fan-out +
# receive + decode + phrase loss + EMA/score update), with the validator crate's own code path.
#
# Builds offchain-miner/validator/examples/bench_step.rs in release and runs it: 256 axons on
# loopback in the same process (their own tokio runtime), each answering TextCausalLMNext with
# a precomputed top-k = 512 answer for a batch of 4 x 64 tokens; one cold step, 10 timed steps
# with every miner answering, then 10 timed steps with 4 miners slow past the 12 s timeout and
# 4 shut down. Prints mean / p50 / max of the step time, the fan-out wall time, the scoring
# loop's wall and CPU time, the validator's and the miners' CPU time per step, the state save,
# and the cost of scoring one answer in isolation. Exits non-zero if a self-check fails (a
# healthy miner not scored, a slow or dead one not failed, a step held past the timeout).
#
# Usage: scripts/bench-validator.sh [bench_step options...]
#   e.g. scripts/bench-validator.sh --steps 5 --faulty-steps 3 --timeout 4
#        scripts/bench-validator.sh --phase healthy --miners 512
# Environment: BENCH_JSON (also write every figure as JSON there).
# The miners share the machine's cores with the validator, so the figures are an upper bound
# of what a validator alone would take; the "validator CPU" row is its own share.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=env.sh
source scripts/env.sh

echo "== building (release): subtensor-validator example bench_step" >&2
cargo build --release -p subtensor-validator --example bench_step >&2
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="$TARGET_DIR/release/examples/bench_step"
[ -x "$BIN" ] || { echo "bench-validator: $BIN was not built" >&2; exit 1; }

ARGS=()
if [ -n "${BENCH_JSON:-}" ]; then ARGS+=(--json "$BENCH_JSON"); fi
# 256 axons plus their connections need about 800 file descriptors.
if [ "$(ulimit -n)" != "unlimited" ] && [ "$(ulimit -n)" -lt 2048 ]; then
    ulimit -n 2048 2>/dev/null || echo "bench-validator: warning: ulimit -n is $(ulimit -n)" >&2
fi
echo "== machine: $(nproc) cores, $(uname -sr); other processes running now share them" >&2
echo "== running: $BIN ${ARGS[*]:-} $*" >&2
"$BIN" "${ARGS[@]}" "$@"
