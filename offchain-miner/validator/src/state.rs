//! The validator's persisted state: per-uid scores, the query walk, the last weights and any
//! pending commitments. Stored as one JSON file, written atomically (temporary file in the
//! same directory, fsync, rename), and restored on start.
//!
//! A file that cannot be read as this format is moved aside (`state.json.corrupt-<unix s>`)
//! and the validator starts fresh with a warning: scores are re-learned, nothing is lost on
//! chain. Uids whose hotkey changed since the file was written are reset at the first sync.

use crate::{
    grid::{organic::OrganicCursor, GridScore},
    sampler::Sampler,
    scoring::UidScore,
    weights::WeightVector,
    Result, ValidatorError,
};
use serde::{Deserialize, Serialize};
use std::{
    collections::BTreeMap,
    fs,
    io::Write,
    path::{Path, PathBuf},
    time::{SystemTime, UNIX_EPOCH},
};

/// The format version written by this build.
pub const STATE_VERSION: u32 = 1;

/// The state file's name inside the state directory.
pub const STATE_FILE: &str = "state.json";

/// A weight commitment waiting for its reveal window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingCommit {
    /// The committed weights.
    pub weights: WeightVector,
    /// The salt hashed with them.
    pub salt: Vec<u16>,
    /// The version key hashed with them.
    pub version_key: u64,
    /// The commitment hash (`0x` hex).
    pub hash: String,
    /// The block the commitment was included in.
    pub commit_block: u64,
    /// The epoch index in which it must be revealed.
    pub reveal_epoch: u64,
}

/// Everything the validator persists.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Format version ([`STATE_VERSION`]).
    pub version: u32,
    /// The subnet.
    pub netuid: u16,
    /// The validator's hotkey (SS58).
    pub hotkey: String,
    /// Scores by uid.
    pub uids: BTreeMap<u16, UidScore>,
    /// The query walk.
    pub sampler: Sampler,
    /// Block in which this validator's weights were last set (or committed).
    pub last_weights_block: Option<u64>,
    /// Commitments not revealed yet, oldest first.
    pub pending_commits: Vec<PendingCommit>,
    /// Grid scores by uid (grid subnets only).
    #[serde(default)]
    pub grid: BTreeMap<u16, GridScore>,
    /// Grid challenges sent so far (each one's seed is derived from it).
    #[serde(default)]
    pub grid_counter: u64,
    /// How far the gateway's organic verdicts have been folded (`--organic-from`; grid
    /// subnets only).
    #[serde(default)]
    pub organic: Option<OrganicCursor>,
}

impl State {
    /// An empty state for `hotkey` on `netuid`.
    pub fn new(netuid: u16, hotkey: impl Into<String>) -> Self {
        Self {
            version: STATE_VERSION,
            netuid,
            hotkey: hotkey.into(),
            uids: BTreeMap::new(),
            sampler: Sampler::default(),
            last_weights_block: None,
            pending_commits: Vec::new(),
            grid: BTreeMap::new(),
            grid_counter: 0,
            organic: None,
        }
    }

    /// Resets every uid whose hotkey differs from `hotkeys` (uid → SS58) and forgets uids that
    /// no longer exist. Returns the uids reset or removed.
    pub fn reconcile(&mut self, hotkeys: &BTreeMap<u16, String>) -> Vec<u16> {
        let mut changed = Vec::new();
        self.uids.retain(|uid, score| {
            let keep = hotkeys.get(uid) == Some(&score.hotkey);
            if !keep {
                changed.push(*uid);
            }
            keep
        });
        self.grid.retain(|uid, score| {
            let keep = hotkeys.get(uid) == Some(&score.hotkey);
            if !keep && !changed.contains(uid) {
                changed.push(*uid);
            }
            keep
        });
        changed.sort_unstable();
        changed
    }

    /// The score of `uid` for `hotkey`, created (or reset, if the hotkey changed) as needed.
    pub fn score_mut(&mut self, uid: u16, hotkey: &str) -> &mut UidScore {
        let entry = self.uids.entry(uid).or_insert_with(|| UidScore::new(hotkey));
        if entry.hotkey != hotkey {
            *entry = UidScore::new(hotkey);
        }
        entry
    }

    /// The grid score of `uid` for `hotkey`, created (or reset, if the hotkey changed) as
    /// needed.
    pub fn grid_score_mut(&mut self, uid: u16, hotkey: &str) -> &mut GridScore {
        let entry = self.grid.entry(uid).or_insert_with(|| GridScore::new(hotkey));
        if entry.hotkey != hotkey {
            *entry = GridScore::new(hotkey);
        }
        entry
    }
}

