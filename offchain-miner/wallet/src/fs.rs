//! Private, atomic file writes: a keyfile is either fully there with mode 0600 or not there.
//!
//! The bytes go to a fresh temporary file (mode 0600, created exclusively) in the destination
//! directory and are synced; the file is then renamed over the destination when overwriting is
//! allowed, or hard-linked to it otherwise, which fails atomically if the destination exists.

use crate::{Result, WalletError};
use std::{
    fs::{self, OpenOptions},
    io::Write,
    os::unix::fs::{DirBuilderExt, OpenOptionsExt},
    path::Path,
    sync::atomic::{AtomicU32, Ordering},
};

/// Distinguishes temporary files of one process.
static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Creates `dir` and its parents with mode 0700 (existing directories are left as they are).
pub(crate) fn create_private_dir(dir: &Path) -> Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| WalletError::io(dir, e))
}

/// Writes `bytes` to `path` atomically with mode 0600. Without `overwrite`, an existing `path`
/// is left untouched and [`WalletError::AlreadyExists`] is returned.
pub(crate) fn write_private(path: &Path, bytes: &[u8], overwrite: bool) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    create_private_dir(dir)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(
        ".{name}.tmp-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = write_tmp(&tmp, bytes).and_then(|()| {
        if overwrite {
            fs::rename(&tmp, path).map_err(|e| WalletError::io(path, e))
        } else {
            match fs::hard_link(&tmp, path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    Err(WalletError::AlreadyExists(path.to_owned()))
                }
                Err(e) => Err(WalletError::io(path, e)),
            }
        }
    });
    // Gone already after a rename; after a link (or a failure) the temporary name goes.
    let _ = fs::remove_file(&tmp);
    result?;
    // Make the new directory entry durable.
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn write_tmp(tmp: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(tmp)
        .map_err(|e| WalletError::io(tmp, e))?;
    file.write_all(bytes).and_then(|()| file.sync_all()).map_err(|e| WalletError::io(tmp, e))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn writes_private_files_and_refuses_to_clobber() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/key");
        write_private(&path, b"one", false).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"one");
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert!(matches!(write_private(&path, b"two", false), Err(WalletError::AlreadyExists(_))));
        assert_eq!(fs::read(&path).unwrap(), b"one");
        write_private(&path, b"three", true).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"three");
        // No temporary files are left behind.
        let names: Vec<_> = fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }
}
