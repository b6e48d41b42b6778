"""stcli end to end, only through the binary, against a real dev node: two wallets, a
transfer from //Alice, a subnet, three registrations (burned and proof of work), stake, an
axon, weights, an epoch, and a metagraph with non-zero incentive and dividends.

The `Stcli` helper here is shared by the other `test_cli_*.py` files. The binary is taken
from $STCLI_BIN, else target/debug or target/release (build it with
`cargo build -p subtensor-cli`).
"""

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from conftest import built_binary

PASSWORD = "stcli-e2e-password"
ALICE_SS58 = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"


def stcli_binary() -> Path:
    return built_binary("stcli", "subtensor-cli", "STCLI_BIN")


class Stcli:
    """Runs stcli with a wallet directory, a node endpoint and a password in its environment,
    non-interactively (`--no-prompt`, no stdin)."""

    def __init__(self, wallet_path: Path, network: str = "ws://127.0.0.1:9", password=PASSWORD):
        self.wallet_path = Path(wallet_path)
        self.network = network
        self.password = password

    def run(self, *args, password=None, json_out=True, timeout=180):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("STCLI_", "BT_WALLET_"))}
        env.update(STCLI_NETWORK=self.network, BT_WALLET_PATH=str(self.wallet_path))
        pw = self.password if password is None else password
        if pw:
            env["STCLI_PASSWORD"] = pw
        cmd = [str(stcli_binary()), "--no-prompt", *(["--json"] if json_out else []), *args]
        return subprocess.run(
            cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout
        )

    def ok(self, *args, **kw) -> dict:
        """Runs a command that must succeed; returns its JSON output."""
        out = self.run(*args, **kw)
        assert out.returncode == 0, f"stcli {' '.join(args)} failed:\n{out.stderr[-3000:]}"
        return json.loads(out.stdout)

    def fail(self, *args, **kw) -> str:
        """Runs a command that must fail with one `error:` line; returns that line."""
        out = self.run(*args, **kw)
        assert out.returncode != 0, f"stcli {' '.join(args)} should fail:\n{out.stdout}"
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
        assert out.stdout == "", out.stdout
        return lines[0]


def snapshot(path: Path) -> dict:
    """Every file under `path` with its bytes (to check that nothing was written)."""
    return {p: p.read_bytes() for p in sorted(Path(path).rglob("*")) if p.is_file()}


def wait_until(predicate, timeout: float, what: str, interval: float = 1.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"{what} within {timeout}s")


@pytest.fixture
def cli(node, base_path):
    return Stcli(base_path / "wallets", node.ws_url)


