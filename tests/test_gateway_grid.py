"""A grid subnet through the gateway, end to end with the real `openai` client (issue 14).

Two real `stminer --grid --offline` processes serve the `tiny` preset's `large` model, one
decoding alone (`--threads 1 --grid-batch-max 1`), one batching on two threads, and a cheater
(`grid_cheater --cheat greedy`) answers greedily; `stgateway --offline --grid-model DIR` routes
to them and verifies every grid answer with the model, so the cheater's never reach a user. Offline there is no grid spec, so the model id is
the model directory's name (`large`) and the limits are the model's own (64 tokens of context,
at most 63 new). The grid sampler is deterministic given prompt, seed and sampling settings, so
whichever miner answers: a fixed seed gives the same text streamed or not and when asked again,
different seeds usually differ; prompt plus `max_tokens` beyond the context is a 400 naming the
field; `GET /organic` lists the verdicts (the cheater's rejected, the honest miners' verified).
"""

import os
from pathlib import Path

import openai
import pytest

from conftest import ROOT, free_port
from gateway_procs import Procs, client, get_json, setup

MODEL = "large"
KEY = "unused"
# The cheating miner's port, set by the fixture.
CHEATER = {}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    cheater = Path(os.environ.get("GRID_CHEATER_BIN") or Path(
        os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "debug" / "examples" / "grid_cheater")
    assert cheater.exists(), \
        "build it: cargo build -p subtensor-miner --example grid_cheater --features test-utils"
    st = setup(tmp_path_factory, "gateway-grid", ["miner-a", "miner-b", "miner-cheat", "gateway"])
    stminer, stgateway, work, env = st.stminer, st.stgateway, st.work, st.env
    large = st.models["large"]
    procs = Procs(work, env)
    ports = []
    for name, extra in [("a", ["--threads", "1", "--grid-batch-max", "1"]),
                        ("b", ["--threads", "2"])]:
        port = free_port()
        ports.append(port)
        procs.spawn(f"miner-{name}", [stminer, "--grid", "--offline", "--model", large,
                                      "--wallet.name", f"miner-{name}", "--wallet.hotkey",
                                      "default", "--axon.ip", "127.0.0.1", "--axon.port", port,
                                      *extra])
    # A third miner answers greedily whatever the temperature: the gateway must verify every
    # grid answer and never hand this one to a user.
    port = free_port()
    ports.append(port)
    CHEATER["port"] = port
    procs.spawn("miner-cheat", [cheater, "--cheat", "greedy", "--grid", "--offline", "--model",
                                large, "--wallet.name", "miner-cheat", "--wallet.hotkey",
                                "default", "--axon.ip", "127.0.0.1", "--axon.port", port,
                                "--threads", "1"])
    port = free_port()
    procs.spawn("gateway", [stgateway, "--offline", *sum((["--miner", f"127.0.0.1:{p}"]
                                                          for p in ports), []),
                            "--grid-model", large, "--no-auth", "--wallet.name", "gateway",
                            "--wallet.hotkey", "default", "--port", port, "--timeout", "60",
                            "--rate", "100", "--burst", "100",
                            "--log", "info,subtensor_gateway=debug"])
    base = f"http://127.0.0.1:{port}"
    try:
        procs.wait_healthy(f"{base}/health")
        yield base
    finally:
        procs.stop()


def completion(c, stream: bool, **kw) -> str:
    """The text of one completion, streamed or not."""
    if not stream:
        return c.completions.create(model=MODEL, **kw).choices[0].text
    return "".join(ch.choices[0].text for ch in c.completions.create(model=MODEL, stream=True,
                                                                     **kw) if ch.choices)


def chat(c, stream: bool, **kw) -> str:
    """The text of one chat completion, streamed or not."""
    if not stream:
        return c.chat.completions.create(model=MODEL, **kw).choices[0].message.content
    chunks = c.chat.completions.create(model=MODEL, stream=True, **kw)
    return "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)


def test_the_model_is_named_after_its_directory(gateway):
    assert [m.id for m in client(gateway, KEY).models.list()] == [MODEL]


def test_a_seed_fixes_the_completion(gateway):
    c = client(gateway, KEY)
    kw = dict(prompt="The cat", max_tokens=24, seed=11, temperature=1.0)
    first = completion(c, False, **kw)
    assert first
    assert completion(c, False, **kw) == first
    assert completion(c, True, **kw) == first
    assert completion(c, True, **kw) == first
    others = {completion(c, False, **dict(kw, seed=s)) for s in range(20, 25)}
    assert len(others | {first}) > 1, "five other seeds all gave the same text"


def test_a_seed_fixes_the_chat(gateway):
    c = client(gateway, KEY)
    kw = dict(messages=[{"role": "user", "content": "Hi"}], max_tokens=16, seed=5,
              temperature=0.9, top_p=0.95)
    first = chat(c, False, **kw)
    assert isinstance(first, str)
    assert chat(c, True, **kw) == first
    assert chat(c, False, **kw) == first
    r = c.chat.completions.create(model=MODEL, **kw)
    assert r.usage.completion_tokens >= 1 and r.choices[0].finish_reason in ("stop", "length")


def test_limits_are_refused_naming_the_field(gateway):
    c = client(gateway, KEY)
    with pytest.raises(openai.BadRequestError) as e:
        c.completions.create(model=MODEL, prompt="The", max_tokens=64, seed=1)
    assert e.value.param == "max_tokens"
    long_prompt = " ".join(["the cat sat on the mat"] * 12)
    with pytest.raises(openai.BadRequestError) as e:
        c.completions.create(model=MODEL, prompt=long_prompt, max_tokens=32, seed=1)
    assert e.value.param == "prompt"
    with pytest.raises(openai.BadRequestError) as e:
        c.chat.completions.create(model=MODEL, max_tokens=32, seed=1,
                                  messages=[{"role": "user", "content": long_prompt}])
    assert e.value.param == "messages"


def test_honest_miners_answered_and_the_cheater_never_did(gateway):
    c = client(gateway, KEY)
    kw = dict(prompt="A dog", max_tokens=24, seed=3, temperature=1.0)
    first = completion(c, False, **kw)
    for stream in [False, True] * 5:
        assert completion(c, stream, **kw) == first
    status, m = get_json(f"{gateway}/map")
    assert status == 200
    miners = m["1"]
    assert len(miners) == 3, miners
    cheats = [v for v in miners.values() if v.get("addr", "").endswith(f":{CHEATER['port']}")]
    honest = [v for v in miners.values() if v not in cheats]
    assert len(cheats) == 1, miners
    cheat = cheats[0]
    assert cheat["successes"] == 0 and cheat["failures"] >= 1, cheat
    for v in honest:
        assert v["successes"] >= 1, v
    # The verdicts the validator folds into its scores (organic scoring): one per call (the
    # latency map records each call after its verdict), the cheater's rejected.
    status, page = get_json(f"{gateway}/organic?netuid=1")
    assert status == 200 and page["dropped"] == 0 and len(page["session"]) == 36, page
    cheat_uid = next(int(uid) for uid, v in miners.items() if v is cheat)
    outcomes = {}
    for v in page["verdicts"]:
        outcomes.setdefault(v["uid"], []).append(v["outcome"])
    assert outcomes.get(cheat_uid) and set(outcomes[cheat_uid]) == {"rejected"}, outcomes
    for uid, v in miners.items():
        if v is not cheat:
            assert "rejected" not in outcomes.get(int(uid), []), outcomes
            assert outcomes.get(int(uid), []).count("verified") >= 1, outcomes
