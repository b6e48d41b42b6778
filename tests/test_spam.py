"""Spam resistance of the chain with real processes: thousands of fee-free calls that would fail
(unregistered hotkeys, a rate-limited neuron, permit-less neurons, proof-of-work seals that are
wrong, rate-limited axon updates) are submitted to a node while honest users transfer TAO and
set weights. None of the failing calls enters the pool or a block, every honest transaction is
included within two blocks of its submission, and every block is authored well within its slot.

The node is the release build (1 s slots); the clients are substrate-interface, signing as any
Python user would.
"""

import re
import threading
import time

import pytest
from substrateinterface import Keypair, SubstrateInterface
from substrateinterface.exceptions import SubstrateRequestException

from conftest import Node, release_node_binary

NETUID = 1
SLOT_MS = 1000
ALICE = Keypair.create_from_uri("//Alice")
OWNER_HOT = Keypair.create_from_uri("//Alice//hot")
SENDERS = [Keypair.create_from_uri(f"//{n}") for n in ("Bob", "Charlie", "Dave", "Eve", "Ferdie")]
# Spam per kind (five kinds: 3,000 failing calls in all).
SPAM_PER_KIND = 600


def submit(s: SubstrateInterface, call, keypair, nonce=None, wait=False):
    xt = s.create_signed_extrinsic(call=call, keypair=keypair, nonce=nonce)
    if wait:
        receipt = s.submit_extrinsic(xt, wait_for_inclusion=True)
        assert receipt.is_success, receipt.error_message
        return receipt
    return xt


def sudo(s: SubstrateInterface, param: dict):
    inner = s.compose_call("SubtensorModule", "set_hyperparameter",
                           {"netuid": NETUID, "value": param})
    receipt = submit(s, s.compose_call("Sudo", "sudo", {"call": inner}), ALICE, wait=True)
    assert not any(e.value["event_id"] == "Sudid" and "Err" in str(e.value["attributes"])
                   for e in receipt.triggered_events), receipt.triggered_events


def burned_register(s: SubstrateInterface, hotkey: Keypair):
    call = s.compose_call("SubtensorModule", "burned_register",
                          {"netuid": NETUID, "hotkey": hotkey.ss58_address})
    submit(s, call, ALICE, wait=True)


def set_weights_call(s, uids, values):
    return s.compose_call("SubtensorModule", "set_weights", {
        "netuid": NETUID, "dests": uids, "weights": values, "version_key": 0})


def serve_axon_call(s, port):
    return s.compose_call("SubtensorModule", "serve_axon", {
        "netuid": NETUID, "version": 1, "ip": 0x7F000001, "port": port, "ip_type": 4,
        "protocol": 4, "placeholder1": 0, "placeholder2": 0})


def register_call(s, hotkey: Keypair, block: int, nonce: int):
    return s.compose_call("SubtensorModule", "register", {
        "netuid": NETUID, "block_number": block, "nonce": nonce, "work": "0x" + "ab" * 32,
        "hotkey": hotkey.ss58_address, "coldkey": ALICE.ss58_address})


def raw_submit(s: SubstrateInterface, xt) -> str | None:
    """Submit without waiting; the node's refusal message, or None when accepted."""
    try:
        s.rpc_request("author_submitExtrinsic", [str(xt.data)])
        return None
    except SubstrateRequestException as e:
        return str(e)


@pytest.fixture
def spam_node(base_path):
    node = Node(base_path, sealing=str(SLOT_MS), binary=release_node_binary()).start()
    yield node
    node.stop()


def test_failing_fee_free_calls_never_reach_a_block(spam_node):
    s = SubstrateInterface(url=spam_node.ws_url)
    try:
        run(s, spam_node)
    finally:
        s.close()


