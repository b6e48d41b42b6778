#!/usr/bin/env bash
# Issue 15's acceptance 1 and benchmark: distillation of the network's answers into a small
# student, against the same student trained on the corpus alone, in one run.
#
#  1. Fills a distillation buffer with the answers of the "tiny" test models as teachers
#     (offchain-miner/validator/examples/distill_collect.rs: for random windows of the
#     corpus's training split, each teacher's TextCausalLMNext answer as stminer computes it,
#     written with the validator's distill::answer_records; teacher weights stand in for scores).
#     This runs the models locally so the demo needs no network. On a running subnet, collect
#     the same kind of buffer from the miners themselves through the dendrite, weighted by
#     their incentive:
#       stvalidator --netuid 1 --wallet.name validator --corpus C --tokenizer T \
#           --distill-buffer DIR --distill-collect 3000 --distill-top 3 --batch 32 --step-interval 0
#  2. `stmodel distill`: a 1 x 48 student (large is 2 x 96) for $STEPS steps of $DISTILL_BATCH
#     contexts, KL to the teacher mixture + $CE_WEIGHT x the true tokens' cross-entropy.
#  3. `stmodel train`: the same shape on the corpus alone for $STEPS steps of $BATCH x $SEQ
#     tokens, and a token-matched baseline ($STEPS steps of $DISTILL_BATCH x $SEQ).
#  4. `stmodel distill-eval` on each model, the teachers and an untrained student: held-out KL
#     to the teacher mixture (held-out 10% of the buffer's contexts) and held-out loss on the
#     corpus's held-out documents.
# Prints a table, the targets (distilled KL < baseline KL; baseline loss > distilled loss >
# teacher loss), training tokens/s of distillation vs plain training, and the held-out KL
# reduction per 100 steps.
#
# Usage: scripts/distill-demo.sh   (environment: STEPS, BATCH, SEQ, DISTILL_BATCH, CE_WEIGHT,
# WINDOWS, TOPK, THREADS, MODELS (default .local/test-models), CORPUS, OUT (kept if set),
# STMODEL / DISTILL_COLLECT (prebuilt binaries; default: built here in debug and copied, since
# the shared target directory may be overwritten by other checkouts' builds)).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=env.sh
[ -f scripts/env.sh ] && source scripts/env.sh

STEPS="${STEPS:-100}"
BATCH="${BATCH:-16}"
SEQ="${SEQ:-32}"
DISTILL_BATCH="${DISTILL_BATCH:-64}"
CE_WEIGHT="${CE_WEIGHT:-0.5}"
WINDOWS="${WINDOWS:-3000}"
TOPK="${TOPK:-512}"
THREADS="${THREADS:-2}"
MODELS="${MODELS:-$ROOT/.local/test-models}"
CORPUS="${CORPUS:-/usr/share/games/fortunes}"
OUT="${OUT:-$(mktemp -d)}"
[ -n "${OUT_KEEP:-}" ] || trap 'rm -rf "$OUT"' EXIT
for m in large medium tokenizer.json; do
    [ -e "$MODELS/$m" ] || { echo "distill-demo: $MODELS/$m missing (scripts/localnet.py prepares the tiny models)" >&2; exit 1; }
done

if [ -z "${STMODEL:-}" ] || [ -z "${DISTILL_COLLECT:-}" ]; then
    cargo build -q -p subtensor-model --bin stmodel
    cargo build -q -p subtensor-validator --example distill_collect
    target="${CARGO_TARGET_DIR:-$ROOT/target}"
    mkdir -p "$OUT/bin"
    cp "$target/debug/stmodel" "$target/debug/examples/distill_collect" "$OUT/bin/"
    STMODEL="$OUT/bin/stmodel"
    DISTILL_COLLECT="$OUT/bin/distill_collect"
fi
TOK="$MODELS/tokenizer.json"
SHAPE=(--layers 1 --heads 2 --width 48 --context 64)
json() { python3 -c "import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); print(d$1)"; }

echo "== buffer: $WINDOWS windows x teachers large (weight 1.0), medium (weight 0.3), top-$TOPK"
"$DISTILL_COLLECT" --buffer "$OUT/buffer" --corpus "$CORPUS" --tokenizer "$TOK" \
    --teacher "$MODELS/large" --weight 1.0 --teacher "$MODELS/medium" --weight 0.3 \
    --windows "$WINDOWS" --topk "$TOPK"

