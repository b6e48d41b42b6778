//! Per-hotkey admission: a token-bucket rate limit and a cap on requests in flight.
//!
//! Both maps are bounded: idle entries are swept when the map grows past its capacity.

use crate::{AxonError, Result};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// Limits applied to every verified hotkey.
#[derive(Clone, Copy, Debug)]
pub struct LimitConfig {
    /// Sustained requests per second per hotkey.
    pub rate_per_sec: f64,
    /// Burst size (bucket capacity) per hotkey.
    pub burst: f64,
    /// Requests one hotkey may have in flight at once.
    pub max_in_flight: usize,
    /// Number of hotkeys tracked before idle ones are swept.
    pub max_tracked: usize,
}

impl Default for LimitConfig {
    fn default() -> Self {
        Self { rate_per_sec: 100.0, burst: 200.0, max_in_flight: 32, max_tracked: 65_536 }
    }
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

#[derive(Debug, Default)]
struct State {
    buckets: HashMap<String, Bucket>,
    in_flight: HashMap<String, usize>,
}

/// The shared admission state.
#[derive(Debug, Clone)]
pub struct Limits {
    config: LimitConfig,
    state: Arc<Mutex<State>>,
}

/// Releases one in-flight slot when dropped.
#[derive(Debug)]
pub struct InFlightGuard {
    hotkey: String,
    state: Arc<Mutex<State>>,
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        let mut s = self.state.lock();
        if let Some(n) = s.in_flight.get_mut(&self.hotkey) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                s.in_flight.remove(&self.hotkey);
            }
        }
    }
}

impl Limits {
    /// New admission state.
    pub fn new(config: LimitConfig) -> Self {
        Self { config, state: Arc::default() }
    }

    /// Takes one token and one in-flight slot for `hotkey`, or says why not.
    pub fn admit(&self, hotkey: &str) -> Result<InFlightGuard> {
        let now = Instant::now();
        let c = self.config;
        let mut s = self.state.lock();
        if s.buckets.len() >= c.max_tracked && !s.buckets.contains_key(hotkey) {
            // Sweep buckets that have refilled completely: forgetting them changes nothing.
            s.buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.last).as_secs_f64() * c.rate_per_sec < c.burst
            });
        }
        let bucket =
            s.buckets.entry(hotkey.to_owned()).or_insert(Bucket { tokens: c.burst, last: now });
        let refill = now.duration_since(bucket.last).as_secs_f64() * c.rate_per_sec;
        bucket.tokens = (bucket.tokens + refill).min(c.burst);
        bucket.last = now;
        if bucket.tokens < 1.0 {
            return Err(AxonError::RateLimited(hotkey.to_owned()));
        }
        let n = s.in_flight.entry(hotkey.to_owned()).or_insert(0);
        if *n >= c.max_in_flight {
            return Err(AxonError::TooManyInFlight(hotkey.to_owned()));
        }
        *n = n.saturating_add(1);
        if let Some(b) = s.buckets.get_mut(hotkey) {
            b.tokens -= 1.0;
        }
        Ok(InFlightGuard { hotkey: hotkey.to_owned(), state: self.state.clone() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_and_concurrency() {
        let l = Limits::new(LimitConfig {
            rate_per_sec: 0.001,
            burst: 3.0,
            max_in_flight: 2,
            max_tracked: 4,
        });
        let g1 = l.admit("a").unwrap();
        let _g2 = l.admit("a").unwrap();
        assert!(matches!(l.admit("a"), Err(AxonError::TooManyInFlight(_))));
        drop(g1);
        let _g3 = l.admit("a").unwrap();
        drop(_g3);
        assert!(matches!(l.admit("a"), Err(AxonError::RateLimited(_))));
        l.admit("b").unwrap();
    }
}
