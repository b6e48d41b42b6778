#!/usr/bin/env bash
# Sets up what is missing, then builds and runs every test of the workspace.
# Usage: scripts/test.sh [extra cargo test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
[ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"

echo "[test] cargo test --workspace (first run compiles the FRAME crates: a few minutes on 2 cores)"
cargo test --workspace --locked "$@"
