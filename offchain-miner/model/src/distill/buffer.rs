//! The distillation buffer: a bounded, append-only, crash-safe store of [`DistillRecord`]s in
//! a directory.
//!
//! * **Segments.** Records go to files `seg-<index>.dst` (index: 16 decimal digits, increasing).
//!   A writer always starts a new segment when it opens the buffer, and rotates to a new one
//!   when the current one would grow past [`BufferConfig::segment_bytes`].
//! * **Frames.** Each record is one frame: `u32 payload length | 8-byte checksum | payload`
//!   (little-endian length; the checksum is the first 8 bytes of BLAKE2s-256 of the payload),
//!   written with a single `write` call on an unbuffered file.
//! * **Cap.** Before a frame is written, the oldest segments are deleted until the buffer's
//!   total size plus the frame fits [`BufferConfig::cap_bytes`], so the directory's segments
//!   never exceed the cap, not even transiently or after a crash.
//! * **Reading.** [`read_records`] reads the segments oldest first; in each, it stops at the first
//!   frame that is short, too long or fails its checksum or decoding (a torn tail left by a
//!   crash) and goes on with the next segment. A record is returned whole and verified or not
//!   at all.
//! * **Durability ([`SyncPolicy`]).** A frame is in the kernel once [`BufferWriter::append`]
//!   returns, so a killed process loses nothing it appended. Against power loss,
//!   [`SyncPolicy::EveryAppend`] `fdatasync`s after every append and [`SyncPolicy::EveryBatch`]
//!   after every [`BufferWriter::append_batch`]; both also sync the directory after creating
//!   or deleting a segment. [`SyncPolicy::Never`] leaves it to the OS (a power loss may cost
//!   the most recent records, which readers then skip as a torn tail).
//!
//! One writer per directory at a time (not enforced); readers may run beside it.

use super::record::DistillRecord;
use crate::{ModelError, Result};
use blake2::{Blake2s256, Digest};
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

/// Bytes of a frame before its payload: the length and the checksum.
pub const FRAME_HEADER: usize = 12;
/// The largest payload a frame may declare (larger lengths mark a corrupt frame).
pub const MAX_RECORD_BYTES: usize = 16 << 20;
const SEGMENT_PREFIX: &str = "seg-";
const SEGMENT_SUFFIX: &str = ".dst";

/// When the writer forces data to stable storage (see the module documentation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SyncPolicy {
    /// Leave it to the operating system (survives a killed process, not a power loss).
    Never,
    /// After every [`BufferWriter::append_batch`] (and every single [`BufferWriter::append`]).
    #[default]
    EveryBatch,
    /// After every record, also inside a batch.
    EveryAppend,
}

/// A buffer's limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BufferConfig {
    /// Largest total size of all segments, in bytes.
    pub cap_bytes: u64,
    /// A segment is closed when the next frame would take it past this size (at most
    /// `cap_bytes`).
    pub segment_bytes: u64,
    /// When to sync.
    pub sync: SyncPolicy,
}

