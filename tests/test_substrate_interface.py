"""The node drives unchanged with the Python packages substrate-interface and
async-substrate-interface: connect, read, compose, sign, submit, events, errors, maps."""

import json
import subprocess
import time

import pytest
from substrateinterface import Keypair, SubstrateInterface

from conftest import ROOT

ALICE = Keypair.create_from_uri("//Alice")
BOB = Keypair.create_from_uri("//Bob")


@pytest.fixture
def substrate(node):
    s = SubstrateInterface(url=node.ws_url)
    yield s
    s.close()


def test_connects_and_reads_accounts(substrate, node):
    assert substrate.chain == "Bittensor Development"
    assert substrate.properties["tokenSymbol"] == "TAO"
    assert substrate.ss58_format == 42
    account = substrate.query("System", "Account", [ALICE.ss58_address])
    assert account.value["data"]["free"] >= 1_000_000 * 10**9


# //Alice's ed25519 public key (her GRANDPA key); substrate-interface cannot derive `//Alice`
# for ed25519.
ALICE_ED25519 = "0x88dc3417d5058ec4b4503e0c12ea1a0a89be200fe98922423d4334014fa6b0ee"


def test_sees_the_on_chain_authorities_and_real_finality(substrate):
    # The authorities are in the chain's state (Aura 3, Grandpa 4), as on the reference chain.
    assert substrate.get_metadata_module("Aura").value["index"] == 3
    assert substrate.get_metadata_module("Grandpa").value["index"] == 4
    aura = substrate.query("Aura", "Authorities").value
    assert aura == ["0x" + ALICE.public_key.hex()], aura
    grandpa = substrate.query("Grandpa", "Authorities").value
    assert [(key, weight) for key, weight in grandpa] == [(ALICE_ED25519, 1)], grandpa
    assert substrate.query("Grandpa", "CurrentSetId").value == 0
    # Aura records each block's slot.
    assert substrate.query("Aura", "CurrentSlot").value > 0
    # The finalized head advances.
    first = substrate.get_block_number(substrate.get_chain_finalised_head())
    deadline = time.time() + 30
    while time.time() < deadline:
        head = substrate.get_block_number(substrate.get_chain_finalised_head())
        if head > first:
            break
        time.sleep(0.3)
    assert head > first, f"finality stuck at #{first}"


def test_transfer_with_inclusion_reports_success_and_events(substrate):
    dest = Keypair.create_from_mnemonic(Keypair.generate_mnemonic())
    call = substrate.compose_call(
        "Balances", "transfer_keep_alive", {"dest": dest.ss58_address, "value": 3 * 10**9}
    )
    receipt = substrate.submit_extrinsic(
        substrate.create_signed_extrinsic(call=call, keypair=ALICE), wait_for_inclusion=True
    )
    assert receipt.is_success, receipt.error_message
    events = [(e.value["module_id"], e.value["event_id"]) for e in receipt.triggered_events]
    assert ("Balances", "Transfer") in events
    assert ("System", "ExtrinsicSuccess") in events
    assert receipt.total_fee_amount > 0
    balance = substrate.query("System", "Account", [dest.ss58_address], block_hash=receipt.block_hash)
    assert balance.value["data"]["free"] == 3 * 10**9


def test_subtensor_call_success_and_module_error_by_name(substrate):
    hotkey = Keypair.create_from_mnemonic(Keypair.generate_mnemonic())
    call = substrate.compose_call(
        "SubtensorModule", "burned_register", {"netuid": 1, "hotkey": hotkey.ss58_address}
    )
    first = substrate.submit_extrinsic(
        substrate.create_signed_extrinsic(call=call, keypair=BOB), wait_for_inclusion=True
    )
    assert first.is_success, first.error_message
    assert any(e.value["event_id"] == "NeuronRegistered" for e in first.triggered_events)

    again = substrate.submit_extrinsic(
        substrate.create_signed_extrinsic(call=call, keypair=BOB), wait_for_inclusion=True
    )
    assert not again.is_success
    assert again.error_message["name"] == "HotKeyAlreadyRegisteredInSubNet"

    uids = {k.value: v.value for k, v in substrate.query_map("SubtensorModule", "Uids", [1])}
    assert uids[hotkey.ss58_address] >= 1


def test_query_map_iterates_every_account(substrate):
    accounts = [k.value for k, _ in substrate.query_map("System", "Account", page_size=2)]
    assert ALICE.ss58_address in accounts and BOB.ss58_address in accounts
    assert len(accounts) == len(set(accounts)) >= 6


def test_async_substrate_interface_reads_v15_metadata_and_submits(node):
    """async-substrate-interface 2.x lives in its own virtualenv (.venv-asi): it conflicts with
    substrate-interface's scalecodec."""
    python = ROOT / ".venv-asi" / "bin" / "python"
    out = subprocess.run(
        [str(python), str(ROOT / "tests" / "clients" / "asi_check.py"), node.ws_url],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["alice_free"] > 0
    assert seen["transfer_success"] is True
    assert seen["neurons"] >= 1
    assert seen["first_neuron_uid"] == 0
    assert seen["aura_authorities"] == 1
    assert seen["finality_advanced"] is True