/// Where the state lives and how it is read and written.
#[derive(Debug)]
pub struct StateStore {
    dir: PathBuf,
    /// The exclusive lock on `state.lock`, held for the store's life once [`Self::lock`] ran.
    lock: Option<fs::File>,
}

/// What [`StateStore::load`] found.
#[derive(Debug)]
pub enum Loaded {
    /// A state for this hotkey and subnet.
    State(State),
    /// No state file yet.
    Missing,
    /// A state file that could not be used (moved aside as `moved_to`), and why.
    Discarded {
        /// Why it was not used.
        reason: String,
        /// Where the old file now is, if it could be moved.
        moved_to: Option<PathBuf>,
    },
}

impl StateStore {
    /// A store in `dir` (created on the first save).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into(), lock: None }
    }

    /// Takes an exclusive lock on the directory (`state.lock`), so that a second validator
    /// using it fails at start instead of overwriting this one's state.
    pub fn lock(&mut self) -> Result<()> {
        fs::create_dir_all(&self.dir).map_err(|e| ValidatorError::state(&self.dir, e))?;
        let path = self.dir.join("state.lock");
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| ValidatorError::state(&path, e))?;
        match file.try_lock() {
            Ok(()) => {
                self.lock = Some(file);
                Ok(())
            }
            Err(fs::TryLockError::WouldBlock) => Err(ValidatorError::Usage(format!(
                "another validator is using the state directory {}",
                self.dir.display()
            ))),
            Err(fs::TryLockError::Error(e)) => Err(ValidatorError::state(&path, e)),
        }
    }

    /// The state file's path.
    pub fn path(&self) -> PathBuf {
        self.dir.join(STATE_FILE)
    }

    /// Reads the state for `hotkey` on `netuid`. A corrupt file, another format version, or a
    /// state of another hotkey or subnet is moved aside and reported, never an error; only an
    /// unreadable directory or file (permissions, I/O) is.
    pub fn load(&self, netuid: u16, hotkey: &str) -> Result<Loaded> {
        let path = self.path();
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Loaded::Missing),
            Err(e) => return Err(ValidatorError::state(&path, e)),
        };
        let reason = match serde_json::from_slice::<State>(&bytes) {
            Ok(state) if state.version != STATE_VERSION => {
                format!("format version {} (this build writes {STATE_VERSION})", state.version)
            }
            Ok(state) if state.netuid != netuid || state.hotkey != hotkey => {
                format!("it belongs to hotkey {} on subnet {}", state.hotkey, state.netuid)
            }
            Ok(mut state) => {
                state.uids.retain(|_, s| s.is_sane());
                state.grid.retain(|_, s| s.is_sane());
                return Ok(Loaded::State(state));
            }
            Err(e) => format!("not a valid state file ({e})"),
        };
        let stamp = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let aside = self.dir.join(format!("{STATE_FILE}.corrupt-{stamp}"));
        let moved_to = fs::rename(&path, &aside).ok().map(|()| aside);
        Ok(Loaded::Discarded { reason, moved_to })
    }

    /// Writes `state` atomically: a temporary file in the same directory, synced, then
    /// renamed over the old one.
    pub fn save(&self, state: &State) -> Result<()> {
        let path = self.path();
        let json = serde_json::to_vec_pretty(state).map_err(|e| ValidatorError::state(&path, e))?;
        write_atomic(&path, &json).map_err(|e| ValidatorError::state(&path, e))
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory (created if
/// missing), synced, then renamed over the old one (the directory is synced too, best effort).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)?;
        // Make the rename durable too (best effort: not every filesystem allows it).
        if let Ok(dir) = fs::File::open(dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    };
    write().inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })
}

