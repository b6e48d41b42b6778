#!/usr/bin/env python3
"""Forward throughput of `stmodel bench` vs transformers' GPT2LMHeadModel on the same weights.

Called by scripts/bench-model.sh (which builds stmodel in release first). Both sides run the
same batch (default 16 x 128 tokens, the same token ids) on the CPU with the same number of
threads, without gradients, after a warmup; each side is measured `--repeats` times,
alternating, and the best rate counts. Before timing, the logits of both are compared.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def tokens(batch: int, seq: int, vocab: int):
    # The same ids `stmodel bench` uses.
    return [[(r * 7919 + t * 104729) % vocab for t in range(seq)] for r in range(batch)]


def run_json(cmd):
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--stmodel", default=str(ROOT / "target/release/stmodel"))
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--width", type=int, default=384)
    ap.add_argument("--heads", type=int, default=6)
    ap.add_argument("--vocab", type=int, default=4096)
    ap.add_argument("--context", type=int, default=128)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--dir", help="model directory (made with `stmodel init` if missing)")
    args = ap.parse_args()

    shape = f"L{args.layers}-W{args.width}-H{args.heads}-V{args.vocab}-C{args.context}"
    model_dir = Path(args.dir) if args.dir else ROOT / "target" / "bench-model" / shape
    if not (model_dir / "model.safetensors").is_file():
        run_json([args.stmodel, "init", "--out", model_dir, "--vocab-size", args.vocab,
                  "--layers", args.layers, "--width", args.width, "--heads", args.heads,
                  "--context", args.context, "--seed", 0])

    import torch
    from transformers import GPT2LMHeadModel

    torch.set_num_threads(args.threads)
    model = GPT2LMHeadModel.from_pretrained(model_dir).eval()
    x = torch.tensor(tokens(args.batch, args.seq, args.vocab))

    # Same weights, same function: compare the logits of one short row first.
    probe = x[0, :16].tolist()
    ours = run_json([args.stmodel, "logits", "--model", model_dir, "--tokens", ",".join(map(str, probe))])
    with torch.inference_mode():
        theirs = model(torch.tensor([probe])).logits[0]
    diff = (torch.tensor(ours["logits"]) - theirs).abs().max().item()

    def python_rate():
        with torch.inference_mode():
            for _ in range(args.warmup):
                model(x)
            start = time.perf_counter()
            for _ in range(args.iters):
                model(x)
            secs = time.perf_counter() - start
        return args.batch * args.seq * args.iters / secs

    def rust_rate():
        out = run_json([args.stmodel, "bench", "--model", model_dir, "--batch", args.batch,
                        "--seq", args.seq, "--iters", args.iters, "--warmup", args.warmup,
                        "--threads", args.threads, "--device", "cpu"])
        return out["tokens_per_sec"], out["parameters"]

    rust, py = [], []
    params = 0
    for _ in range(args.repeats):
        r, params = rust_rate()
        rust.append(r)
        py.append(python_rate())
    best_rust, best_py = max(rust), max(py)
    print(f"model: {shape} ({params:,} parameters), batch {args.batch} x {args.seq} tokens, "
          f"{args.threads} threads, CPU; max |logit difference| {diff:.2e}")
    print(f"stmodel (tch/libtorch)       : {best_rust:12,.0f} tokens/s   (runs: {', '.join(f'{r:,.0f}' for r in rust)})")
    print(f"transformers GPT2LMHeadModel : {best_py:12,.0f} tokens/s   (runs: {', '.join(f'{r:,.0f}' for r in py)})")
    print(f"ratio stmodel / transformers : {best_rust / best_py:.2f}")
    print(json.dumps({"stmodel_tokens_per_sec": best_rust, "transformers_tokens_per_sec": best_py,
                      "ratio": best_rust / best_py, "parameters": params, "threads": args.threads,
                      "batch": args.batch, "seq": args.seq, "max_logit_diff": diff}))


if __name__ == "__main__":
    main()
