//! `stmodel distill` and `stmodel distill-eval`: train a student on a distillation buffer, and
//! measure any model against one.

use crate::{bad, print_json, shape_config, vocab_of, ShapeArgs};
use clap::Args;
use serde_json::json;
use std::path::PathBuf;
use subtensor_model::distill::{held_out_kl, load_split, DistillObjective};
use subtensor_model::train::{self, Checkpointing, TrainConfig, TrainState};
use subtensor_model::{
    parse_device, set_threads, Corpus, GptConfig, LanguageModel, Result, TextTokenizer,
    CONFIG_FILE, TOKENIZER_FILE,
};

#[derive(Args)]
pub(crate) struct DistillArgs {
    /// The distillation buffer directory (written by `stvalidator --distill-buffer`).
    #[arg(long)]
    buffer: PathBuf,
    /// The network's standard tokenizer.json (with --resume, defaults to the one in --out).
    #[arg(long)]
    tokenizer: Option<PathBuf>,
    /// Output model directory (Hugging Face layout) and checkpoint.
    #[arg(long)]
    out: PathBuf,
    /// The student's shape as a config.json (a model directory's, or a Hugging Face GPT-2
    /// config); without it, --layers/--heads/--width/--context.
    #[arg(long)]
    student_config: Option<PathBuf>,
    #[command(flatten)]
    shape: ShapeArgs,
    /// Corpus whose held-out documents give the held-out next-token loss at the end.
    #[arg(long)]
    corpus: Option<PathBuf>,
    /// Weight of the cross-entropy of the true tokens along each context (0 = pure KL).
    #[arg(long, default_value_t = 0.0)]
    ce_weight: f64,
    /// Percent of the buffer's contexts held out for the held-out KL.
    #[arg(long, default_value_t = 10)]
    held_out_percent: u8,
    /// Total optimizer steps.
    #[arg(long, default_value_t = 1000)]
    steps: usize,
    /// Contexts per step.
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// Peak learning rate.
    #[arg(long, default_value_t = 3e-3)]
    lr: f64,
    /// Warmup steps (default: 5% of --steps, at most 200).
    #[arg(long)]
    warmup: Option<usize>,
    /// Decoupled weight decay.
    #[arg(long, default_value_t = 0.1)]
    weight_decay: f64,
    /// Seed of the initial weights and of the data order.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// cpu, cuda, cuda:N or auto.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// libtorch threads (0 = libtorch's default).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Continue the checkpoint in --out (on the same buffer contents).
    #[arg(long)]
    resume: bool,
    /// Measure the held-out KL every N steps (0 = only at the end).
    #[arg(long, default_value_t = 0)]
    eval_every: usize,
    /// Checkpoint every N steps (0 = only at the end).
    #[arg(long, default_value_t = 0)]
    checkpoint_every: usize,
    /// No progress output.
    #[arg(long)]
    quiet: bool,
}

#[derive(Args)]
pub(crate) struct DistillEvalArgs {
    /// Model directory.
    #[arg(long)]
    model: PathBuf,
    /// The distillation buffer directory.
    #[arg(long)]
    buffer: PathBuf,
    /// Percent of the contexts held out (must match the training run's).
    #[arg(long, default_value_t = 10)]
    held_out_percent: u8,
    /// Corpus whose held-out documents give the held-out next-token loss.
    #[arg(long)]
    corpus: Option<PathBuf>,
    /// Batches of 16 windows for the corpus loss (0 = all held-out tokens).
    #[arg(long, default_value_t = 0)]
    max_batches: usize,
    /// cpu, cuda, cuda:N or auto.
    #[arg(long, default_value = "cpu")]
    device: String,
}

fn corpus_loss(
    model: &LanguageModel,
    corpus: Option<&PathBuf>,
    tok: &TextTokenizer,
    max_batches: usize,
) -> Result<Option<f64>> {
    let Some(corpus) = corpus else { return Ok(None) };
    let held_out = Corpus::load(corpus)?.encode_held_out(tok)?;
    let seq_len = usize::try_from(model.config().n_positions).unwrap_or(64);
    model.held_out_loss(&held_out, seq_len, max_batches).map(Some)
}

