"""What the Python template miner and validator share: the `TextCausalLMNext` synapse (the same
wire form our Rust axon and dendrite speak), the tensor wire helpers, the corpus split and the
phrase loss. Written against the unmodified bittensor SDK 10.2.0, in the shape of the public
subnet template (`template/protocol.py`).

The corpus split mirrors `subtensor-model`'s (`offchain-miner/model/src/corpus.rs`): every file
under the corpus directory (no hidden files, symlinks or `*.dat`), documents separated by lines
holding only `%` (the fortune format) or else by blank lines, every 20th document held out.
"""

from __future__ import annotations

import base64
import math
import os
from pathlib import Path
from typing import ClassVar, Optional

import bittensor as bt
import msgpack
import msgpack_numpy
import numpy as np

HELD_OUT_EVERY = 20
# The loss a failed or malformed answer counts as (nats), as our Rust validator counts it.
FAILURE_LOSS = 20.0


class TextCausalLMNext(bt.Synapse):
    """Next-token prediction: `text_inputs` int64 [B, L] of standard-tokenizer ids and `topk`
    in; `text_outputs` out, the compact float32 encoding: per row, `topk` phrases each written
    `[p, id_0 + 2, id_1 + 2, ...]`, then the row's floor probability (the mass of every token
    outside the top k, each)."""

    text_inputs: dict
    topk: int
    text_outputs: Optional[dict] = None
    required_hash_fields: ClassVar[tuple[str, ...]] = ("text_inputs", "topk", "text_outputs")


def tensor(arr: np.ndarray) -> dict:
    """A numpy array in bt.Tensor's wire form (msgpack-numpy, base64), without torch."""
    buf = msgpack.packb(arr, default=msgpack_numpy.encode)
    return {"buffer": base64.b64encode(buf).decode(), "dtype": str(arr.dtype),
            "shape": list(arr.shape)}


def untensor(t: dict) -> np.ndarray:
    arr = msgpack.unpackb(base64.b64decode(t["buffer"]), object_hook=msgpack_numpy.decode)
    return np.asarray(arr).reshape(t["shape"])


def encode_topk(rows: list[tuple[list[tuple[float, int]], float]]) -> np.ndarray:
    """[(top-k [(p, token id)], floor)] per row -> the compact encoding (single-token phrases)."""
    out: list[float] = []
    for topk, floor in rows:
        for p, token in topk:
            out += [p, float(token + 2)]
        out.append(floor)
    return np.asarray(out, dtype=np.float32)


def decode_topk(values: np.ndarray, batch: int, topk: int) -> list[tuple[dict[int, float], float]]:
    """The compact encoding -> per row ({first token of each phrase: p}, floor).

    Raises ValueError on a malformed answer (wrong count of probabilities, NaN, bad ids)."""
    if not np.all(np.isfinite(values)):
        raise ValueError("non-finite value")
    rows: list[tuple[dict[int, float], float]] = []
    i, n = 0, len(values)
    for _ in range(batch):
        first: dict[int, float] = {}
        for _ in range(topk):
            if i >= n or not -1e-6 <= values[i] <= 1 + 1e-6:
                raise ValueError("expected a probability")
            p = float(values[i])
            i += 1
            tokens = []
            while i < n and values[i] > 1 + 1e-6:
                tokens.append(int(values[i]) - 2)
                i += 1
            if not tokens:
                raise ValueError("empty phrase")
            first[tokens[0]] = first.get(tokens[0], 0.0) + p
        if i >= n or not -1e-6 <= values[i] <= 1 + 1e-6:
            raise ValueError("expected the floor")
        rows.append((first, float(values[i])))
        i += 1
    if i != n:
        raise ValueError("trailing values")
    return rows


def next_token_loss(row: tuple[dict[int, float], float], target: int, vocab: int) -> float:
    """-ln p(target) under one decoded row, renormalised so the row sums to one."""
    first, floor = row
    total = sum(first.values()) + max(0, vocab - len(first)) * max(floor, 0.0)
    p = first.get(target, max(floor, 0.0))
    if total <= 0 or p <= 0:
        return FAILURE_LOSS
    return min(FAILURE_LOSS, -math.log(p / total))


def split_documents(text: str) -> list[str]:
    lines = text.splitlines()
    fortune = any(line.rstrip() == "%" for line in lines)
    docs, current = [], []

    def flush():
        doc = "\n".join(current).rstrip().lstrip("\n\r")
        if doc.strip():
            docs.append(doc)
        current.clear()

    for line in lines:
        if (line.rstrip() == "%") if fortune else (not line.strip()):
            flush()
        else:
            current.append(line)
    flush()
    return docs


def load_corpus(path: str | os.PathLike) -> tuple[list[str], list[str]]:
    """(training documents, held-out documents) of a corpus file or directory."""
    path = Path(path)
    files: list[Path] = []
    if path.is_dir():
        for root, dirs, names in os.walk(path):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in names:
                f = Path(root) / name
                if name.startswith(".") or f.is_symlink() or f.suffix == ".dat":
                    continue
                files.append(f)
        files.sort()
    else:
        files = [path]
    docs: list[str] = []
    for f in files:
        data = f.read_bytes()
        if b"\0" in data:
            continue
        try:
            docs.extend(split_documents(data.decode("utf-8")))
        except UnicodeDecodeError:
            continue
    train = [d for i, d in enumerate(docs) if i % HELD_OUT_EVERY != HELD_OUT_EVERY - 1]
    held_out = [d for i, d in enumerate(docs) if i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1]
    return train, held_out


def token_stream(tokenizer, docs: list[str]) -> np.ndarray:
    """Documents as one token stream, each followed by `<|endoftext|>` when the tokenizer has it."""
    eot = tokenizer.token_to_id("<|endoftext|>")
    ids: list[int] = []
    for enc in tokenizer.encode_batch(docs):
        ids.extend(enc.ids)
        if eot is not None:
            ids.append(eot)
    return np.asarray(ids, dtype=np.int64)
