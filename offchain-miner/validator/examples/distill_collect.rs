//! Fills a distillation buffer with the answers of local teacher models, as a validator would
//! record them from miners: for random windows of a corpus's training split (lengths drawn in
//! `--min-len..=--context`), each teacher's `TextCausalLMNext` answer is computed the way
//! `stminer` computes it with the standard tokenizer (top-k next tokens as one-token phrases,
//! the floor of `floor_probability`) and written with `distill::answer_records`, one record
//! per (window, teacher), each teacher weighted by its `--weight`. It needs no network (the
//! distillation demo, `scripts/distill-demo.sh`, runs it); on a running subnet
//! `stvalidator --distill-collect N` collects the same records from the miners themselves.
//!
//! `cargo run -p subtensor-validator --example distill_collect -- --buffer DIR --corpus C
//!  --tokenizer T --teacher large --weight 1 --teacher medium --weight 0.5 --windows 2000`
//! Prints a JSON line with the counts.

use clap::Parser;
use rand::{Rng, SeedableRng};
use std::path::PathBuf;
use subtensor_axon::synapse::{floor_probability, TopkPhrases};
use subtensor_model::distill::{BufferConfig, BufferWriter};
use subtensor_model::{Corpus, Device, LanguageModel, TextTokenizer};
use subtensor_validator::distill::answer_records;

/// Fill a distillation buffer from local teacher models.
#[derive(Parser)]
struct Args {
    /// The buffer directory.
    #[arg(long)]
    buffer: PathBuf,
    /// Buffer cap in MiB.
    #[arg(long, default_value_t = 256)]
    cap_mb: u64,
    /// Corpus (its training split gives the windows).
    #[arg(long)]
    corpus: PathBuf,
    /// The standard tokenizer.
    #[arg(long)]
    tokenizer: PathBuf,
    /// Teacher model directories (one miner each).
    #[arg(long, required = true)]
    teacher: Vec<PathBuf>,
    /// Each teacher's weight (its score), in --teacher order (default 1).
    #[arg(long)]
    weight: Vec<f64>,
    /// Windows (contexts) to answer.
    #[arg(long, default_value_t = 1000)]
    windows: usize,
    /// Longest window.
    #[arg(long, default_value_t = 64)]
    context: usize,
    /// Shortest window.
    #[arg(long, default_value_t = 4)]
    min_len: usize,
    /// Top-k asked per answer.
    #[arg(long, default_value_t = 64)]
    topk: u32,
    /// Seed of the windows.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = Args::parse();
    let tok = TextTokenizer::load(&a.tokenizer)?;
    let vocab = u32::try_from(tok.vocab_size())?;
    let tokens = Corpus::load(&a.corpus)?.encode_train(&tok)?;
    let max_start = tokens.len().saturating_sub(a.context.saturating_add(2));
    let mut rng = rand::rngs::StdRng::seed_from_u64(a.seed);
    let mut inputs = Vec::with_capacity(a.windows);
    let mut targets = Vec::with_capacity(a.windows);
    for _ in 0..a.windows {
        let len = rng.gen_range(a.min_len.max(1)..=a.context.max(a.min_len.max(1)));
        let start = rng.gen_range(0..=max_start);
        let window =
            tokens.get(start..start.saturating_add(len).saturating_add(1)).ok_or("short corpus")?;
        let (context, next) = window.split_at(len);
        inputs.push(context.to_vec());
        targets.push(next.to_vec());
    }
    let mut writer = BufferWriter::open(&a.buffer, BufferConfig::with_cap(a.cap_mb << 20))?;
    let mut written = 0usize;
    for (uid, dir) in a.teacher.iter().enumerate() {
        let model = LanguageModel::load(dir, Device::Cpu)?;
        let weight = a.weight.get(uid).copied().unwrap_or(1.0);
        let k = usize::try_from(a.topk)?;
        for (ins, tgs) in inputs.chunks(64).zip(targets.chunks(64)) {
            let rows: Vec<TopkPhrases> = model
                .next_token_topk(ins, k)?
                .into_iter()
                .map(|t| {
                    let sum: f32 = t.probs.iter().sum();
                    TopkPhrases {
                        phrases: t
                            .ids
                            .iter()
                            .zip(&t.probs)
                            .map(|(&id, &p)| (p, vec![id]))
                            .collect(),
                        floor: floor_probability(sum.min(1.0), a.topk, vocab),
                    }
                })
                .collect();
            let records = answer_records(ins, tgs, &rows, u16::try_from(uid)?, weight, vocab);
            written = written.saturating_add(records.len());
            writer.append_batch(&records)?;
        }
    }
    println!(
        "{}",
        serde_json::json!({ "records": written, "windows": a.windows, "teachers": a.teacher.len(), "bytes": writer.total_bytes() })
    );
    Ok(())
}
