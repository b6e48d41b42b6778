"""Interop of the `stmodel` binary (subtensor-model crate) with Hugging Face `transformers`.

Run with the torch virtualenv:
    .venv-torch/bin/python -m pytest tests/test_model_interop.py
The binary is $STMODEL_BIN, else target/debug/stmodel (`cargo build -p subtensor-model`).

1. A tiny random `GPT2LMHeadModel` saved by `transformers` (safetensors) gives the same logits
   through `stmodel logits` (atol 1e-4), and the same greedy continuation through
   `stmodel generate`; `stmodel encode` agrees with the Python `tokenizers` library.
2. A model trained by `stmodel train` loads in `transformers` with no missing or unexpected
   keys and gives the same logits as `stmodel logits`; its tokenizer.json loads in Python.
3. A student distilled by `stmodel distill` (from a buffer of a trained model's answers, as
   the validator records them) loads in `transformers` with the same logits, and
   `stmodel generate` runs it locally.
4. Bad input makes `stmodel` exit non-zero with a clear message.
"""

import json
import os
import random
import subprocess
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

ROOT = Path(__file__).resolve().parent.parent


def stmodel_bin() -> Path:
    env = os.environ.get("STMODEL_BIN")
    if env:
        return Path(env)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    path = target / "debug" / "stmodel"
    if not path.is_file():
        pytest.skip("stmodel is not built: run `cargo build -p subtensor-model` (or set STMODEL_BIN)")
    return path


def run(*args, check=True):
    proc = subprocess.run(
        [str(stmodel_bin()), *map(str, args)], capture_output=True, text=True, timeout=600
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"stmodel {' '.join(map(str, args))} failed:\n{proc.stderr}")
    return proc


def run_json(*args):
    out = run(*args).stdout.strip().splitlines()
    return json.loads(out[-1])


