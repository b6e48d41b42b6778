//! The latency map: what the gateway has measured of each miner, per subnet and uid.
//!
//! Per miner: an EWMA of the round-trip time of answered requests; a ring of the last
//! [`WINDOW`] outcomes (success, partial, failure) with their time to first token and tokens
//! per second, from which the TTFT p50/p90, the median tokens/s and the success rate over the
//! recent window come; the run of consecutive failures; and the requests in flight now.
//!
//! Miners answer whole generations (there is no streaming synapse yet), so a miner's "time to
//! first token" is its round-trip time; the field keeps its name for when streaming exists.
//!
//! The map is saved as JSON (written to a temporary file, then renamed over the old one) and
//! restored at start; in-flight counts are not saved. A uid whose hotkey changed (a new
//! registration) starts afresh.

use crate::{error::GatewayError, Result};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::{
    collections::{BTreeMap, VecDeque},
    path::Path,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

/// Outcomes remembered per miner.
pub const WINDOW: usize = 32;
/// Weight of the newest round trip in the EWMA.
pub const EWMA_ALPHA: f64 = 0.2;

/// How one request to a miner ended.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    /// A valid answer.
    Success,
    /// An answer that arrived but could not be used (empty, not decodable).
    Partial,
    /// An error, a refusal or a timeout.
    Failure,
}

/// One remembered request.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// How it ended.
    pub kind: OutcomeKind,
    /// Milliseconds to the first token (the whole answer, for now); `None` on failure.
    pub ttft_ms: Option<f64>,
    /// Generated tokens per second of round trip; `None` unless a success.
    pub tokens_per_s: Option<f64>,
    /// When it ended, Unix milliseconds.
    pub at_ms: u64,
}

/// What the gateway knows of one miner.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MinerStats {
    /// The hotkey these figures belong to.
    pub hotkey: String,
    /// EWMA of the round-trip time of answered requests, milliseconds.
    pub rtt_ewma_ms: Option<f64>,
    /// The last [`WINDOW`] outcomes, oldest first.
    pub recent: VecDeque<Sample>,
    /// Failures since the last success or partial answer.
    pub consecutive_failures: u32,
    /// Requests sent and not yet ended (not saved).
    #[serde(skip)]
    pub in_flight: u32,
}

/// A miner's figures, as routing and `/map` see them.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct MinerSummary {
    /// The hotkey.
    pub hotkey: String,
    /// EWMA round trip, ms.
    pub rtt_ewma_ms: Option<f64>,
    /// Median time to first token, ms.
    pub ttft_p50_ms: Option<f64>,
    /// 90th percentile time to first token, ms.
    pub ttft_p90_ms: Option<f64>,
    /// Median generated tokens per second.
    pub tokens_per_s: Option<f64>,
    /// Successes in the window.
    pub successes: u32,
    /// Partial answers in the window.
    pub partials: u32,
    /// Failures in the window.
    pub failures: u32,
    /// Successes over the window's outcomes; `None` before the first.
    pub success_rate: Option<f64>,
    /// Failures since the last answer.
    pub consecutive_failures: u32,
    /// When the last failure ended, Unix ms.
    pub last_failure_ms: Option<u64>,
    /// Requests in flight now.
    pub in_flight: u32,
}

/// The `q`-quantile (0..=1) of `values` by nearest rank; `None` when empty.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    sorted.sort_by(f64::total_cmp);
    let last = sorted.len().checked_sub(1)?;
    let rank = (q.clamp(0.0, 1.0) * last as f64).round();
    let index = if rank.is_finite() && rank >= 0.0 { rank as usize } else { 0 };
    sorted.get(index.min(last)).copied()
}

impl MinerStats {
    /// Adds an outcome.
    pub fn record(&mut self, sample: Sample) {
        if self.recent.len() >= WINDOW {
            self.recent.pop_front();
        }
        match sample.kind {
            OutcomeKind::Failure => {
                self.consecutive_failures = self.consecutive_failures.saturating_add(1)
            }
            OutcomeKind::Success | OutcomeKind::Partial => {
                self.consecutive_failures = 0;
                if let Some(rtt) = sample.ttft_ms {
                    self.rtt_ewma_ms = Some(match self.rtt_ewma_ms {
                        Some(old) => old * (1.0 - EWMA_ALPHA) + rtt * EWMA_ALPHA,
                        None => rtt,
                    });
                }
            }
        }
        self.recent.push_back(sample);
    }

    /// The summary of these figures.
    pub fn summary(&self) -> MinerSummary {
        let count = |k: OutcomeKind| {
            u32::try_from(self.recent.iter().filter(|s| s.kind == k).count()).unwrap_or(u32::MAX)
        };
        let ttft: Vec<f64> = self.recent.iter().filter_map(|s| s.ttft_ms).collect();
        let tps: Vec<f64> = self.recent.iter().filter_map(|s| s.tokens_per_s).collect();
        let successes = count(OutcomeKind::Success);
        let total = self.recent.len();
        MinerSummary {
            hotkey: self.hotkey.clone(),
            rtt_ewma_ms: self.rtt_ewma_ms,
            ttft_p50_ms: quantile(&ttft, 0.5),
            ttft_p90_ms: quantile(&ttft, 0.9),
            tokens_per_s: quantile(&tps, 0.5),
            successes,
            partials: count(OutcomeKind::Partial),
            failures: count(OutcomeKind::Failure),
            success_rate: (total > 0).then(|| f64::from(successes) / total as f64),
            consecutive_failures: self.consecutive_failures,
            last_failure_ms: self
                .recent
                .iter()
                .rev()
                .find(|s| s.kind == OutcomeKind::Failure)
                .map(|s| s.at_ms),
            in_flight: self.in_flight,
        }
    }
}

