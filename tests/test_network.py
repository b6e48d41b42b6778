"""A real network on loopback: the `local` chain's four authorities (Alice, Bob, Charlie, Dave)
take turns by Aura slot and finalize with GRANDPA; full nodes join through a boot node, sync
and follow. 1 s slots.

- steady state: every node has the same finalized chain, finality follows the best block within
  a few blocks, each authority authored a share of the blocks, a transfer sent to a full node is
  included and finalized;
- one authority SIGKILLed for 30 s: blocks keep coming, finality keeps advancing with three of four
  voters; restarted, it catches up and authors again; no slot ever has two blocks;
- two of four stopped: finality stalls (blocks continue); restarted, everything pending is
  finalized;
- a late joiner with an empty database syncs the chain, re-executing every block, and
  `check-chain` passes on it.
"""

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest
from substrateinterface import Keypair, SubstrateInterface

from conftest import Node, release_node_binary

# Several nodes with 1 s slots on two cores: the release build when there is one.
NODE = release_node_binary()

AUTHORITIES = ["alice", "bob", "charlie", "dave"]
SLOT = "1000"


def wait_until(predicate, timeout: float, what: str, nodes=()):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if predicate():
                return
        except Exception:
            pass
        time.sleep(0.2)
    logs = "\n".join(f"--- {n.base_path.name}\n{n.log()[-1500:]}" for n in nodes)
    raise TimeoutError(f"{what} not reached within {timeout}s\n{logs}")


def slot_of(header: dict) -> int:
    """The Aura slot of a header (its `PreRuntime(*b"aura", u64)` digest)."""
    for log in header["digest"]["logs"]:
        raw = bytes.fromhex(log[2:])
        if raw[:5] == b"\x06aura":
            return int.from_bytes(raw[6:14], "little")
    raise AssertionError(f"no Aura digest in {header}")


def canonical_headers(node: Node, upto: int):
    return [node.result("chain_getHeader", [node.result("chain_getBlockHash", [n])])
            for n in range(1, upto + 1)]


@pytest.fixture
def network(base_path):
    """Four authorities, Alice first as the boot node; stopped at the end."""
    nodes = []
    try:
        alice = Node(base_path / "alice", sealing=SLOT, chain="local", key="alice", binary=NODE).start()
        nodes.append(alice)
        boot = ["--bootnodes", alice.multiaddr()]
        for name in AUTHORITIES[1:]:
            nodes.append(Node(base_path / name, extra_args=boot, sealing=SLOT, chain="local",
                              key=name, binary=NODE).start())
        wait_until(lambda: all(n.result("system_health")["peers"] >= 3 for n in nodes), 60,
                   "a full mesh", nodes)
        yield nodes
    finally:
        for node in nodes:
            node.stop()


def full_node(base_path, name, boot) -> Node:
    return Node(base_path / name, extra_args=["--bootnodes", boot.multiaddr()], sealing=SLOT,
                chain="local", key=None, binary=NODE).start()


