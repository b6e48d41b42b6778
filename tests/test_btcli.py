"""btcli 9.20.1 (in .venv-bt), run as a user would against a dev node (`--network ws://...`,
`--no-mev-protection` where it asks, `-y`): each command's effect is checked in the chain's
state with substrate-interface, not from btcli's exit status (btcli exits 0 after most
failures). Commands that do not work on this chain yet are listed in the README.
"""

import re
import subprocess

import pytest
from substrateinterface import Keypair, SubstrateInterface

from conftest import ROOT, Node, release_node_binary

PYTHON = ROOT / ".venv-bt" / "bin" / "python"
BTCLI = ROOT / ".venv-bt" / "bin" / "btcli"
NETUID = 1
TAO = 10**9
OWNER_HOT = Keypair.create_from_uri("//Alice//hot")
BOB_HOT = Keypair.create_from_uri("//Bob//hot")

pytestmark = pytest.mark.skipif(
    not BTCLI.is_file(), reason="btcli is missing from .venv-bt: run scripts/setup.sh"
)


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    base = tmp_path_factory.mktemp("btcli")
    wallets = base / "wallets"
    make = (
        "import sys\n"
        "from bittensor_wallet import Wallet\n"
        "for name, cold, hot in [('alice', '//Alice', '//Alice//hot'), ('bob', '//Bob', '//Bob//hot')]:\n"
        "    w = Wallet(name=name, hotkey='default', path=sys.argv[1])\n"
        "    w.create_coldkey_from_uri(cold, use_password=False, overwrite=True, suppress=True)\n"
        "    w.create_hotkey_from_uri(hot, use_password=False, overwrite=True, suppress=True)\n"
    )
    subprocess.run([str(PYTHON), "-c", make, str(wallets)], check=True, timeout=120)
    node = Node(base / "node", sealing="1000", binary=release_node_binary()).start()
    s = SubstrateInterface(url=node.ws_url)
    yield node, s, wallets
    s.close()
    node.stop()


def btcli(chain, *args, wallet: str | None = None) -> str:
    node, _, wallets = chain
    extra = ["--wallet-path", str(wallets), "--wallet-name", wallet, "--hotkey", "default"] \
        if wallet else []
    out = subprocess.run([str(BTCLI), *args, "--network", node.ws_url, *extra],
                         capture_output=True, text=True, timeout=300,
                         env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    return out.stdout + out.stderr


def storage(s, name, params):
    return s.query("SubtensorModule", name, params).value


def test_sudo_set_changes_a_hyperparameter(chain):
    _, s, _ = chain
    out = btcli(chain, "sudo", "set", "--netuid", "1", "--param", "tempo", "--value", "12", "-y",
                wallet="alice")
    assert storage(s, "Tempo", [NETUID]) == 12, out[-2000:]
    out = btcli(chain, "sudo", "set", "--netuid", "1", "--param", "immunity_period",
                "--value", "321", "-y", wallet="alice")
    assert storage(s, "ImmunityPeriod", [NETUID]) == 321, out[-2000:]


def test_subnets_register_and_axon_set(chain):
    _, s, _ = chain
    out = btcli(chain, "subnets", "register", "--netuid", "1", "-y", wallet="bob")
    assert storage(s, "Uids", [NETUID, BOB_HOT.ss58_address]) is not None, out[-2000:]
    out = btcli(chain, "axon", "set", "--netuid", "1", "--ip", "127.0.0.1", "--port", "8123",
                "-y", wallet="bob")
    axon = storage(s, "Axons", [NETUID, BOB_HOT.ss58_address])
    assert axon and (axon["ip"], axon["port"]) == (0x7F000001, 8123), out[-2000:]


def test_stake_add_and_remove(chain):
    # Bob stakes on his own hotkey (registered above; it sets no weights and nobody weights
    # it, so no emission moves its stake between the commands).
    _, s, _ = chain
    bob = Keypair.create_from_uri("//Bob").ss58_address
    before = storage(s, "Stake", [BOB_HOT.ss58_address, bob])
    out = btcli(chain, "stake", "add", "--netuid", "1", "--amount", "3", "--include-hotkeys",
                BOB_HOT.ss58_address, "--no-mev-protection", "-y", wallet="bob")
    assert storage(s, "Stake", [BOB_HOT.ss58_address, bob]) == before + 3 * TAO, out[-2000:]
    out = btcli(chain, "stake", "remove", "--netuid", "1", "--amount", "1", "--include-hotkeys",
                BOB_HOT.ss58_address, "--no-mev-protection", "-y", wallet="bob")
    assert storage(s, "Stake", [BOB_HOT.ss58_address, bob]) == before + 2 * TAO, out[-2000:]


def test_overview_and_subnet_show_print_our_values(chain):
    _, s, _ = chain
    out = btcli(chain, "subnets", "show", "--netuid", "1")
    assert "Subnet 1" in out and "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY" in out, out
    assert f"/{storage(s, 'Tempo', [NETUID])}" in out, out
    # Bob's free balance (nothing but his own commands moves it).
    out = btcli(chain, "wallet", "overview", wallet="bob")
    free = s.query("System", "Account", [Keypair.create_from_uri("//Bob").ss58_address])
    match = re.search(r"Wallet free balance:\W*([\d,]+\.\d+)", out)
    assert match, out[-2000:]
    shown = float(match.group(1).replace(",", ""))
    assert abs(shown - free.value["data"]["free"] / TAO) < 0.001, (shown, free.value)


def test_wallet_balance_and_subnets_list_print_our_values(chain):
    _, s, _ = chain
    bob = Keypair.create_from_uri("//Bob").ss58_address
    # Emission adds to Bob's stake at every epoch, which may fall while btcli runs: the stake
    # it shows must be the stake at one of the blocks it ran across.
    first = s.get_block_number(s.get_chain_head())
    out = btcli(chain, "wallet", "balance", wallet="bob")
    last = s.get_block_number(s.get_chain_head())
    stakes = {s.query("SubtensorModule", "Stake", [BOB_HOT.ss58_address, bob],
                      block_hash=s.get_block_hash(n)).value / TAO for n in range(first, last + 1)}
    row = next((line for line in out.splitlines() if bob in line), None)
    assert row, out[-2000:]
    # Free, staked (classic stake on every hotkey of the coldkey, at price 1) and total.
    free, staked, total = [float(x.replace(",", "")) for x in re.findall(r"([\d,]+\.\d+)", row)]
    assert abs(free - s.query("System", "Account", [bob]).value["data"]["free"] / TAO) < 1e-3
    assert min(abs(staked - v) for v in stakes) < 1e-3, (row, sorted(stakes))
    assert abs(total - free - staked) < 1e-3, row
    # The subnet list: the empty root network first, then subnet 1 with its tempo and all of
    # the block emission (τ 1 per block: it is the only subnet).
    out = btcli(chain, "subnets", "list")
    rows = {int(m.group(1)): m.group(0) for m in
            re.finditer(r"^\s*(\d+)\s*│.*$", out, flags=re.MULTILINE)}
    assert set(rows) >= {0, 1}, out[-3000:]
    assert "root" in rows[0] and "subnet 1" in rows[1], out[-3000:]
    assert f"/{storage(s, 'Tempo', [NETUID])}" in rows[1], rows[1]
    assert "1.0000" in rows[1].split("│")[4], rows[1]