def run(s: SubstrateInterface, node: Node):
    # --- Setup: registration open, one validator permit, self-weighters and spammers. -----------
    sudo(s, {"MaxRegistrationsPerBlock": 100})
    sudo(s, {"TargetRegistrationsPerInterval": 1000})
    sudo(s, {"MaxAllowedValidators": 1})
    honest = [Keypair.create_from_uri(f"//Honest{i}") for i in range(3)]
    limited = Keypair.create_from_uri("//RateLimited")
    permitless = [Keypair.create_from_uri(f"//Permitless{i}") for i in range(3)]
    for hotkey in honest + [limited] + permitless:
        burned_register(s, hotkey)
    uids = {k.value: v.value for k, v in s.query_map("SubtensorModule", "Uids", [NETUID])}
    # The owner's hotkey holds the only stake, so the epoch gives it the only permit.
    stake = s.compose_call("SubtensorModule", "add_stake",
                           {"hotkey": OWNER_HOT.ss58_address, "amount_staked": 10 * 10**9})
    submit(s, stake, ALICE, wait=True)
    # The rate-limited neuron sets its self-weight and serves its axon once, for real.
    uid_limited = uids[limited.ss58_address]
    submit(s, set_weights_call(s, [uid_limited], [1]), limited, wait=True)
    submit(s, serve_axon_call(s, 9000), limited, wait=True)

    # --- The spam, signed in advance: every call would fail if dispatched. ----------------------
    best = node.best_number()
    nonce_of = {k.ss58_address: s.get_account_nonce(k.ss58_address) for k in permitless + [limited]}
    spam, strangers = [], []
    for i in range(SPAM_PER_KIND):
        stranger = Keypair.create_from_seed(bytes([7, *i.to_bytes(4, "little")]) + bytes(27))
        strangers.append(stranger)
        # An unregistered hotkey setting weights.
        spam.append(submit(s, set_weights_call(s, [0], [1]), stranger, nonce=0))
        # A wrong proof-of-work seal on a recent block.
        spam.append(submit(s, register_call(s, stranger, best, i), stranger, nonce=0))
        # A permit-less neuron weighting others.
        p = permitless[i % len(permitless)]
        spam.append(submit(s, set_weights_call(s, [0, 1], [i + 1, 7]), p,
                           nonce=nonce_of[p.ss58_address]))
        # A neuron whose weights rate limit (100 blocks) has not passed.
        spam.append(submit(s, set_weights_call(s, [uid_limited], [i + 1]), limited,
                           nonce=nonce_of[limited.ss58_address]))
        # An axon update before the serving rate limit (50 blocks) passed.
        spam.append(submit(s, serve_axon_call(s, 10_000 + i), limited,
                           nonce=nonce_of[limited.ss58_address]))
    spam_signers = set()
    for k in permitless + [limited] + strangers:
        spam_signers |= {k.ss58_address, "0x" + k.public_key.hex()}
    assert len(spam) == 5 * SPAM_PER_KIND

    # --- Run: the spammer floods from its own connection while honest users go on. --------------
    start_block = node.best_number()
    refusals, accepted = [], []

    def flood():
        flooder = SubstrateInterface(url=node.ws_url)
        try:
            for xt in spam:
                refusal = raw_submit(flooder, xt)
                (accepted if refusal is None else refusals).append(refusal or xt)
        finally:
            flooder.close()

    flooder = threading.Thread(target=flood)
    flooder.start()
    honest_txs = []  # (extrinsic hash, best block at submission)
    nonces = {k.ss58_address: s.get_account_nonce(k.ss58_address) for k in SENDERS}
    weights_sent = 0
    rounds = 0
    while flooder.is_alive() or rounds < 12:
        rounds += 1
        at = node.best_number()
        for sender in SENDERS:
            dest = Keypair.create_from_seed(bytes([9, rounds % 256, SENDERS.index(sender)]) + bytes(29))
            call = s.compose_call("Balances", "transfer_allow_death",
                                  {"dest": dest.ss58_address, "value": 10**9})
            xt = submit(s, call, sender, nonce=nonces[sender.ss58_address])
            nonces[sender.ss58_address] += 1
            assert raw_submit(s, xt) is None
            honest_txs.append(("0x" + xt.extrinsic_hash.hex(), at))
        if weights_sent < len(honest) and rounds % 3 == 0:
            hotkey = honest[weights_sent]
            xt = submit(s, set_weights_call(s, [uids[hotkey.ss58_address]], [1]), hotkey)
            assert raw_submit(s, xt) is None
            honest_txs.append(("0x" + xt.extrinsic_hash.hex(), at))
            weights_sent += 1
        if rounds == 6:
            # The subnet owner (the permit holder) weights the honest neurons.
            xt = submit(s, set_weights_call(s, [uids[h.ss58_address] for h in honest], [1, 2, 3]),
                        OWNER_HOT)
            assert raw_submit(s, xt) is None
            honest_txs.append(("0x" + xt.extrinsic_hash.hex(), at))
        node.wait_for_block(at + 1)
    flooder.join()
    assert weights_sent == len(honest)
    node.wait_for_block(node.best_number() + 3)
    end_block = node.best_number()

    # --- Every failing call was refused at the door, with the pallet's error code. --------------
    assert accepted == [], f"{len(accepted)} failing calls entered the pool"
    assert len(refusals) == len(spam)
    assert all("Invalid Transaction" in r for r in refusals), refusals[:3]

    # --- No failing call in any block; honest ones within two blocks; authoring in budget. ------
    included = {}
    failed = 0
    for number in range(start_block, end_block + 1):
        block_hash = s.get_block_hash(number)
        block = s.get_block(block_hash=block_hash)
        for xt in block["extrinsics"]:
            if xt.extrinsic_hash:
                included["0x" + xt.extrinsic_hash.hex()] = number
            signer = xt.value.get("address")
            assert signer not in spam_signers, f"a spammer's call in #{number}: {xt.value}"
        events = s.get_events(block_hash=block_hash)
        failed += sum(1 for e in events if e.value["event_id"] == "ExtrinsicFailed")
    assert failed == 0, f"{failed} extrinsics failed in blocks"
    late = [(h, at, included.get(h)) for h, at in honest_txs
            if included.get(h) is None or included[h] > at + 2]
    assert late == [], f"honest transactions not included within two blocks: {late[:5]}"

    times = [int(m.group(2)) for m in re.finditer(r"authored #(\d+) .* in (\d+) ms", node.log_path.read_text(errors="replace"))
             if start_block <= int(m.group(1)) <= end_block]
    assert times, "no authoring lines in the log"
    # Authoring includes building, sealing and importing; half a slot leaves the rest for the
    # network.
    assert max(times) < SLOT_MS // 2, f"authoring times (ms): {times}"
    print(f"spam: {len(spam)} failing calls refused, 0 included; {len(honest_txs)} honest "
          f"transactions in blocks #{start_block}..#{end_block}; authoring max {max(times)} ms")
