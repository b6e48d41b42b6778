"""Fixtures of the end-to-end tests: real `subtensor-node` processes on loopback ports.

The node binary is taken from $SUBTENSOR_NODE_BIN, else target/release or target/debug of the
workspace (scripts/test.sh builds it before running these tests).
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def built_binary(name: str, package: str, env_var: str) -> Path:
    """The newest build of binary `name` (from $env_var, else target/debug or target/release)."""
    env = os.environ.get(env_var)
    candidates = [Path(env)] if env else []
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    candidates += [target / "debug" / name, target / "release" / name]
    found = [c for c in candidates if c.is_file()]
    if not found:
        raise RuntimeError(
            f"{name} is not built: run `cargo build -p {package}` (or set {env_var})"
        )
    return max(found, key=lambda p: p.stat().st_mtime)


def node_binary() -> Path:
    return built_binary("subtensor-node", "subtensor-node", "SUBTENSOR_NODE_BIN")


def release_node_binary() -> Path:
    """The release node ($SUBTENSOR_NODE_RELEASE_BIN, else target/release), for tests that run
    several nodes with 1 s slots on two cores; the debug node when there is no release build."""
    env = os.environ.get("SUBTENSOR_NODE_RELEASE_BIN")
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    for candidate in ([Path(env)] if env else []) + [target / "release" / "subtensor-node"]:
        if candidate.is_file():
            return candidate
    return node_binary()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rpc(url: str, method: str, params=None, timeout: float = 10.0):
    """One JSON-RPC call over HTTP; returns the whole response object."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []})
    req = urllib.request.Request(url, body.encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read())


class Node:
    """A running node with its own base path and ports."""

    def __init__(self, base_path: Path, extra_args=(), sealing: str = "500", chain: str = "dev",
                 key: str | None = "alice", binary: Path | None = None):
        self.base_path = Path(base_path)
        self.extra_args = list(extra_args)
        self.sealing = sealing
        self.chain = chain
        self.key = key
        self.binary = binary
        self.port = free_port()
        self.p2p_port = free_port()
        self.proc = None
        self.log_path = self.base_path / "node.log"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0):
        self.base_path.mkdir(parents=True, exist_ok=True)
        args = [
            str(self.binary or node_binary()),
            "--chain", self.chain,
            *([f"--{self.key}"] if self.key else []),
            "--base-path", str(self.base_path),
            "--rpc-port", str(self.port),
            "--port", str(self.p2p_port),
            "--sealing", self.sealing,
            *self.extra_args,
        ]
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"node exited with {self.proc.returncode}:\n{self.log()}")
            try:
                rpc(self.http_url, "system_health", timeout=1)
                return self
            except Exception:
                time.sleep(0.1)
        raise RuntimeError(f"node did not answer RPC within {timeout}s:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def call(self, method, params=None):
        return rpc(self.http_url, method, params)

    def result(self, method, params=None):
        reply = self.call(method, params)
        assert "error" not in reply, reply
        return reply["result"]

    def best_number(self) -> int:
        return int(self.result("chain_getHeader")["number"], 16)

    def finalized_number(self) -> int:
        head = self.result("chain_getFinalizedHead")
        return int(self.result("chain_getHeader", [head])["number"], 16)

    def peer_id(self) -> str:
        return self.result("system_localPeerId")

    def multiaddr(self) -> str:
        return f"/ip4/127.0.0.1/tcp/{self.p2p_port}/p2p/{self.peer_id()}"

    def wait_for_block(self, number: int, timeout: float = 30.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.best_number() >= number:
                return
            time.sleep(0.1)
        raise TimeoutError(f"block #{number} not reached:\n{self.log()}")

    def stop(self, sig=signal.SIGTERM, timeout: float = 30.0):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None


@pytest.fixture
def base_path():
    path = Path(tempfile.mkdtemp(prefix="subtensor-e2e-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def node(base_path):
    n = Node(base_path).start()
    yield n
    n.stop()
