//! Crash-safe writing of a set of files into a directory.
//!
//! A new directory is built under a temporary name next to it and renamed into place, so an
//! interrupted save leaves either no directory or a complete one. In an existing directory each
//! file is first written in full under a temporary name (and synced), then all are renamed over
//! the old ones in the given order, so no file is ever half-written.

use crate::{ModelError, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn temp_name(base: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(".{base}.tmp-{}-{n}", std::process::id())
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = std::fs::File::create(path).map_err(|e| ModelError::io(path, e))?;
    file.write_all(bytes).map_err(|e| ModelError::io(path, e))?;
    file.sync_all().map_err(|e| ModelError::io(path, e))
}

fn sync_dir(dir: &Path) {
    // Best effort: makes the renames durable where the platform allows opening directories.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Writes `files` (name, contents) into `dir` crash-safely; the last file is renamed last.
pub(crate) fn write_files(dir: &Path, files: &[(&str, &[u8])]) -> Result<()> {
    if dir.is_dir() {
        let mut staged: Vec<(PathBuf, PathBuf)> = Vec::with_capacity(files.len());
        let result = (|| {
            for (name, bytes) in files {
                let tmp = dir.join(temp_name(name));
                staged.push((tmp.clone(), dir.join(name)));
                write_synced(&tmp, bytes)?;
            }
            for (tmp, dest) in &staged {
                std::fs::rename(tmp, dest).map_err(|e| ModelError::io(dest, e))?;
            }
            sync_dir(dir);
            Ok(())
        })();
        if result.is_err() {
            for (tmp, _) in &staged {
                let _ = std::fs::remove_file(tmp);
            }
        }
        return result;
    }
    if dir.exists() {
        return Err(ModelError::io(dir, std::io::Error::other("exists and is not a directory")));
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| ModelError::io(&parent, e))?;
    let base = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".to_owned());
    let tmp_dir = parent.join(temp_name(&base));
    std::fs::create_dir(&tmp_dir).map_err(|e| ModelError::io(&tmp_dir, e))?;
    let result = (|| {
        for (name, bytes) in files {
            write_synced(&tmp_dir.join(name), bytes)?;
        }
        sync_dir(&tmp_dir);
        std::fs::rename(&tmp_dir, dir).map_err(|e| ModelError::io(dir, e))?;
        sync_dir(&parent);
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp_dir);
    }
    result
}

/// Writes one file crash-safely (temporary file in the same directory, then rename).
pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| ModelError::io(path, std::io::Error::other("not a file path")))?;
    if !dir.is_dir() {
        std::fs::create_dir_all(&dir).map_err(|e| ModelError::io(&dir, e))?;
    }
    let tmp = dir.join(temp_name(&name));
    let result = write_synced(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path).map_err(|e| ModelError::io(path, e)));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
