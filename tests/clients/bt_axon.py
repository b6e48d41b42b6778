"""A bittensor 10.2.0 axon serving Dummy and TextCausalLMNext, for our dendrite to call.

Usage: bt_axon.py PORT HOTKEY_URI. Prints `READY {"port", "hotkey"}`, then serves until killed.
"""

import json
import signal
import sys
import tempfile
import threading

import bittensor as bt
from bittensor_wallet import Keypair, Wallet

from bt_synapses import Dummy, TextCausalLMNext, answer, tensor, untensor


def main():
    port, uri = int(sys.argv[1]), sys.argv[2]
    kp = Keypair.create_from_uri(uri)
    wallet = Wallet(name="interop", hotkey="default", path=tempfile.mkdtemp())
    wallet.set_coldkeypub(kp, encrypt=False, overwrite=True)
    wallet.set_hotkey(kp, encrypt=False, overwrite=True)

    def dummy(s: Dummy) -> Dummy:
        s.dummy_output = s.dummy_input * 2
        return s

    def text(s: TextCausalLMNext) -> TextCausalLMNext:
        s.text_outputs = tensor(answer(untensor(s.text_inputs), s.topk))
        return s

    axon = bt.Axon(wallet=wallet, port=port, ip="127.0.0.1", external_ip="127.0.0.1")
    axon.attach(forward_fn=dummy).attach(forward_fn=text)
    axon.start()
    print("READY " + json.dumps({"port": port, "hotkey": kp.ss58_address}), flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    done.wait()
    axon.stop()


if __name__ == "__main__":
    main()