def sentences(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    subjects = ["The cat", "A dog", "The old man", "My sister", "The bird", "A child"]
    verbs = ["sat on", "looked at", "ran to", "jumped over", "walked past", "found"]
    objects = ["the mat", "a red ball", "the river", "the green door", "a tall tree"]
    return [
        f"{rng.choice(subjects)} {rng.choice(verbs)} {rng.choice(objects)}." for _ in range(n)
    ]


def python_tokenizer(texts, vocab_size: int):
    """A byte-level BPE tokenizer trained by the Python `tokenizers` library."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer)
    return tok


def hf_logits(model, tokens):
    with torch.no_grad():
        return model(torch.tensor([tokens])).logits[0].numpy()


def test_transformers_checkpoint_gives_same_logits(tmp_path):
    from transformers import GPT2Config, GPT2LMHeadModel

    texts = sentences(400, 1)
    tok = python_tokenizer(texts, 320)
    vocab = tok.get_vocab_size()
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=vocab,
        n_positions=64,
        n_embd=48,
        n_layer=3,
        n_head=4,
        bos_token_id=0,
        eos_token_id=0,
    )
    model = GPT2LMHeadModel(config).eval()
    # Larger weights than the default init make the logits spread, so the check is sharp.
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    model_dir = tmp_path / "hf"
    model.save_pretrained(model_dir, safe_serialization=True)
    tok.save(str(model_dir / "tokenizer.json"))
    assert (model_dir / "model.safetensors").is_file()

    rng = random.Random(3)
    for length in (1, 7, 64, 80):
        tokens = [rng.randrange(vocab) for _ in range(length)]
        ours = run_json("logits", "--model", model_dir, "--tokens", ",".join(map(str, tokens)))
        got = np.array(ours["logits"], dtype=np.float32)
        # Rows longer than the context keep their last n_positions tokens.
        want = hf_logits(model, tokens[-64:])
        assert got.shape == want.shape == (min(length, 64), vocab)
        np.testing.assert_allclose(got, want, atol=1e-4, rtol=0)

    # Our Rust tokenizer reads the Python-trained tokenizer.json and encodes identically.
    text = "The cat jumped over a tall tree. Then ünïcode!"
    enc = run_json("encode", "--tokenizer", model_dir, "--text", text)
    assert enc["ids"] == tok.encode(text).ids
    assert enc["eot_id"] == 0

    # Greedy generation matches transformers' (same tokens, decoded to the same text).
    prompt = "The old man"
    ids = tok.encode(prompt).ids
    with torch.no_grad():
        hf = model.generate(
            torch.tensor([ids]),
            do_sample=False,
            max_new_tokens=12,
            eos_token_id=None,
            pad_token_id=0,
        )[0].tolist()
    want_text = prompt + tok.decode(hf[len(ids):], skip_special_tokens=False)
    out = run(
        "generate", "--model", model_dir, "--prompt", prompt, "--max-new-tokens", 12,
        "--temperature", 0,
    ).stdout
    new = hf[len(ids):]
    if 0 in new:  # we stop before the end-of-text token
        want_text = prompt + tok.decode(new[: new.index(0)], skip_special_tokens=False)
    assert out.rstrip("\n") == want_text


def test_stmodel_training_loads_in_transformers(tmp_path):
    from transformers import GPT2LMHeadModel, PreTrainedTokenizerFast

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n%\n".join(sentences(600, 2)) + "\n")
    tok_path = tmp_path / "tokenizer.json"
    info = run_json("tokenizer", "--corpus", corpus, "--vocab-size", 400, "--out", tok_path)
    assert 257 < info["vocab_size"] <= 400
    out = tmp_path / "trained"
    report = run_json(
        "train", "--corpus", corpus, "--tokenizer", tok_path, "--out", out,
        "--layers", 2, "--heads", 2, "--width", 32, "--context", 32,
        "--steps", 8, "--batch", 4, "--seq-len", 16, "--quiet",
    )
    assert set(report) >= {"held_out_loss", "train_loss", "tokens_per_sec", "parameters"}
    assert report["held_out_loss"] > 0 and report["tokens_per_sec"] > 0
    for name in ("config.json", "model.safetensors", "tokenizer.json", "optimizer.safetensors",
                 "train_state.json"):
        assert (out / name).is_file(), name

    model, loading = GPT2LMHeadModel.from_pretrained(out, output_loading_info=True)
    model.eval()
    assert not loading["missing_keys"], loading
    assert not loading["unexpected_keys"], loading
    assert not loading["mismatched_keys"], loading
    n_params = sum(p.numel() for p in model.parameters())
    assert n_params == report["parameters"]

    tokens = [5, 17, 3, 99, 250, 0, 42, 7]
    ours = run_json("logits", "--model", out, "--tokens", ",".join(map(str, tokens)))
    np.testing.assert_allclose(
        np.array(ours["logits"], dtype=np.float32), hf_logits(model, tokens), atol=1e-4, rtol=0
    )

    # Our tokenizer.json is usable from Python as well.
    fast = PreTrainedTokenizerFast(tokenizer_file=str(out / "tokenizer.json"))
    text = "A dog found the river."
    ids = run_json("encode", "--tokenizer", out, "--text", text)["ids"]
    assert fast.encode(text) == ids
    assert fast.decode(ids) == text

    # `stmodel eval`: the mean cross-entropy over consecutive 16-token windows of the held-out
    # documents (every 20th), each followed by <|endoftext|>; transformers agrees.
    ev = run_json("eval", "--model", out, "--corpus", corpus, "--seq-len", 16)
    eot = fast.convert_tokens_to_ids("<|endoftext|>")
    held = []
    for doc in sentences(600, 2)[19::20]:
        held += fast.encode(doc) + [eot]
    assert ev["held_out_tokens"] == len(held)
    windows = (len(held) - 1) // 16
    x = torch.tensor([held[i * 16 : i * 16 + 16] for i in range(windows)])
    y = torch.tensor([held[i * 16 + 1 : i * 16 + 17] for i in range(windows)])
    with torch.no_grad():
        logits = model(x).logits
    want = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
    assert abs(ev["held_out_loss"] - want.item()) < 1e-4


def distill_collect_bin() -> Path:
    env = os.environ.get("DISTILL_COLLECT_BIN")
    if env:
        return Path(env)
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    path = target / "debug" / "examples" / "distill_collect"
    assert path.is_file(), \
        "build it: cargo build -p subtensor-validator --example distill_collect"
    return path


def test_distilled_student_loads_in_transformers_and_generates(tmp_path):
    from transformers import GPT2LMHeadModel

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n%\n".join(sentences(400, 5)) + "\n")
    tok_path = tmp_path / "tokenizer.json"
    run_json("tokenizer", "--corpus", corpus, "--vocab-size", 320, "--out", tok_path)
    teacher = tmp_path / "teacher"
    run_json("train", "--corpus", corpus, "--tokenizer", tok_path, "--out", teacher,
             "--layers", 1, "--heads", 2, "--width", 32, "--context", 32,
             "--steps", 6, "--batch", 4, "--seq-len", 16, "--quiet")
    buffer = tmp_path / "buffer"
    subprocess.run([str(distill_collect_bin()), "--buffer", str(buffer), "--corpus", str(corpus),
                    "--tokenizer", str(tok_path), "--teacher", str(teacher), "--windows", "80",
                    "--context", "24", "--topk", "16"], check=True, capture_output=True,
                   timeout=600)
    student = tmp_path / "student"
    report = run_json("distill", "--buffer", buffer, "--tokenizer", tok_path, "--out", student,
                      "--layers", 1, "--heads", 2, "--width", 16, "--context", 32,
                      "--steps", 4, "--batch", 8, "--eval-every", 2, "--held-out-percent", 25,
                      "--quiet")
    assert report["step"] == 4 and report["records"] == 80, report
    assert report["held_out_contexts"] > 0 and report["held_out_kl"] >= 0, report
    model, loading = GPT2LMHeadModel.from_pretrained(student, output_loading_info=True)
    model.eval()
    assert not loading["missing_keys"] and not loading["unexpected_keys"], loading
    assert model.config.n_embd == 16 and model.config.n_layer == 1
    tokens = [3, 44, 101, 7, 250]
    ours = run_json("logits", "--model", student, "--tokens", ",".join(map(str, tokens)))
    np.testing.assert_allclose(
        np.array(ours["logits"], dtype=np.float32), hf_logits(model, tokens), atol=1e-4, rtol=0
    )
    # Offline use: the student generates locally, with its own tokenizer.
    out = run("generate", "--model", student, "--prompt", "The cat", "--max-new-tokens", 5)
    assert out.stdout.startswith("The cat"), (out.stdout, out.stderr)


def test_bad_input_exits_nonzero(tmp_path):
    proc = run("logits", "--model", tmp_path / "absent", "--tokens", "1,2", check=False)
    assert proc.returncode != 0 and "absent" in proc.stderr
    model_dir = tmp_path / "m"
    run_json("init", "--out", model_dir, "--vocab-size", 50, "--layers", 1, "--heads", 2,
             "--width", 16, "--context", 16)
    proc = run("logits", "--model", model_dir, "--tokens", "1,50", check=False)
    assert proc.returncode != 0 and "outside the vocabulary" in proc.stderr
    proc = run("logits", "--model", model_dir, "--tokens", "1,x", check=False)
    assert proc.returncode != 0 and "not a token id" in proc.stderr
    cfg = json.loads((model_dir / "config.json").read_text())
    cfg["n_head"] = 3
    (model_dir / "config.json").write_text(json.dumps(cfg))
    proc = run("logits", "--model", model_dir, "--tokens", "1", check=False)
    assert proc.returncode != 0 and "n_head" in proc.stderr
    proc = run("train", "--corpus", tmp_path / "nothing", "--tokenizer", tmp_path / "t.json",
               "--out", tmp_path / "o", check=False)
    assert proc.returncode != 0 and "error:" in proc.stderr
    assert not (tmp_path / "o").exists()
