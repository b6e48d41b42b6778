"""stcli on bad input: each case fails with one `error:` line and a non-zero exit status, and
writes nothing (the wallet directory is byte for byte unchanged, no transaction is sent)."""

import socket

import pytest

from test_cli import ALICE_SS58, Stcli, snapshot


@pytest.fixture
def cli(node, base_path):
    c = Stcli(base_path / "wallets", node.ws_url)
    c.ok("wallet", "regen-coldkey", "--wallet-name", "alice", "--uri", "//Alice")
    c.ok("wallet", "regen-hotkey", "--wallet-name", "alice", "--uri", "//Alice//hot")
    c.ok("wallet", "create", "--wallet-name", "poor", "--no-password")
    return c


def unchanged(cli, *args, **kw) -> str:
    """Runs a failing command and checks that no wallet file changed."""
    before = snapshot(cli.wallet_path)
    line = cli.fail(*args, **kw)
    assert snapshot(cli.wallet_path) == before
    return line


def test_wrong_password(cli):
    line = unchanged(cli, "wallet", "transfer", "--wallet-name", "alice", "--dest", ALICE_SS58,
                     "--amount", "1", password="wrong password")
    assert "wrong password" in line and "coldkey" in line
    assert "wrong password" in unchanged(cli, "wallet", "check", "--wallet-name", "alice",
                                         password="wrong password")


def test_missing_wallet(cli, base_path):
    line = unchanged(cli, "wallet", "balance", "--wallet-name", "nope")
    assert line.startswith("error: wallet not found")
    assert "not found" in unchanged(cli, "stake", "add", "--amount", "1", "--wallet-name", "nope")
    assert not (base_path / "wallets" / "nope").exists()


def test_unknown_netuid(cli):
    assert unchanged(cli, "subnet", "show", "99") == "error: subnet 99 does not exist"
    assert "subnet 99 does not exist" in unchanged(cli, "subnet", "register", "--netuid", "99",
                                                   "--wallet-name", "alice")
    assert "subnet 99 does not exist" in unchanged(cli, "subnet", "hyperparameters", "--netuid", "99")


def test_insufficient_balance(cli):
    line = unchanged(cli, "wallet", "transfer", "--wallet-name", "poor", "--dest", ALICE_SS58,
                     "--amount", "5")
    assert line.startswith("error: insufficient balance: 0.0 τ free")
    assert "insufficient balance" in unchanged(cli, "stake", "add", "--wallet-name", "poor",
                                               "--amount", "1")
    assert "insufficient balance" in unchanged(cli, "subnet", "create", "--wallet-name", "poor")
    # Nothing was sent: the account still has no balance and no nonce.
    assert cli.ok("wallet", "balance", "--wallet-name", "poor")["free_rao"] == 0


def test_rate_limited_weights(cli):
    # //Alice//hot is UID 0 (the owner) of subnet 1, whose weights rate limit is 100 blocks.
    args = ("weights", "set", "--netuid", "1", "--uids", "0", "--weights", "1",
            "--wallet-name", "alice")
    cli.ok(*args)
    line = unchanged(cli, *args)
    assert line == ("error: SubtensorModule.SettingWeightsTooFast: "
                    "Weights were set again before the rate limit passed.")


def test_node_down(cli):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: nothing listens there
    down = Stcli(cli.wallet_path, f"ws://127.0.0.1:{port}")
    line = unchanged(down, "wallet", "balance", "--wallet-name", "alice")
    assert line.startswith(f"error: cannot reach the node at ws://127.0.0.1:{port}")
    assert "cannot reach the node" in unchanged(down, "subnet", "list")


def test_existing_keys_are_not_overwritten_and_bad_keys_are_refused(cli):
    line = unchanged(cli, "wallet", "create", "--wallet-name", "alice")
    assert "already exists (pass --overwrite" in line
    assert "already exists" in unchanged(cli, "wallet", "regen-coldkey", "--wallet-name", "alice",
                                         "--uri", "//Bob")
    assert "invalid mnemonic" in unchanged(cli, "wallet", "regen-coldkey", "--wallet-name", "new",
                                           "--mnemonic", "not a real mnemonic at all")
    assert "at least 6 characters" in unchanged(cli, "wallet", "create", "--wallet-name", "new",
                                                password="short")
    assert "invalid amount" in unchanged(cli, "wallet", "transfer", "--wallet-name", "alice",
                                         "--dest", ALICE_SS58, "--amount", "1.0000000001")
    assert "unknown hyperparameter" in unchanged(cli, "subnet", "set", "kapa", "1", "--netuid", "1",
                                                 "--wallet-name", "alice")
