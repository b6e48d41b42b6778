//! The per-peer limit on inbound requests: a bound on concurrent requests and a token bucket.

use std::time::Instant;

/// The most requests of one peer being answered at once.
pub(crate) const MAX_CONCURRENT_PER_PEER: u32 = 32;
/// The burst of requests a peer may send at once.
const BUCKET_CAPACITY: f64 = 128.0;
/// The sustained requests per second a peer may send.
const REFILL_PER_SECOND: f64 = 64.0;

/// One peer's inbound request budget.
#[derive(Debug)]
pub(crate) struct RequestBudget {
    tokens: f64,
    refilled: Instant,
    in_flight: u32,
}

impl RequestBudget {
    /// A full budget.
    pub(crate) fn new(now: Instant) -> Self {
        RequestBudget { tokens: BUCKET_CAPACITY, refilled: now, in_flight: 0 }
    }

    /// Takes one request from the budget; false when the peer is over its limit.
    pub(crate) fn try_start(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.refilled = now;
        self.tokens = (self.tokens + elapsed * REFILL_PER_SECOND).min(BUCKET_CAPACITY);
        if self.in_flight >= MAX_CONCURRENT_PER_PEER || self.tokens < 1.0 {
            return false;
        }
        self.tokens -= 1.0;
        self.in_flight = self.in_flight.saturating_add(1);
        true
    }

    /// A request of this peer was answered (or abandoned).
    pub(crate) fn finish(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::arithmetic_side_effects)]
    use super::*;
    use std::time::Duration;

    #[test]
    fn concurrency_and_rate_are_bounded() {
        let start = Instant::now();
        let mut budget = RequestBudget::new(start);
        for _ in 0..MAX_CONCURRENT_PER_PEER {
            assert!(budget.try_start(start));
        }
        assert!(!budget.try_start(start), "concurrency bound");
        // Finish them all: the burst allows the remaining tokens, then refuses.
        let mut started = MAX_CONCURRENT_PER_PEER;
        loop {
            budget.finish();
            if !budget.try_start(start) {
                break;
            }
            started += 1;
            assert!(started <= 200, "the bucket must run dry");
        }
        assert_eq!(started, 128);
        // A second later the bucket has refilled.
        assert!(budget.try_start(start + Duration::from_secs(1)));
    }
}
