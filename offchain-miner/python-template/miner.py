#!/usr/bin/env python3
"""A Python miner in the shape of the public subnet template, against our chain, unmodified
bittensor SDK 10.2.0: `bt.Wallet`, `bt.Subtensor`, `bt.Axon` serving `TextCausalLMNext`, a
blacklist of unregistered callers, priority by stake, and a metagraph synced every epoch.

Its model is a smoothed bigram model of the corpus's training documents (counted once at start
with the network's tokenizer): it answers the top-k next tokens after each row's last token and
spreads the rest of the mass over the other tokens as the floor. Validators score it like any
other miner (against the localnet's tiny transformers, trained for seconds, it does well).

Usage: miner.py --netuid 1 --wallet.name NAME --wallet.hotkey default --wallet.path DIR
                --subtensor.network ws://127.0.0.1:9944 --axon.port 8091
                --tokenizer tokenizer.json --corpus /usr/share/games/fortunes
The hotkey must be registered on the subnet (as with the template: `btcli subnets register`
or `stcli subnet register`); the miner publishes its axon itself.
"""



import argparse
import signal
import sys
import threading
import time
import typing
from pathlib import Path

import bittensor as bt
import numpy as np
from tokenizers import Tokenizer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from protocol import TextCausalLMNext, encode_topk, load_corpus, tensor, token_stream, untensor  # noqa: E402


class BigramModel:
    """Next-token counts after each token, add-`alpha` smoothed over the vocabulary."""

    def __init__(self, stream: np.ndarray, vocab: int, alpha: float = 0.1):
        self.vocab = vocab
        self.alpha = alpha
        pairs = stream[:-1] * vocab + stream[1:]
        counts = np.bincount(pairs, minlength=vocab * vocab).reshape(vocab, vocab)
        self.counts = counts.astype(np.float64)
        self.totals = self.counts.sum(axis=1)

    def answer(self, last: int, topk: int) -> tuple[list[tuple[float, int]], float]:
        row = self.counts[last]
        denom = self.totals[last] + self.alpha * self.vocab
        probs = (row + self.alpha) / denom
        top = np.argsort(-probs, kind="stable")[:topk]
        listed = [(float(probs[t]), int(t)) for t in top]
        rest = max(0.0, 1.0 - sum(p for p, _ in listed))
        floor = rest / max(1, self.vocab - topk)
        return listed, floor


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--netuid", type=int, default=1)
    ap.add_argument("--wallet.name", dest="wallet_name", default="default")
    ap.add_argument("--wallet.hotkey", dest="wallet_hotkey", default="default")
    ap.add_argument("--wallet.path", dest="wallet_path", default="~/.bittensor/wallets")
    ap.add_argument("--subtensor.network", dest="network", default="ws://127.0.0.1:9944")
    ap.add_argument("--axon.port", dest="port", type=int, default=8091)
    ap.add_argument("--axon.external_ip", dest="external_ip", default="127.0.0.1")
    ap.add_argument("--tokenizer", required=True, help="the network's tokenizer.json")
    ap.add_argument("--corpus", required=True, help="training text (file or directory)")
    return ap.parse_args()


def main() -> int:
    args = parse_args()
    wallet = bt.Wallet(name=args.wallet_name, hotkey=args.wallet_hotkey, path=args.wallet_path)
    subtensor = bt.Subtensor(network=args.network)
    metagraph = subtensor.metagraph(args.netuid)
    hotkey = wallet.hotkey.ss58_address
    if hotkey not in metagraph.hotkeys:
        bt.logging.error(f"hotkey {hotkey} is not registered on subnet {args.netuid}")
        return 1
    print(f"miner: uid {metagraph.hotkeys.index(hotkey)} on subnet {args.netuid}", flush=True)

    tokenizer = Tokenizer.from_file(args.tokenizer)
    vocab = tokenizer.get_vocab_size()
    train, _ = load_corpus(args.corpus)
    started = time.time()
    model = BigramModel(token_stream(tokenizer, train), vocab)
    print(f"miner: bigram model of {len(train)} documents, vocab {vocab}, "
          f"{time.time() - started:.1f} s", flush=True)

    lock = threading.Lock()

    def forward(synapse: TextCausalLMNext) -> TextCausalLMNext:
        tokens = untensor(synapse.text_inputs)
        rows = [model.answer(int(row[-1]) % vocab, synapse.topk) for row in tokens]
        synapse.text_outputs = tensor(encode_topk(rows))
        return synapse

    def blacklist(synapse: TextCausalLMNext) -> typing.Tuple[bool, str]:
        caller = synapse.dendrite.hotkey
        with lock:
            registered = caller in metagraph.hotkeys
        return (False, "registered") if registered else (True, f"{caller} is not registered")

    def priority(synapse: TextCausalLMNext) -> float:
        with lock:
            if synapse.dendrite.hotkey not in metagraph.hotkeys:
                return 0.0
            return float(metagraph.S[metagraph.hotkeys.index(synapse.dendrite.hotkey)])

    axon = bt.Axon(wallet=wallet, port=args.port, ip="127.0.0.1", external_ip=args.external_ip)
    axon.attach(forward_fn=forward, blacklist_fn=blacklist, priority_fn=priority)
    response = subtensor.serve_axon(netuid=args.netuid, axon=axon, wait_for_finalization=False)
    if not response.success:
        bt.logging.error(f"serve_axon failed: {response.message}")
        return 1
    axon.start()
    print(f"miner: serving TextCausalLMNext on {args.external_ip}:{args.port}", flush=True)

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    tempo = subtensor.tempo(args.netuid) or 10
    while not done.wait(timeout=max(2.0, tempo * 0.5)):
        try:
            fresh = subtensor.metagraph(args.netuid)
            with lock:
                metagraph = fresh
            uid = metagraph.hotkeys.index(hotkey) if hotkey in metagraph.hotkeys else None
            if uid is None:
                print("miner: deregistered; stopping", flush=True)
                break
            print(f"miner: block {int(metagraph.block)} uid {uid} "
                  f"incentive {float(metagraph.I[uid]):.4f} emission {float(metagraph.E[uid]):.4f}",
                  flush=True)
        except Exception as error:  # a node restart: keep serving, resync next time
            print(f"miner: metagraph sync failed: {error}", flush=True)
    axon.stop()
    subtensor.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