impl BufferConfig {
    /// A cap of `cap_bytes`, segments of a quarter of it (at most 64 MiB), syncing per batch.
    pub fn with_cap(cap_bytes: u64) -> Self {
        Self {
            cap_bytes,
            segment_bytes: (cap_bytes / 4).clamp(1, 64 << 20),
            sync: SyncPolicy::default(),
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ModelError + '_ {
    move |e| ModelError::io(path, e)
}

fn checksum(payload: &[u8]) -> [u8; 8] {
    let digest = Blake2s256::digest(payload);
    let mut out = [0u8; 8];
    for (o, d) in out.iter_mut().zip(digest.iter()) {
        *o = *d;
    }
    out
}

/// A record's frame: length, checksum, payload.
pub fn frame(record: &DistillRecord) -> Result<Vec<u8>> {
    let payload = record.encode()?;
    if payload.len() > MAX_RECORD_BYTES {
        return Err(ModelError::Buffer(format!(
            "a record of {} bytes is too large",
            payload.len()
        )));
    }
    let len =
        u32::try_from(payload.len()).map_err(|_| ModelError::Buffer("record too large".into()))?;
    let mut out = Vec::with_capacity(payload.len().saturating_add(FRAME_HEADER));
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&checksum(&payload));
    out.extend_from_slice(&payload);
    Ok(out)
}

/// The segment files of `dir` with their indices, oldest first.
fn segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let name = entry.file_name();
        let index = name
            .to_str()
            .and_then(|n| n.strip_prefix(SEGMENT_PREFIX))
            .and_then(|n| n.strip_suffix(SEGMENT_SUFFIX))
            .and_then(|n| n.parse::<u64>().ok());
        if let Some(index) = index {
            out.push((index, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

/// Appends records to a buffer directory (see the module documentation).
#[derive(Debug)]
pub struct BufferWriter {
    dir: PathBuf,
    config: BufferConfig,
    /// Closed and current segments, oldest first: (index, path, size).
    segments: Vec<(u64, PathBuf, u64)>,
    current: Option<File>,
    total: u64,
}

impl BufferWriter {
    /// Opens (creating it if needed) the buffer in `dir`, deleting the oldest segments while
    /// the existing ones exceed the cap. The first append starts a new segment.
    pub fn open(dir: &Path, config: BufferConfig) -> Result<Self> {
        if config.cap_bytes <= FRAME_HEADER as u64 || config.segment_bytes == 0 {
            return Err(ModelError::Buffer(format!(
                "cap of {} bytes or segment size of {} bytes too small",
                config.cap_bytes, config.segment_bytes
            )));
        }
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let mut found = Vec::new();
        for (index, path) in segments(dir)? {
            let size = std::fs::metadata(&path).map_err(io(&path))?.len();
            found.push((index, path, size));
        }
        let total = found.iter().map(|s| s.2).fold(0u64, u64::saturating_add);
        let mut writer =
            Self { dir: dir.to_path_buf(), config, segments: found, current: None, total };
        writer.make_room(0)?;
        Ok(writer)
    }

    /// Total bytes of the buffer's segments.
    pub fn total_bytes(&self) -> u64 {
        self.total
    }

    /// Deletes the oldest segments until `extra` more bytes fit the cap.
    fn make_room(&mut self, extra: u64) -> Result<()> {
        let mut deleted = false;
        while self.total.saturating_add(extra) > self.config.cap_bytes && !self.segments.is_empty()
        {
            let (_, path, size) = self.segments.remove(0);
            if self.segments.is_empty() {
                self.current = None;
            }
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(ModelError::io(&path, e)),
            }
            self.total = self.total.saturating_sub(size);
            deleted = true;
        }
        if deleted && self.config.sync != SyncPolicy::Never {
            sync_dir(&self.dir)?;
        }
        Ok(())
    }

    fn new_segment(&mut self) -> Result<()> {
        let index = self.segments.last().map_or(0, |s| s.0.saturating_add(1));
        let path = self.dir.join(format!("{SEGMENT_PREFIX}{index:016}{SEGMENT_SUFFIX}"));
        let file =
            OpenOptions::new().create_new(true).append(true).open(&path).map_err(io(&path))?;
        if self.config.sync != SyncPolicy::Never {
            sync_dir(&self.dir)?;
        }
        self.segments.push((index, path, 0));
        self.current = Some(file);
        Ok(())
    }

    fn write_frame(&mut self, bytes: &[u8]) -> Result<()> {
        let len = bytes.len() as u64;
        if len > self.config.cap_bytes {
            return Err(ModelError::Buffer(format!(
                "a frame of {len} bytes exceeds the cap of {} bytes",
                self.config.cap_bytes
            )));
        }
        let current_size = self.segments.last().map_or(0, |s| s.2);
        if self.current.is_none() || current_size.saturating_add(len) > self.config.segment_bytes {
            self.current = None;
            self.make_room(len)?;
            self.new_segment()?;
        } else {
            self.make_room(len)?;
            if self.current.is_none() {
                self.new_segment()?;
            }
        }
        let (file, last) = match (self.current.as_mut(), self.segments.last_mut()) {
            (Some(f), Some(l)) => (f, l),
            _ => return Err(ModelError::Buffer("no open segment".into())),
        };
        file.write_all(bytes).map_err(io(&last.1))?;
        last.2 = last.2.saturating_add(len);
        self.total = self.total.saturating_add(len);
        Ok(())
    }

    fn sync(&mut self) -> Result<()> {
        if let (Some(file), Some(last)) = (self.current.as_ref(), self.segments.last()) {
            file.sync_data().map_err(io(&last.1))?;
        }
        Ok(())
    }

    /// Appends one record (synced unless the policy is [`SyncPolicy::Never`]).
    pub fn append(&mut self, record: &DistillRecord) -> Result<()> {
        self.write_frame(&frame(record)?)?;
        if self.config.sync != SyncPolicy::Never {
            self.sync()?;
        }
        Ok(())
    }

    /// Appends records in order, syncing as the policy says.
    pub fn append_batch(&mut self, records: &[DistillRecord]) -> Result<()> {
        for record in records {
            self.write_frame(&frame(record)?)?;
            if self.config.sync == SyncPolicy::EveryAppend {
                self.sync()?;
            }
        }
        if self.config.sync == SyncPolicy::EveryBatch {
            self.sync()?;
        }
        Ok(())
    }
}

/// What [`read_records`] found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BufferContents {
    /// Every verified record, oldest first.
    pub records: Vec<DistillRecord>,
    /// Segments that ended in a torn or corrupt tail (skipped from there on).
    pub torn_tails: usize,
    /// Total bytes of the segments read.
    pub bytes: u64,
}

/// Reads the verified records of one segment's bytes; `true` when a torn or corrupt tail was
/// skipped.
fn parse_segment(mut bytes: &[u8], out: &mut Vec<DistillRecord>) -> bool {
    while !bytes.is_empty() {
        let Some((len, rest)) = bytes.split_first_chunk::<4>() else { return true };
        let Some((sum, rest)) = rest.split_first_chunk::<8>() else { return true };
        let len = usize::try_from(u32::from_le_bytes(*len)).unwrap_or(usize::MAX);
        if len > MAX_RECORD_BYTES || len > rest.len() {
            return true;
        }
        let (payload, rest) = rest.split_at(len);
        if checksum(payload) != *sum {
            return true;
        }
        match DistillRecord::decode(payload) {
            Ok(r) => out.push(r),
            Err(_) => return true,
        }
        bytes = rest;
    }
    false
}

/// Reads every verified record of the buffer in `dir`, oldest first (see the module
/// documentation); segments deleted while reading are skipped.
pub fn read_records(dir: &Path) -> Result<BufferContents> {
    let mut contents = BufferContents::default();
    for (_, path) in segments(dir)? {
        let mut bytes = Vec::new();
        match File::open(&path).and_then(|mut f| f.read_to_end(&mut bytes)) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(e) => return Err(ModelError::io(&path, e)),
        }
        contents.bytes = contents.bytes.saturating_add(bytes.len() as u64);
        if parse_segment(&bytes, &mut contents.records) {
            contents.torn_tails = contents.torn_tails.saturating_add(1);
        }
    }
    Ok(contents)
}

/// Total bytes of the segments in `dir`.
pub fn buffer_bytes(dir: &Path) -> Result<u64> {
    let mut total = 0u64;
    for (_, path) in segments(dir)? {
        match std::fs::metadata(&path) {
            Ok(m) => total = total.saturating_add(m.len()),
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(ModelError::io(&path, e)),
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]
    use super::*;
    use rand::{Rng, SeedableRng};

    fn record(seq: u32) -> DistillRecord {
        DistillRecord {
            context: vec![seq % 500, 1, 2, seq % 7],
            teacher: vec![(3, 0.5), (8, 0.25)],
            floor: 0.25 / 510.0,
            vocab: 512,
            true_next: Some(seq % 512),
            uid: (seq % 65_536) as u16,
            weight: seq as f32,
        }
    }

    fn seqs(records: &[DistillRecord]) -> Vec<u32> {
        records.iter().map(|r| r.weight as u32).collect()
    }

    #[test]
    fn round_trip_across_segments_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let config =
            BufferConfig { cap_bytes: 1 << 20, segment_bytes: 300, sync: SyncPolicy::Never };
        let mut w = BufferWriter::open(dir.path(), config).unwrap();
        let first: Vec<_> = (0..20).map(record).collect();
        w.append_batch(&first).unwrap();
        drop(w);
        let mut w = BufferWriter::open(dir.path(), config).unwrap();
        w.append(&record(20)).unwrap();
        let got = read_records(dir.path()).unwrap();
        assert_eq!(got.records.len(), 21);
        assert_eq!(got.records[..20], first[..]);
        assert_eq!(got.torn_tails, 0);
        assert!(segments(dir.path()).unwrap().len() > 2);
    }

    #[test]
    fn cap_is_never_exceeded() {
        let dir = tempfile::tempdir().unwrap();
        let config = BufferConfig { cap_bytes: 2000, segment_bytes: 500, sync: SyncPolicy::Never };
        let mut w = BufferWriter::open(dir.path(), config).unwrap();
        for seq in 0..1000 {
            w.append(&record(seq)).unwrap();
            let on_disk = buffer_bytes(dir.path()).unwrap();
            assert!(on_disk <= 2000, "{on_disk} bytes after record {seq}");
            assert_eq!(on_disk, w.total_bytes());
        }
        let got = seqs(&read_records(dir.path()).unwrap().records);
        assert_eq!(*got.last().unwrap(), 999);
        assert!(got.windows(2).all(|w| w[1] == w[0] + 1));
        // A smaller cap on reopen trims the oldest segments.
        let small = BufferConfig { cap_bytes: 900, ..config };
        drop(w);
        BufferWriter::open(dir.path(), small).unwrap();
        assert!(buffer_bytes(dir.path()).unwrap() <= 900);
    }

    #[test]
    fn torn_and_corrupt_tails_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let config =
            BufferConfig { cap_bytes: 1 << 20, segment_bytes: 1 << 20, sync: SyncPolicy::Never };
        let mut w = BufferWriter::open(dir.path(), config).unwrap();
        w.append_batch(&(0..5).map(record).collect::<Vec<_>>()).unwrap();
        drop(w);
        let (_, path) = segments(dir.path()).unwrap().pop().unwrap();
        let full = std::fs::read(&path).unwrap();
        let frame_len = frame(&record(0)).unwrap().len();
        // Every truncation inside the last frame keeps exactly the first four records.
        for cut in 1..frame_len {
            std::fs::write(&path, &full[..full.len() - cut]).unwrap();
            let got = read_records(dir.path()).unwrap();
            assert_eq!(seqs(&got.records), vec![0, 1, 2, 3], "cut {cut}");
            assert_eq!(got.torn_tails, 1);
        }
        // A flipped payload byte in record 2 drops it and what follows in that segment.
        let mut corrupt = full.clone();
        corrupt[2 * frame_len + FRAME_HEADER + 3] ^= 0x40;
        std::fs::write(&path, &corrupt).unwrap();
        assert_eq!(seqs(&read_records(dir.path()).unwrap().records), vec![0, 1]);
        // A later segment is still read.
        let mut w = BufferWriter::open(dir.path(), config).unwrap();
        w.append(&record(9)).unwrap();
        assert_eq!(seqs(&read_records(dir.path()).unwrap().records), vec![0, 1, 9]);
    }

