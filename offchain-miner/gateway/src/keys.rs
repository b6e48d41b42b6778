//! API keys and per-key rate limits.
//!
//! The key file holds one key per line; blank lines and lines starting with `#` are ignored,
//! surrounding whitespace is trimmed. Clients send `Authorization: Bearer KEY`. With
//! `--no-auth` every request is accepted and the rate limit applies per client address.
//!
//! The rate limit is a token bucket per key: `burst` requests at once, refilled at `rate`
//! requests per second.

use crate::{error::GatewayError, Result};
use parking_lot::Mutex;
use std::{
    collections::{HashMap, HashSet},
    path::Path,
    time::Instant,
};

/// Who may call the gateway.
#[derive(Clone, Debug)]
pub enum Auth {
    /// Anyone (`--no-auth`).
    Open,
    /// Holders of one of these keys.
    Keys(HashSet<String>),
}

impl Auth {
    /// Reads a key file (see the module documentation); an empty file is an error.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| GatewayError::io(path, e))?;
        let keys = parse_keys(&text);
        if keys.is_empty() {
            return Err(GatewayError::Config(format!(
                "{}: no API keys in the file",
                path.display()
            )));
        }
        Ok(Self::Keys(keys))
    }

    /// Checks an `Authorization` header value; returns the identity the rate limit counts:
    /// the key, or `anonymous` (the caller then uses its address) when open.
    pub fn check(&self, authorization: Option<&str>) -> Result<Option<String>> {
        let keys = match self {
            Self::Open => return Ok(None),
            Self::Keys(keys) => keys,
        };
        let Some(value) = authorization else {
            return Err(GatewayError::Unauthorized(
                "missing API key: send `Authorization: Bearer KEY`".to_owned(),
            ));
        };
        let key = value.strip_prefix("Bearer ").map(str::trim).unwrap_or_default();
        if keys.contains(key) {
            Ok(Some(key.to_owned()))
        } else {
            Err(GatewayError::Unauthorized("incorrect API key provided".to_owned()))
        }
    }
}

/// The keys in a key file's text.
pub fn parse_keys(text: &str) -> HashSet<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// One token bucket.
#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets by identity.
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

/// Most buckets kept; beyond that full (idle) buckets are dropped.
const MAX_BUCKETS: usize = 100_000;

impl RateLimiter {
    /// `rate` requests per second with bursts of `burst`; both must be positive.
    pub fn new(rate: f64, burst: f64) -> Result<Self> {
        if !(rate.is_finite() && rate > 0.0 && burst.is_finite() && burst >= 1.0) {
            return Err(GatewayError::Config("--rate must be > 0 and --burst >= 1".to_owned()));
        }
        Ok(Self { rate, burst, buckets: Mutex::new(HashMap::new()) })
    }

    /// Takes one token from `who`'s bucket at `now`, or fails with
    /// [`GatewayError::RateLimited`].
    pub fn admit(&self, who: &str, now: Instant) -> Result<()> {
        let mut buckets = self.buckets.lock();
        if buckets.len() >= MAX_BUCKETS {
            let (rate, burst) = (self.rate, self.burst);
            buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate < burst
            });
        }
        let bucket =
            buckets.entry(who.to_owned()).or_insert(Bucket { tokens: self.burst, at: now });
        let refill = now.saturating_duration_since(bucket.at).as_secs_f64() * self.rate;
        bucket.tokens = (bucket.tokens + refill).min(self.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(GatewayError::RateLimited { rate: self.rate, burst: self.burst })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn key_file_and_bearer() {
        let keys = parse_keys("# comment\n  k1  \n\nk2\n");
        assert_eq!(keys.len(), 2);
        let auth = Auth::Keys(keys);
        assert_eq!(auth.check(Some("Bearer k1")).unwrap(), Some("k1".to_owned()));
        assert!(matches!(auth.check(Some("Bearer nope")), Err(GatewayError::Unauthorized(_))));
        assert!(matches!(auth.check(None), Err(GatewayError::Unauthorized(_))));
        assert!(matches!(auth.check(Some("k1")), Err(GatewayError::Unauthorized(_))));
        assert_eq!(Auth::Open.check(None).unwrap(), None);
    }

    #[test]
    fn bucket_allows_burst_then_rate() {
        let limiter = RateLimiter::new(2.0, 3.0).unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            limiter.admit("a", t0).unwrap();
        }
        assert!(matches!(limiter.admit("a", t0), Err(GatewayError::RateLimited { .. })));
        limiter.admit("b", t0).unwrap();
        let later = t0 + Duration::from_millis(500);
        limiter.admit("a", later).unwrap();
        assert!(limiter.admit("a", later).is_err());
        assert!(RateLimiter::new(0.0, 1.0).is_err());
    }
}
