//! The learning-rate schedule: linear warmup, then cosine decay to a floor.

/// Learning rate at `step` (0-based): rises linearly from `peak / warmup` to `peak` over the
/// first `warmup` steps, then follows a cosine from `peak` down to `peak * min_ratio` at
/// `total` steps (and stays there).
pub(crate) fn learning_rate(
    step: usize,
    total: usize,
    warmup: usize,
    peak: f64,
    min_ratio: f64,
) -> f64 {
    if step < warmup {
        return peak * (step.saturating_add(1) as f64) / (warmup as f64);
    }
    let decay_steps = total.saturating_sub(warmup).max(1);
    let progress = ((step.saturating_sub(warmup)) as f64 / decay_steps as f64).min(1.0);
    let floor = peak * min_ratio;
    floor + 0.5 * (peak - floor) * (1.0 + (std::f64::consts::PI * progress).cos())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_then_cosine() {
        let lr = |s| learning_rate(s, 110, 10, 1.0, 0.1);
        assert!((lr(0) - 0.1).abs() < 1e-12);
        assert!((lr(9) - 1.0).abs() < 1e-12);
        assert!((lr(10) - 1.0).abs() < 1e-12);
        assert!((lr(60) - 0.55).abs() < 1e-12);
        assert!((lr(110) - 0.1).abs() < 1e-12);
        assert!((lr(500) - 0.1).abs() < 1e-12);
        for s in 10..109 {
            assert!(lr(s + 1) <= lr(s));
        }
        assert!((learning_rate(0, 5, 0, 2.0, 0.0) - 2.0).abs() < 1e-12);
    }
}
