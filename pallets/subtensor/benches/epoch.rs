//! Criterion benchmark of the pure Yuma epoch (`pallet_subtensor::epoch::run_epoch`).
//!
//! Deterministic pseudo-random subnets (a small LCG, no `rand`): `n` uids of which `v` are
//! validators spread over the uid range; every validator weights every uid (self weights
//! included, the epoch masks them) and holds a bond on every uid from the previous epoch, so
//! the (4096, 256) case has 1M weights and 1M bonds. Three modes at each of the sizes
//! (256, 64), (1024, 128) and (4096, 256): classic Yuma, Yuma-3 with a fixed bond EMA factor,
//! and Yuma-3 with liquid alpha (alpha between 0.7 and 0.9, steepness 1000: the pallet's
//! default `AlphaValues` and `AlphaSigmoidSteepness`). Run with `cargo bench -p pallet-subtensor --bench epoch`; one mode with
//! e.g. `cargo bench -p pallet-subtensor --bench epoch -- yuma3_liquid`.

#![allow(missing_docs, clippy::unwrap_used, clippy::indexing_slicing)]
#![allow(clippy::arithmetic_side_effects)]

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use pallet_subtensor::epoch::{run_epoch, EpochInput, EpochParams};

/// Knuth's MMIX linear congruential generator.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, m: u64) -> u64 {
        self.next() % m
    }
}

/// Epoch variant of a benchmark.
#[derive(Clone, Copy)]
enum Mode {
    Classic,
    Yuma3,
    Yuma3Liquid,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Classic => "classic",
            Mode::Yuma3 => "yuma3",
            Mode::Yuma3Liquid => "yuma3_liquid",
        }
    }
}

fn subnet(n: usize, validators: usize, mode: Mode, seed: u64) -> EpochInput {
    let mut rng = Lcg(seed);
    let stride = (n / validators).max(1);
    let mut validator = vec![false; n];
    for k in 0..validators {
        if let Some(v) = validator.get_mut(k * stride) {
            *v = true;
        }
    }
    let is_validator = |i: usize| validator[i];
    let current_block = 100_000u64;
    let stake: Vec<u64> = (0..n)
        .map(|i| {
            if is_validator(i) {
                1_000_000_000 + rng.below(1_000_000_000_000)
            } else {
                rng.below(1_000_000)
            }
        })
        .collect();
    let row = |rng: &mut Lcg| -> Vec<(u16, u16)> {
        let mut r: Vec<(u16, u16)> =
            (0..n).map(|j| (j as u16, 1 + rng.below(65_535) as u16)).collect();
        let k = rng.below(n as u64) as usize;
        r[k].1 = 65_535; // stored rows are max-upscaled
        r
    };
    let weights: Vec<Vec<(u16, u16)>> =
        (0..n).map(|i| if is_validator(i) { row(&mut rng) } else { Vec::new() }).collect();
    let bonds: Vec<Vec<(u16, u16)>> =
        (0..n).map(|i| if is_validator(i) { row(&mut rng) } else { Vec::new() }).collect();
    let last_update: Vec<u64> = (0..n).map(|_| current_block - rng.below(1_000)).collect();
    let block_at_registration: Vec<u64> = (0..n).map(|_| rng.below(50_000)).collect();
    let validator_permit: Vec<bool> = (0..n).map(is_validator).collect();
    EpochInput {
        stake,
        weights,
        bonds,
        last_update,
        block_at_registration,
        validator_permit,
        commit_block: None,
        rao_emission: 1_000_000_000,
        params: EpochParams {
            current_block,
            tempo: 360,
            last_step_block: current_block - 361,
            activity_cutoff: 5_000,
            kappa: 32_767,
            bonds_moving_average: 900_000,
            bonds_penalty: 65_535,
            max_allowed_validators: validators as u16,
            stake_threshold: 0,
            owner_uid: Some(1),
            yuma3: !matches!(mode, Mode::Classic),
            liquid_alpha: matches!(mode, Mode::Yuma3Liquid),
            alpha_low: 45_875,
            alpha_high: 58_982,
            alpha_sigmoid_steepness: 1_000,
        },
    }
}

fn bench_epoch(c: &mut Criterion) {
    let mut group = c.benchmark_group("run_epoch");
    group.sample_size(20);
    for mode in [Mode::Classic, Mode::Yuma3, Mode::Yuma3Liquid] {
        for &(n, v) in &[(256usize, 64usize), (1024, 128), (4096, 256)] {
            let input = subnet(n, v, mode, 42);
            group.bench_with_input(
                BenchmarkId::new(mode.name(), format!("{n}x{v}")),
                &input,
                |b, i| b.iter(|| run_epoch(black_box(i))),
            );
        }
    }
    group.finish();
}

criterion_group!(benches, bench_epoch);
criterion_main!(benches);
