#!/usr/bin/env python3
"""The local network, end to end: the `local` chain's four authority nodes (or one dev node),
wallets, miners serving real models, a validator scoring them, and the metagraph each epoch.

`scripts/localnet.sh` builds the binaries and the models, then runs this file; the end-to-end
test `tests/test_market.py` drives the same `Localnet` class headless with debug binaries and
tiny models. Every process it starts is stopped on exit (Ctrl-C included).

Only the standard library is used.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON_BT = ROOT / ".venv-bt" / "bin" / "python"
PYTHON_TEMPLATE = ROOT / "offchain-miner" / "python-template"
PASSWORD = "localnet-password"
NETUID = 1
# The grid subnet (LOCALNET_GRID=1): one model, every answer verified by seed.
GRID_NETUID = 2
# Honest grid miners at different speeds: (name, stminer flags). `--test-added-latency-ms`
# stands in for slower hardware. (Two libtorch threads are no faster on a loaded two-core
# machine: their spin-waiting makes the slowest answers slower, and the score is a low
# percentile of speed.)
GRID_HONEST = [
    ("fast", ["--threads", "1", "--grid-batch-max", "4"]),
    ("steady", ["--threads", "1", "--grid-batch-max", "1", "--test-added-latency-ms", "300"]),
    ("slow", ["--threads", "2", "--grid-batch-max", "4", "--test-added-latency-ms", "1000"]),
]
# Tokens per grid challenge; the grid spec allows this many, in a context of GRID_CONTEXT.
GRID_NEW_TOKENS = 32
GRID_CONTEXT = 64

# Model presets: (name, layers, heads, width, steps). Bigger and longer-trained models have a
# lower held-out loss; the market should pay them more.
PRESETS = {
    "default": {
        "vocab": 2048, "context": 128, "seq_len": 64, "batch": 16, "lr": 3e-3,
        "models": [("large", 4, 4, 192, 600), ("medium", 2, 4, 128, 200), ("small", 1, 2, 32, 25)],
    },
    "tiny": {
        "vocab": 512, "context": 64, "seq_len": 32, "batch": 16, "lr": 5e-3,
        "models": [("large", 2, 4, 96, 150), ("medium", 1, 2, 48, 40), ("small", 1, 2, 16, 3)],
    },
}


def log(msg: str) -> None:
    print(f"[localnet] {msg}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rpc(url: str, method: str, params=None, timeout: float = 10.0):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []})
    req = urllib.request.Request(url, body.encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        reply = json.loads(resp.read())
    if "error" in reply:
        raise RuntimeError(f"{method}: {reply['error']}")
    return reply["result"]


def run_checked(cmd, env=None, timeout=1800) -> str:
    out = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                         timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({out.returncode}):\n"
                           f"{out.stderr[-3000:]}")
    return out.stdout


# ---------------------------------------------------------------------------------------------
# Models


def prepare_models(stmodel: Path, corpus: Path, out: Path, preset: str = "default",
                   device: str = "cpu") -> tuple[Path, list[tuple[str, Path]]]:
    """Trains (or reuses) the standard tokenizer and the preset's models under `out`.

    Returns the tokenizer path and `(name, model_dir)` for each model, best first. A model is
    reused when its stamp (the exact training settings) matches.
    """
    p = PRESETS[preset]
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = out / "tokenizer.json"
    tok_stamp = out / "tokenizer.stamp"
    tok_key = json.dumps({"corpus": str(corpus), "vocab": p["vocab"]}, sort_keys=True)
    if not tokenizer.exists() or not tok_stamp.exists() or tok_stamp.read_text() != tok_key:
        log(f"training the standard BPE tokenizer (vocab {p['vocab']}) on {corpus}")
        run_checked([stmodel, "tokenizer", "--corpus", corpus, "--vocab-size", str(p["vocab"]),
                     "--out", tokenizer])
        tok_stamp.write_text(tok_key)
    tok_hash = hashlib.sha256(tokenizer.read_bytes()).hexdigest()
    models = []
    for name, layers, heads, width, steps in p["models"]:
        model_dir = out / name
        stamp = model_dir / "localnet.stamp"
        key = json.dumps({"tokenizer": tok_hash, "layers": layers, "heads": heads, "width": width,
                          "steps": steps, "context": p["context"], "seq_len": p["seq_len"],
                          "batch": p["batch"], "lr": p["lr"]}, sort_keys=True)
        if not stamp.exists() or stamp.read_text() != key:
            log(f"training model '{name}': {layers} layers x {width} wide, {steps} steps")
            shutil.rmtree(model_dir, ignore_errors=True)  # a stale cache entry
            started = time.time()
            report = run_checked([
                stmodel, "train", "--corpus", corpus, "--tokenizer", tokenizer, "--out", model_dir,
                "--layers", str(layers), "--heads", str(heads), "--width", str(width),
                "--context", str(p["context"]), "--steps", str(steps), "--batch", str(p["batch"]),
                "--seq-len", str(p["seq_len"]), "--lr", str(p["lr"]), "--seed", "0",
                "--device", device,
            ])
            last = [line for line in report.splitlines() if line.startswith("{")][-1:]
            summary = json.loads(last[0]) if last else {}
            log(f"  '{name}' trained in {time.time() - started:.0f} s: held-out loss "
                f"{summary.get('held_out_loss', float('nan')):.3f}")
            (model_dir / "localnet-report.json").write_text(json.dumps(summary))
            stamp.write_text(key)
        models.append((name, model_dir))
    return tokenizer, models


# ---------------------------------------------------------------------------------------------
# Processes


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log_path: Path

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def stop(self, timeout: float = 20.0) -> None:
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


@dataclass
class Bins:
    node: Path
    stcli: Path
    stminer: Path
    stvalidator: Path
    evil_miner: Path | None = None
    stmodel: Path | None = None
    # `cargo build -p subtensor-miner --example grid_cheater --features test-utils`
    grid_cheater: Path | None = None
    # `cargo build -p subtensor-gateway`; None: the stgateway next to stminer, if built.
    stgateway: Path | None = None

    @classmethod
    def from_target(cls, profile: str, target: Path | None = None) -> "Bins":
        t = Path(target or os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / profile
        evil = t / "examples" / "evil_miner"
        cheater = t / "examples" / "grid_cheater"
        return cls(t / "subtensor-node", t / "stcli", t / "stminer", t / "stvalidator",
                   evil if evil.exists() else None, t / "stmodel",
                   cheater if cheater.exists() else None)

    def gateway(self) -> Path | None:
        """The stgateway binary, or None when it is not built."""
        binary = self.stgateway or self.stminer.parent / "stgateway"
        return binary if binary.is_file() else None


@dataclass
class Neuron:
    name: str
    role: str
    hotkey: str = ""
    model: str = ""
    port: int = 0
    proc: Proc | None = None
    netuid: int = NETUID


@dataclass
class Localnet:
    """A dev node, its wallets and neurons, in `workdir`."""

    workdir: Path
    bins: Bins
    tokenizer: Path
    corpus: Path
    models: list[tuple[str, Path]]
    evil_modes: list[str] = field(default_factory=list)
    rpc_port: int = 0
    sealing_ms: int = 1000
    nodes: int = 1
    validator_args: list[str] = field(default_factory=list)
    # Also run the Python template miner and validator (offchain-miner/python-template, the
    # unmodified bittensor SDK in .venv-bt) next to the Rust neurons.
    python_neurons: bool = False
    # A grid subnet (GRID_NETUID) serving this model: honest miners at GRID_HONEST's speeds,
    # the cheaters (name, grid_cheater --cheat mode, model dir) and a grid-mode validator.
    grid_model: Path | None = None
    grid_cheaters: list[tuple[str, str, Path]] = field(default_factory=list)
    grid_validator_args: list[str] = field(default_factory=list)
    # Organic scoring: the grid validator folds the gateway's verdicts on user traffic into its
    # scores (`--organic-from`, the gateway's address reserved here; `start_gateway` listens
    # there). The validator starts first and reads the gateway once it is up.
    organic: bool = False
    procs: list[Proc] = field(default_factory=list)
    neurons: list[Neuron] = field(default_factory=list)

    def __post_init__(self):
        self.workdir = Path(self.workdir)
        self.rpc_port = self.rpc_port or free_port()
        self.wallets = self.workdir / "wallets"
        self.gateway_port = free_port()

    @property
    def gateway_base(self) -> str:
        """The gateway's base URL (once `start_gateway` ran)."""
        return f"http://127.0.0.1:{self.gateway_port}"

    # -- plumbing --------------------------------------------------------------------------

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.rpc_port}"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.rpc_port}"

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("STCLI_", "BT_WALLET_"))}
        env.update(STCLI_NETWORK=self.ws, BT_WALLET_PATH=str(self.wallets),
                   STCLI_PASSWORD=PASSWORD)
        return env

    def stcli(self, *args) -> dict:
        out = run_checked([self.bins.stcli, "--no-prompt", "--json", *map(str, args)],
                          env=self.env(), timeout=600)
        return json.loads(out) if out.strip() else {}

    def spawn(self, name: str, cmd: list) -> Proc:
        log_path = self.workdir / f"{name}.log"
        with open(log_path, "ab") as handle:  # the child keeps its own descriptor
            popen = subprocess.Popen([str(c) for c in cmd], stdout=handle,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=self.env())
        proc = Proc(name, popen, log_path)
        self.procs.append(proc)
        return proc

    def best_number(self) -> int:
        return int(rpc(self.http, "chain_getHeader")["number"], 16)

    def wait_for_block(self, number: int, timeout: float = 120.0) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.best_number() >= number:
                return
            self.check_alive()
            time.sleep(0.2)
        raise TimeoutError(f"block #{number} not reached")

    def check_alive(self) -> None:
        for p in self.procs:
            if p.name.startswith("node") and not p.alive():
                raise RuntimeError(f"the node {p.name} stopped:\n{p.tail()}")

    # -- steps -----------------------------------------------------------------------------

    def start_node(self) -> None:
        """One `--dev` node, or the `local` chain's authorities (Alice, Bob, Charlie, Dave, as
        many as `nodes`) joined through Alice, whose RPC port is the localnet's."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.nodes <= 1:
            log(f"starting a dev node on {self.ws} (log: {self.workdir / 'node.log'})")
            proc = self.spawn("node", [self.bins.node, "--dev", "--base-path",
                                       self.workdir / "node", "--rpc-port", self.rpc_port,
                                       "--port", free_port(), "--sealing", self.sealing_ms])
            self.wait_for_rpc(proc, self.http)
            return
        names = ["alice", "bob", "charlie", "dave"][: self.nodes]
        log(f"starting {len(names)} authority nodes of the local chain "
            f"({self.sealing_ms} ms slots, GRANDPA finality); Alice's RPC on {self.ws}")
        boot = None
        for name in names:
            rpc_port = self.rpc_port if name == "alice" else free_port()
            proc_name = "node" if name == "alice" else f"node-{name}"
            cmd = [self.bins.node, "--chain", "local", f"--{name}", "--name", name,
                   "--base-path", self.workdir / proc_name, "--rpc-port", rpc_port,
                   "--port", free_port(), "--sealing", self.sealing_ms]
            if boot:
                cmd += ["--bootnodes", boot]
            proc = self.spawn(proc_name, cmd)
            url = f"http://127.0.0.1:{rpc_port}"
            self.wait_for_rpc(proc, url)
            if boot is None:
                peer_id = rpc(url, "system_localPeerId")
                address = next(a for a in rpc(url, "system_localListenAddresses")
                               if a.startswith("/ip4/127.0.0.1/"))
                boot = address if "/p2p/" in address else f"{address}/p2p/{peer_id}"
        deadline = time.time() + 60
        while rpc(self.http, "system_health")["peers"] < len(names) - 1:
            if time.time() > deadline:
                raise RuntimeError("the authority nodes did not connect within 60 s")
            time.sleep(0.2)

    def wait_for_rpc(self, proc: Proc, url: str) -> None:
        deadline = time.time() + 60
        while time.time() < deadline:
            if not proc.alive():
                raise RuntimeError(f"the node exited:\n{proc.tail()}")
            try:
                rpc(url, "system_health", timeout=1)
                return
            except Exception:
                time.sleep(0.2)
        raise RuntimeError("the node did not answer RPC within 60 s")

    def hotkey_of(self, wallet: str) -> str:
        wallets = self.stcli("wallet", "list")["wallets"]
        w = next(w for w in wallets if w["name"] == wallet)
        return w["hotkeys"][0]["ss58"]

    def coldkey_of(self, wallet: str) -> str:
        wallets = self.stcli("wallet", "list")["wallets"]
        return next(w["coldkey"] for w in wallets if w["name"] == wallet)

    def setup_chain(self) -> None:
        """Wallets, funds, subnet settings, the validator's registration and stake."""
        log("wallets: //Alice (sudo, subnet owner), a validator and the miners")
        self.stcli("wallet", "regen-coldkey", "--wallet-name", "alice", "--uri", "//Alice")
        names = ["validator"] + [f"miner-{n}" for n, _ in self.models] + \
                [f"evil-{m}" for m in self.evil_modes]
        if self.python_neurons:
            names += ["py-validator", "py-miner"]
        if self.grid_model:
            names += [f"grid-{n}" for n, _ in GRID_HONEST] + [n for n, _, _ in self.grid_cheaters]
        for name in names:
            self.stcli("wallet", "create", "--wallet-name", name)
            self.stcli("wallet", "transfer", "--wallet-name", "alice",
                       "--dest", self.coldkey_of(name), "--amount", "2000")
        log(f"subnet {NETUID}: weights rate limit 0, proof-of-work difficulty 10000, "
            "up to 32 registrations per interval")
        params = [("weights_rate_limit", 0), ("difficulty", 10000),
                  ("target_regs_per_interval", 32), ("max_regs_per_block", 32)]
        if self.nodes > 1:
            params.append(("tempo", 10))  # the local chain's genesis has tempo 100
        for param, value in params:
            self.stcli("subnet", "set", param, value, "--netuid", NETUID, "--wallet-name", "alice")
        log("registering and staking the validator (1000 TAO)")
        self.stcli("subnet", "register", "--netuid", NETUID, "--wallet-name", "validator")
        self.stcli("stake", "add", "--amount", "1000", "--wallet-name", "validator")
        self.neurons.append(Neuron("validator", "validator", self.hotkey_of("validator")))
        if self.python_neurons:
            log("registering the Python template validator (300 TAO) and miner")
            self.stcli("subnet", "register", "--netuid", NETUID, "--wallet-name", "py-validator")
            self.stcli("stake", "add", "--amount", "300", "--wallet-name", "py-validator")
            self.stcli("subnet", "register", "--netuid", NETUID, "--wallet-name", "py-miner")

    def setup_grid(self) -> None:
        """The grid subnet: created by //Alice, its grid spec naming `grid_model`, the
        validator registered on it."""
        # Creating a subnet registers the owner's hotkey on it.
        self.stcli("wallet", "regen-hotkey", "--wallet-name", "alice", "--uri", "//Alice//grid")
        netuid = self.stcli("subnet", "create", "--wallet-name", "alice")["netuid"]
        if netuid != GRID_NETUID:
            raise RuntimeError(f"the grid subnet got netuid {netuid}, not {GRID_NETUID}")
        for param, value in [("weights_rate_limit", 0), ("difficulty", 10000),
                             ("target_regs_per_interval", 32), ("max_regs_per_block", 32),
                             ("tempo", 10)]:
            self.stcli("subnet", "set", param, value, "--netuid", netuid, "--wallet-name", "alice")
        digest = json.loads(run_checked([self.bins.stmodel, "digest", "--model",
                                         self.grid_model]))["model_sha256"]
        log(f"grid subnet {netuid}: every miner serves {self.grid_model.name} "
            f"(digest {digest[:16]}…), {GRID_NEW_TOKENS} new tokens per request")
        self.stcli("subnet", "grid", "set", "--netuid", netuid, "--sha256", digest,
                   "--name", f"localnet-{self.grid_model.name}", "--max-new-tokens",
                   GRID_NEW_TOKENS, "--max-context", GRID_CONTEXT, "--wallet-name", "alice")
        self.stcli("subnet", "register", "--netuid", netuid, "--wallet-name", "validator")

    def start_grid_miners(self) -> None:
        """The honest grid miners (stminer --grid) and the cheaters (grid_cheater)."""
        common = ["--netuid", GRID_NETUID, "--wallet.hotkey", "default",
                  "--axon.external_ip", "127.0.0.1", "--register", "burned", "--refresh-secs", "3"]
        for name, flags in GRID_HONEST:
            wallet, port = f"grid-{name}", free_port()
            log(f"starting grid miner '{name}' on port {port} ({' '.join(flags)})")
            proc = self.spawn(wallet, [self.bins.stminer, "--grid", "--model", self.grid_model,
                                       "--wallet.name", wallet, "--axon.port", port, *common,
                                       *flags])
            self.neurons.append(Neuron(wallet, "grid-miner", self.hotkey_of(wallet), name, port,
                                       proc, GRID_NETUID))
        for wallet, mode, model in self.grid_cheaters:
            if self.bins.grid_cheater is None:
                raise RuntimeError("grid cheaters need the grid_cheater example (cargo build -p "
                                   "subtensor-miner --example grid_cheater --features test-utils)")
            port = free_port()
            log(f"starting grid cheater '{wallet}' ({mode}, model {model.name}) on port {port}")
            proc = self.spawn(wallet, [self.bins.grid_cheater, "--cheat", mode, "--grid",
                                       "--model", model, "--wallet.name", wallet,
                                       "--axon.port", port, "--threads", "1", *common])
            self.neurons.append(Neuron(wallet, "grid-cheater", self.hotkey_of(wallet), mode,
                                       port, proc, GRID_NETUID))

    def start_grid_validator(self) -> None:
        log(f"starting the grid validator on subnet {GRID_NETUID}")
        proc = self.spawn("grid-validator", [
            self.bins.stvalidator, "--netuid", GRID_NETUID, "--wallet.name", "validator",
            "--wallet.hotkey", "default", "--corpus", self.corpus, "--grid-model",
            self.grid_model, "--state-dir", self.workdir / "grid-validator-state",
            *(["--organic-from", self.gateway_base] if self.organic else []),
            *self.grid_validator_args,
        ])
        self.neurons.append(Neuron("grid-validator", "validator", self.neurons[0].hotkey,
                                   "grid", 0, proc, GRID_NETUID))

    def grid_state(self) -> dict:
        """The grid validator's saved state (empty before its first save)."""
        try:
            return json.loads((self.workdir / "grid-validator-state" / "state.json").read_text())
        except (OSError, ValueError):
            return {}

    def start_miners(self) -> None:
        """One stminer per model (the last registers by proof of work, the others by burn)."""
        for i, (name, model_dir) in enumerate(self.models):
            wallet = f"miner-{name}"
            port = free_port()
            how = "pow" if i == len(self.models) - 1 else "burned"
            log(f"starting miner '{name}' on port {port} (registers by {how})")
            proc = self.spawn(wallet, [
                self.bins.stminer, "--model", model_dir, "--tokenizer", self.tokenizer,
                "--netuid", NETUID, "--wallet.name", wallet, "--wallet.hotkey", "default",
                "--axon.port", port, "--axon.external_ip", "127.0.0.1", "--register", how,
                "--pow-threads", "1", "--threads", "1", "--refresh-secs", "3",
            ])
            self.neurons.append(Neuron(wallet, "miner", self.hotkey_of(wallet), name, port, proc))
        for mode in self.evil_modes:
            wallet = f"evil-{mode}"
            port = free_port()
            log(f"registering misbehaving miner '{mode}' on port {port}")
            self.stcli("subnet", "register", "--netuid", NETUID, "--wallet-name", wallet)
            self.stcli("axon", "serve", "--netuid", NETUID, "--ip", "127.0.0.1", "--port", port,
                       "--wallet-name", wallet)
            proc = self.spawn(wallet, [self.bins.evil_miner, "--mode", mode, "--port", port,
                                       "--wallet.name", wallet, "--wallet.hotkey", "default",
                                       "--wallet.path", self.wallets])
            self.neurons.append(Neuron(wallet, "evil", self.hotkey_of(wallet), mode, port, proc))
        if self.python_neurons:
            port = free_port()
            log(f"starting the Python template miner on port {port} (a bigram model)")
            proc = self.spawn("py-miner", [
                PYTHON_BT, PYTHON_TEMPLATE / "miner.py", "--netuid", NETUID,
                "--wallet.name", "py-miner", "--wallet.hotkey", "default",
                "--wallet.path", self.wallets, "--subtensor.network", self.ws,
                "--axon.port", port, "--tokenizer", self.tokenizer, "--corpus", self.corpus,
            ])
            self.neurons.append(Neuron("py-miner", "miner", self.hotkey_of("py-miner"),
                                       "python-bigram", port, proc))

    def wait_for_miners(self, timeout: float = 600.0) -> None:
        """Until every miner is registered with its axon on chain."""
        deadline = time.time() + timeout
        subnets = sorted({n.netuid for n in self.neurons if n.role != "validator"})
        while time.time() < deadline:
            served = {(netuid, n["hotkey"]) for netuid in subnets
                      for n in self.metagraph(netuid)["neurons"] if n.get("axon")}
            waiting = [n for n in self.neurons if n.role != "validator"
                       and (n.netuid, n.hotkey) not in served]
            if not waiting:
                return
            for n in waiting:
                if n.proc and not n.proc.alive():
                    raise RuntimeError(f"{n.name} exited:\n{n.proc.tail()}")
            time.sleep(1)
        raise TimeoutError("miners did not register and serve in time")

    def start_validator(self) -> None:
        log("starting the validator")
        proc = self.spawn("validator", [
            self.bins.stvalidator, "--netuid", NETUID, "--wallet.name", "validator",
            "--wallet.hotkey", "default", "--corpus", self.corpus, "--tokenizer", self.tokenizer,
            "--state-dir", self.workdir / "validator-state", *self.validator_args,
            # Python (bittensor 10.x) axons sign no response: accept theirs, unauthenticated.
            *(["--accept-unsigned"] if self.python_neurons else []),
        ])
        self.neurons[0].proc = proc
        if self.python_neurons:
            log("starting the Python template validator")
            proc = self.spawn("py-validator", [
                PYTHON_BT, PYTHON_TEMPLATE / "validator.py", "--netuid", NETUID,
                "--wallet.name", "py-validator", "--wallet.hotkey", "default",
                "--wallet.path", self.wallets, "--subtensor.network", self.ws,
                "--tokenizer", self.tokenizer, "--corpus", self.corpus,
            ])
            self.neurons.append(Neuron("py-validator", "validator",
                                       self.hotkey_of("py-validator"), "python", 0, proc))

    def metagraph(self, netuid: int = NETUID) -> dict:
        return self.stcli("subnet", "show", netuid)

    def validator_losses(self) -> dict[int, float]:
        """uid -> EMA loss from the validator's saved state (empty before its first save)."""
        for path in sorted((self.workdir / "validator-state").glob("*.json")):
            try:
                state = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            uids = state.get("uids") or state.get("miners") or {}
            items = uids.items() if isinstance(uids, dict) else enumerate(uids)
            out = {}
            for key, entry in items:
                if isinstance(entry, dict) and entry.get("ema_loss") is not None:
                    out[int(entry.get("uid", key))] = float(entry["ema_loss"])
            return out
        return {}

    def table(self, mg: dict | None = None, netuid: int = NETUID) -> str:
        mg = mg or self.metagraph(netuid)
        by_hotkey = {n.hotkey: n for n in self.neurons if n.netuid == netuid}
        if netuid == GRID_NETUID:
            # tokens/s the grid validator scores (0: banned or unreliable)
            grid = self.grid_state().get("grid", {})
            losses = {int(uid): g.get("speeds") and min(g["speeds"]) or 0.0
                      for uid, g in grid.items()}
            label = "TOK/S"
        else:
            losses, label = self.validator_losses(), "LOSS"
        rows = [f"block #{mg['block']}  subnet {netuid}  {mg['n']} neurons",
                f"{'UID':>3}  {'ROLE':<18} {label:>7} {'INCENTIVE':>9} {'DIVIDENDS':>9} "
                f"{'STAKE τ':>10} {'EMISSION τ':>10}  AXON"]
        for n in mg["neurons"]:
            who = by_hotkey.get(n["hotkey"])
            role = "owner" if who is None else (
                who.name if who.role == "validator" else f"{who.role}:{who.model}")
            loss = losses.get(n["uid"])
            rows.append(
                f"{n['uid']:>3}  {role:<18} {'' if loss is None else f'{loss:.3f}':>7} "
                f"{n['incentive'] / 65535:>9.4f} {n['dividends'] / 65535:>9.4f} "
                f"{n['stake_rao'] / 1e9:>10.2f} {n['emission_rao'] / 1e9:>10.4f}  {n.get('axon') or ''}")
        return "\n".join(rows)

    def start(self) -> None:
        self.start_node()
        self.setup_chain()
        if self.grid_model:
            self.setup_grid()
        self.start_miners()
        if self.grid_model:
            self.start_grid_miners()
        self.wait_for_miners()
        if self.models:
            self.start_validator()
        if self.grid_model:
            self.start_grid_validator()

    def start_gateway(self, timeout: float = 120.0) -> str | None:
        """`stgateway` over the chain (issue 14): the validator's hotkey signs its queries (miners
        serve registered hotkeys only), `--no-auth`, a free port. Returns its base URL, or None
        when the binary is not built (`cargo build -p subtensor-gateway`)."""
        binary = self.bins.gateway()
        if binary is None:
            log("no gateway: stgateway is not built (cargo build -p subtensor-gateway)")
            return None
        port = self.gateway_port
        netuids = ["--netuid", NETUID] + (["--netuid", GRID_NETUID] if self.grid_model else [])
        grid = ["--grid-model", self.grid_model] if self.grid_model else []
        log(f"starting the gateway on port {port} (OpenAI API, no key)")
        proc = self.spawn("gateway", [
            binary, "--wallet.name", "validator", "--wallet.hotkey", "default", "--no-auth",
            "--port", port, "--tokenizer", self.tokenizer, *netuids, *grid,
            "--refresh-secs", "10", "--map-file", self.workdir / "gateway-map.json",
        ])
        base = self.gateway_base
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not proc.alive():
                raise RuntimeError(f"the gateway exited:\n{proc.tail()}")
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            raise TimeoutError("the gateway did not come up in time")
        body = json.dumps({"model": f"subnet-{NETUID}", "max_tokens": 16,
                           "messages": [{"role": "user", "content": "Hello"}]})
        log(f"gateway ready: {base}/v1 (latency map: {base}/map, grid verdicts: "
            f"{base}/organic). Try:\n"
            f"  curl -s {base}/v1/chat/completions -H 'Content-Type: application/json' "
            f"-d '{body}'")
        return base

    def stop(self) -> None:
        for p in reversed(self.procs):
            p.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", default="release", choices=["release", "debug"])
    ap.add_argument("--dir", default=str(ROOT / ".local" / "localnet"))
    ap.add_argument("--models-dir", default=str(ROOT / ".local" / "models"))
    ap.add_argument("--preset", default="default", choices=sorted(PRESETS))
    ap.add_argument("--corpus", default="/usr/share/games/fortunes")
    ap.add_argument("--rpc-port", type=int, default=int(os.environ.get("RPC_PORT", "9944")))
    ap.add_argument("--epochs", type=int, default=0, help="stop after this many epochs (0: never)")
    ap.add_argument("--nodes", type=int, default=4, choices=[1, 2, 3, 4],
                    help="authority nodes of the local chain (1: a single --dev node)")
    ap.add_argument("--grid", action="store_true",
                    default=os.environ.get("LOCALNET_GRID") == "1",
                    help=f"also run grid subnet {GRID_NETUID}: the best model named by its grid "
                         "spec, three honest grid miners at different speeds and a grid-mode "
                         "validator (folding the gateway's organic verdicts into its scores); "
                         "LOCALNET_GRID=1 does the same")
    ap.add_argument("--python", action="store_true",
                    default=os.environ.get("LOCALNET_PYTHON") == "1",
                    help="also run the Python template miner and validator (bittensor SDK, "
                         ".venv-bt); LOCALNET_PYTHON=1 does the same")
    args = ap.parse_args()

    bins = Bins.from_target(args.profile)
    stmodel = bins.node.parent / "stmodel"
    tokenizer, models = prepare_models(stmodel, Path(args.corpus), Path(args.models_dir),
                                       args.preset)
    workdir = Path(args.dir)
    if workdir.exists():
        subprocess.run(["rm", "-rf", str(workdir)], check=True)
    # The validator's top-k must stay well below the standard vocabulary.
    topk = min(512, PRESETS[args.preset]["vocab"] // 4)
    net = Localnet(workdir, bins, tokenizer, Path(args.corpus), models, rpc_port=args.rpc_port,
                   nodes=args.nodes, validator_args=["--topk", str(topk)],
                   python_neurons=args.python,
                   grid_model=models[0][1] if args.grid else None,
                   organic=bins.gateway() is not None)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    # Measured from the start of scripts/localnet.sh when it passes its start time.
    started = float(os.environ.get("LOCALNET_T0") or time.time())
    try:
        net.start()
        net.start_gateway()
        log("the market is running; the metagraph prints each epoch (Ctrl-C stops everything)")
        tempo = 10
        last_epoch, epochs, first_weights = None, 0, None
        while True:
            net.check_alive()
            block = net.best_number()
            epoch = (block + NETUID) // tempo
            if epoch != last_epoch:
                last_epoch = epoch
                mg = net.metagraph()
                print("\n" + net.table(mg), flush=True)
                if args.grid:
                    print("\n" + net.table(netuid=GRID_NETUID), flush=True)
                if first_weights is None and any(n["incentive"] > 0 for n in mg["neurons"]):
                    first_weights = time.time() - started
                    log(f"first epoch with incentive on chain: {first_weights:.0f} s after start")
                epochs += 1
                if args.epochs and epochs >= args.epochs:
                    return 0
            time.sleep(1)
    except KeyboardInterrupt:
        return 130
    finally:
        log("stopping every process")
        net.stop()


if __name__ == "__main__":
    sys.exit(main())
