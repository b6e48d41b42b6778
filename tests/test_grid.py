"""A grid subnet end to end (issue 13), headless, with the `Localnet` class of
scripts/localnet.py: a dev node; subnet 2 whose grid spec names the tiny preset's best model;
three honest `stminer --grid` miners of that model (1 thread with batching; 1 thread without
batching and 300 ms of added latency; 2 threads with batching and 1,000 ms); six cheaters (the
`grid_cheater` example): a model with slightly perturbed weights, a different checkpoint of the
same architecture, a miner that ignores the seed, one that answers greedily, one that replays
its first answer, one that holds its answers past the validator's deadline; `stvalidator`
in grid mode; and `stgateway`, whose verdicts on user traffic the validator folds into its
scores (organic scoring, `--organic-from`).

Checked over the run: no honest answer is ever rejected, every cheater is (the late one by its
timeouts), the cheaters' incentive is zero and the honest miners' incentive is ordered by speed;
a few completions through the gateway at the start (in the background, while the validator
challenges) give the validator organic verdicts (every one the gateway logged, none twice):
verified ones for honest miners, never a rejected one, and rejected ones for the cheaters they
reached.
"""

import hashlib
import json
import os
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import ROOT, built_binary, node_binary

sys.path.insert(0, str(ROOT / "scripts"))
from localnet import (  # noqa: E402
    GRID_HONEST, GRID_NETUID, PRESETS, Bins, Localnet, prepare_models, run_checked,
)

CORPUS = Path(os.environ.get("MARKET_CORPUS", "/usr/share/games/fortunes"))
# The validator keeps each miner's last 8 answers (--grid-window 8) and scores their 20th
# percentile: after 10 queries the first, cold answers (model warm-up) have left the window.
QUERIES_PER_MINER = 10


def target_dir() -> Path:
    return Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))


def other_checkpoint(stmodel: Path, tokenizer: Path, out: Path) -> Path:
    """The tiny preset's "large" architecture trained with another seed for fewer steps
    (cached under `out` by a stamp of its settings)."""
    p = PRESETS["tiny"]
    _, layers, heads, width, steps = next(m for m in p["models"] if m[0] == "large")
    args = ["--layers", layers, "--heads", heads, "--width", width, "--context", p["context"],
            "--steps", steps // 2, "--batch", p["batch"], "--seq-len", p["seq_len"],
            "--lr", p["lr"], "--seed", 1]
    stamp = out / "checkpoint.stamp"
    key = json.dumps([str(a) for a in args] +
                     [hashlib.sha256(tokenizer.read_bytes()).hexdigest(), str(CORPUS)])
    if not stamp.exists() or stamp.read_text() != key:
        run_checked([stmodel, "train", "--corpus", CORPUS, "--tokenizer", tokenizer,
                     "--out", out, "--device", "cpu", *map(str, args)])
        stamp.write_text(key)
    return out


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    if not CORPUS.is_dir():
        pytest.fail(f"the corpus {CORPUS} is missing: run scripts/setup.sh (Debian's fortunes)")
    stmodel = built_binary("stmodel", "subtensor-model", "STMODEL_BIN")
    cheater = Path(os.environ.get("GRID_CHEATER_BIN")
                   or target_dir() / "debug" / "examples" / "grid_cheater")
    assert cheater.exists(), \
        "build it: cargo build -p subtensor-miner --example grid_cheater --features test-utils"
    bins = Bins(
        node=node_binary(),
        stcli=built_binary("stcli", "subtensor-cli", "STCLI_BIN"),
        stminer=built_binary("stminer", "subtensor-miner", "STMINER_BIN"),
        stvalidator=built_binary("stvalidator", "subtensor-validator", "STVALIDATOR_BIN"),
        stmodel=stmodel,
        grid_cheater=cheater,
        stgateway=built_binary("stgateway", "subtensor-gateway", "STGATEWAY_BIN"),
    )
    models_dir = ROOT / ".local" / "test-models"
    tokenizer, models = prepare_models(stmodel, CORPUS, models_dir, "tiny")
    large = dict(models)["large"]
    workdir = tmp_path_factory.mktemp("grid")
    perturbed = workdir / "perturbed"
    run_checked([stmodel, "grid-perturb", "--model", large, "--scale", "0.01", "--seed", "1",
                 "--out", perturbed])
    checkpoint = other_checkpoint(stmodel, tokenizer, models_dir / "large-other-checkpoint")
    cheaters = [
        ("cheat-perturbed", "wrong-model", perturbed),
        ("cheat-checkpoint", "wrong-model", checkpoint),
        ("cheat-ignore-seed", "ignore-seed", large),
        ("cheat-greedy", "greedy", large),
        ("cheat-replay", "replay", large),
        ("cheat-late", "late", large),
    ]
    net = Localnet(workdir, bins, tokenizer, CORPUS, [], grid_model=large,
                   grid_cheaters=cheaters, organic=True,
                   grid_validator_args=["--timeout", "4", "--step-interval", "0.2",
                                        "--grid-window", "8",
                                        "--grid-prompt-len", "24", "--grid-new-tokens", "32"])
    try:
        net.start()
        # After the validator (as scripts/localnet.py does): it reads the gateway once it is up.
        assert net.start_gateway() == net.gateway_base
        yield net
    finally:
        net.stop()
        for p in net.procs:
            print(f"----- {p.name} (last lines) -----\n{p.tail(15)}")