/// Unix milliseconds now.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Figures by subnet, then uid.
pub type MapData = BTreeMap<u16, BTreeMap<u16, MinerStats>>;

/// The shared, thread-safe latency map.
#[derive(Clone, Debug, Default)]
pub struct LatencyMap {
    inner: Arc<Mutex<MapData>>,
}

/// Counts one request in flight for a miner until dropped.
#[derive(Debug)]
pub struct InFlight {
    map: LatencyMap,
    netuid: u16,
    uid: u16,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut data = self.map.inner.lock();
        if let Some(s) = data.get_mut(&self.netuid).and_then(|m| m.get_mut(&self.uid)) {
            s.in_flight = s.in_flight.saturating_sub(1);
        }
    }
}

impl LatencyMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// The map saved at `path`, or an empty one if there is no file.
    pub fn load(path: &Path) -> Result<Self> {
        match std::fs::read(path) {
            Ok(bytes) => {
                let data: MapData = serde_json::from_slice(&bytes)?;
                Ok(Self { inner: Arc::new(Mutex::new(data)) })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::new()),
            Err(e) => Err(GatewayError::io(path, e)),
        }
    }

    /// Saves atomically: a temporary file next to `path`, then a rename.
    pub fn save(&self, path: &Path) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(&*self.inner.lock())?;
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = std::path::PathBuf::from(tmp);
        std::fs::write(&tmp, bytes).map_err(|e| GatewayError::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| GatewayError::io(path, e))
    }

    /// The entry of a miner, reset if its hotkey changed.
    fn entry<'a>(data: &'a mut MapData, netuid: u16, uid: u16, hotkey: &str) -> &'a mut MinerStats {
        let stats = data.entry(netuid).or_default().entry(uid).or_default();
        if stats.hotkey != hotkey {
            let in_flight = if stats.hotkey.is_empty() { stats.in_flight } else { 0 };
            *stats = MinerStats { hotkey: hotkey.to_owned(), in_flight, ..MinerStats::default() };
        }
        stats
    }

    /// Counts a request to a miner as in flight until the guard drops.
    pub fn start(&self, netuid: u16, uid: u16, hotkey: &str) -> InFlight {
        let mut data = self.inner.lock();
        let s = Self::entry(&mut data, netuid, uid, hotkey);
        s.in_flight = s.in_flight.saturating_add(1);
        InFlight { map: self.clone(), netuid, uid }
    }

    /// Records how a request to a miner ended: `elapsed` round trip, `tokens` generated.
    pub fn record(
        &self,
        netuid: u16,
        uid: u16,
        hotkey: &str,
        kind: OutcomeKind,
        elapsed: Duration,
        tokens: usize,
    ) {
        let ms = elapsed.as_secs_f64() * 1000.0;
        let secs = elapsed.as_secs_f64().max(1e-6);
        let sample = Sample {
            kind,
            ttft_ms: (kind != OutcomeKind::Failure).then_some(ms),
            tokens_per_s: (kind == OutcomeKind::Success).then(|| tokens as f64 / secs),
            at_ms: now_ms(),
        };
        let mut data = self.inner.lock();
        Self::entry(&mut data, netuid, uid, hotkey).record(sample);
    }

    /// The summary of one miner (a blank one if never seen or its hotkey changed).
    pub fn summary(&self, netuid: u16, uid: u16, hotkey: &str) -> MinerSummary {
        let data = self.inner.lock();
        match data.get(&netuid).and_then(|m| m.get(&uid)) {
            Some(s) if s.hotkey == hotkey => s.summary(),
            _ => MinerSummary { hotkey: hotkey.to_owned(), ..MinerSummary::default() },
        }
    }

    /// Every miner's summary, by subnet and uid (the `/map` view).
    pub fn view(&self) -> BTreeMap<u16, BTreeMap<u16, MinerSummary>> {
        self.inner
            .lock()
            .iter()
            .map(|(netuid, miners)| {
                (*netuid, miners.iter().map(|(uid, s)| (*uid, s.summary())).collect())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_by_nearest_rank() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), Some(6.0));
        assert_eq!(quantile(&v, 0.9), Some(9.0));
        assert_eq!(quantile(&v, 0.0), Some(1.0));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn records_window_and_restores() {
        let map = LatencyMap::new();
        {
            let _g = map.start(1, 3, "hk");
            assert_eq!(map.summary(1, 3, "hk").in_flight, 1);
        }
        assert_eq!(map.summary(1, 3, "hk").in_flight, 0);
        for i in 0..40u64 {
            let kind = if i % 4 == 0 { OutcomeKind::Failure } else { OutcomeKind::Success };
            map.record(1, 3, "hk", kind, Duration::from_millis(100 + i), 10);
        }
        let s = map.summary(1, 3, "hk");
        assert_eq!(s.successes + s.partials + s.failures, WINDOW as u32);
        assert_eq!(s.failures, 8);
        assert!(s.ttft_p50_ms.unwrap() >= 100.0 && s.ttft_p90_ms >= s.ttft_p50_ms);
        assert!(s.tokens_per_s.unwrap() > 50.0);
        // A new hotkey on the uid starts afresh.
        assert_eq!(map.summary(1, 3, "other").successes, 0);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("map.json");
        map.save(&path).unwrap();
        let back = LatencyMap::load(&path).unwrap();
        assert_eq!(back.summary(1, 3, "hk"), s);
        assert!(LatencyMap::load(&dir.path().join("none.json")).unwrap().view().is_empty());
    }
}
