"""Synapse classes shared by the bittensor 10.2.0 interop clients, and bt.Tensor helpers that
need no torch (bittensor 10.x's bt.Tensor constructor imports torch; the wire form is a dict)."""

import base64
from typing import ClassVar, Optional

import bittensor as bt
import msgpack
import msgpack_numpy
import numpy as np
from bittensor.utils import networking

# The sandbox has no internet: bittensor's Dendrite() asks checkip.amazonaws.com for its
# external ip. A fixed address, never equal to a target's, also stops the 0.0.0.0 rewrite.
networking.get_external_ip = lambda: "10.9.9.9"


class Dummy(bt.Synapse):
    dummy_input: int
    dummy_output: Optional[int] = None
    required_hash_fields: ClassVar[tuple[str, ...]] = ("dummy_input",)


class TextCausalLMNext(bt.Synapse):
    """Same wire form as bt.Tensor fields: model_dump() of a bt.Tensor is this dict."""

    text_inputs: dict
    topk: int
    text_outputs: Optional[dict] = None
    required_hash_fields: ClassVar[tuple[str, ...]] = ("text_inputs", "topk", "text_outputs")


def tensor(arr: np.ndarray) -> dict:
    buf = msgpack.packb(arr, default=msgpack_numpy.encode)
    return {"buffer": base64.b64encode(buf).decode(), "dtype": str(arr.dtype), "shape": list(arr.shape)}


def untensor(t: dict) -> np.ndarray:
    arr = msgpack.unpackb(base64.b64decode(t["buffer"]), object_hook=msgpack_numpy.decode)
    return np.asarray(arr).reshape(t["shape"])


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
