//! Node keys: hex, files, peer ids.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use subtensor_network::{Error, NodeKey};

#[test]
fn hex_round_trip() {
    let key = NodeKey::generate();
    let hex = key.to_hex();
    assert_eq!(hex.len(), 64);
    assert_eq!(NodeKey::from_hex(&hex).unwrap().peer_id(), key.peer_id());
    assert_eq!(NodeKey::from_hex(&format!("0x{hex}")).unwrap().peer_id(), key.peer_id());
    assert_eq!(NodeKey::from_hex(&format!(" {hex}\n")).unwrap().to_hex(), hex);
    assert!(key.peer_id().0.starts_with("12D3KooW"), "{}", key.peer_id());
    assert_ne!(NodeKey::generate().peer_id(), key.peer_id());
    // The secret never shows in debug output.
    assert!(!format!("{key:?}").contains(&hex));

    for bad in ["", "00", &hex[..62], &format!("{hex}00"), &"zz".repeat(32)] {
        assert!(matches!(NodeKey::from_hex(bad), Err(Error::InvalidNodeKey(_))), "{bad:?}");
    }
}

#[test]
fn known_secret_gives_substrates_peer_id() {
    let key = NodeKey::from_hex("0000000000000000000000000000000000000000000000000000000000000001")
        .unwrap();
    assert_eq!(key.peer_id().0, "12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp");
}

#[test]
fn load_or_generate_is_stable_and_private() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chains/test/network/secret_ed25519");
    let first = NodeKey::load_or_generate(&path).unwrap();
    let second = NodeKey::load_or_generate(&path).unwrap();
    assert_eq!(first.peer_id(), second.peer_id());
    assert_eq!(NodeKey::load(&path).unwrap().to_hex(), first.to_hex());
    // 32 raw bytes, as Substrate writes them.
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(bytes, first.secret_bytes());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    // No temporary file left behind.
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("secret_ed25519")]);
}

#[test]
fn key_files_in_hex_and_broken_files() {
    let dir = tempfile::tempdir().unwrap();
    let key = NodeKey::generate();
    let hex_file = dir.path().join("hex");
    std::fs::write(&hex_file, format!("{}\n", key.to_hex())).unwrap();
    assert_eq!(NodeKey::load(&hex_file).unwrap().peer_id(), key.peer_id());
    assert_eq!(NodeKey::load_or_generate(&hex_file).unwrap().peer_id(), key.peer_id());

    let broken = dir.path().join("broken");
    std::fs::write(&broken, [1u8, 2, 3]).unwrap();
    assert!(matches!(NodeKey::load(&broken), Err(Error::InvalidNodeKey(_))));
    assert!(matches!(NodeKey::load_or_generate(&broken), Err(Error::InvalidNodeKey(_))));
    assert!(matches!(NodeKey::load(&dir.path().join("missing")), Err(Error::NodeKeyFile { .. })));
}
