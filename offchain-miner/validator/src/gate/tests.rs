//! Persistence of the gate.

use super::*;
use rand::{rngs::StdRng, Rng, SeedableRng};

#[test]
fn gate_file_round_trips_and_bad_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub").join(GATE_FILE);
    assert!(load(&path).unwrap().is_none());
    let mut gate = Gate::new(4, DEFAULT_LEARNING_RATE, DEFAULT_NOISE);
    let mut rng = StdRng::seed_from_u64(1);
    for _ in 0..50 {
        let raw: Vec<f64> = (0..4).map(|_| rng.gen_range(-1.0..1.0)).collect();
        let loss = (rng.gen_range(0..5), "hk", rng.gen_range(1.0..5.0));
        gate.learn(&Features::new(raw), &[loss]).unwrap();
    }
    save(&gate, &path).unwrap();
    let back = load(&path).unwrap().unwrap();
    assert_eq!(back, gate);
    // No temporary file is left behind.
    assert_eq!(std::fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
    // A file that is not a gate, or holds non-finite weights, is an error.
    std::fs::write(&path, b"{}").unwrap();
    assert!(load(&path).is_err());
    let mut bad = gate.clone();
    bad.uids.values_mut().next().unwrap().weights[0] = f64::NAN;
    std::fs::write(&path, serde_json::to_vec(&bad).unwrap()).unwrap();
    assert!(load(&path).is_err());
    bad.uids.clear();
    bad.version = GATE_VERSION + 1;
    std::fs::write(&path, serde_json::to_vec(&bad).unwrap()).unwrap();
    assert!(load(&path).is_err());
}
