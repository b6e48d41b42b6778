//! `stmodel`: train, evaluate, inspect and benchmark the miner's language models.

#[path = "stmodel/distill.rs"]
mod distill;

use clap::{Args, Parser, Subcommand};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;
use subtensor_model::grid::{self, CalibrationConfig, CalibrationReport, ModelDigest};
use subtensor_model::train::{self, Checkpointing, TrainConfig, TrainState};
use subtensor_model::{
    parse_device, set_threads, Corpus, GenerateParams, GptConfig, GridSampling, LanguageModel,
    ModelError, Result, TextTokenizer, TOKENIZER_FILE,
};

/// Train, evaluate, inspect and benchmark GPT-2 style language models (Hugging Face layout:
/// config.json + model.safetensors + tokenizer.json in one directory).
#[derive(Parser)]
#[command(name = "stmodel", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a byte-level BPE tokenizer (GPT-2 style, with <|endoftext|>) on a corpus.
    Tokenizer(TokenizerArgs),
    /// Write a randomly initialised model directory (for tests and benchmarks).
    Init(InitArgs),
    /// Train a model on a corpus, checkpointing into --out; prints a final JSON line.
    Train(TrainArgs),
    /// Print the held-out loss of a model on a corpus as JSON.
    Eval(EvalArgs),
    /// Continue a prompt and print the text.
    Generate(GenerateArgs),
    /// Print the logits of one token sequence as JSON.
    Logits(LogitsArgs),
    /// Print the token ids of a text as JSON.
    Encode(EncodeArgs),
    /// Measure forward-pass throughput (tokens/s) and print it as JSON.
    Bench(BenchArgs),
    /// Print the model's grid digest (SHA-256 over config.json, model.safetensors and
    /// tokenizer.json) and each file's SHA-256 as JSON.
    Digest(DigestArgs),
    /// Measure logit and token log-probability differences between cached grid decoding and
    /// the verifier's pass across thread counts and batch sizes on held-out text, and suggest
    /// a grid tolerance.
    GridCalibrate(GridCalibrateArgs),
    /// Write a copy of a model with every weight tensor w perturbed by N(0, (scale * rms(w))^2)
    /// noise from --seed (for testing grid verification); prints its digest as JSON.
    GridPerturb(GridPerturbArgs),
    /// Train a student on a distillation buffer (the network's answers): KL to each context's
    /// score-weighted teacher mixture, optionally plus the true tokens' cross-entropy;
    /// checkpoints into --out and prints a final JSON line with the held-out KL and loss.
    Distill(distill::DistillArgs),
    /// Print a model's held-out KL to a distillation buffer's teacher mixtures (and its
    /// held-out loss on --corpus) as JSON.
    DistillEval(distill::DistillEvalArgs),
}

