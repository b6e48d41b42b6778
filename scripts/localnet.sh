#!/usr/bin/env bash
# The local network. The node binary (issue 3), miners and validator (issues 6 and 7) are not
# built yet; until they land this script sets up and builds what exists, then demonstrates the
# on-chain market logic: it runs one Yuma consensus epoch of the pallet's own code on the bundled
# collusion case and prints what each neuron earns.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
[ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"

echo "[localnet] building the workspace (release)"
cargo build --release --locked --workspace
echo "[localnet] the node is not implemented yet; running the Yuma epoch simulator instead"
exec scripts/yuma-epoch pallets/subtensor/sim/vectors/public.json --case collusion_minority_cabal
