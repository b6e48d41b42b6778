"""SIGKILL during block production never corrupts the database (acceptance 3).

A node authors a block every 300 ms while //Alice's transfers stream into its pool; it is
killed with SIGKILL at random moments (0.05-1.5 s after it answers RPC) at least 20 times and
restarted on the same base path each time.

What a crash may cost, and what it may not:

- Every block is written in one atomic parity-db commit (header, body, state nodes, indexes and
  best head together). Commits reach the disk through parity-db's write-ahead log in order, so a
  kill may lose the last few commits, and then only whole: the blocks the node had reported
  last may be missing after the restart, but never half a block (a header without its state or
  body, a best head pointing at nothing).
- So after each restart: the node starts and answers RPC; its best block is at least the best
  block seen before the kill minus `MAX_LOST` (in practice 0 or 1 blocks go); every block it
  has at a height seen before the kill has the hash seen then (lost blocks are lost as a whole
  and re-authored); the best block's body and state are readable; and it goes on authoring.
- Transactions in the pool are not persisted: a crash drops them (clients resubmit, as with
  Substrate). The nonce of //Alice is read from the chain after each restart.

At the end the node is stopped and `check-chain` re-executes the whole stored chain from
genesis, comparing every state root; then `export-blocks` + `import-blocks` rebuild the chain in
a fresh base path, which must end at the same best block.

The whole is run twice: on an archive node and on a node keeping only the last 8 states.
Set CRASH_SEED to replay a run, CRASH_KILLS to change the number of kills (per run).
"""

import os
import random
import re
import signal
import subprocess
import threading
import time

import pytest
from substrateinterface import Keypair, SubstrateInterface

from conftest import Node, node_binary

ALICE = Keypair.create_from_uri("//Alice")
KILLS = int(os.environ.get("CRASH_KILLS", "20"))
MAX_LOST = 5  # blocks a kill may take with it (only ever the newest, each whole)
TRANSFERS = (KILLS + 2) * 12  # pre-signed transfers from //Alice, nonces 0..TRANSFERS-1
BATCH = 12  # transfers submitted after each restart, one every few ms


def presign(node: Node):
    """Immortal transfers //Alice -> a few fresh accounts with nonces 0, 1, 2, ...: valid on
    this chain whenever their nonce is next, across restarts; and //Alice's account key."""
    s = SubstrateInterface(url=node.ws_url)
    try:
        dests = [Keypair.create_from_mnemonic(Keypair.generate_mnemonic()) for _ in range(5)]
        calls = [
            s.compose_call("Balances", "transfer_keep_alive",
                           {"dest": d.ss58_address, "value": 10**9 + i})
            for i, d in enumerate(dests)
        ]
        xts = [
            s.create_signed_extrinsic(call=calls[n % len(calls)], keypair=ALICE, nonce=n)
            .data.to_hex()
            for n in range(TRANSFERS)
        ]
        return xts, s.create_storage_key("System", "Account", [ALICE.ss58_address]).to_hex()
    finally:
        s.close()


class Submitter(threading.Thread):
    """Submits the pre-signed transfers from the chain's nonce on, until stopped or the node
    dies; errors (a killed node, a transaction already in) are expected and ignored."""

    def __init__(self, node: Node, xts: list, start_nonce: int):
        super().__init__(daemon=True)
        self.node, self.xts, self.nonce = node, xts, start_nonce
        self.stop = threading.Event()
        self.accepted = 0

    def run(self):
        end = min(self.nonce + BATCH, len(self.xts))
        for n in range(self.nonce, end):
            if self.stop.is_set():
                return
            try:
                if "result" in self.node.call("author_submitExtrinsic", [self.xts[n]]):
                    self.accepted += 1
            except Exception:
                return
            self.stop.wait(0.03)


def chain_snapshot(node: Node, known: dict) -> int:
    """Record the hashes of the blocks above the highest recorded one; returns the best."""
    best = node.best_number()
    for n in range(max(known, default=-1) + 1, best + 1):
        known[n] = node.result("chain_getBlockHash", [n])
    return best


