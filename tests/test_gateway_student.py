"""The distilled student stands in for the network (issues 14 and 15), end to end with the real
`openai` client: one real `stminer --offline` serves the `tiny` preset's `large` model behind
`stgateway --offline --student DIR` (here the preset's `small` model directory stands in for a
student written by `stmodel distill`: the gateway only needs a model directory with its
tokenizer). While the miner serves, answers come from it (`x-subtensor-source: miner`); with the
miner stopped the gateway still answers, from the student, marked by the `model` field
(`student:small`) and the header; with the miner back, answers come from it again.
"""

import subprocess
import time
from pathlib import Path

import pytest

from conftest import free_port
from gateway_procs import Procs, client, setup

MODEL = "subnet-1"


class Miner:
    """One `stminer --offline` that the test stops and starts again on the same port."""

    def __init__(self, cmd, env, log: Path):
        self.cmd, self.env, self.log = [str(c) for c in cmd], env, log
        self.proc = None

    def start(self):
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(self.cmd, stdout=out, stderr=subprocess.STDOUT,
                                         env=self.env)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    st = setup(tmp_path_factory, "gateway-student", ["miner", "gateway"])
    stminer, stgateway = st.stminer, st.stgateway
    tokenizer, by_name, work, env = st.tokenizer, st.models, st.work, st.env
    miner_port = free_port()
    miner = Miner([stminer, "--offline", "--model", by_name["large"], "--tokenizer", tokenizer,
                   "--wallet.name", "miner", "--wallet.hotkey", "default", "--axon.ip",
                   "127.0.0.1", "--axon.port", miner_port, "--threads", "1"],
                  env, work / "miner.log")
    miner.start()
    procs = Procs(work, env)
    port = free_port()
    procs.spawn("gateway", [stgateway, "--offline", "--miner", f"127.0.0.1:{miner_port}",
                            "--tokenizer", tokenizer, "--student", by_name["small"],
                            "--no-auth", "--wallet.name", "gateway", "--wallet.hotkey",
                            "default", "--port", port, "--timeout", "10"])
    base = f"http://127.0.0.1:{port}"
    try:
        procs.wait_healthy(f"{base}/health")
        yield base, miner
    finally:
        miner.stop()
        procs.stop()
        print("----- miner (last lines) -----\n" +
              "\n".join((work / "miner.log").read_text(errors="replace").splitlines()[-10:]))


def ask(base: str, seed: int):
    """One completion: (the `x-subtensor-source` header, the `model` field, the text)."""
    raw = client(base, "unused").completions.with_raw_response.create(
        model=MODEL, prompt="The cat", max_tokens=8, seed=seed)
    body = raw.parse()
    return raw.headers.get("x-subtensor-source"), body.model, body.choices[0].text


def test_the_student_answers_only_while_no_miner_can(net):
    base, miner = net
    source, model, text = ask(base, 1)
    assert (source, model) == ("miner", MODEL) and text
    miner.stop()
    for seed in range(2, 5):
        source, model, text = ask(base, seed)
        assert (source, model) == ("student", "student:small"), (source, model)
        assert isinstance(text, str)
    # Streaming falls back the same way.
    chunks = list(client(base, "unused").chat.completions.create(
        model=MODEL, max_tokens=8, stream=True, messages=[{"role": "user", "content": "Hi"}]))
    assert chunks and all(c.model == "student:small" for c in chunks)
    miner.start()
    # The miner re-enters routing after its failures cool down (30 s).
    deadline = time.time() + 90
    while time.time() < deadline:
        source, model, _ = ask(base, 9)
        if source == "miner":
            break
        time.sleep(2)
    assert (source, model) == ("miner", MODEL)
