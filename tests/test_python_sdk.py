"""The unmodified Python bittensor SDK (10.2.0 with async-substrate-interface 1.6, in .venv-bt)
against a dev node: every operation is run through the SDK (tests/clients/bt_sdk_chain.py) and
its effect is checked in the chain's state with another client (substrate-interface) and with
our own `subtensor_getMetagraph`, not from the SDK's success flags.
"""

import json
import subprocess
import time

import pytest
from substrateinterface import Keypair, SubstrateInterface

from conftest import ROOT, Node, release_node_binary

PYTHON = ROOT / ".venv-bt" / "bin" / "python"
CLIENT = ROOT / "tests" / "clients" / "bt_sdk_chain.py"
ALICE = Keypair.create_from_uri("//Alice")
OWNER_HOT = Keypair.create_from_uri("//Alice//hot")
USER = Keypair.create_from_uri("//SdkUser")
USER_HOT = Keypair.create_from_uri("//SdkUser//hot")
NETUID = 1
TAO = 10**9

pytestmark = pytest.mark.skipif(
    not PYTHON.is_file(), reason=".venv-bt is missing: run scripts/setup.sh"
)


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    base = tmp_path_factory.mktemp("sdk")
    node = Node(base / "node", sealing="1000", binary=release_node_binary()).start()
    s = SubstrateInterface(url=node.ws_url)
    yield node, s, base / "wallets"
    s.close()
    node.stop()


def sdk(chain, *steps, timeout=300) -> dict:
    node, _, wallets = chain
    out = subprocess.run([str(PYTHON), str(CLIENT), node.ws_url, str(wallets), *steps],
                         capture_output=True, text=True, timeout=timeout)
    results = {}
    for line in out.stdout.splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            results[record["step"]] = record
    assert out.returncode == 0, out.stderr[-4000:]
    return results


def sudo(s: SubstrateInterface, param: dict):
    inner = s.compose_call("SubtensorModule", "set_hyperparameter",
                           {"netuid": NETUID, "value": param})
    xt = s.create_signed_extrinsic(call=s.compose_call("Sudo", "sudo", {"call": inner}),
                                   keypair=ALICE)
    receipt = s.submit_extrinsic(xt, wait_for_inclusion=True)
    assert receipt.is_success, receipt.error_message


def storage(s, name, params):
    return s.query("SubtensorModule", name, params).value


def metagraph_rpc(node) -> dict:
    return node.result("subtensor_getMetagraph", [NETUID, True])


def wait_for_epoch(node, s):
    """Until the subnet's next epoch has run (LastStepBlock moves)."""
    last = storage(s, "LastStepBlock", [NETUID])
    deadline = time.time() + 60
    while time.time() < deadline:
        if storage(s, "LastStepBlock", [NETUID]) != last:
            return
        time.sleep(0.3)
    raise TimeoutError("no epoch")


def test_transfer_register_serve_stake_unstake(chain):
    node, s, _ = chain
    r = sdk(chain, "transfer", "burned_register", "serve_axon", "add_stake", "unstake")
    assert all(r[k]["success"] for k in r), r
    account = s.query("System", "Account", [USER.ss58_address]).value
    burn_and_fees = 50 * TAO - account["data"]["free"] - 3 * TAO
    # 50 TAO arrived; the registration burn, 3 TAO of net stake and fees left again.
    assert 0 < burn_and_fees < 2 * TAO, account
    assert storage(s, "Uids", [NETUID, USER_HOT.ss58_address]) is not None
    axon = storage(s, "Axons", [NETUID, USER_HOT.ss58_address])
    assert (axon["ip"], axon["port"], axon["ip_type"]) == (0x7F000001, 8091, 4), axon
    assert storage(s, "Stake", [USER_HOT.ss58_address, USER.ss58_address]) == 3 * TAO


def test_proof_of_work_register_signed_by_the_coldkey(chain):
    """The SDK's `register` solves the proof of work on the CPU (it wants torch importable: the
    `bittensor[torch]` extra, .venv-torch's through a .pth) and signs with the coldkey, which
    holds nothing: the call is fee-free."""
    node, s, _ = chain
    sudo(s, {"Difficulty": 10_000})
    r = sdk(chain, "pow_register")
    assert r["pow_register"]["success"], r
    hotkey, coldkey = r["pow_register"]["hotkey"], r["pow_register"]["coldkey"]
    uid = storage(s, "Uids", [NETUID, hotkey])
    assert uid is not None
    assert storage(s, "Owner", [hotkey]) == coldkey
    assert s.query("System", "Account", [coldkey]).value["data"]["free"] == 0