def run_cli(*args, timeout=300):
    out = subprocess.run([str(node_binary()), *args], capture_output=True, text=True,
                         timeout=timeout)
    return out.returncode, out.stdout + out.stderr


@pytest.mark.parametrize("pruning", ["archive", "8"])
def test_sigkill_at_random_moments_never_corrupts_the_chain(base_path, pruning):
    """Archive, and keeping the last 8 states (each import then also releases trie nodes and
    rewrites the pruning journal, in the same commit)."""
    seed = int(os.environ.get("CRASH_SEED", str(time.time_ns() % 1_000_000)))
    rng = random.Random(seed)
    print(f"CRASH_SEED={seed}")
    started = time.time()
    node = Node(base_path / "node", extra_args=["--state-pruning", pruning], sealing="300")
    node.start()
    xts, account_key = presign(node)
    known: dict[int, str] = {}
    genesis = node.result("chain_getBlockHash", [0])
    lost_total, kills = 0, 0
    try:
        for cycle in range(KILLS):
            nonce = node.result("system_accountNextIndex", [ALICE.ss58_address])
            submitter = Submitter(node, xts, nonce)
            submitter.start()
            time.sleep(rng.uniform(0.05, 1.5))
            before = chain_snapshot(node, known)
            node.proc.send_signal(signal.SIGKILL)
            node.proc.wait(10)
            kills += 1
            submitter.stop.set()
            submitter.join(10)

            node.start(timeout=30)  # must open the database and answer RPC
            after = node.best_number()
            assert node.result("chain_getBlockHash", [0]) == genesis
            assert after >= before - MAX_LOST, (cycle, before, after, node.log())
            lost = max(0, before - after)
            lost_total += lost
            # Blocks kept are the very blocks seen before; lost ones are lost whole.
            for n in range(min(before, after) + 1):
                assert node.result("chain_getBlockHash", [n]) == known[n], (cycle, n)
            for n in range(after + 1, before + 1):
                del known[n]
            best_hash = node.result("chain_getBlockHash", [after])
            assert node.result("chain_getBlock", [best_hash]) is not None
            assert node.result("state_getStorage", [account_key, best_hash]) is not None
            finalized = node.result("chain_getFinalizedHead")
            finalized = int(node.result("chain_getHeader", [finalized])["number"], 16)
            assert finalized <= node.best_number()
            # And it goes on.
            node.wait_for_block(after + 1, timeout=15)
        assert time.time() - started < 150, "the crash loop should take well under 2 minutes"

        # Transfers made it into blocks between the kills.
        nonce = node.result("system_accountNextIndex", [ALICE.ss58_address])
        assert nonce > 0, "no transfer was ever included"
        final_best = chain_snapshot(node, known)
    finally:
        node.stop()
    print(f"{kills} kills, {lost_total} blocks lost in all, best #{final_best}, "
          f"{nonce} transfers included")

    # Re-execute the whole chain from genesis: every stored state root must match.
    rc, out = run_cli("check-chain", "--chain", "dev", "--base-path", str(base_path / "node"))
    assert rc == 0, out
    ok = re.search(r"ok: re-executed #1..=#(\d+) \((0x[0-9a-f]{64})\)", out)
    assert ok, out
    best_number, best_hash = int(ok[1]), ok[2]
    assert best_number >= final_best
    if best_number in known:
        assert known[best_number] == best_hash

    # Export and import into a fresh base path: the same chain, block for block.
    blocks = base_path / "chain.blocks"
    rc, out = run_cli("export-blocks", "--chain", "dev", "--base-path", str(base_path / "node"),
                      str(blocks))
    assert rc == 0, out
    assert f"exported {best_number} blocks" in out, out
    rc, out = run_cli("import-blocks", "--chain", "dev", "--base-path", str(base_path / "copy"),
                      str(blocks))
    assert rc == 0, out
    assert f"imported {best_number} blocks" in out, out
    rc, out = run_cli("check-chain", "--chain", "dev", "--base-path", str(base_path / "copy"))
    assert rc == 0, out
    assert f"ok: re-executed #1..=#{best_number} ({best_hash})" in out, out