/// The default state directory: `~/.bittensor/validator/<wallet>/<hotkey>/netuid<N>`.
pub fn default_state_dir(wallet: &str, hotkey: &str, netuid: u16) -> PathBuf {
    subtensor_wallet::expand_home("~/.bittensor/validator")
        .join(wallet)
        .join(hotkey)
        .join(format!("netuid{netuid}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::{Observation, ScoringParams};

    fn sample_state() -> State {
        let mut state = State::new(3, "5Validator");
        let params = ScoringParams::default();
        state.score_mut(1, "5Miner1").observe(&Observation::Loss(3.25), &params);
        state.score_mut(2, "5Miner2").observe(&Observation::Failure("timeout".into()), &params);
        state.sampler = Sampler { order: vec![2, 1, 4], cursor: 1, walks: 7 };
        state.last_weights_block = Some(120);
        state.pending_commits.push(PendingCommit {
            weights: WeightVector { uids: vec![1, 4], values: vec![65535, 100] },
            salt: vec![1, 2, 3],
            version_key: 5,
            hash: "0xabcd".into(),
            commit_block: 118,
            reveal_epoch: 13,
        });
        state
    }

    #[test]
    fn a_locked_directory_refuses_a_second_store() {
        let dir = tempfile::tempdir().unwrap();
        let mut first = StateStore::new(dir.path());
        first.lock().unwrap();
        let mut second = StateStore::new(dir.path());
        assert!(matches!(second.lock(), Err(ValidatorError::Usage(_))));
        drop(first);
        second.lock().unwrap();
    }

    #[test]
    fn save_and_load_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::new(dir.path().join("a/b"));
        assert!(matches!(store.load(3, "5Validator").unwrap(), Loaded::Missing));
        let state = sample_state();
        store.save(&state).unwrap();
        let Loaded::State(back) = store.load(3, "5Validator").unwrap() else { panic!() };
        assert_eq!(back, state);
        // Saving again replaces the file; no temporary file is left behind.
        store.save(&back).unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path().join("a/b"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec![STATE_FILE.to_owned()]);
    }

    #[test]
    fn corrupt_or_foreign_files_are_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::new(dir.path());
        std::fs::write(store.path(), b"{ not json").unwrap();
        let Loaded::Discarded { reason, moved_to } = store.load(3, "5Validator").unwrap() else {
            panic!()
        };
        assert!(reason.contains("not a valid state file"), "{reason}");
        assert!(moved_to.unwrap().exists());
        assert!(!store.path().exists());
        // A state of another hotkey is not used either.
        store.save(&sample_state()).unwrap();
        let Loaded::Discarded { reason, .. } = store.load(3, "5Other").unwrap() else { panic!() };
        assert!(reason.contains("5Validator"), "{reason}");
        // Truncated file (a crash mid-write cannot produce one, a full disk could).
        let json = serde_json::to_vec(&sample_state()).unwrap();
        std::fs::write(store.path(), &json[..json.len() / 2]).unwrap();
        assert!(matches!(store.load(3, "5Validator").unwrap(), Loaded::Discarded { .. }));
    }

    #[test]
    fn the_organic_cursor_persists_and_older_files_load_without_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::new(dir.path());
        let mut state = sample_state();
        state.grid_score_mut(5, "5Grid").organic_verified = 3;
        state.organic = Some(OrganicCursor { session: "s1".into(), next: 42 });
        store.save(&state).unwrap();
        let Loaded::State(back) = store.load(3, "5Validator").unwrap() else { panic!() };
        assert_eq!(back, state);
        // A file written before organic scoring: no cursor, no organic counters.
        let mut json = serde_json::to_value(&state).unwrap();
        json.as_object_mut().unwrap().remove("organic");
        let record = json["grid"]["5"].as_object_mut().unwrap();
        for key in ["organic_verified", "organic_rejected", "organic_failed"] {
            assert!(record.remove(key).is_some(), "{key}");
        }
        std::fs::write(store.path(), serde_json::to_vec(&json).unwrap()).unwrap();
        let Loaded::State(old) = store.load(3, "5Validator").unwrap() else { panic!() };
        assert_eq!(old.organic, None);
        assert_eq!(old.grid[&5].organic_verified, 0);
    }

    #[test]
    fn hotkey_changes_reset_uids() {
        let mut state = sample_state();
        let hotkeys: BTreeMap<u16, String> =
            [(1, "5Miner1".to_owned()), (2, "5NewOwner".to_owned())].into_iter().collect();
        assert_eq!(state.reconcile(&hotkeys), vec![2]);
        assert!(state.uids.contains_key(&1) && !state.uids.contains_key(&2));
        // A uid that left the subnet is forgotten.
        assert_eq!(state.reconcile(&BTreeMap::new()), vec![1]);
        // score_mut resets on a hotkey mismatch.
        let mut state = sample_state();
        assert_eq!(state.score_mut(1, "5Miner1").queries, 1);
        let fresh = state.score_mut(1, "5Replacement");
        assert_eq!((fresh.queries, fresh.zeroing, fresh.hotkey.as_str()), (0, 0.0, "5Replacement"));
    }
}
