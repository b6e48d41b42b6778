"""Synapse classes shared by the bittensor 10.2.0 interop clients, and bt.Tensor helpers that
need no torch (bittensor 10.x's bt.Tensor constructor imports torch; the wire form is a dict).

Also a client of its own for the 2022 synapses our axon adds (TextCausalLM,
TextLastHiddenState, TextSeq2Seq), queried through bittensor's own Dendrite:

  bt_synapses.py query ADDR AXON_HOTKEY [DENDRITE_URI]
      prints one JSON line {synapse_case: {status_code, status_message, ..., *_match}}.

The expected answers mirror the `interop` example (offchain-miner/axon/examples/interop.rs).
"""

import asyncio
import json
import sys
from pathlib import Path
from typing import ClassVar, Optional

import bittensor as bt
import numpy as np
from bittensor.utils import networking

# TextCausalLMNext and the bt.Tensor wire helpers are the Python template's (one definition).
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "offchain-miner" / "python-template"))
from protocol import TextCausalLMNext, tensor, untensor  # noqa: E402,F401

# The sandbox has no internet: bittensor's Dendrite() asks checkip.amazonaws.com for its
# external ip. A fixed address, never equal to a target's, also stops the 0.0.0.0 rewrite.
networking.get_external_ip = lambda: "10.9.9.9"


class Dummy(bt.Synapse):
    dummy_input: int
    dummy_output: Optional[int] = None
    required_hash_fields: ClassVar[tuple[str, ...]] = ("dummy_input",)


def answer(tokens: np.ndarray, topk: int) -> np.ndarray:
    """The compact top-k encoding: per row, topk x [p, last+i+2], then the floor."""
    out = []
    for row in tokens:
        last = int(row[-1])
        for i in range(topk):
            out += [0.5 / topk, float((last + i) % 50_000 + 2)]
        out.append(0.5 / (50_258 - topk))
    return np.asarray(out, dtype=np.float32)


TOKENS = np.asarray([[464, 2068, 7586], [11, 12, 13]], dtype=np.int64)


class TextCausalLM(bt.Synapse):
    """Top-k at every position: text_outputs float32 [B, L, 2*topk] (probabilities, then ids)."""

    text_inputs: dict
    topk: int = 512
    text_outputs: Optional[dict] = None
    required_hash_fields: ClassVar[tuple[str, ...]] = ("text_inputs", "topk", "text_outputs")


class TextLastHiddenState(bt.Synapse):
    """hidden_states float32 [B, L, 1024], or [B*len(mask), 1024] with a mask."""

    text_inputs: dict
    mask: Optional[list[int]] = None
    hidden_states: Optional[dict] = None
    required_hash_fields: ClassVar[tuple[str, ...]] = ("text_inputs", "mask", "hidden_states")


class TextSeq2Seq(bt.Synapse):
    """generations int64 [B, N<=num_to_generate], padded with -100; texts are not hashed."""

    text_prompt: dict
    topk: int = 50
    num_to_generate: int = 256
    num_beams: int = 1
    no_repeat_ngram_size: int = 2
    top_p: float = 0.95
    temperature: float = 1.0
    repetition_penalty: float = 1.0
    seed: int = 0
    generations: Optional[dict] = None
    texts: Optional[list[str]] = None
    required_hash_fields: ClassVar[tuple[str, ...]] = (
        "text_prompt",
        "topk",
        "num_to_generate",
        "num_beams",
        "no_repeat_ngram_size",
        "top_p",
        "temperature",
        "repetition_penalty",
        "seed",
        "generations",
    )


NETWORK_DIM = 1024
HIDDEN_WIDTH = 8
GENERATION_PAD = -100


def causal_lm_answer(tokens: np.ndarray, topk: int) -> np.ndarray:
    """After token t: probabilities 2^-(i+2), ids (t + i) % 4096."""
    b, l = tokens.shape
    out = np.zeros((b, l, 2 * topk), dtype=np.float32)
    probs = np.asarray([0.5 ** (i + 2) for i in range(topk)], dtype=np.float32)
    for bi in range(b):
        for li in range(l):
            t = int(tokens[bi, li])
            out[bi, li, :topk] = probs
            out[bi, li, topk:] = [(t + i) % 4096 for i in range(topk)]
    return out