def test_steady_state_transfer_through_a_full_node(network, base_path):
    alice = network[0]
    full = full_node(base_path, "full", alice)
    # A second full node joins through another authority.
    second = full_node(base_path, "full2", network[2])
    try:
        everyone = network + [full, second]
        wait_until(lambda: min(n.finalized_number() for n in (full, second)) >= 12, 90,
                   "finalized #12 on both full nodes", everyone)
        # Same finalized chain everywhere; finality close behind the best block.
        target = min(n.finalized_number() for n in everyone)
        hashes = {n.result("chain_getBlockHash", [target]) for n in everyone}
        assert len(hashes) == 1, hashes
        for n in network:
            assert n.best_number() - n.finalized_number() <= 5
        # Every authority authored a share, each in its own slots (slot % 4).
        headers = canonical_headers(alice, target)
        authors = [slot_of(h) % 4 for h in headers]
        for index in range(4):
            assert authors.count(index) >= 1, authors
        # A transfer submitted to the full node is included and finalized.
        substrate = SubstrateInterface(url=full.ws_url)
        bob = Keypair.create_from_uri("//Bob")
        call = substrate.compose_call("Balances", "transfer_keep_alive",
                                      {"dest": bob.ss58_address, "value": 10**9})
        extrinsic = substrate.create_signed_extrinsic(call=call,
                                                      keypair=Keypair.create_from_uri("//Ferdie"))
        receipt = substrate.submit_extrinsic(extrinsic, wait_for_finalization=True)
        assert receipt.is_success, receipt.error_message
        peers = full.result("system_peers")
        roles = {p["roles"] for p in peers}
        assert "AUTHORITY" in roles and roles <= {"AUTHORITY", "FULL"}, peers
        assert full.result("system_nodeRoles") == ["Full"]
        # polkadot.js sees the four authorities and real finality through the full node.
        pjs = subprocess.run(["node", "pjs_check.mjs", second.ws_url], capture_output=True,
                             text=True, timeout=120, cwd=Path(__file__).parent / "clients" / "pjs")
        assert pjs.returncode == 0, pjs.stderr[-3000:]
        seen = json.loads(pjs.stdout.strip().splitlines()[-1])
        assert len(seen["aura"]) == 4 and len(seen["grandpa"]) == 4, seen
        assert seen["finalized"] == sorted(set(seen["finalized"])), seen
        assert seen["peers"] >= 1
        state = alice.result("grandpa_roundState")
        assert state["best"]["totalWeight"] == 4 and state["best"]["thresholdWeight"] == 3

        # Garbage on the peer-to-peer port (no noise handshake, then a huge length prefix)
        # changes nothing: the node keeps its peers and its chain keeps growing.
        for junk in (b"\x00" * 64, b"/multistream/1.0.0\n" + b"\xff" * 4096, b"\x13" * 100_000):
            with socket.create_connection(("127.0.0.1", full.p2p_port), timeout=5) as conn:
                try:
                    conn.sendall(junk)
                    conn.recv(64)
                except OSError:
                    pass
        best = full.best_number()
        wait_until(lambda: full.best_number() >= best + 2, 30, "blocks after garbage", [full])
        assert full.result("system_health")["peers"] >= 4
    finally:
        second.stop()
        full.stop()


def test_one_authority_down_then_two(network, base_path):
    alice, bob, charlie, dave = network
    wait_until(lambda: alice.finalized_number() >= 3, 60, "first finality", network)

    # Dave crashes for 30 s: three of four keep producing and finalizing.
    dave.stop(sig=9)
    killed_at = time.time()
    start = alice.finalized_number()
    wait_until(lambda: time.time() - killed_at >= 30 and alice.finalized_number() >= start + 15,
               60, "30 s of finality with three of four", network[:3])
    dave.start()
    wait_until(lambda: dave.best_number() >= alice.best_number() - 1, 60, "dave catching up",
               network)
    resumed_from = alice.best_number()
    # Dave authors again (one of the next blocks is from one of its slots).
    wait_until(lambda: any(slot_of(h) % 4 == 3
                           for h in canonical_headers(alice, alice.best_number())[resumed_from:]),
               30, "a block by dave after restart", network)

    # Two of four stop: blocks continue, finality stalls.
    charlie.stop()
    dave.stop()
    stalled = alice.finalized_number()
    best = alice.best_number()
    wait_until(lambda: alice.best_number() >= best + 4, 30, "blocks without finality", network[:2])
    assert alice.finalized_number() <= stalled + 1
    # They come back: everything pending is finalized.
    charlie.start()
    dave.start()
    pending = alice.best_number()
    wait_until(lambda: all(n.finalized_number() >= pending for n in network), 60,
               "finality resuming", network)

    # No slot ever has two blocks: every node's canonical chain has strictly increasing slots,
    # and all agree on the finalized part.
    final = min(n.finalized_number() for n in network)
    chains = [[h["parentHash"] for h in canonical_headers(n, final)] for n in network]
    assert all(chain == chains[0] for chain in chains)
    slots = [slot_of(h) for h in canonical_headers(alice, final)]
    assert slots == sorted(set(slots))


