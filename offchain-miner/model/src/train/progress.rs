//! Training progress on stderr: an indicatif bar on a terminal, else a plain line about every
//! 5% of the run.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Instant;

/// Progress of one training run.
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    plain: bool,
    enabled: bool,
    total: usize,
    first: usize,
    every: usize,
    started: Instant,
}

fn human_rate(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.2}M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.1}k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}

fn human_duration(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m{s:02}s"),
        (h, m, _) => format!("{h}h{m:02}m"),
    }
}

impl Progress {
    /// Progress from step `first` to `total`; silent unless `enabled`.
    pub(crate) fn new(enabled: bool, first: usize, total: usize) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let bar = (enabled && terminal).then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(
                "{bar:30.cyan/blue} step {pos}/{len} | {msg} | ETA {eta_precise}",
            ) {
                bar.set_style(style);
            }
            bar.set_position(first as u64);
            bar
        });
        let every = total.saturating_sub(first).div_ceil(20).max(1);
        Self {
            bar,
            plain: enabled && !terminal,
            enabled,
            total,
            first,
            every,
            started: Instant::now(),
        }
    }

    /// Reports that `step` steps are done, with the last loss and the run's token rate.
    pub(crate) fn update(&self, step: usize, loss: f64, tokens_per_sec: f64) {
        let msg = format!("loss {loss:.4} | {} tok/s", human_rate(tokens_per_sec));
        if let Some(bar) = &self.bar {
            bar.set_position(step as u64);
            bar.set_message(msg);
        } else if self.plain {
            let done = step.saturating_sub(self.first);
            if done.checked_rem(self.every) == Some(0) || step == self.total {
                let left = self.total.saturating_sub(step) as f64;
                let elapsed = self.started.elapsed().as_secs_f64();
                let eta = if done > 0 { elapsed / done as f64 * left } else { 0.0 };
                let pct =
                    if self.total > 0 { 100.0 * step as f64 / self.total as f64 } else { 100.0 };
                eprintln!(
                    "step {step}/{} ({pct:.0}%) | {msg} | ETA {}",
                    self.total,
                    human_duration(eta)
                );
            }
        }
    }

    /// Prints a line (above the bar on a terminal), unless progress is off.
    pub(crate) fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None if self.enabled => eprintln!("{line}"),
            None => {}
        }
    }

    /// Removes the bar.
    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
