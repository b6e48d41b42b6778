"""The validator through commit-reveal: with `commit_reveal_weights_enabled` on the subnet,
`stvalidator --once` commits a hash of its weights, waits for the reveal window, reveals them,
and the chain then holds exactly those weights.

The setup is `scripts/localnet.py`'s (debug binaries, the `tiny` model preset), with one miner.
"""

import json
import subprocess
import sys

from substrateinterface import SubstrateInterface

from conftest import ROOT, built_binary, node_binary
from test_market import CORPUS

sys.path.insert(0, str(ROOT / "scripts"))
from localnet import Bins, Localnet, NETUID, prepare_models  # noqa: E402


def test_validator_commits_then_reveals_its_weights(tmp_path):
    stmodel = built_binary("stmodel", "subtensor-model", "STMODEL_BIN")
    bins = Bins(
        node=node_binary(),
        stcli=built_binary("stcli", "subtensor-cli", "STCLI_BIN"),
        stminer=built_binary("stminer", "subtensor-miner", "STMINER_BIN"),
        stvalidator=built_binary("stvalidator", "subtensor-validator", "STVALIDATOR_BIN"),
    )
    tokenizer, models = prepare_models(stmodel, CORPUS, ROOT / ".local" / "test-models", "tiny")
    net = Localnet(tmp_path, bins, tokenizer, CORPUS, models[:2])
    try:
        net.start_node()
        net.setup_chain()
        net.stcli("subnet", "set", "commit_reveal_weights_enabled", "true", "--netuid", NETUID,
                  "--wallet-name", "alice")
        net.start_miners()
        net.wait_for_miners()
        out = subprocess.run(
            [str(bins.stvalidator), "--once", "--netuid", str(NETUID),
             "--wallet.name", "validator", "--wallet.hotkey", "default",
             "--corpus", str(CORPUS), "--tokenizer", str(tokenizer), "--topk", "64",
             "--timeout", "5", "--state-dir", str(tmp_path / "validator-state")],
            env=net.env(), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr[-4000:]
        assert "weights committed" in out.stderr, out.stderr[-4000:]
        assert "weights revealed" in out.stderr, out.stderr[-4000:]
        state = json.loads((tmp_path / "validator-state" / "state.json").read_text())
        assert state["pending_commits"] == []

        mg = net.metagraph()
        uid_of = {n["hotkey"]: n["uid"] for n in mg["neurons"]}
        validator_uid = uid_of[net.hotkey_of("validator")]
        miner_uids = {uid_of[n.hotkey] for n in net.neurons if n.role == "miner"}
        si = SubstrateInterface(url=net.ws)
        try:
            row = si.query("SubtensorModule", "Weights", [NETUID, validator_uid]).value
        finally:
            si.close()
        weighted = {uid for uid, w in row if w > 0}
        # The revealed row weights the miners (the better one at 65535) and nobody else.
        assert weighted and weighted <= miner_uids, (row, miner_uids)
        assert max(w for _, w in row) == 65535, row
    finally:
        net.stop()
