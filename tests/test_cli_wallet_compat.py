"""Wallet compatibility with the Python `bittensor-wallet` package (4.1.1, in .venv-asi, run as
a subprocess like the ASI test): a coldkey it creates and encrypts opens in stcli with the
same password, and one stcli creates opens there; the SS58 addresses agree. No node needed."""

import json
import subprocess

import pytest

from conftest import ROOT
from test_cli import Stcli

PYTHON = ROOT / ".venv-asi" / "bin" / "python"
# bittensor-wallet 4.0.1, the version the bittensor SDK 10.2.0 and btcli 9.20.1 pin.
PYTHON_BT = ROOT / ".venv-bt" / "bin" / "python"
HELPER = ROOT / "tests" / "clients" / "wallet_compat.py"


def bittensor_wallet(*args, python=PYTHON) -> dict:
    out = subprocess.run(
        [str(python), str(HELPER), *map(str, args)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture
def cli(base_path):
    return Stcli(base_path, password="compat password 1")


def test_python_made_wallet_opens_in_stcli(cli, base_path):
    made = bittensor_wallet("create", base_path, "py", "default", "compat password 1")
    assert made["coldkey_encrypted"]
    assert (base_path / "py" / "coldkey").read_bytes().startswith(b"$NACL")
    opened = cli.ok("wallet", "check", "--wallet-name", "py")
    assert opened["coldkey"] == made["coldkey"] == made["coldkeypub"]
    assert opened["hotkey"] == made["hotkey"]
    assert opened["coldkey_encrypted"]
    # Same file, another password: refused, on one line.
    line = cli.fail("wallet", "check", "--wallet-name", "py", password="not the password")
    assert "wrong password" in line


def test_stcli_made_wallet_opens_in_python(cli, base_path):
    made = cli.ok("wallet", "create", "--wallet-name", "rs")
    assert (base_path / "rs" / "coldkey").read_bytes().startswith(b"$NACL")
    for python in (PYTHON, PYTHON_BT):
        if not python.is_file():
            continue
        opened = bittensor_wallet("open", base_path, "rs", "default", "compat password 1",
                                  python=python)
        assert opened["coldkey"] == opened["coldkeypub"] == made["coldkey"], python
        assert opened["hotkey"] == made["hotkey"], python
        assert opened["coldkey_encrypted"], python
    # The mnemonic stcli printed gives the same address in the Python package.
    assert bittensor_wallet("address", made["coldkey_mnemonic"])["ss58"] == made["coldkey"]
    assert bittensor_wallet("address", made["hotkey_mnemonic"])["ss58"] == made["hotkey"]


def test_restored_keys_match_across_implementations(cli, base_path):
    mnemonic = "bottom drive obey lake curtain smoke basket hold race lonely fit walk"
    ours = cli.ok("wallet", "regen-coldkey", "--wallet-name", "same", "--mnemonic", mnemonic)
    assert ours["ss58"] == bittensor_wallet("address", mnemonic)["ss58"]
    for words in (15, 18, 21, 24):
        made = cli.ok("wallet", "create", "--wallet-name", f"w{words}", "--n-words", str(words),
                      "--no-password")
        phrase = made["coldkey_mnemonic"]
        assert len(phrase.split()) == words
        assert bittensor_wallet("address", phrase)["ss58"] == made["coldkey"]