def hidden_answer(tokens: np.ndarray, mask=None) -> np.ndarray:
    """After token t: [t + d/8 for d < 8], zero-padded to NETWORK_DIM; masked rows only."""
    b, l = tokens.shape
    full = np.zeros((b, l, NETWORK_DIM), dtype=np.float32)
    for d in range(HIDDEN_WIDTH):
        full[:, :, d] = tokens.astype(np.float32) + np.float32(d) / np.float32(8)
    if mask is None:
        return full
    return full[:, mask, :].reshape(-1, NETWORK_DIM)


def seq2seq_answer(prompt: np.ndarray, n: int) -> np.ndarray:
    """Row b continues with last+1 .. last+min(b+1, n), padded with -100."""
    rows = [[int(r[-1]) + i for i in range(1, min(b + 1, n) + 1)] for b, r in enumerate(prompt)]
    width = max(len(r) for r in rows)
    return np.asarray([r + [GENERATION_PAD] * (width - len(r)) for r in rows], dtype=np.int64)


def _status(s: bt.Synapse) -> dict:
    return {"status_code": s.axon.status_code, "status_message": s.axon.status_message}


async def query_new(d: bt.Dendrite, target: bt.AxonInfo) -> dict:
    out = {}
    timeout = 20.0

    r = await d.call(target, TextCausalLM(text_inputs=tensor(TOKENS), topk=4), timeout=timeout,
                     deserialize=False)
    out["causal_lm"] = _status(r)
    if r.text_outputs is not None:
        got = untensor(r.text_outputs)
        out["causal_lm"]["dtype"] = r.text_outputs["dtype"]
        out["causal_lm"]["shape"] = list(got.shape)
        out["causal_lm"]["outputs_match"] = bool(np.array_equal(got, causal_lm_answer(TOKENS, 4)))

    for case, mask in (("hidden", None), ("hidden_masked", [0, 2])):
        req = TextLastHiddenState(text_inputs=tensor(TOKENS), mask=mask)
        r = await d.call(target, req, timeout=timeout, deserialize=False)
        out[case] = _status(r)
        if r.hidden_states is not None:
            got = untensor(r.hidden_states)
            out[case]["shape"] = list(got.shape)
            out[case]["outputs_match"] = bool(np.array_equal(got, hidden_answer(TOKENS, mask)))

    req = TextSeq2Seq(text_prompt=tensor(TOKENS), num_to_generate=5, top_p=0.9, seed=7)
    r = await d.call(target, req, timeout=timeout, deserialize=False)
    out["seq2seq"] = _status(r)
    if r.generations is not None:
        got = untensor(r.generations)
        out["seq2seq"]["generations"] = got.tolist()
        out["seq2seq"]["outputs_match"] = bool(np.array_equal(got, seq2seq_answer(TOKENS, 5)))
        out["seq2seq"]["texts"] = r.texts
        out["seq2seq"]["params_unchanged"] = (r.top_p, r.seed, r.num_to_generate) == (0.9, 7, 5)
    await d.aclose_session()
    return out


def main():
    mode, addr, hotkey = sys.argv[1:4]
    uri = sys.argv[4] if len(sys.argv) > 4 else "//Alice"
    if mode != "query":
        raise SystemExit(f"unknown mode {mode}")
    from bittensor_wallet import Keypair

    ip, port = addr.rsplit(":", 1)
    target = bt.AxonInfo(
        version=10002000, ip=ip, port=int(port), ip_type=4, hotkey=hotkey, coldkey=hotkey
    )
    d = bt.Dendrite(wallet=Keypair.create_from_uri(uri))
    print(json.dumps(asyncio.run(query_new(d, target))), flush=True)


if __name__ == "__main__":
    main()
