#!/usr/bin/env python3
"""A Python validator in the shape of the public subnet template, against our chain, unmodified
bittensor SDK 10.2.0: `bt.Wallet`, `bt.Subtensor`, `metagraph.sync`, `bt.Dendrite` querying
every serving miner with `TextCausalLMNext`, a moving score per uid, and
`process_weights_for_netuid` + `subtensor.set_weights` once per tempo.

Each step cuts `--batch` windows of `--context` tokens from the corpus's held-out documents
(tokenized with the network's tokenizer), asks every miner for the next token's top-k, and
scores the answer by the cross-entropy of the true next token (a failure counts 20 nats, as
in our Rust validator). A uid's score is the scaling-law estimate of the parameter count its
moving loss implies, N(L)^0.5 (the rule `stvalidator` uses), and weights are proportional to
it. The chain pays both validators by the same rules: dividends follow stake and bonds.

Usage: validator.py --netuid 1 --wallet.name NAME --wallet.hotkey default --wallet.path DIR
                    --subtensor.network ws://127.0.0.1:9944
                    --tokenizer tokenizer.json --corpus /usr/share/games/fortunes
The hotkey must be registered and staked (a validator permit); the state (moving losses) is
kept in memory, as the template keeps it between its own saves.
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
import threading
import time
from pathlib import Path

import bittensor as bt
import numpy as np
from bittensor.utils import networking
from bittensor.utils.weight_utils import process_weights_for_netuid
from tokenizers import Tokenizer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from protocol import (  # noqa: E402
    FAILURE_LOSS, TextCausalLMNext, decode_topk, load_corpus, next_token_loss, tensor,
    token_stream, untensor,
)

# Kaplan et al.'s scaling law, as `stvalidator` scores (offchain-miner/validator/src/scoring.rs).
SCALING_LAW_NC, SCALING_LAW_ALPHA, LOSS_FLOOR = 8.8e13, 0.076, 1.69


def scaling_law_score(loss: float, power: float = 0.5) -> float:
    loss = loss if math.isfinite(loss) else FAILURE_LOSS
    return math.exp(power * (math.log(SCALING_LAW_NC) - math.log(max(loss, LOSS_FLOOR))
                             / SCALING_LAW_ALPHA))


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--netuid", type=int, default=1)
    ap.add_argument("--wallet.name", dest="wallet_name", default="default")
    ap.add_argument("--wallet.hotkey", dest="wallet_hotkey", default="default")
    ap.add_argument("--wallet.path", dest="wallet_path", default="~/.bittensor/wallets")
    ap.add_argument("--subtensor.network", dest="network", default="ws://127.0.0.1:9944")
    ap.add_argument("--tokenizer", required=True, help="the network's tokenizer.json")
    ap.add_argument("--corpus", required=True, help="text to cut held-out queries from")
    ap.add_argument("--batch", type=int, default=4, help="windows per query")
    ap.add_argument("--context", type=int, default=32, help="tokens per window")
    ap.add_argument("--topk", type=int, default=64)
    ap.add_argument("--timeout", type=float, default=4.0, help="seconds per query")
    ap.add_argument("--alpha", type=float, default=0.2, help="moving-average factor")
    ap.add_argument("--external-ip", default="127.0.0.1",
                    help="this machine's address as the dendrite reports it (the SDK would ask "
                         "an internet service for it)")
    return ap.parse_args()


def main() -> int:
    args = parse_args()
    # bt.Dendrite() looks its external ip up on the internet; a local network has none.
    networking.get_external_ip = lambda: args.external_ip
    wallet = bt.Wallet(name=args.wallet_name, hotkey=args.wallet_hotkey, path=args.wallet_path)
    subtensor = bt.Subtensor(network=args.network)
    metagraph = subtensor.metagraph(args.netuid)
    hotkey = wallet.hotkey.ss58_address
    if hotkey not in metagraph.hotkeys:
        bt.logging.error(f"hotkey {hotkey} is not registered on subnet {args.netuid}")
        return 1
    dendrite = bt.Dendrite(wallet=wallet)

    tokenizer = Tokenizer.from_file(args.tokenizer)
    vocab = tokenizer.get_vocab_size()
    _, held_out = load_corpus(args.corpus)
    stream = token_stream(tokenizer, held_out)
    if len(stream) <= args.context + 1:
        bt.logging.error("the held-out split is too short for one window")
        return 1
    rng = np.random.default_rng()
    print(f"validator: uid {metagraph.hotkeys.index(hotkey)}, {len(stream)} held-out tokens",
          flush=True)

    moving_loss: dict[str, float] = {}  # by hotkey: a replaced uid starts afresh
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    last_weights_block = 0
    while not done.is_set():
        metagraph.sync(subtensor=subtensor)
        own = metagraph.hotkeys.index(hotkey) if hotkey in metagraph.hotkeys else None
        if own is None:
            print("validator: deregistered; stopping", flush=True)
            return 1
        miners = [uid for uid in range(int(metagraph.n)) if uid != own
                  and metagraph.axons[uid].ip not in ("0.0.0.0", "")
                  and metagraph.axons[uid].port != 0]
        if miners:
            starts = rng.integers(0, len(stream) - args.context - 1, size=args.batch)
            inputs = np.stack([stream[s:s + args.context] for s in starts])
            targets = [int(stream[s + args.context]) for s in starts]
            synapse = TextCausalLMNext(text_inputs=tensor(inputs), topk=args.topk)
            answers = dendrite.query(axons=[metagraph.axons[uid] for uid in miners],
                                     synapse=synapse, timeout=args.timeout, deserialize=False)
            for uid, answer in zip(miners, answers):
                loss = FAILURE_LOSS
                if answer.is_success and answer.text_outputs is not None:
                    try:
                        rows = decode_topk(untensor(answer.text_outputs).reshape(-1),
                                           args.batch, args.topk)
                        loss = float(np.mean([next_token_loss(r, t, vocab)
                                              for r, t in zip(rows, targets)]))
                    except (ValueError, KeyError, TypeError):
                        loss = FAILURE_LOSS
                key = metagraph.hotkeys[uid]
                prev = moving_loss.get(key)
                moving_loss[key] = loss if prev is None else (1 - args.alpha) * prev + args.alpha * loss

        block = subtensor.get_current_block()
        tempo = subtensor.tempo(args.netuid) or 10
        if block - last_weights_block >= tempo and moving_loss:
            scores = np.zeros(int(metagraph.n), dtype=np.float32)
            for uid in range(int(metagraph.n)):
                loss = moving_loss.get(metagraph.hotkeys[uid])
                if uid != own and loss is not None and loss < FAILURE_LOSS * 0.99:
                    scores[uid] = scaling_law_score(loss)
            if scores.sum() > 0:
                uids, weights = process_weights_for_netuid(
                    uids=np.arange(int(metagraph.n)), weights=scores / scores.sum(),
                    netuid=args.netuid, subtensor=subtensor, metagraph=metagraph)
                response = subtensor.set_weights(
                    wallet=wallet, netuid=args.netuid, uids=uids, weights=weights,
                    wait_for_inclusion=True, wait_for_finalization=False)
                shown = {int(u): round(float(w), 4) for u, w in zip(uids, weights) if w > 0}
                print(f"validator: block {block} set_weights success={response.success} "
                      f"{response.message or ''} weights {shown}", flush=True)
                if response.success:
                    last_weights_block = block
        done.wait(timeout=1.0)
    subtensor.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
