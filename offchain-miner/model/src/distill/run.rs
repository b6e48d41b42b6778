//! Loading a buffer for training or evaluation: the records read, grouped into teacher
//! mixtures and split into train and held-out contexts.

use super::buffer::read_records;
use super::loss::{teacher_targets, TeacherTarget};
use super::objective::split_held_out;
use crate::Result;
use std::path::Path;

/// A buffer's teacher mixtures, split.
#[derive(Clone, Debug)]
pub struct BufferSplit {
    /// Training contexts.
    pub train: Vec<TeacherTarget>,
    /// Held-out contexts.
    pub held_out: Vec<TeacherTarget>,
    /// Records read.
    pub records: usize,
    /// Segments that ended in a torn or corrupt tail.
    pub torn_tails: usize,
}

/// Reads the buffer in `dir`, mixes each context's answers and holds out `held_out_percent`%
/// of the contexts ([`split_held_out`]).
pub fn load_split(dir: &Path, held_out_percent: u8) -> Result<BufferSplit> {
    let contents = read_records(dir)?;
    let (train, held_out) = split_held_out(teacher_targets(&contents.records), held_out_percent);
    Ok(BufferSplit {
        train,
        held_out,
        records: contents.records.len(),
        torn_tails: contents.torn_tails,
    })
}