def test_late_joiner_syncs_and_checks(network, base_path):
    alice = network[0]
    wait_until(lambda: alice.finalized_number() >= 30, 90, "a chain of 30 finalized blocks",
               network)
    joiner = full_node(base_path, "joiner", alice)
    try:
        wait_until(lambda: joiner.finalized_number() >= 30, 60, "the joiner syncing",
                   network + [joiner])
        number = joiner.finalized_number()
        assert joiner.result("chain_getBlockHash", [number]) == \
            alice.result("chain_getBlockHash", [number])
    finally:
        joiner.stop()
    out = subprocess.run([str(NODE), "check-chain", "--chain", "local", "--base-path",
                          str(joiner.base_path)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "every state root matches" in out.stdout


def connect(node: Node, others) -> None:
    for other in others:
        node.result("system_addReservedPeer", [other.multiaddr()])


def disconnect(node: Node, others) -> None:
    for other in others:
        node.result("system_removeReservedPeer", [other.peer_id()])


def nonce_of(node: Node, ss58: str) -> int:
    return node.result("system_accountNextIndex", [ss58])


def test_partition_heals_onto_one_chain(base_path):
    """A 2/2 partition for a minute (reserved-only peers, links cut and restored through the
    reserved-peer RPCs): both sides author, neither finalizes; healed, every node converges on one chain, the
    losing side reorgs (logged with its depth), finality resumes, nothing finalized is reverted,
    and the transactions of the abandoned fork are included again."""
    nodes = []
    try:
        for name in AUTHORITIES:
            nodes.append(Node(base_path / name, extra_args=["--reserved-only"], sealing=SLOT,
                              chain="local", key=name, binary=NODE).start())
        for node in nodes:
            connect(node, [n for n in nodes if n is not node])
        wait_until(lambda: all(n.result("system_health")["peers"] == 3 for n in nodes), 60,
                   "a full mesh", nodes)
        wait_until(lambda: min(n.finalized_number() for n in nodes) >= 3, 60, "finality", nodes)

        left, right = nodes[:2], nodes[2:]
        for node in left:
            disconnect(node, right)
        for node in right:
            disconnect(node, left)
        wait_until(lambda: all(n.result("system_health")["peers"] == 1 for n in nodes), 30,
                   "the partition", nodes)
        finalized_before = {n.finalized_number(): n.result("chain_getFinalizedHead")
                            for n in nodes}
        # One transfer on each side, each from its own sender.
        senders = {"left": Keypair.create_from_uri("//Eve"),
                   "right": Keypair.create_from_uri("//Ferdie")}
        for side, node in (("left", left[0]), ("right", right[0])):
            substrate = SubstrateInterface(url=node.ws_url)
            call = substrate.compose_call(
                "Balances", "transfer_keep_alive",
                {"dest": Keypair.create_from_uri("//Bob").ss58_address, "value": 10**9})
            extrinsic = substrate.create_signed_extrinsic(call=call, keypair=senders[side])
            receipt = substrate.submit_extrinsic(extrinsic, wait_for_inclusion=True)
            assert receipt.is_success, receipt.error_message
        # A minute apart: each side grows its own fork (about 30 blocks).
        start = {n.base_path.name: n.best_number() for n in nodes}
        cut_at = time.time()
        wait_until(lambda: time.time() - cut_at >= 60
                   and all(n.best_number() >= start[n.base_path.name] + 20 for n in nodes),
                   90, "both sides growing for a minute", nodes)
        stalled = max(n.finalized_number() for n in nodes)

        # Heal.
        for node in left:
            connect(node, right)
        for node in right:
            connect(node, left)
        healed_at = max(n.best_number() for n in nodes)
        wait_until(lambda: min(n.finalized_number() for n in nodes) > healed_at, 90,
                   "finality past the partition on every node", nodes)
        assert stalled <= healed_at

        final = min(n.finalized_number() for n in nodes)
        heads = {n.result("chain_getBlockHash", [final]) for n in nodes}
        assert len(heads) == 1, heads
        # Nothing finalized before the partition was reverted.
        for number, block in finalized_before.items():
            for node in nodes:
                assert node.result("chain_getBlockHash", [number]) == block
        # The losing side reorged, and said so.
        assert any("reorg of depth" in (n.base_path / "node.log").read_text(errors="replace")
                   for n in nodes)
        # Both transfers are on the final chain.
        for keypair in senders.values():
            wait_until(lambda: nonce_of(nodes[0], keypair.ss58_address) == 1, 60,
                       f"the transfer of {keypair.ss58_address} included again", nodes)
    finally:
        for node in nodes:
            node.stop()


def test_a_late_joiner_syncs_thousands_of_blocks_through_a_kill(base_path):
    """A dev chain of 2,000 blocks (20 ms slots); a full node with an empty database syncs it
    from a peer, re-executing every block, is SIGKILLed mid-sync, resumes from its stored best,
    reaches the same best block and state root, finalizes with the author's one-voter GRANDPA
    justifications, and `check-chain` passes on its database."""
    producer = Node(base_path / "holder", sealing="20", chain="dev", key="alice",
                    binary=NODE).start()
    try:
        wait_until(lambda: producer.best_number() >= 2000, 240, "a chain of 2,000 blocks",
                   [producer])
    finally:
        producer.stop()
    # The same database, no key: it serves the chain and authors nothing.
    holder = Node(base_path / "holder", sealing="20", chain="dev", key=None, binary=NODE).start()
    joiner = None
    try:
        target = holder.best_number()
        joiner = Node(base_path / "joiner", extra_args=["--bootnodes", holder.multiaddr()],
                      sealing="20", chain="dev", key=None, binary=NODE).start()
        wait_until(lambda: joiner.best_number() >= 300, 120, "the sync under way",
                   [holder, joiner])
        joiner.stop(sig=9)
        joiner.start()
        wait_until(lambda: joiner.best_number() == target, 240, "the joiner at the holder's best",
                   [holder, joiner])
        assert joiner.result("chain_getHeader")["stateRoot"] == \
            holder.result("chain_getHeader")["stateRoot"]
        # The author finalizes a moment after import: its last blocks stayed unfinalized.
        final = holder.finalized_number()
        assert final >= target - 100
        wait_until(lambda: joiner.finalized_number() == final, 60,
                   "finality from the author's justifications", [holder, joiner])
    finally:
        if joiner:
            joiner.stop()
        holder.stop()
    out = subprocess.run([str(NODE), "check-chain", "--chain", "dev", "--base-path",
                          str(joiner.base_path)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert f"#{target}" in out.stdout


def evil_peer_binary() -> Path:
    target = Path(os.environ.get("CARGO_TARGET_DIR", Path(__file__).resolve().parent.parent / "target"))
    for profile in ("debug", "release"):
        candidate = target / profile / "examples" / "evil_peer"
        if candidate.is_file():
            return candidate
    pytest.skip("build it with `cargo build -p subtensor-sync --example evil_peer`")


def test_a_misbehaving_peer_is_banned_and_the_network_goes_on(network):
    """A peer that gossips garbage and a 3 MiB message, then announces and serves a block sealed
    by a key that is not the slot's author: the honest node that fetches the block refuses it,
    bans the peer, and the network keeps producing and finalizing."""
    alice = network[0]
    wait_until(lambda: alice.finalized_number() >= 2, 60, "finality", network)
    genesis = alice.result("chain_getBlockHash", [0])
    evil = subprocess.Popen([str(evil_peer_binary()), "--boot", alice.multiaddr(), "--genesis",
                             genesis, "--seconds", "60"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        evil_id = evil.stdout.readline().strip()
        assert evil_id.startswith("12D3KooW"), evil_id

        def banned_by_someone():
            return any(any(b["peerId"] == evil_id
                           for b in n.result("system_unstable_networkState")["bannedPeers"])
                       for n in network)
        wait_until(banned_by_someone, 60, "the misbehaving peer banned", network)
        best, final = alice.best_number(), alice.finalized_number()
        wait_until(lambda: alice.best_number() >= best + 3 and alice.finalized_number() > final,
                   30, "blocks and finality after the attack", network)
        assert all(evil_id not in [p["peerId"] for p in n.result("system_peers")] for n in network)
    finally:
        evil.kill()
        evil.wait()
