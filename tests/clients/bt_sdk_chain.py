"""The unmodified bittensor SDK (10.2.0, in .venv-bt) against our chain, as a user would call it.

Usage: bt_sdk_chain.py WS_URL WALLET_DIR STEP...
Each step prints one JSON line `{"step": NAME, ...}` with what the SDK returned; the test
(tests/test_python_sdk.py) checks the chain state itself with its own client.
"""

import json
import sys

import bittensor as bt
from bittensor_wallet import Wallet

URL, WALLET_DIR, STEPS = sys.argv[1], sys.argv[2], sys.argv[3:]
NETUID = 1


def out(step, **fields):
    print(json.dumps({"step": step, **fields}, default=str), flush=True)


def wallet(name: str, cold_uri: str | None = None, hot_uri: str | None = None) -> Wallet:
    w = Wallet(name=name, hotkey="default", path=WALLET_DIR)
    if cold_uri:
        w.create_coldkey_from_uri(cold_uri, use_password=False, overwrite=True, suppress=True)
    elif not w.coldkey_file.exists_on_device():
        w.create_new_coldkey(use_password=False, overwrite=True, suppress=True)
    if hot_uri:
        w.create_hotkey_from_uri(hot_uri, use_password=False, overwrite=True, suppress=True)
    elif not w.hotkey_file.exists_on_device():
        w.create_new_hotkey(use_password=False, overwrite=True, suppress=True)
    return w


def ok(response) -> tuple[bool, str]:
    success, message = response
    return bool(success), str(message)


def main():
    st = bt.Subtensor(URL)
    alice = wallet("alice", "//Alice", "//Alice//hot")
    user = wallet("user", "//SdkUser", "//SdkUser//hot")
    pow_user = wallet("pow", "//SdkPow", "//SdkPow//hot")
    for step in STEPS:
        if step == "transfer":
            success, msg = ok(st.transfer(alice, user.coldkeypub.ss58_address,
                                          bt.Balance.from_tao(50), wait_for_finalization=False,
                                          wait_for_inclusion=True))
            out(step, success=success, message=msg, dest=user.coldkeypub.ss58_address)
        elif step == "burned_register":
            success, msg = ok(st.burned_register(user, netuid=NETUID, wait_for_finalization=False))
            out(step, success=success, message=msg, hotkey=user.hotkey.ss58_address)
        elif step == "pow_register":
            success, msg = ok(st.register(pow_user, netuid=NETUID, wait_for_finalization=False,
                                          num_processes=1, update_interval=1000))
            out(step, success=success, message=msg, hotkey=pow_user.hotkey.ss58_address,
                coldkey=pow_user.coldkeypub.ss58_address)
        elif step == "serve_axon":
            axon = bt.Axon(wallet=user, ip="127.0.0.1", external_ip="127.0.0.1", port=8091)
            success, msg = ok(st.serve_axon(netuid=NETUID, axon=axon,
                                            wait_for_finalization=False))
            out(step, success=success, message=msg)
        elif step == "add_stake":
            success, msg = ok(st.add_stake(user, netuid=NETUID,
                                           hotkey_ss58=user.hotkey.ss58_address,
                                           amount=bt.Balance.from_tao(5),
                                           wait_for_finalization=False))
            out(step, success=success, message=msg)
        elif step == "unstake":
            success, msg = ok(st.unstake(user, netuid=NETUID,
                                         hotkey_ss58=user.hotkey.ss58_address,
                                         amount=bt.Balance.from_tao(2),
                                         wait_for_finalization=False))
            out(step, success=success, message=msg)
        elif step in ("metagraph", "metagraph_full"):
            mg = st.metagraph(NETUID, lite=(step == "metagraph"))
            out(step, n=int(mg.n), hotkeys=list(mg.hotkeys), S=[float(x) for x in mg.S],
                I=[float(x) for x in mg.I], D=[float(x) for x in mg.D],
                W=mg.W.tolist() if step == "metagraph_full" else None,
                B=mg.B.tolist() if step == "metagraph_full" else None,
                axons=[(a.ip, a.port) for a in mg.axons],
                validator_permit=[bool(x) for x in mg.validator_permit])
        elif step == "neurons_lite":
            neurons = st.neurons_lite(NETUID)
            out(step, hotkeys=[n.hotkey for n in neurons], uids=[n.uid for n in neurons])
        elif step == "hyperparameters":
            hp = st.get_subnet_hyperparameters(NETUID)
            out(step, tempo=hp.tempo, weights_rate_limit=hp.weights_rate_limit,
                max_weight_limit=hp.max_weight_limit, difficulty=hp.difficulty)
        elif step == "subnets":
            subnets = st.all_subnets()
            one = st.subnet(NETUID)
            out(step, netuids=[s.netuid for s in subnets], netuid=one.netuid,
                price=float(one.price), tempo=one.tempo, owner=one.owner_coldkey)
        elif step == "set_weights":
            uids = [n.uid for n in st.neurons_lite(NETUID)]
            success, msg = ok(st.set_weights(alice, netuid=NETUID, uids=uids,
                                             weights=[i + 1 for i in range(len(uids))],
                                             wait_for_inclusion=True,
                                             wait_for_finalization=False))
            out(step, success=success, message=msg, uids=uids)
        elif step == "commit_weights":
            # Weights already normalised (the SDK hashes them as given, but reveals them
            # normalised) and the default version key (commit ignores the argument).
            success, msg = ok(st.commit_weights(alice, netuid=NETUID, salt=[1, 2, 3],
                                                uids=[0], weights=[65535],
                                                wait_for_inclusion=True,
                                                wait_for_finalization=False))
            out(step, success=success, message=msg)
        elif step == "reveal_weights":
            success, msg = ok(st.reveal_weights(alice, netuid=NETUID, salt=[1, 2, 3],
                                                uids=[0], weights=[65535],
                                                wait_for_inclusion=True,
                                                wait_for_finalization=False))
            out(step, success=success, message=msg)
        else:
            raise SystemExit(f"unknown step {step}")
    # Closed explicitly: after the proof-of-work solver's processes, leaving the connection to
    # the garbage collector hangs the interpreter's exit in async-substrate-interface's __del__.
    st.close()


if __name__ == "__main__":
    main()
