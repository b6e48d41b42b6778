"""Benchmark server: a bittensor 10.2.0 axon serving the two benchmark synapses.

Usage (in .venv-bt): bench-axon-server.py PORT [HOTKEY_URI=//Bob]. Started by
scripts/bench-axon.sh; prints `READY {"port", "hotkey"}` once listening, stops on SIGTERM/SIGINT.

The synapse classes are those of tests/clients/bt_synapses.py (also used by the interop tests):
* Dummy: dummy_output = dummy_input * 2, required_hash_fields = ("dummy_input",).
* TextCausalLMNext: every request gets the same prebuilt k = 4096 answer (one batch row, phrases
  (0.5 / k, [(LAST_TOKEN + i) % 50000]), then the floor), so the handler's work is constant:
  assign the prebuilt bt.Tensor dict. Same answer as offchain-miner/axon/examples/
  bench_axon_server.rs.
The axon is bt.Axon with its defaults (uvicorn in a thread, default max_workers, logging off).
"""

import json
import signal
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "clients"))

import bittensor as bt  # noqa: E402
import numpy as np  # noqa: E402
from bittensor_wallet import Keypair, Wallet  # noqa: E402

from bt_synapses import Dummy, TextCausalLMNext, answer, tensor  # noqa: E402

TOPK = 4096
# Last token of the benchmark request (bench_load sends "... 13", GPT-2 for ".").
LAST_TOKEN = 13


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: bench-axon-server.py PORT [HOTKEY_URI]")
    port = int(sys.argv[1])
    uri = sys.argv[2] if len(sys.argv) == 3 else "//Bob"
    kp = Keypair.create_from_uri(uri)
    wallet = Wallet(name="bench", hotkey="default", path=tempfile.mkdtemp())
    wallet.set_coldkeypub(kp, encrypt=False, overwrite=True)
    wallet.set_hotkey(kp, encrypt=False, overwrite=True)

    prebuilt = tensor(answer(np.asarray([[LAST_TOKEN]], dtype=np.int64), TOPK))
    assert prebuilt["shape"] == [2 * TOPK + 1], prebuilt["shape"]

    def dummy(s: Dummy) -> Dummy:
        s.dummy_output = s.dummy_input * 2
        return s

    def text(s: TextCausalLMNext) -> TextCausalLMNext:
        s.text_outputs = prebuilt
        return s

    axon = bt.Axon(wallet=wallet, port=port, ip="127.0.0.1", external_ip="127.0.0.1")
    axon.attach(forward_fn=dummy).attach(forward_fn=text)
    axon.start()
    print("READY " + json.dumps({"port": port, "hotkey": kp.ss58_address}), flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    axon.stop()


if __name__ == "__main__":
    main()
