"""Axon/dendrite interop with the Python package bittensor 10.2.0, both directions.

bittensor lives in its own virtualenv (.venv-bt, see tests/requirements-bt.txt); its clients in
tests/clients/bt_*.py run there by subprocess. Our side is the `interop` example of
subtensor-axon (offchain-miner/axon/examples/interop.rs), built here on first use.
"""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ROOT, free_port

PYTHON = ROOT / ".venv-bt" / "bin" / "python"
CLIENTS = ROOT / "tests" / "clients"
BOB = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"
ALICE = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"

pytestmark = pytest.mark.skipif(
    not PYTHON.is_file(), reason=".venv-bt is missing: run scripts/setup.sh"
)


@pytest.fixture(scope="module")
def interop_bin() -> Path:
    subprocess.run(
        ["cargo", "build", "-q", "-p", "subtensor-axon", "--example", "interop"],
        cwd=ROOT,
        check=True,
        timeout=1800,
    )
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "debug" / "examples" / "interop"


def wait_ready(proc: subprocess.Popen, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("READY "):
            return json.loads(line[len("READY "):])
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError(f"server did not become ready: {proc.stdout.read()}")


def stop(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGTERM)
    try:
        rest, _ = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        rest, _ = proc.communicate()
    return rest


def start_our_axon(interop_bin, *extra) -> dict:
    proc = subprocess.Popen(
        [str(interop_bin), "serve", "--uri", "//Bob", "--port", "0", *extra],
        stdout=subprocess.PIPE,
        text=True,
    )
    ready = wait_ready(proc)
    ready["proc"] = proc
    return ready


@pytest.fixture
def our_axon(interop_bin):
    ready = start_our_axon(interop_bin)
    yield ready
    if ready["proc"].poll() is None:
        stop(ready["proc"])


@pytest.fixture
def guarded_axon(interop_bin):
    """Our axon behind a MetagraphPolicy whose snapshot holds Alice only."""
    ready = start_our_axon(interop_bin, "--members", "//Alice")
    yield ready
    if ready["proc"].poll() is None:
        stop(ready["proc"])


def callers(log: str) -> list:
    return [json.loads(l[len("CALLER "):]) for l in log.splitlines() if l.startswith("CALLER ")]


@pytest.fixture
def python_axon():
    port = free_port()
    proc = subprocess.Popen(
        [str(PYTHON), str(CLIENTS / "bt_axon.py"), str(port), "//Bob"],
        cwd=CLIENTS,
        stdout=subprocess.PIPE,
        text=True,
    )
    ready = wait_ready(proc)
    yield {"addr": f"127.0.0.1:{port}", "hotkey": ready["hotkey"]}
    stop(proc)


def bt_new_synapses(*args) -> dict:
    """bittensor's Dendrite querying TextCausalLM, TextLastHiddenState and TextSeq2Seq."""
    out = subprocess.run(
        [str(PYTHON), str(CLIENTS / "bt_synapses.py"), "query", *args],
        cwd=CLIENTS,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def bt_dendrite(*args) -> dict:
    out = subprocess.run(
        [str(PYTHON), str(CLIENTS / "bt_dendrite.py"), *args],
        cwd=CLIENTS,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def our_dendrite(interop_bin, addr, hotkey, *extra) -> dict:
    out = subprocess.run(
        [str(interop_bin), "call", "--uri", "//Alice", "--addr", addr, "--hotkey", hotkey, *extra],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_bittensor_dendrite_queries_our_axon(our_axon):
    res = bt_dendrite("query", our_axon["addr"], our_axon["hotkey"])
    assert res["dummy"]["status_code"] == 200, res
    assert res["dummy"]["dummy_output"] == 42
    assert res["dummy"]["axon_hotkey"] == BOB
    text = res["text"]
    assert text["status_code"] == 200 and text["status_message"] == "Success", res
    assert text["outputs_match"] and text["text_inputs_unchanged"], res
    # Our handlers saw the verified caller.
    log = stop(our_axon["proc"])
    assert {(c["synapse"], c["hotkey"]) for c in callers(log)} == {
        ("Dummy", ALICE),
        ("TextCausalLMNext", ALICE),
    }


def test_our_axon_rejects_forged_replayed_and_unsigned_requests(our_axon):
    res = bt_dendrite("raw", our_axon["addr"], our_axon["hotkey"])
    assert res == {
        "valid": 200,
        "replayed": 401,
        "unsigned": 401,
        "empty_signature": 401,  # bittensor 10.2.0's own axon lets this through (issue #3392).
        "forged_signature": 401,
        "tampered_hotkey": 401,
        "tampered_body": 400,  # Body hash mismatch; the Python axon answers 500.
        "wrong_axon": 401,
        "stale_nonce": 401,
        "valid_again": 200,
    }


@pytest.mark.parametrize("synapse", ["dummy", "text"])
def test_our_dendrite_queries_a_bittensor_axon(interop_bin, python_axon, synapse):
    addr, hotkey = python_axon["addr"], python_axon["hotkey"]
    # Python axons do not sign responses: refused by default ...
    res = our_dendrite(interop_bin, addr, hotkey, "--synapse", synapse)
    assert res == {"ok": False, "error": "signature verification failed"}
    # ... accepted when the caller opts in.
    res = our_dendrite(interop_bin, addr, hotkey, "--synapse", synapse, "--accept-unsigned")
    assert res["ok"], res
    result = res["result"]
    assert result["axon"]["status_code"] == 200
    assert result["axon"]["hotkey"] == BOB
    if synapse == "dummy":
        assert result["dummy_output"] == 42
    else:
        rows = result["rows"]
        assert [[p[1] for p in r["phrases"]] for r in rows] == [
            [[7586], [7587], [7588], [7589]],
            [[13], [14], [15], [16]],
        ]
        assert all(p[0] == 0.125 for r in rows for p in r["phrases"])


def test_bittensor_axon_refuses_a_request_for_another_hotkey(interop_bin, python_axon):
    """The signature covers the axon hotkey we sign for; a 10.2.0 axon verifies it against its
    own hotkey and answers 401, as ours does."""
    res = our_dendrite(
        interop_bin, python_axon["addr"], ALICE, "--synapse", "dummy", "--accept-unsigned"
    )
    assert not res["ok"] and "401" in res["error"], res


def test_bittensor_dendrite_queries_the_2022_synapses(our_axon):
    res = bt_new_synapses(our_axon["addr"], our_axon["hotkey"])
    ok = {"status_code": 200, "status_message": "Success"}
    assert res["causal_lm"] == {**ok, "dtype": "float32", "shape": [2, 3, 8], "outputs_match": True}
    assert res["hidden"] == {**ok, "shape": [2, 3, 1024], "outputs_match": True}
    assert res["hidden_masked"] == {**ok, "shape": [4, 1024], "outputs_match": True}
    seq = res["seq2seq"]
    assert {k: seq[k] for k in ok} == ok, seq
    assert seq["outputs_match"] and seq["params_unchanged"], seq
    assert seq["generations"] == [[7587, -100], [14, 15]]
    assert seq["texts"] == ["gen0", "gen1"]
    log = stop(our_axon["proc"])
    assert sorted(c["synapse"] for c in callers(log)) == [
        "TextCausalLM",
        "TextLastHiddenState",
        "TextLastHiddenState",
        "TextSeq2Seq",
    ]
    assert {c["hotkey"] for c in callers(log)} == {ALICE}


def test_metagraph_policy_refuses_an_unknown_hotkey_with_403(guarded_axon):
    addr, hotkey = guarded_axon["addr"], guarded_axon["hotkey"]
    # Charlie is not in the axon's metagraph snapshot: refused before any handler runs.
    res = bt_new_synapses(addr, hotkey, "//Charlie")
    for case in ("causal_lm", "hidden", "hidden_masked", "seq2seq"):
        assert res[case]["status_code"] == 403, res
        assert "blacklisted" in res[case]["status_message"], res
        assert "outputs_match" not in res[case], res
    # Alice is a member: served.
    res = bt_new_synapses(addr, hotkey, "//Alice")
    assert res["causal_lm"]["status_code"] == 200 and res["causal_lm"]["outputs_match"], res
    assert res["hidden"]["status_code"] == 200 and res["hidden"]["outputs_match"], res
    log = stop(guarded_axon["proc"])
    assert {c["hotkey"] for c in callers(log)} == {ALICE}
