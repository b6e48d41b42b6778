//! Distillation: a student model trained to mimic the network's answers.
//!
//! * [`record`]: one miner's answer for one context, reduced to first tokens.
//! * [`buffer`]: the bounded, crash-safe on-disk buffer of records.
//! * [`loss`]: the teacher mixture of a context and the exact KL(teacher ‖ student).
//! * [`objective`]: distillation as a [`crate::train`] objective, with held-out KL.
//! * [`run`]: a buffer loaded, mixed and split for training and evaluation.

pub mod buffer;
pub mod loss;
pub mod objective;
pub mod record;
pub mod run;

pub use buffer::{read_records, BufferConfig, BufferContents, BufferWriter, SyncPolicy};
pub use loss::{kl_per_row, teacher_targets, TeacherTarget};
pub use objective::{held_out_kl, split_held_out, DistillObjective};
pub use record::{first_token_probs, DistillRecord};
pub use run::{load_split, BufferSplit};