echo "== distil: $STEPS steps x $DISTILL_BATCH contexts, ce weight $CE_WEIGHT"
"$STMODEL" distill --buffer "$OUT/buffer" --tokenizer "$TOK" --out "$OUT/student" "${SHAPE[@]}" \
    --steps "$STEPS" --batch "$DISTILL_BATCH" --lr 5e-3 --ce-weight "$CE_WEIGHT" \
    --eval-every 25 --threads "$THREADS" --quiet > "$OUT/distill.json"
echo "== baseline: $STEPS steps x $BATCH x $SEQ tokens on the corpus"
"$STMODEL" train --corpus "$CORPUS" --tokenizer "$TOK" --out "$OUT/baseline" "${SHAPE[@]}" \
    --steps "$STEPS" --batch "$BATCH" --seq-len "$SEQ" --lr 5e-3 --threads "$THREADS" --quiet > "$OUT/train.json"
echo "== token-matched baseline: $STEPS steps x $DISTILL_BATCH x $SEQ tokens on the corpus"
"$STMODEL" train --corpus "$CORPUS" --tokenizer "$TOK" --out "$OUT/baseline-tm" "${SHAPE[@]}" \
    --steps "$STEPS" --batch "$DISTILL_BATCH" --seq-len "$SEQ" --lr 5e-3 --threads "$THREADS" --quiet > "$OUT/train-tm.json"
"$STMODEL" init --out "$OUT/untrained" --tokenizer "$TOK" "${SHAPE[@]}" > /dev/null

printf '\n%-22s %12s %14s %14s\n' model tokens held-out-KL held-out-loss
declare -A KL LOSS
for name in untrained student baseline baseline-tm large medium; do
    dir="$OUT/$name"; [ -d "$dir" ] || dir="$MODELS/$name"
    r="$("$STMODEL" distill-eval --model "$dir" --buffer "$OUT/buffer" --corpus "$CORPUS")"
    KL[$name]="$(echo "$r" | json "['held_out_kl']")"
    LOSS[$name]="$(echo "$r" | json "['held_out_loss']")"
    case $name in
        student) tokens="$(json "['tokens_seen']" < "$OUT/distill.json")" ;;
        baseline) tokens="$(json "['tokens_seen']" < "$OUT/train.json")" ;;
        baseline-tm) tokens="$(json "['tokens_seen']" < "$OUT/train-tm.json")" ;;
        *) tokens="-" ;;
    esac
    printf '%-22s %12s %14.4f %14.4f\n' "$name" "$tokens" "${KL[$name]}" "${LOSS[$name]}"
done

python3 - "$OUT" "${KL[student]}" "${KL[baseline]}" "${LOSS[student]}" "${LOSS[baseline]}" \
    "${LOSS[large]}" "${KL[untrained]}" "$STEPS" <<'PY'
import json, sys
out, kl_s, kl_b, loss_s, loss_b, loss_t, kl_0, steps = sys.argv[1:]
kl_s, kl_b, loss_s, loss_b, loss_t, kl_0 = map(float, (kl_s, kl_b, loss_s, loss_b, loss_t, kl_0))
steps = int(steps)
d = json.loads(open(f"{out}/distill.json").read().strip().splitlines()[-1])
t = json.loads(open(f"{out}/train.json").read().strip().splitlines()[-1])
tm = json.loads(open(f"{out}/train-tm.json").read().strip().splitlines()[-1])
print()
print(f"target 1: distilled held-out KL {kl_s:.4f} < baseline's {kl_b:.4f}: {'MET' if kl_s < kl_b else 'NOT MET'}")
ok = loss_b > loss_s > loss_t
print(f"target 2: baseline loss {loss_b:.4f} > distilled {loss_s:.4f} > teacher (large) {loss_t:.4f}: {'MET' if ok else 'NOT MET'}")
print()
print(f"training tokens/s: distillation {d['tokens_per_sec']:.0f}, plain training {t['tokens_per_sec']:.0f} "
      f"(token-matched {tm['tokens_per_sec']:.0f}); ratio {d['tokens_per_sec'] / t['tokens_per_sec']:.2f}")
hist = [(0, kl_0)] + [tuple(x) for x in d["held_out_kl_history"]]
print("held-out KL by step: " + ", ".join(f"{s}: {k:.4f}" for s, k in hist))
for (s0, k0), (s1, k1) in zip(hist, hist[1:]):
    print(f"  KL reduction per 100 steps over steps {s0}-{s1}: {(k0 - k1) / (s1 - s0) * 100:.4f}")
print(f"  overall: {(kl_0 - kl_s) / steps * 100:.4f} per 100 steps")
PY
