//! Seeded random initial weights, generated on the CPU in Rust so that they depend only on
//! the seed (not on libtorch's global generator, which other threads may be using).

use rand::{rngs::StdRng, Rng, SeedableRng};

/// A stream of standard normal samples (Box-Muller) from a seeded ChaCha generator.
pub(crate) struct Normal {
    rng: StdRng,
    spare: Option<f64>,
}

impl Normal {
    /// A stream seeded with `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Self { rng: StdRng::seed_from_u64(seed), spare: None }
    }

    /// The next standard normal sample.
    pub(crate) fn sample(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        // u1 in (0, 1] so that ln(u1) is finite.
        let u1: f64 = 1.0 - self.rng.gen::<f64>();
        let u2: f64 = self.rng.gen::<f64>();
        let r = (-2.0 * u1.ln()).sqrt();
        let theta = std::f64::consts::TAU * u2;
        self.spare = Some(r * theta.sin());
        r * theta.cos()
    }

    /// `n` samples of mean 0 and standard deviation `std`, as `f32`.
    pub(crate) fn fill(&mut self, n: usize, std: f64) -> Vec<f32> {
        (0..n).map(|_| (self.sample() * std) as f32).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_and_determinism() {
        let a = Normal::new(7).fill(20_000, 2.0);
        let b = Normal::new(7).fill(20_000, 2.0);
        assert_eq!(a, b);
        let n = a.len() as f64;
        let mean = a.iter().map(|x| f64::from(*x)).sum::<f64>() / n;
        let var = a.iter().map(|x| (f64::from(*x) - mean).powi(2)).sum::<f64>() / n;
        assert!(mean.abs() < 0.05, "mean {mean}");
        assert!((var.sqrt() - 2.0).abs() < 0.05, "std {}", var.sqrt());
        assert_ne!(a, Normal::new(8).fill(20_000, 2.0));
    }
}
