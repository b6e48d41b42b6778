"""Restarting a node on its base path continues its chain (acceptance 1).

A node authors blocks on a base path, is stopped with SIGTERM (a clean shutdown), and started
again on the same base path: it resumes from its last block — the best number never goes
backwards, every block it had keeps its hash at its height, its state stays readable, the genesis
hash is unchanged — and then keeps authoring on top of it. The same holds for a node that prunes
old states (`--state-pruning 2`), whose database also exports and re-imports to the same chain.
"""

import re
import subprocess
import time

import pytest
from substrateinterface import Keypair, SubstrateInterface

from conftest import Node, node_binary

ALICE = Keypair.create_from_uri("//Alice")
CHARLIE = Keypair.create_from_uri("//Charlie")


def hashes_up_to(node: Node, best: int) -> dict:
    return {n: node.result("chain_getBlockHash", [n]) for n in range(best + 1)}


def alice_account_key(node: Node) -> str:
    """The storage key of //Alice's System.Account entry (from a real client's encoder)."""
    s = SubstrateInterface(url=node.ws_url)
    try:
        return s.create_storage_key("System", "Account", [ALICE.ss58_address]).to_hex()
    finally:
        s.close()


def transfer_included(node: Node) -> str:
    """Send one transfer //Alice -> //Charlie and wait for its block; returns the block hash."""
    s = SubstrateInterface(url=node.ws_url)
    try:
        call = s.compose_call(
            "Balances", "transfer_keep_alive", {"dest": CHARLIE.ss58_address, "value": 10**9}
        )
        receipt = s.submit_extrinsic(
            s.create_signed_extrinsic(call=call, keypair=ALICE), wait_for_inclusion=True
        )
        assert receipt.is_success, receipt.error_message
        return receipt.block_hash
    finally:
        s.close()


def test_sigterm_and_restart_continue_the_chain(base_path):
    node = Node(base_path, sealing="300").start()
    try:
        genesis = node.result("chain_getBlockHash", [0])
        tx_block = transfer_included(node)
        node.wait_for_block(6)
        key = alice_account_key(node)
        nonce_before = node.result("system_accountNextIndex", [ALICE.ss58_address])
    finally:
        assert node.stop() == 0, node.log()  # SIGTERM: a clean shutdown, exit status 0
    # The log names the block it stopped at: the last block of the database.
    stopped_at = [line for line in node.log().splitlines() if "stopped at best #" in line]
    assert stopped_at, node.log()

    node.start()
    try:
        best = node.best_number()
        assert best >= 6
        assert node.result("chain_getBlockHash", [0]) == genesis
        before = hashes_up_to(node, best)
        # (A block being imported when SIGTERM came may still land after that line.)
        logged = re.search(r"stopped at best #(\d+) (0x[0-9a-f]{64})", stopped_at[-1])
        assert logged, stopped_at[-1]
        assert int(logged[1]) <= best and before[int(logged[1])] == logged[2]
        # The block with the transfer is still there, with its body and state.
        block = node.result("chain_getBlock", [tx_block])
        assert block is not None and len(block["block"]["extrinsics"]) >= 2
        assert node.result("state_getStorage", [key, tx_block]) is not None
        assert node.result("system_accountNextIndex", [ALICE.ss58_address]) == nonce_before

        # It goes on from there: new blocks extend the old best block, old hashes stay.
        node.wait_for_block(best + 3)
        assert node.result("chain_getHeader", [node.result("chain_getBlockHash", [best + 1])])[
            "parentHash"
        ] == before[best]
        assert hashes_up_to(node, best) == before
        finalized = node.result("chain_getFinalizedHead")
        assert int(node.result("chain_getHeader", [finalized])["number"], 16) <= node.best_number()
    finally:
        assert node.stop() == 0

    # A second restart: still the same chain, never shorter.
    node.start()
    try:
        again = node.best_number()
        assert again >= best + 3
        assert all(node.result("chain_getBlockHash", [n]) == h for n, h in before.items())
    finally:
        node.stop()


def run_cli(*args, timeout=120):
    out = subprocess.run(
        [str(node_binary()), *args], capture_output=True, text=True, timeout=timeout
    )
    return out.returncode, out.stdout + out.stderr


def test_pruned_node_restarts_keeps_recent_states_and_exports(base_path):
    node = Node(base_path / "pruned", extra_args=["--state-pruning", "2"], sealing="300").start()
    try:
        genesis = node.result("chain_getBlockHash", [0])
        node.wait_for_block(6)
    finally:
        assert node.stop() == 0
    node.start()
    try:
        best = node.best_number()
        assert best >= 6
        assert node.result("chain_getBlockHash", [0]) == genesis
        node.wait_for_block(best + 2)
        head = node.result("chain_getHead")
        # The best state is readable; a state far behind was pruned (a precise error, not null).
        assert node.result("state_getRuntimeVersion", [head])["specName"]
        old = node.call("state_getRuntimeVersion", [node.result("chain_getBlockHash", [1])])
        assert old["error"]["code"] == -32001, old
        assert "State already discarded" in old["error"]["message"]
        # Headers and bodies of old blocks are kept.
        assert node.result("chain_getBlock", [node.result("chain_getBlockHash", [1])]) is not None
    finally:
        assert node.stop() == 0

    # The database remembers its pruning mode: opening it as an archive is refused, untouched.
    archive = Node(base_path / "pruned")  # default --state-pruning archive
    with pytest.raises(RuntimeError, match="pruning"):
        archive.start(timeout=20)

    # export-blocks works on a pruned database; import-blocks rebuilds the same chain.
    blocks = base_path / "pruned.blocks"
    rc, out = run_cli("export-blocks", "--chain", "dev", "--base-path", str(base_path / "pruned"),
                      str(blocks))
    assert rc == 0, out
    rc, out = run_cli("import-blocks", "--chain", "dev", "--base-path", str(base_path / "copy"),
                      str(blocks))
    assert rc == 0, out
    checks = []
    for path in ("pruned", "copy"):
        rc, out = run_cli("check-chain", "--chain", "dev", "--base-path", str(base_path / path))
        assert rc == 0 and "ok: re-executed" in out, out
        checks.append([line for line in out.splitlines() if line.startswith("ok:")][0])
    assert checks[0] == checks[1]