def grid_records(net: Localnet) -> dict:
    """Miner name -> the grid validator's record of it (only miners it has challenged)."""
    mg = net.metagraph(GRID_NETUID)
    uid_of = {n["hotkey"]: n["uid"] for n in mg["neurons"]}
    records = net.grid_state().get("grid", {})
    out = {}
    for n in net.neurons:
        if n.netuid == GRID_NETUID and n.role != "validator":
            record = records.get(str(uid_of.get(n.hotkey)))
            if record is not None:
                out[n.name] = record
    return out


def total(record: dict) -> int:
    return record["verified"] + record["agreed"] + record["rejected"] + record["failed"]


ORGANIC = ("verified", "rejected", "failed")


def user_traffic(net: Localnet, requests: int = 6) -> int:
    """Completions through the gateway, at once, like users' (the answers do not matter: the
    gateway's verdicts on every miner call do). Returns how many were answered. A request
    whose retries reach the late cheater waits for the gateway's 30 s deadline."""
    with urllib.request.urlopen(f"{net.gateway_base}/v1/models", timeout=10) as r:
        model = next(m["id"] for m in json.loads(r.read())["data"] if m["id"].startswith("localnet-"))

    def one(seed: int) -> bool:
        body = json.dumps({"model": model, "prompt": "The cat sat on the", "max_tokens": 32,
                           "temperature": 1.0, "seed": seed}).encode()
        req = urllib.request.Request(f"{net.gateway_base}/v1/completions", body,
                                     {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=40) as r:
                return r.status == 200
        except (urllib.error.URLError, OSError):
            return False  # every miner asked failed (cheaters), or the late one held it

    with ThreadPoolExecutor(requests) as pool:
        return sum(pool.map(one, range(requests)))


def gateway_verdicts(net: Localnet) -> dict:
    """Hotkey -> outcome -> count of the gateway's organic verdicts on the grid subnet."""
    with urllib.request.urlopen(f"{net.gateway_base}/organic?netuid={GRID_NETUID}",
                                timeout=10) as r:
        page = json.loads(r.read())
    assert page["dropped"] == 0 and not page["more"], page
    counts = {}
    for v in page["verdicts"]:
        by_outcome = counts.setdefault(v["hotkey"], dict.fromkeys(ORGANIC, 0))
        by_outcome[v["outcome"]] += 1
    return counts


def organic_counts(record: dict) -> dict:
    """The validator's organic counters of one grid record."""
    return {o: record.get(f"organic_{o}", 0) for o in ORGANIC}


def test_honest_miners_pass_cheaters_are_caught_and_incentive_follows_speed(grid):
    net = grid
    miners = [n for n in net.neurons if n.netuid == GRID_NETUID and n.role != "validator"]
    validator = next(n for n in net.neurons if n.name == "grid-validator")
    # User traffic runs beside the challenges (the test waits for those anyway).
    traffic = ThreadPoolExecutor(1)
    answered = traffic.submit(user_traffic, net)
    deadline = time.time() + 600
    records = {}
    while time.time() < deadline:
        net.check_alive()
        assert validator.proc.alive(), f"the grid validator died:\n{validator.proc.tail()}"
        records = grid_records(net)
        if len(records) == len(miners) and \
                all(total(r) >= QUERIES_PER_MINER for r in records.values()):
            break
        time.sleep(2)
    else:
        raise AssertionError(f"not every grid miner was challenged {QUERIES_PER_MINER} times: "
                             f"{json.dumps(records, indent=1)}")
    # Two more epochs (tempo 10) so that weights from these scores reach the incentive.
    net.wait_for_block(net.best_number() + 22, timeout=120)
    records = grid_records(net)
    mg = net.metagraph(GRID_NETUID)
    print(net.table(mg, GRID_NETUID))
    print(json.dumps(records, indent=1))
    incentive = {n["hotkey"]: n["incentive"] for n in mg["neurons"]}

    honest = [f"grid-{name}" for name, _ in GRID_HONEST]  # fastest first
    for name in honest:
        r = records[name]
        assert r["rejected"] == 0, (name, r)
        assert r["verified"] + r["agreed"] >= QUERIES_PER_MINER - 1, (name, r)
    for n in miners:
        if n.role != "grid-cheater":
            continue
        r = records[n.name]
        if n.model == "late":
            assert r["failed"] >= 1 and r["verified"] + r["agreed"] == 0, (n.name, r)
        else:
            assert r["rejected"] >= 1, (n.name, r)
        assert incentive[n.hotkey] == 0, (n.name, incentive[n.hotkey])
    by_name = {n.name: incentive[n.hotkey] for n in miners}
    paid = [by_name[name] for name in honest]
    assert all(x > 0 for x in paid) and paid == sorted(paid, reverse=True) and \
        len(set(paid)) == len(paid), by_name

    # Organic scoring: every verdict the gateway logged is in the validator's state, once (the
    # late cheater's may end up to the gateway's 30 s deadline after its request).
    print(f"{answered.result(timeout=120)} of 6 user completions answered")
    traffic.shutdown()
    deadline = time.time() + 45
    while True:
        logged = gateway_verdicts(net)
        records = grid_records(net)
        folded = {n.hotkey: organic_counts(records[n.name]) for n in miners}
        expected = {n.hotkey: logged.get(n.hotkey, dict.fromkeys(ORGANIC, 0)) for n in miners}
        if folded == expected or time.time() > deadline:
            break
        time.sleep(1)
    print("organic verdicts (gateway's log):", json.dumps(logged, indent=1))
    assert folded == expected, (folded, expected)
    assert set(logged) <= {n.hotkey for n in miners}, logged
    def by_role(role):
        return [organic_counts(records[n.name]) for n in miners if n.role == role]
    assert sum(c["verified"] for c in by_role("grid-miner")) >= 1, records
    assert all(c["rejected"] == 0 for c in by_role("grid-miner")), records
    assert any(c["rejected"] >= 1 for c in by_role("grid-cheater")), records


def test_miners_and_validator_stop_when_the_grid_spec_is_cleared(grid):
    """Runs after the test above (same module fixture): the owner clears the grid spec; the
    honest grid miners and the grid validator notice within a few seconds and exit with an
    error saying why (they serve and check a model the subnet no longer names)."""
    net = grid
    net.stcli("subnet", "grid", "clear", "--netuid", GRID_NETUID, "--wallet-name", "alice")
    watched = [n for n in net.neurons if n.netuid == GRID_NETUID and
               n.role in ("grid-miner", "validator")]
    deadline = time.time() + 90
    while time.time() < deadline and any(n.proc.alive() for n in watched):
        time.sleep(1)
    for n in watched:
        assert not n.proc.alive(), f"{n.name} still runs:\n{n.proc.tail()}"
        assert n.proc.popen.returncode != 0, n.name
        assert "grid spec was cleared" in n.proc.tail(5), (n.name, n.proc.tail(5))
