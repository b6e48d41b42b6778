//! Routing heterogeneous requests with the validator's gate (`--gate-file`, `--gate-model`;
//! issue 14's conditional computation).
//!
//! The validator trains a [`Gate`] (per-uid loss predictions from prompt features) and saves
//! it as JSON; the gateway reloads that file when its modification time changes (checked at
//! most every [`RELOAD_EVERY`]), computes the prompt's features with the same feature model
//! and restricts a request's routing to the gate's choice of `k` miners (with
//! `--gate-exploration` random slots). The latency-aware policy then plans among the chosen
//! only. Without a readable gate file the routing is unchanged.

use crate::{error::GatewayError, Result};
use parking_lot::Mutex;
use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant, SystemTime},
};
use subtensor_model::LanguageModel;
use subtensor_validator::gate::{self, features::row_features, Gate};

/// How often the gate file's modification time is checked.
pub const RELOAD_EVERY: Duration = Duration::from_secs(2);

/// The gate file as last read.
#[derive(Debug, Default)]
struct Loaded {
    gate: Option<Arc<Gate>>,
    modified: Option<SystemTime>,
    checked: Option<Instant>,
}

/// The gateway's gate: the feature model and the (reloaded) gate file.
#[derive(Clone, Debug)]
pub struct GateRouter {
    model: Arc<Mutex<LanguageModel>>,
    path: PathBuf,
    exploration: f64,
    loaded: Arc<Mutex<Loaded>>,
}

impl GateRouter {
    /// Loads the feature model in `model_dir` (its vocabulary must cover `vocab_size`) and
    /// routes with the gate in `path` (read now and whenever it changes; it may not exist
    /// yet), drawing each slot at random with probability `exploration`.
    pub fn load(
        model_dir: &Path,
        path: PathBuf,
        exploration: f64,
        vocab_size: u32,
    ) -> Result<Self> {
        let model = gate::load_feature_model(model_dir, vocab_size)
            .map_err(|e| GatewayError::Config(e.to_string()))?;
        Ok(Self::new(model, path, exploration))
    }

    /// A router over an already loaded feature model.
    pub fn new(model: LanguageModel, path: PathBuf, exploration: f64) -> Self {
        Self {
            model: Arc::new(Mutex::new(model)),
            path,
            exploration,
            loaded: Arc::new(Mutex::new(Loaded::default())),
        }
    }

    /// The current gate: the file is re-read when its modification time changed (checked at
    /// most every [`RELOAD_EVERY`]); a missing or unreadable file leaves no gate (logged).
    pub fn current(&self) -> Option<Arc<Gate>> {
        let mut loaded = self.loaded.lock();
        if loaded.checked.is_some_and(|at| at.elapsed() < RELOAD_EVERY) {
            return loaded.gate.clone();
        }
        loaded.checked = Some(Instant::now());
        let modified = std::fs::metadata(&self.path).and_then(|m| m.modified()).ok();
        if modified != loaded.modified || modified.is_none() {
            loaded.modified = modified;
            loaded.gate = match gate::load(&self.path) {
                Ok(gate) => gate.map(Arc::new),
                Err(e) => {
                    tracing::warn!("routing without the gate: {e}");
                    None
                }
            };
            if let Some(g) = &loaded.gate {
                tracing::info!(uids = g.uids.len(), "gate loaded from {}", self.path.display());
            }
        }
        loaded.gate.clone()
    }

    /// The gate's choice of `k` uids among `candidates` (uid, hotkey) for `prompt`, off the
    /// async runtime; `None` when there is no gate (then route as without one).
    pub async fn choose(
        &self,
        prompt: Vec<u32>,
        candidates: Vec<(u16, String)>,
        k: usize,
    ) -> Result<Option<Vec<u16>>> {
        let Some(gate) = self.current() else { return Ok(None) };
        let (model, exploration) = (self.model.clone(), self.exploration);
        tokio::task::spawn_blocking(move || {
            let features = row_features(&model.lock(), std::slice::from_ref(&prompt))
                .map_err(|e| GatewayError::Config(e.to_string()))?;
            let f = features.first().ok_or_else(|| GatewayError::Config("no features".into()))?;
            let cands: Vec<(u16, &str)> =
                candidates.iter().map(|(u, h)| (*u, h.as_str())).collect();
            Ok(Some(gate.choose(f, &cands, k, exploration, &mut rand::thread_rng())))
        })
        .await
        .map_err(|e| GatewayError::Config(format!("the gate task failed: {e}")))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use subtensor_validator::gate::{features::feature_dim, save};

    fn model() -> LanguageModel {
        crate::tiny_test_model()
    }

    /// A gate on which `good` always predicts loss 1 and every other uid 5.
    fn gate_favouring(good: u16, dim: usize) -> Gate {
        let mut g = Gate::new(dim, 0.5, 0.0);
        let f = subtensor_validator::gate::Features::new(vec![0.0; dim]);
        for _ in 0..50 {
            let losses: Vec<(u16, &str, f64)> = [1u16, 2, 3]
                .iter()
                .map(|u| (*u, "hk", if *u == good { 1.0 } else { 5.0 }))
                .collect();
            g.learn(&f, &losses).unwrap();
        }
        g
    }

    #[tokio::test]
    async fn routes_by_the_gate_file_and_follows_its_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gate.json");
        let m = model();
        let dim = feature_dim(&m);
        let router = GateRouter::new(m, path.clone(), 0.0);
        let cands = || (1u16..=3).map(|u| (u, "hk".to_owned())).collect::<Vec<_>>();
        // No file: no restriction.
        assert_eq!(router.choose(vec![1, 2, 3], cands(), 1).await.unwrap(), None);
        save(&gate_favouring(2, dim), &path).unwrap();
        router.loaded.lock().checked = None; // the next call re-checks the file at once
        for _ in 0..5 {
            assert_eq!(router.choose(vec![1, 2, 3], cands(), 1).await.unwrap(), Some(vec![2]));
        }
        // Another hotkey at uid 2 is unknown to the gate: predicted at the mean, so uid 2 no
        // longer wins outright.
        let other = vec![(1, "hk".to_owned()), (2, "new".to_owned()), (3, "hk".to_owned())];
        let k2 = router.choose(vec![4, 5], other, 3).await.unwrap().unwrap();
        assert_eq!(k2.len(), 3);
        // A new file (another mtime) is picked up.
        std::thread::sleep(Duration::from_millis(20));
        save(&gate_favouring(3, dim), &path).unwrap();
        router.loaded.lock().checked = None;
        assert_eq!(router.choose(vec![1, 2], cands(), 1).await.unwrap(), Some(vec![3]));
        // Until the next check the loaded gate is kept, even if the file goes away.
        std::fs::remove_file(&path).unwrap();
        assert_eq!(router.choose(vec![1], cands(), 1).await.unwrap(), Some(vec![3]));
    }
}
