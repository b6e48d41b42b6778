#!/usr/bin/env bash
# The local network: sets up what is missing, builds (release), starts a dev node with a fast
# tempo, creates wallets, registers three miners (two burned, one by proof of work) and a
# validator on subnet 1, stakes, serves axons, and prints the metagraph every epoch until Ctrl-C,
# which stops every process it started.
#
# The miner and validator processes (libtorch models behind signed axons) are not built yet;
# until they are, the validator here scores the miners with a fixed preference (3:2:1) and sets
# those weights each epoch, so the chain's side of the market (permits, consensus, incentive,
# dividends, emission) runs for real.
#
# Environment: RPC_PORT (default 9944), LOCALNET_DIR (default .local/localnet; wiped at start),
# LOCALNET_PROFILE (release by default; `debug` builds faster and runs slower).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
bash scripts/setup.sh
[ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"

log() { printf '[localnet] %s\n' "$*"; }
rpc_port="${RPC_PORT:-9944}"
dir="${LOCALNET_DIR:-$root/.local/localnet}"

profile="${LOCALNET_PROFILE:-release}"
case "$profile" in
    release) profile_flag=(--release) ;;
    debug) profile_flag=() ;;
    *) echo "[localnet] error: LOCALNET_PROFILE must be release or debug" >&2; exit 2 ;;
esac
log "building subtensor-node and stcli ($profile; the first build takes several minutes)"
cargo build "${profile_flag[@]}" --locked -p subtensor-node -p subtensor-cli
node_bin="$root/target/$profile/subtensor-node"
stcli_bin="$root/target/$profile/stcli"

rm -rf "$dir"
mkdir -p "$dir"
node_pid=""
cleanup() {
    if [ -n "$node_pid" ] && kill -0 "$node_pid" 2>/dev/null; then
        log "stopping the node (pid $node_pid)"
        kill -TERM "$node_pid" 2>/dev/null || true
        wait "$node_pid" 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "starting a dev node on ws://127.0.0.1:$rpc_port (log: $dir/node.log)"
"$node_bin" --dev --base-path "$dir/node" --rpc-port "$rpc_port" --sealing 1000 >"$dir/node.log" 2>&1 &
node_pid=$!
for _ in $(seq 1 100); do
    if curl -s -o /dev/null -H 'Content-Type: application/json' \
        -d '{"id":1,"jsonrpc":"2.0","method":"system_health","params":[]}' "http://127.0.0.1:$rpc_port"; then
        break
    fi
    kill -0 "$node_pid" 2>/dev/null || { tail -20 "$dir/node.log"; exit 1; }
    sleep 0.2
done

export STCLI_NETWORK="ws://127.0.0.1:$rpc_port" BT_WALLET_PATH="$dir/wallets" STCLI_PASSWORD="localnet-password"
st() { "$stcli_bin" --no-prompt "$@"; }
quiet() { st --json "$@" >/dev/null; }
netuid=1

log "wallets: //Alice (sudo, owner of subnet $netuid), a validator and three miners"
quiet wallet regen-coldkey --wallet-name alice --uri //Alice
for name in validator miner1 miner2 miner3; do
    quiet wallet create --wallet-name "$name"
    coldkey="$(st --json wallet list | python3 -c "import json,sys; print(next(w['coldkey'] for w in json.load(sys.stdin)['wallets'] if w['name']=='$name'))")"
    quiet wallet transfer --wallet-name alice --dest "$coldkey" --amount 2000
done

log "subnet $netuid: weights rate limit 0, proof-of-work difficulty 100000"
quiet subnet set weights_rate_limit 0 --netuid "$netuid" --wallet-name alice
quiet subnet set difficulty 100000 --netuid "$netuid" --wallet-name alice

log "registering: validator and miner1, miner2 by burn, miner3 by proof of work"
for name in validator miner1 miner2; do
    quiet subnet register --netuid "$netuid" --wallet-name "$name"
done
st subnet register --pow --netuid "$netuid" --wallet-name miner3
quiet stake add --amount 1000 --wallet-name validator
port=8091
for name in miner1 miner2 miner3; do
    quiet axon serve --netuid "$netuid" --ip 127.0.0.1 --port "$port" --wallet-name "$name"
    port=$((port + 1))
done

uid_of() {
    st --json subnet show "$netuid" | python3 -c "
import json, sys
hotkey = sys.argv[1]
print(next(n['uid'] for n in json.load(sys.stdin)['neurons'] if n['hotkey'] == hotkey))" "$1"
}
hotkey_of() {
    st --json wallet list | python3 -c "
import json, sys
w = next(w for w in json.load(sys.stdin)['wallets'] if w['name'] == sys.argv[1])
print(w['hotkeys'][0]['ss58'])" "$1"
}
miner_uids="$(uid_of "$(hotkey_of miner1)"),$(uid_of "$(hotkey_of miner2)"),$(uid_of "$(hotkey_of miner3)")"
log "miners are uids $miner_uids; the validator sets weights 3,2,1 every epoch (Ctrl-C stops everything)"

last_block=-1
while true; do
    if ! kill -0 "$node_pid" 2>/dev/null; then
        log "the node stopped:"; tail -20 "$dir/node.log"; exit 1
    fi
    st --json weights set --netuid "$netuid" --uids "$miner_uids" --weights 3,2,1 \
        --wallet-name validator >/dev/null 2>"$dir/weights.err" || true
    block="$(st --json subnet show "$netuid" | python3 -c "import json,sys; print(json.load(sys.stdin).get('block', 0))")"
    if [ "$block" != "$last_block" ]; then
        printf '\n=== block %s ===\n' "$block"
        st subnet show "$netuid" || true
        last_block="$block"
    fi
    sleep 10
done
