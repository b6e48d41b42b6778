"""Grid specs end to end, through the stcli binary against a real dev node: a subnet owner
commits the model its miners serve with `stcli subnet grid set`; `grid show`, `subnet show`
and the node's `subtensor_getMetagraph` / `subtensor_getGridSpec` report it; a non-owner and a
bad digest are refused before anything is sent; a second set within the rate limit is refused;
root (the sudo key) is not rate limited; `grid clear` removes the spec. The chain's own checks
(what the command line checks before sending) are exercised with py-substrate-interface.
"""

import pytest
from substrateinterface import Keypair, SubstrateInterface

from test_cli import Stcli, snapshot

DIGEST = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
OTHER = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
BOB = Keypair.create_from_uri("//Bob")
CHARLIE = Keypair.create_from_uri("//Charlie")


@pytest.fixture
def cli(node, base_path):
    c = Stcli(base_path / "wallets", node.ws_url)
    c.ok("wallet", "regen-coldkey", "--wallet-name", "alice", "--uri", "//Alice")
    c.ok("wallet", "regen-coldkey", "--wallet-name", "bob", "--uri", "//Bob")
    c.ok("wallet", "regen-hotkey", "--wallet-name", "bob", "--uri", "//Bob//hot")
    c.ok("wallet", "regen-coldkey", "--wallet-name", "charlie", "--uri", "//Charlie")
    return c


def grid_set(netuid, wallet, digest=DIGEST, name="tiny-gpt", new_tokens="64", context="2048"):
    """The arguments of `stcli subnet grid set` signed by `wallet`."""
    return ["subnet", "grid", "set", "--netuid", str(netuid), "--sha256", digest,
            "--name", name, "--max-new-tokens", new_tokens, "--max-context", context,
            "--wallet-name", wallet]


def refused(cli, *args) -> str:
    """A command that must fail with one `error:` line, writing and sending nothing."""
    before = snapshot(cli.wallet_path)
    line = cli.fail(*args)
    assert snapshot(cli.wallet_path) == before
    return line


def submit(node, keypair, function, params):
    """Sends `SubtensorModule.<function>(params)` signed by `keypair`; the receipt."""
    si = SubstrateInterface(url=node.ws_url)
    try:
        call = si.compose_call("SubtensorModule", function, params)
        xt = si.create_signed_extrinsic(call=call, keypair=keypair)
        return si.submit_extrinsic(xt, wait_for_inclusion=True)
    finally:
        si.close()


def test_owner_sets_shows_and_clears_a_grid_spec(cli, node):
    # Bob owns a new subnet; //Alice is the sudo key (and owns subnet 1).
    netuid = cli.ok("subnet", "create", "--wallet-name", "bob")["netuid"]
    n = str(netuid)
    shown = cli.ok("subnet", "grid", "show", "--netuid", n)
    assert shown == {"netuid": netuid, "grid": None}
    assert "not a grid subnet" in cli.run("subnet", "grid", "show", "--netuid", n,
                                          json_out=False).stdout
    assert node.result("subtensor_getGridSpec", [netuid]) is None
    assert node.result("subtensor_getMetagraph", [netuid])["grid"] is None

    # Bad input and a non-owner are refused before anything is sent.
    nonce = node.result("system_accountNextIndex", [BOB.ss58_address])
    line = refused(cli, *grid_set(netuid, "bob", digest="abcd"))
    assert "invalid --sha256" in line and "expected 64 hex digits" in line
    assert "invalid grid spec" in refused(cli, *grid_set(netuid, "bob", context="64"))
    assert "--name" in refused(cli, *grid_set(netuid, "bob", name="x" * 65))
    assert node.result("system_accountNextIndex", [BOB.ss58_address]) == nonce
    line = refused(cli, *grid_set(netuid, "charlie"))
    assert "not the owner of subnet" in line and BOB.ss58_address in line
    assert "does not exist" in refused(cli, *grid_set(99, "bob"))

    # The owner sets it.
    done = cli.ok(*grid_set(netuid, "bob"))
    grid = {"model_sha256": DIGEST, "sampler_version": 1, "max_new_tokens": 64,
            "max_context": 2048, "model_name": "tiny-gpt", "set_at_block": done["block"]}
    assert done["grid"] == grid and done["as_root"] is False
    assert cli.ok("subnet", "grid", "show", "--netuid", n) == {"netuid": netuid, "grid": grid}
    table = cli.run("subnet", "grid", "show", "--netuid", n, json_out=False)
    assert table.returncode == 0 and DIGEST in table.stdout and "tiny-gpt" in table.stdout
    # ... and every view reports it: the node's RPC, the metagraph, `subnet show`.
    assert node.result("subtensor_getGridSpec", [netuid]) == grid
    assert node.result("subtensor_getMetagraph", [netuid])["grid"] == grid
    assert node.result("subtensor_getMetagraph", [1])["grid"] is None
    subnet = cli.ok("subnet", "show", n)
    assert subnet["grid"] == grid and subnet["n"] == 1
    assert cli.ok("subnet", "show", "1")["grid"] is None
    assert "Grid subnet: model tiny-gpt" in cli.run("subnet", "show", n, json_out=False).stdout

    # A second set by the owner within the rate limit (100 blocks) is refused, by stcli...
    line = refused(cli, *grid_set(netuid, "bob", OTHER))
    assert "rate limit" in line and f"#{done['block'] + 100}" in line
    # ... and by the chain.
    spec = {"model_sha256": "0x" + OTHER, "sampler_version": 1, "max_new_tokens": 8,
            "max_context": 16, "model_name": "other"}
    receipt = submit(node, BOB, "set_grid_spec", {"netuid": netuid, "spec": spec})
    assert not receipt.is_success
    assert receipt.error_message["name"] == "GridSpecRateLimitExceeded"
    receipt = submit(node, CHARLIE, "set_grid_spec", {"netuid": netuid, "spec": spec})
    assert receipt.error_message["name"] == "NotSubnetOwner"
    zero = dict(spec, model_sha256="0x" + "00" * 32)
    receipt = submit(node, BOB, "set_grid_spec", {"netuid": netuid, "spec": zero})
    assert receipt.error_message["name"] == "GridModelDigestZero"
    assert node.result("subtensor_getGridSpec", [netuid]) == grid

    # Root (the sudo key) replaces it at once.
    rooted = cli.ok(*grid_set(netuid, "alice", OTHER, "other-model", "8", "16"))
    assert rooted["as_root"] is True
    assert node.result("subtensor_getGridSpec", [netuid]) == {
        "model_sha256": OTHER, "sampler_version": 1, "max_new_tokens": 8, "max_context": 16,
        "model_name": "other-model", "set_at_block": rooted["block"]}

    # The owner clears it: an ordinary subnet again.
    cleared = cli.ok("subnet", "grid", "clear", "--netuid", n, "--wallet-name", "bob")
    assert cleared["cleared"] is True and cleared["as_root"] is False
    assert cli.ok("subnet", "grid", "show", "--netuid", n)["grid"] is None
    assert node.result("subtensor_getMetagraph", [netuid])["grid"] is None
    assert "has no grid spec" in refused(cli, "subnet", "grid", "clear", "--netuid", n,
                                         "--wallet-name", "bob")
    line = refused(cli, "subnet", "grid", "clear", "--netuid", n, "--wallet-name", "charlie")
    assert "not the owner of subnet" in line