#[derive(Args)]
struct TokenizerArgs {
    /// Corpus: a text file or a directory of them (the `fortune` format or paragraphs).
    #[arg(long)]
    corpus: PathBuf,
    /// Vocabulary size, <|endoftext|> included (at least 257).
    #[arg(long, default_value_t = 4096)]
    vocab_size: usize,
    /// Where to write tokenizer.json.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Args, Clone)]
struct ShapeArgs {
    /// Transformer blocks.
    #[arg(long, default_value_t = 2)]
    layers: i64,
    /// Attention heads per block (must divide --width).
    #[arg(long, default_value_t = 4)]
    heads: i64,
    /// Width of the residual stream (n_embd).
    #[arg(long, default_value_t = 128)]
    width: i64,
    /// Context length (n_positions).
    #[arg(long, default_value_t = 128)]
    context: i64,
}

#[derive(Args)]
struct InitArgs {
    /// Output model directory (must not exist).
    #[arg(long)]
    out: PathBuf,
    /// Tokenizer to copy into the directory; its size sets the vocabulary.
    #[arg(long)]
    tokenizer: Option<PathBuf>,
    /// Vocabulary size when no --tokenizer is given.
    #[arg(long, default_value_t = 4096)]
    vocab_size: i64,
    #[command(flatten)]
    shape: ShapeArgs,
    /// Seed of the initial weights.
    #[arg(long, default_value_t = 0)]
    seed: i64,
}

#[derive(Args)]
struct TrainArgs {
    /// Corpus: a text file or a directory of them.
    #[arg(long)]
    corpus: PathBuf,
    /// tokenizer.json (with --resume, defaults to the one in --out).
    #[arg(long)]
    tokenizer: Option<PathBuf>,
    /// Output directory: the model, tokenizer.json and the checkpoint.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    shape: ShapeArgs,
    /// Total optimizer steps.
    #[arg(long, default_value_t = 1000)]
    steps: usize,
    /// Windows per step.
    #[arg(long, default_value_t = 16)]
    batch: usize,
    /// Tokens per window.
    #[arg(long, default_value_t = 64)]
    seq_len: usize,
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
    /// Continue the checkpoint in --out.
    #[arg(long)]
    resume: bool,
    /// Measure the held-out loss every N steps (0 = only at the end).
    #[arg(long, default_value_t = 0)]
    eval_every: usize,
    /// Batches of 16 windows per held-out measurement (0 = all).
    #[arg(long, default_value_t = 20)]
    eval_batches: usize,
    /// Checkpoint every N steps (0 = only at the end).
    #[arg(long, default_value_t = 0)]
    checkpoint_every: usize,
    /// Stop after this step (checkpointing), as if interrupted; --resume continues.
    #[arg(long)]
    stop_after: Option<usize>,
    /// No progress output.
    #[arg(long)]
    quiet: bool,
}

#[derive(Args)]
struct EvalArgs {
    /// Model directory.
    #[arg(long)]
    model: PathBuf,
    /// Corpus whose held-out documents are measured.
    #[arg(long)]
    corpus: PathBuf,
    /// tokenizer.json (default: the one in --model).
    #[arg(long)]
    tokenizer: Option<PathBuf>,
    /// Batches of 16 windows (0 = all held-out tokens).
    #[arg(long, default_value_t = 0)]
    max_batches: usize,
    /// Tokens per window (default: the model's context).
    #[arg(long)]
    seq_len: Option<usize>,
    /// cpu, cuda, cuda:N or auto.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// libtorch threads (0 = default).
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

#[derive(Args)]
struct GenerateArgs {
    /// Model directory (with tokenizer.json).
    #[arg(long)]
    model: PathBuf,
    /// The text to continue.
    #[arg(long)]
    prompt: String,
    /// Most tokens to generate.
    #[arg(long, default_value_t = 40)]
    max_new_tokens: usize,
    /// Sampling temperature (0 = greedy).
    #[arg(long, default_value_t = 0.8)]
    temperature: f64,
    /// Sample among the k most likely tokens (0 = all).
    #[arg(long, default_value_t = 0)]
    top_k: usize,
    /// Nucleus sampling mass (1 = off).
    #[arg(long, default_value_t = 1.0)]
    top_p: f64,
    /// Repetition penalty (1 = off).
    #[arg(long, default_value_t = 1.0)]
    repetition_penalty: f64,
    /// Block repeated n-grams of this size (0 = off).
    #[arg(long, default_value_t = 0)]
    no_repeat_ngram_size: usize,
    /// Sampling seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// cpu, cuda, cuda:N or auto.
    #[arg(long, default_value = "cpu")]
    device: String,
}

#[derive(Args)]
struct LogitsArgs {
    /// Model directory.
    #[arg(long)]
    model: PathBuf,
    /// Comma-separated token ids, e.g. 1,2,3.
    #[arg(long)]
    tokens: String,
    /// cpu, cuda, cuda:N or auto.
    #[arg(long, default_value = "cpu")]
    device: String,
}

#[derive(Args)]
struct EncodeArgs {
    /// tokenizer.json (or a model directory holding one).
    #[arg(long)]
    tokenizer: PathBuf,
    /// The text to encode.
    #[arg(long)]
    text: String,
}

#[derive(Args)]
struct BenchArgs {
    /// Model directory.
    #[arg(long)]
    model: PathBuf,
    /// Rows per forward pass.
    #[arg(long, default_value_t = 16)]
    batch: usize,
    /// Tokens per row (at most the model's context).
    #[arg(long, default_value_t = 128)]
    seq: usize,
    /// Timed forward passes.
    #[arg(long, default_value_t = 20)]
    iters: usize,
    /// Untimed forward passes first.
    #[arg(long, default_value_t = 3)]
    warmup: usize,
    /// libtorch threads (0 = default).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// cpu, cuda, cuda:N or auto.
    #[arg(long, default_value = "cpu")]
    device: String,
}

#[derive(Args)]
struct DigestArgs {
    /// Model directory (config.json, model.safetensors, tokenizer.json).
    #[arg(long)]
    model: PathBuf,
}

#[derive(Args)]
struct GridCalibrateArgs {
    /// Model directory.
    #[arg(long)]
    model: PathBuf,
    /// Corpus whose held-out documents the prompts are cut from.
    #[arg(long)]
    corpus: PathBuf,
    /// tokenizer.json (default: the one in --model).
    #[arg(long)]
    tokenizer: Option<PathBuf>,
    /// Challenges (prompts) per configuration.
    #[arg(long, default_value_t = 64)]
    challenges: usize,
    /// Tokens per prompt.
    #[arg(long, default_value_t = 24)]
    prompt_len: usize,
    /// Tokens generated per challenge.
    #[arg(long, default_value_t = 32)]
    max_new_tokens: usize,
    /// Sampling temperature (0 = greedy).
    #[arg(long, default_value_t = 1.0)]
    temperature: f64,
    /// Sample among the k highest-scoring tokens (0 = all).
    #[arg(long, default_value_t = 0)]
    top_k: usize,
    /// Nucleus sampling mass (1 = off).
    #[arg(long, default_value_t = 1.0)]
    top_p: f64,
    /// libtorch thread counts to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    threads: Vec<usize>,
    /// Batch sizes to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,4")]
    batches: Vec<usize>,
    /// Seed of the prompt offsets and noise seeds.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// cpu, cuda, cuda:N or auto.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct GridPerturbArgs {
    /// Source model directory (config.json, model.safetensors, tokenizer.json).
    #[arg(long)]
    model: PathBuf,
    /// Noise standard deviation relative to each tensor's root mean square (> 0).
    #[arg(long, default_value_t = 0.01)]
    scale: f64,
    /// Seed of the noise: the same seed writes the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output model directory (must not exist, or be empty).
    #[arg(long)]
    out: PathBuf,
}

fn bad(msg: impl Into<String>) -> ModelError {
    ModelError::InvalidInput(msg.into())
}

fn print_json(value: &serde_json::Value) {
    println!("{value}");
}

fn shape_config(shape: &ShapeArgs, vocab_size: i64) -> GptConfig {
    GptConfig {
        vocab_size,
        n_positions: shape.context,
        n_embd: shape.width,
        n_layer: shape.layers,
        n_head: shape.heads,
        layer_norm_epsilon: 1e-5,
    }
}

fn vocab_of(tok: &TextTokenizer) -> Result<i64> {
    i64::try_from(tok.vocab_size()).map_err(|_| bad("vocabulary too large"))
}

fn cmd_tokenizer(a: &TokenizerArgs) -> Result<()> {
    let corpus = Corpus::load(&a.corpus)?;
    let started = Instant::now();
    let tok = TextTokenizer::train_bpe(&corpus.train, a.vocab_size)?;
    tok.save(&a.out)?;
    print_json(&json!({
        "tokenizer": a.out,
        "vocab_size": tok.vocab_size(),
        "documents": corpus.train.len(),
        "fingerprint": tok.fingerprint(),
        "seconds": started.elapsed().as_secs_f64(),
    }));
    Ok(())
}

fn cmd_init(a: &InitArgs) -> Result<()> {
    if a.out.exists() {
        return Err(bad(format!("{} already exists", a.out.display())));
    }
    let tok = a.tokenizer.as_deref().map(TextTokenizer::load).transpose()?;
    let vocab = match &tok {
        Some(t) => vocab_of(t)?,
        None => a.vocab_size,
    };
    let mut model = LanguageModel::random(shape_config(&a.shape, vocab), tch::Device::Cpu, a.seed)?;
    if let Some(t) = &tok {
        model.set_eos_token_id(t.eot_id())?;
    }
    model.save(&a.out)?;
    if let Some(t) = &tok {
        t.save(&a.out.join(TOKENIZER_FILE))?;
    }
    print_json(
        &json!({ "model": a.out, "parameters": model.num_parameters(), "config": model.config() }),
    );
    Ok(())
}

fn cmd_train(a: &TrainArgs) -> Result<()> {
    set_threads(a.threads);
    let device = parse_device(&a.device)?;
    let tok_path = match (&a.tokenizer, a.resume) {
        (Some(p), _) => p.clone(),
        (None, true) => a.out.join(TOKENIZER_FILE),
        (None, false) => return Err(bad("--tokenizer is required (except with --resume)")),
    };
    let tok = TextTokenizer::load(&tok_path)?;
    if a.resume {
        let saved_tok = a.out.join(TOKENIZER_FILE);
        if saved_tok.is_file()
            && TextTokenizer::load(&saved_tok)?.fingerprint() != tok.fingerprint()
        {
            return Err(bad(format!(
                "{} is not the tokenizer {} was trained with",
                tok_path.display(),
                a.out.display()
            )));
        }
    }
    let corpus = Corpus::load(&a.corpus)?;
    let train_tokens = corpus.encode_train(&tok)?;
    let held_out = corpus.encode_held_out(&tok)?;
    let mut model = if a.resume {
        let state = TrainState::load(&a.out)?;
        LanguageModel::random(state.model, device, 0)?
    } else {
        LanguageModel::random(
            shape_config(&a.shape, vocab_of(&tok)?),
            device,
            i64::from_ne_bytes(a.seed.to_ne_bytes()),
        )?
    };
    model.set_eos_token_id(tok.eot_id())?;
    let config = TrainConfig {
        steps: a.steps,
        batch_size: a.batch,
        seq_len: a.seq_len,
        learning_rate: a.lr,
        warmup_steps: a.warmup.unwrap_or((a.steps / 20).min(200)),
        weight_decay: a.weight_decay,
        seed: a.seed,
        eval_every: a.eval_every,
        eval_batches: a.eval_batches,
        checkpoint_every: a.checkpoint_every,
        stop_after: a.stop_after,
        progress: !a.quiet,
        ..TrainConfig::default()
    };
    if !a.quiet {
        eprintln!(
            "training {} parameters on {} tokens ({} held out), {} steps of {}x{} on {:?}",
            model.num_parameters(),
            train_tokens.len(),
            held_out.len(),
            config.steps,
            config.batch_size,
            config.seq_len,
            device
        );
    }
    let checkpoint = Checkpointing {
        dir: a.out.clone(),
        resume: a.resume,
        extra_files: vec![(TOKENIZER_FILE.to_owned(), tok.to_json()?.into_bytes())],
    };
    let report = train::train(&mut model, &train_tokens, &held_out, &config, Some(&checkpoint))?;
    print_json(&json!({
        "held_out_loss": report.held_out_loss,
        "train_loss": report.train_loss,
        "tokens_per_sec": report.tokens_per_sec,
        "parameters": model.num_parameters(),
        "step": report.step,
        "tokens_seen": report.tokens_seen,
        "wall_time_secs": report.wall_time_secs,
    }));
    Ok(())
}

fn model_tokenizer(model_dir: &Path, explicit: Option<&Path>) -> Result<TextTokenizer> {
    TextTokenizer::load(&explicit.map_or_else(|| model_dir.join(TOKENIZER_FILE), Path::to_path_buf))
}

fn cmd_eval(a: &EvalArgs) -> Result<()> {
    set_threads(a.threads);
    let model = LanguageModel::load(&a.model, parse_device(&a.device)?)?;
    let tok = model_tokenizer(&a.model, a.tokenizer.as_deref())?;
    if vocab_of(&tok)? > model.config().vocab_size {
        return Err(bad(format!(
            "the tokenizer has {} tokens but the model only {}",
            tok.vocab_size(),
            model.config().vocab_size
        )));
    }
    let held_out = Corpus::load(&a.corpus)?.encode_held_out(&tok)?;
    let seq_len =
        a.seq_len.unwrap_or_else(|| usize::try_from(model.config().n_positions).unwrap_or(128));
    let loss = model.held_out_loss(&held_out, seq_len, a.max_batches)?;
    print_json(
        &json!({ "held_out_loss": loss, "held_out_tokens": held_out.len(), "seq_len": seq_len }),
    );
    Ok(())
}

fn cmd_generate(a: &GenerateArgs) -> Result<()> {
    let model = LanguageModel::load(&a.model, parse_device(&a.device)?)?;
    let tok = model_tokenizer(&a.model, None)?;
    let prompt = tok.encode(&a.prompt)?;
    let params = GenerateParams {
        max_new_tokens: a.max_new_tokens,
        temperature: a.temperature,
        top_k: a.top_k,
        top_p: a.top_p,
        repetition_penalty: a.repetition_penalty,
        no_repeat_ngram_size: a.no_repeat_ngram_size,
        seed: a.seed,
        eos_id: tok.eot_id(),
    };
    let new = model.generate(&prompt, &params)?;
    println!("{}{}", a.prompt, tok.decode(&new)?);
    Ok(())
}

fn parse_tokens(s: &str) -> Result<Vec<u32>> {
    s.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| t.parse::<u32>().map_err(|_| bad(format!("--tokens: {t:?} is not a token id"))))
        .collect()
}

fn cmd_logits(a: &LogitsArgs) -> Result<()> {
    let tokens = parse_tokens(&a.tokens)?;
    if tokens.is_empty() {
        return Err(bad("--tokens is empty"));
    }
    let model = LanguageModel::load(&a.model, parse_device(&a.device)?)?;
    let logits = model.logits(std::slice::from_ref(&tokens))?;
    let size = logits.size();
    let rows: Vec<Vec<f32>> = Vec::<Vec<f32>>::try_from(logits.f_squeeze_dim(0)?)?;
    print_json(&json!({ "tokens": tokens, "shape": size, "logits": rows }));
    Ok(())
}

fn cmd_encode(a: &EncodeArgs) -> Result<()> {
    let path =
        if a.tokenizer.is_dir() { a.tokenizer.join(TOKENIZER_FILE) } else { a.tokenizer.clone() };
    let tok = TextTokenizer::load(&path)?;
    let ids = tok.encode(&a.text)?;
    print_json(&json!({ "ids": ids, "vocab_size": tok.vocab_size(), "eot_id": tok.eot_id() }));
    Ok(())
}

fn cmd_bench(a: &BenchArgs) -> Result<()> {
    set_threads(a.threads);
    let model = LanguageModel::load(&a.model, parse_device(&a.device)?)?;
    let c = model.config();
    if a.batch == 0 || a.seq == 0 || a.iters == 0 {
        return Err(bad("--batch, --seq and --iters must be at least 1"));
    }
    if i64::try_from(a.seq).map_or(true, |s| s > c.n_positions) {
        return Err(bad(format!(
            "--seq {} exceeds the model's context of {}",
            a.seq, c.n_positions
        )));
    }
    let vocab = u64::try_from(c.vocab_size).unwrap_or(1).max(1);
    let batch: Vec<Vec<u32>> = (0..a.batch as u64)
        .map(|r| {
            (0..a.seq as u64)
                .map(|t| {
                    let id = r
                        .wrapping_mul(7919)
                        .wrapping_add(t.wrapping_mul(104_729))
                        .checked_rem(vocab)
                        .unwrap_or(0);
                    u32::try_from(id).unwrap_or(0)
                })
                .collect()
        })
        .collect();
    for _ in 0..a.warmup {
        let _ = model.logits(&batch)?;
    }
    let started = Instant::now();
    for _ in 0..a.iters {
        let _ = model.logits(&batch)?;
    }
    let secs = started.elapsed().as_secs_f64();
    let tokens = a.batch.saturating_mul(a.seq).saturating_mul(a.iters) as f64;
    print_json(&json!({
        "tokens_per_sec": tokens / secs,
        "seconds_per_iter": secs / a.iters as f64,
        "batch": a.batch,
        "seq": a.seq,
        "iters": a.iters,
        "threads": tch::get_num_threads(),
        "parameters": model.num_parameters(),
        "device": format!("{:?}", model.device()),
    }));
    Ok(())
}

fn cmd_digest(a: &DigestArgs) -> Result<()> {
    let digest = ModelDigest::of_dir(&a.model)?;
    let files: serde_json::Map<String, serde_json::Value> =
        digest.files.iter().map(|(name, d)| ((*name).to_owned(), json!(hex::encode(d)))).collect();
    print_json(&json!({ "model_sha256": digest.hex(), "files": files }));
    Ok(())
}

fn cmd_grid_perturb(a: &GridPerturbArgs) -> Result<()> {
    let source = grid::model_digest_hex(&a.model)?;
    grid::perturb_model(&a.model, &a.out, a.scale, a.seed)?;
    let digest = ModelDigest::of_dir(&a.out)?;
    let files: serde_json::Map<String, serde_json::Value> =
        digest.files.iter().map(|(name, d)| ((*name).to_owned(), json!(hex::encode(d)))).collect();
    print_json(&json!({
        "model": a.out,
        "model_sha256": digest.hex(),
        "files": files,
        "source": a.model,
        "source_sha256": source,
        "scale": a.scale,
        "seed": a.seed,
    }));
    Ok(())
}

fn cmd_grid_calibrate(a: &GridCalibrateArgs) -> Result<()> {
    let model = LanguageModel::load(&a.model, parse_device(&a.device)?)?;
    let digest = grid::model_digest_hex(&a.model).ok();
    let tok = model_tokenizer(&a.model, a.tokenizer.as_deref())?;
    if vocab_of(&tok)? > model.config().vocab_size {
        return Err(bad(format!(
            "the tokenizer has {} tokens but the model only {}",
            tok.vocab_size(),
            model.config().vocab_size
        )));
    }
    let held_out = Corpus::load(&a.corpus)?.encode_held_out(&tok)?;
    let cfg = CalibrationConfig {
        challenges: a.challenges,
        prompt_len: a.prompt_len,
        max_new_tokens: a.max_new_tokens,
        sampling: GridSampling { temperature: a.temperature, top_k: a.top_k, top_p: a.top_p },
        threads: a.threads.clone(),
        batches: a.batches.clone(),
        seed: a.seed,
        progress: true,
    };
    eprintln!(
        "grid-calibrate: {} challenges of {}+{} tokens from {} held-out tokens",
        cfg.challenges,
        cfg.prompt_len,
        cfg.max_new_tokens,
        held_out.len()
    );
    let report = grid::calibrate(&model, &held_out, &cfg)?;
    if a.json {
        print_json(&json!({ "model": a.model, "model_sha256": digest, "report": report }));
    } else {
        print_calibration(&report);
    }
    Ok(())
}

fn print_calibration(r: &CalibrationReport) {
    println!(
        "{:<7} {:>7} {:>5} {:>7} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>5} {:>10} \
         {:>9}",
        "role",
        "threads",
        "batch",
        "tokens",
        "logits",
        "max|d|",
        "p99.9|d|",
        "mean|d|",
        "max|dlp|",
        "p99.9|dlp|",
        "max_margin",
        "flips",
        "min_gap",
        "tokens/s"
    );
    for row in &r.rows {
        println!(
            "{:<7} {:>7} {:>5} {:>7} {:>10} {:>10.3e} {:>10.3e} {:>10.3e} {:>10.3e} {:>10.3e} \
             {:>10.3e} {:>5} {:>10.3e} {:>9.1}",
            format!("{:?}", row.role).to_lowercase(),
            row.threads,
            row.batch,
            row.tokens,
            row.compared,
            row.max_abs_delta,
            row.p999_abs_delta,
            row.mean_abs_delta,
            row.max_logprob_delta,
            row.p999_logprob_delta,
            row.max_margin,
            row.flips,
            row.min_gap,
            row.tokens_per_sec
        );
    }
    let t = &r.tolerance;
    println!(
        "logit bound (worst decode + worst verify): max {:.3e}, p99.9 {:.3e}",
        r.logit_bound, r.logit_bound_p999
    );
    println!(
        "log-probability bound (worst decode + worst verify): max {:.3e}, p99.9 {:.3e}",
        r.logprob_bound, r.logprob_bound_p999
    );
    println!(
        "suggested tolerance (safety {} x 2/T over the bound; floors hard {}, soft {}, mask slack \
         {}; log-probability safety {} x the bound, floor {}): hard {:.4e}, soft {:.4e}, \
         soft_allowance {}, mask_slack {:.4e}, logprob {:.4e}",
        grid::CALIBRATION_SAFETY,
        grid::CALIBRATION_HARD_FLOOR,
        grid::CALIBRATION_SOFT_FLOOR,
        grid::CALIBRATION_MASK_SLACK_FLOOR,
        grid::CALIBRATION_LOGPROB_SAFETY,
        grid::CALIBRATION_LOGPROB_FLOOR,
        t.hard,
        t.soft,
        t.soft_allowance,
        t.mask_slack,
        t.logprob
    );
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Tokenizer(a) => cmd_tokenizer(a),
        Command::Init(a) => cmd_init(a),
        Command::Train(a) => cmd_train(a),
        Command::Eval(a) => cmd_eval(a),
        Command::Generate(a) => cmd_generate(a),
        Command::Logits(a) => cmd_logits(a),
        Command::Encode(a) => cmd_encode(a),
        Command::Bench(a) => cmd_bench(a),
        Command::Digest(a) => cmd_digest(a),
        Command::GridCalibrate(a) => cmd_grid_calibrate(a),
        Command::GridPerturb(a) => cmd_grid_perturb(a),
        Command::Distill(a) => distill::cmd_distill(a),
        Command::DistillEval(a) => distill::cmd_distill_eval(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