pub(crate) fn cmd_distill(a: &DistillArgs) -> Result<()> {
    set_threads(a.threads);
    let device = parse_device(&a.device)?;
    let tok_path = match (&a.tokenizer, a.resume) {
        (Some(p), _) => p.clone(),
        (None, true) => a.out.join(TOKENIZER_FILE),
        (None, false) => return Err(bad("--tokenizer is required (except with --resume)")),
    };
    let tok = TextTokenizer::load(&tok_path)?;
    let shape = if a.resume {
        TrainState::load(&a.out)?.model
    } else if let Some(path) = &a.student_config {
        let path = if path.is_dir() { path.join(CONFIG_FILE) } else { path.clone() };
        let (mut c, _) = GptConfig::load_hf(&path)?;
        c.vocab_size = vocab_of(&tok)?;
        c
    } else {
        shape_config(&a.shape, vocab_of(&tok)?)
    };
    let mut model = LanguageModel::random(shape, device, i64::from_ne_bytes(a.seed.to_ne_bytes()))?;
    model.set_eos_token_id(tok.eot_id())?;
    let split = load_split(&a.buffer, a.held_out_percent)?;
    let (records, torn, train_n, held_n) =
        (split.records, split.torn_tails, split.train.len(), split.held_out.len());
    let mut objective = DistillObjective::new(&model, split.train, split.held_out, a.ce_weight)?;
    let config = TrainConfig {
        steps: a.steps,
        batch_size: a.batch,
        seq_len: usize::try_from(model.config().n_positions).unwrap_or(1),
        learning_rate: a.lr,
        warmup_steps: a.warmup.unwrap_or((a.steps / 20).min(200)),
        weight_decay: a.weight_decay,
        seed: a.seed,
        eval_every: a.eval_every,
        eval_batches: 0,
        checkpoint_every: a.checkpoint_every,
        progress: !a.quiet,
        ..TrainConfig::default()
    };
    if !a.quiet {
        eprintln!(
            "distilling {} parameters from {records} records ({torn} torn tails): {train_n} \
             training and {held_n} held-out contexts, {} steps of {} on {device:?}",
            model.num_parameters(),
            config.steps,
            config.batch_size
        );
    }
    let checkpoint = Checkpointing {
        dir: a.out.clone(),
        resume: a.resume,
        extra_files: vec![(TOKENIZER_FILE.to_owned(), tok.to_json()?.into_bytes())],
    };
    let report = train::run(&mut model, &mut objective, &config, Some(&checkpoint))?;
    let held_out_loss = corpus_loss(&model, a.corpus.as_ref(), &tok, 0)?;
    print_json(&json!({
        "held_out_kl": report.held_out_loss,
        "held_out_kl_history": report.held_out_history,
        "held_out_loss": held_out_loss,
        "train_loss": report.train_loss,
        "tokens_per_sec": report.tokens_per_sec,
        "parameters": model.num_parameters(),
        "step": report.step,
        "tokens_seen": report.tokens_seen,
        "records": records,
        "train_contexts": train_n,
        "held_out_contexts": held_n,
        "wall_time_secs": report.wall_time_secs,
    }));
    Ok(())
}

pub(crate) fn cmd_distill_eval(a: &DistillEvalArgs) -> Result<()> {
    let model = LanguageModel::load(&a.model, parse_device(&a.device)?)?;
    let tok = TextTokenizer::load(&a.model.join(TOKENIZER_FILE))?;
    let split = load_split(&a.buffer, a.held_out_percent)?;
    let kl = held_out_kl(&model, &split.held_out)?;
    let loss = corpus_loss(&model, a.corpus.as_ref(), &tok, a.max_batches)?;
    print_json(&json!({
        "model": a.model,
        "held_out_kl": kl,
        "held_out_contexts": split.held_out.len(),
        "held_out_loss": loss,
        "parameters": model.num_parameters(),
    }));
    Ok(())
}