    const CHILD_ENV: &str = "DISTILL_BUFFER_CRASH_CHILD";
    const CRASH_CAP: u64 = 6000;

    fn crash_config() -> BufferConfig {
        BufferConfig { cap_bytes: CRASH_CAP, segment_bytes: 1500, sync: SyncPolicy::Never }
    }

    /// The child of [`killed_writers_leave_a_readable_buffer`]: appends numbered records
    /// forever, continuing after the last one it finds. Does nothing without the variable.
    #[test]
    fn crash_child() {
        let Some(dir) = std::env::var_os(CHILD_ENV) else { return };
        let dir = PathBuf::from(dir);
        let next = seqs(&read_records(&dir).unwrap().records).last().map_or(0, |s| s + 1);
        let mut w = BufferWriter::open(&dir, crash_config()).unwrap();
        for seq in next.. {
            if seq % 3 == 0 {
                w.append_batch(&[record(seq)]).unwrap();
            } else {
                w.append(&record(seq)).unwrap();
            }
        }
    }

    /// Acceptance 3: a writer SIGKILLed at random moments leaves only whole, verified records,
    /// numbered in increasing order, within the cap.
    #[test]
    fn killed_writers_leave_a_readable_buffer() {
        let dir = tempfile::tempdir().unwrap();
        let exe = std::env::current_exe().unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(15);
        let mut last_seen = None;
        for round in 0..6 {
            let mut child = std::process::Command::new(&exe)
                .args(["--exact", "distill::buffer::tests::crash_child", "--nocapture"])
                .env(CHILD_ENV, dir.path())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            // Wait (by polling, not a fixed sleep: a loaded machine starts the child slowly)
            // until the child has appended past what the last round saw, then kill it at a
            // random moment of its appending.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
            while seqs(&read_records(dir.path()).unwrap().records).last().copied() <= last_seen {
                assert!(
                    std::time::Instant::now() < deadline,
                    "round {round}: child appended nothing"
                );
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            std::thread::sleep(std::time::Duration::from_millis(rng.gen_range(0..150)));
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            let got = read_records(dir.path()).unwrap();
            assert!(got.bytes <= CRASH_CAP, "round {round}: {} bytes", got.bytes);
            let s = seqs(&got.records);
            assert!(s.windows(2).all(|w| w[0] < w[1]), "round {round}: out of order");
            let last = s.last().copied();
            assert!(last >= last_seen, "round {round}: {last:?} after {last_seen:?}");
            for r in &got.records {
                assert_eq!(*r, record(r.weight as u32));
            }
            last_seen = last;
        }
        assert!(last_seen.unwrap_or(0) > 0, "the child appended nothing");
    }
}