def test_read_views_match_the_chain(chain):
    node, s, _ = chain
    r = sdk(chain, "neurons_lite", "hyperparameters", "subnets")
    ours = metagraph_rpc(node)
    assert r["neurons_lite"]["hotkeys"] == ours["hotkeys"]
    hp = r["hyperparameters"]
    assert hp["tempo"] == storage(s, "Tempo", [NETUID])
    assert hp["weights_rate_limit"] == storage(s, "WeightsSetRateLimit", [NETUID])
    assert hp["difficulty"] == storage(s, "Difficulty", [NETUID])
    subnets = r["subnets"]
    # The empty root network is listed first, as the reference lists it.
    assert subnets["netuids"] == [0, NETUID] and subnets["netuid"] == NETUID
    assert subnets["price"] == 1.0 and subnets["owner"] == ALICE.ss58_address


def test_the_metagraph_matches_ours_after_an_epoch(chain):
    node, s, _ = chain
    # The owner (with stake, so a validator permit) weights every neuron through the SDK's own
    # `set_weights` (it reads `LastUpdate` and the rate limit, then sends
    # `set_mechanism_weights` for mechanism 0), signed by its key-only hotkey.
    stake = s.compose_call("SubtensorModule", "add_stake",
                           {"hotkey": OWNER_HOT.ss58_address, "amount_staked": 100 * TAO})
    receipt = s.submit_extrinsic(s.create_signed_extrinsic(call=stake, keypair=ALICE),
                                 wait_for_inclusion=True)
    assert receipt.is_success, receipt.error_message
    # The SDK only sends when more blocks than the rate limit passed since the last update.
    sudo(s, {"WeightsSetRateLimit": 0})
    r = sdk(chain, "set_weights")
    assert r["set_weights"]["success"], r
    uids = r["set_weights"]["uids"]
    assert uids == list(range(len(metagraph_rpc(node)["hotkeys"])))
    owner_uid = storage(s, "Uids", [NETUID, OWNER_HOT.ss58_address])
    row = storage(s, "Weights", [NETUID, owner_uid])
    assert [uid for uid, _ in row] == uids, row
    wait_for_epoch(node, s)
    wait_for_epoch(node, s)
    r = sdk(chain, "metagraph", "metagraph_full")
    ours = metagraph_rpc(node)
    for step in ("metagraph", "metagraph_full"):
        mg = r[step]
        assert mg["hotkeys"] == ours["hotkeys"], step
        assert mg["S"] == pytest.approx([x / TAO for x in ours["stake"]]), step
        assert mg["I"] == pytest.approx([x / 65535 for x in ours["incentive"]], abs=1e-4), step
        assert mg["D"] == pytest.approx([x / 65535 for x in ours["dividends"]], abs=1e-4), step
        assert mg["validator_permit"] == ours["validator_permit"], step
        assert [tuple(a) for a in mg["axons"]] == [(a["ip"], a["port"]) for a in ours["axons"]]
    assert any(x > 0 for x in ours["incentive"]) and any(x > 0 for x in ours["dividends"])
    full = r["metagraph_full"]
    n = len(ours["hotkeys"])
    for uid, row in enumerate(ours["weights"]):
        dense = [0.0] * n
        for dest, value in row:
            dense[dest] = value
        total = sum(dense) or 1
        assert full["W"][uid] == pytest.approx([v / total for v in dense], abs=1e-4), uid
    # The SDK keeps bonds as the chain's raw u16 values.
    for uid, row in enumerate(ours["bonds"]):
        dense = [0.0] * n
        for dest, value in row:
            dense[dest] = value
        assert full["B"][uid] == pytest.approx(dense, abs=1e-4), uid


def test_explicit_commit_and_reveal(chain):
    node, s, _ = chain
    sudo(s, {"CommitRevealEnabled": True})
    sudo(s, {"WeightsSetRateLimit": 0})
    r = sdk(chain, "commit_weights")
    assert r["commit_weights"]["success"], r
    commits = storage(s, "WeightCommits", [NETUID, OWNER_HOT.ss58_address])
    assert len(commits) == 1, commits
    wait_for_epoch(node, s)
    r = sdk(chain, "reveal_weights")
    assert r["reveal_weights"]["success"], r
    owner_uid = storage(s, "Uids", [NETUID, OWNER_HOT.ss58_address])
    assert [list(x) for x in storage(s, "Weights", [NETUID, owner_uid])] == [[0, 65535]]
    assert storage(s, "WeightCommits", [NETUID, OWNER_HOT.ss58_address]) == []
