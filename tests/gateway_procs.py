"""Helpers shared by the gateway's end-to-end tests: processes with logs, health waits, the
`openai` client pointed at a gateway."""

import json
import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import openai
import pytest

CORPUS = Path(os.environ.get("MARKET_CORPUS", "/usr/share/games/fortunes"))


def get_json(url: str, timeout: float = 5.0):
    """GET `url`: the status and the decoded JSON body."""
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, json.loads(r.read())


class Procs:
    """Processes started with their output in `work/NAME.log`; `stop()` ends them and prints
    the last lines of each log."""

    def __init__(self, work: Path, env: dict):
        self.work, self.env = work, env
        self.procs, self.logs = [], []

    def spawn(self, name, cmd):
        path = self.work / f"{name}.log"
        log = open(path, "wb")
        self.logs.append((name, path))
        self.procs.append((name, subprocess.Popen([str(c) for c in cmd], stdout=log,
                                                  stderr=subprocess.STDOUT, env=self.env)))

    def wait_healthy(self, url: str, timeout: float = 180.0):
        """Waits until `url` answers 200; fails early when a process exits."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            for name, p in self.procs:
                if p.poll() is not None:
                    raise RuntimeError(f"{name} exited with {p.returncode}")
            try:
                if get_json(url, timeout=1.0)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{url} not healthy after {timeout} s")

    def stop(self):
        for _, p in self.procs:
            p.terminate()
        for _, p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        for name, path in self.logs:
            lines = path.read_text(errors="replace").splitlines()[-15:]
            print(f"----- {name} (last lines) -----\n" + "\n".join(lines))


def client(base: str, key: str) -> openai.OpenAI:
    """The `openai` client for the gateway at `base` (no retries)."""
    return openai.OpenAI(base_url=f"{base}/v1", api_key=key, max_retries=0, timeout=60)


@dataclass
class Setup:
    """What every gateway test module starts from: the built binaries, the tiny test models
    and tokenizer, a work directory and an environment whose wallets exist."""
    stminer: Path
    stcli: Path
    stgateway: Path
    tokenizer: Path
    models: dict
    work: Path
    env: dict


def setup(tmp_path_factory, name: str, wallets: list) -> Setup:
    """The binaries (conftest's `built_binary`), the `tiny` preset's models
    (`prepare_models`), a fresh `name` work directory and the `wallets` created there."""
    from conftest import ROOT, built_binary
    sys.path.insert(0, str(ROOT / "scripts"))
    from localnet import prepare_models

    if not CORPUS.is_dir():
        pytest.fail(f"the corpus {CORPUS} is missing: run scripts/setup.sh (Debian's fortunes)")
    stmodel = built_binary("stmodel", "subtensor-model", "STMODEL_BIN")
    stcli = built_binary("stcli", "subtensor-cli", "STCLI_BIN")
    tokenizer, models = prepare_models(stmodel, CORPUS, ROOT / ".local" / "test-models", "tiny")
    work = tmp_path_factory.mktemp(name)
    env = dict(os.environ, BT_WALLET_PATH=str(work / "wallets"), STCLI_PASSWORD="gateway-test")
    for wallet in wallets:
        subprocess.run([stcli, "--no-prompt", "--json", "wallet", "create", "--wallet-name",
                        wallet], env=env, check=True, capture_output=True, timeout=300)
    return Setup(built_binary("stminer", "subtensor-miner", "STMINER_BIN"), stcli,
                 built_binary("stgateway", "subtensor-gateway", "STGATEWAY_BIN"), tokenizer,
                 dict(models), work, env)