def test_end_to_end_through_the_binary(cli):
    # Two wallets, and //Alice (the dev chain's rich sudo key) imported to fund them.
    owner = cli.ok("wallet", "create", "--wallet-name", "owner")
    miner = cli.ok("wallet", "create", "--wallet-name", "miner")
    assert owner["encrypted"] and len(owner["coldkey_mnemonic"].split()) == 12
    alice = cli.ok("wallet", "regen-coldkey", "--wallet-name", "alice", "--uri", "//Alice")
    assert alice["ss58"] == ALICE_SS58
    listed = cli.ok("wallet", "list")
    assert [w["name"] for w in listed["wallets"]] == ["alice", "miner", "owner"]

    sent = cli.ok("wallet", "transfer", "--wallet-name", "alice",
                  "--dest", owner["coldkey"], "--amount", "2000")
    assert sent["amount_rao"] == 2000 * 10**9 and sent["fee_rao"] > 0
    cli.ok("wallet", "transfer", "--wallet-name", "alice", "--dest", miner["coldkey"], "--amount", "50")
    balance = cli.ok("wallet", "balance", "--wallet-name", "owner")
    assert balance["free_rao"] == 2000 * 10**9

    # A subnet owned by `owner`; its hotkey becomes UID 0. Root settings through Sudo.
    created = cli.ok("subnet", "create", "--wallet-name", "owner")
    netuid = created["netuid"]
    assert netuid >= 2 and created["lock_rao"] >= 100 * 10**9
    for param, value in [("tempo", "10"), ("weights_rate_limit", "0"), ("difficulty", "5000")]:
        cli.ok("subnet", "set", param, value, "--netuid", str(netuid), "--wallet-name", "alice")
    params = cli.ok("subnet", "hyperparameters", "--netuid", str(netuid))["hyperparameters"]
    assert (params["tempo"], params["weights_rate_limit"], params["difficulty"]) == (10, 0, 5000)
    assert netuid in [s["netuid"] for s in cli.ok("subnet", "list")["subnets"]]

    # Three registrations: a validator and a miner by burn, a second miner by proof of work.
    cli.ok("wallet", "new-hotkey", "--wallet-name", "owner", "--wallet-hotkey", "validator")
    cli.ok("wallet", "new-hotkey", "--wallet-name", "miner", "--wallet-hotkey", "pow")
    n = str(netuid)
    validator = cli.ok("subnet", "register", "--netuid", n, "--wallet-name", "owner",
                       "--wallet-hotkey", "validator")
    burned = cli.ok("subnet", "register", "--netuid", n, "--wallet-name", "miner")
    pow_reg = cli.ok("subnet", "register", "--pow", "--netuid", n, "--wallet-name", "miner",
                     "--wallet-hotkey", "pow", "--threads", "2")
    assert validator["method"] == burned["method"] == "burned"
    assert pow_reg["method"] == "pow" and pow_reg["difficulty"] == 5000
    assert pow_reg["hashes_per_second_per_core"] > 0 and pow_reg["hashes"] > 0
    uids = {validator["uid"], burned["uid"], pow_reg["uid"]}
    assert uids == {1, 2, 3}
    again = cli.ok("subnet", "register", "--netuid", n, "--wallet-name", "miner")
    assert again["already_registered"] and again["uid"] == burned["uid"]

    # Stake on the validator, an axon for the miner.
    staked = cli.ok("stake", "add", "--amount", "500", "--wallet-name", "owner",
                    "--wallet-hotkey", "validator")
    assert staked["stake_after_rao"] == 500 * 10**9
    shown = cli.ok("stake", "show", "--wallet-name", "owner")
    assert {h["hotkey_name"]: h["stake_rao"] for h in shown["hotkeys"]}["validator"] == 500 * 10**9
    axon = cli.ok("axon", "serve", "--netuid", n, "--ip", "127.0.0.1", "--port", "8091",
                  "--wallet-name", "miner")
    assert axon["port"] == 8091

    # The validator's permit comes with the next epoch; then it weights both miners.
    def neurons():
        return {x["uid"]: x for x in cli.ok("subnet", "show", n)["neurons"]}

    wait_until(lambda: neurons()[validator["uid"]]["validator_permit"], 60, "a validator permit")
    cli.ok("weights", "set", "--netuid", n, "--uids", f"{burned['uid']},{pow_reg['uid']}",
           "--weights", "1,1", "--wallet-name", "owner", "--wallet-hotkey", "validator")

    def paid():
        now = neurons()
        ok = (now[burned["uid"]]["incentive"] > 0 and now[pow_reg["uid"]]["incentive"] > 0
              and now[validator["uid"]]["dividends"] > 0)
        return now if ok else None

    final = wait_until(paid, 90, "incentive and dividends after an epoch")
    assert final[burned["uid"]]["axon"] == "127.0.0.1:8091"
    assert final[validator["uid"]]["stake_rao"] > 500 * 10**9  # dividends are paid as stake

    # The human table shows the same neurons.
    table = cli.run("subnet", "show", n, json_out=False)
    assert table.returncode == 0 and "INCENTIVE" in table.stdout and "DIVIDENDS" in table.stdout
    overview = cli.ok("wallet", "overview", "--wallet-name", "miner")
    assert {r["uid"] for r in overview["neurons"]} == {burned["uid"], pow_reg["uid"]}
    assert all(r["incentive"] > 0 for r in overview["neurons"])
