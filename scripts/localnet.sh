#!/usr/bin/env bash
# The local network, one command: sets up what is missing (Debian packages, the Python and
# torch virtualenvs, the fortunes corpus), builds the node, stcli, stmodel, stminer and
# stvalidator (release), trains the standard tokenizer and three models of different quality
# on first use (cached in .local/models), then starts the `local` chain's four authority nodes
# (Alice, Bob, Charlie, Dave: Aura slots of 1 s, GRANDPA finality; LOCALNET_NODES=1 runs a
# single dev node instead), sets subnet 1 to tempo 10,
# creates wallets, starts the three miners (each registers itself and publishes its axon) and a
# validator (which scores them by held-out loss and sets weights), and prints the metagraph
# each epoch until Ctrl-C, which stops every process it started.
#
# Environment: RPC_PORT (default 9944), LOCALNET_DIR (default .local/localnet; wiped at start),
# LOCALNET_PROFILE (release by default; `debug` builds faster and runs slower),
# LOCALNET_PRESET (default: three models trained for a few minutes; `tiny`: seconds),
# LOCALNET_EPOCHS (stop after this many epochs; default 0 = run until Ctrl-C),
# LOCALNET_NODES (authority nodes, 1-4; default 4),
# LOCALNET_GRID=1 (also grid subnet 2: the best model named by its grid spec, three honest
# `stminer --grid` miners at different speeds, and a grid-mode validator that verifies every
# answer by seed and pays for speed).
set -euo pipefail
export LOCALNET_T0="${LOCALNET_T0:-$(date +%s.%N)}"
cd "$(dirname "$0")/.."
root="$(pwd)"
bash scripts/setup.sh
source scripts/env.sh

profile="${LOCALNET_PROFILE:-release}"
case "$profile" in
    release) profile_flag=(--release) ;;
    debug) profile_flag=() ;;
    *) echo "[localnet] error: LOCALNET_PROFILE must be release or debug" >&2; exit 2 ;;
esac
echo "[localnet] building the node, stcli, stmodel, stminer, stvalidator, stgateway ($profile; the first build takes a while)"
cargo build "${profile_flag[@]}" --locked -p subtensor-node -p subtensor-cli \
    -p subtensor-model -p subtensor-miner -p subtensor-validator -p subtensor-gateway

exec .venv/bin/python scripts/localnet.py --profile "$profile" \
    --dir "${LOCALNET_DIR:-$root/.local/localnet}" --rpc-port "${RPC_PORT:-9944}" \
    --preset "${LOCALNET_PRESET:-default}" --epochs "${LOCALNET_EPOCHS:-0}" \
    --nodes "${LOCALNET_NODES:-4}"
