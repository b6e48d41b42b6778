//! The [`Database`] on disk: parity-db 0.5, one parity-db column per [`Column`].
//!
//! The trie-node column is reference counted (parity-db increments the count when a present key
//! is set again and decrements it on dereference) and declared as holding preimages with uniform
//! keys (keys are Blake2-256 hashes of the values). Header and body columns have uniform keys
//! too. parity-db commits are atomic and survive crashes (write-ahead log).

use super::{Column, Database, Op, Transaction};
use crate::api::{ChainError, ChainResult};
use parity_db::{ColumnOptions, Db, Operation, Options};
use std::path::Path;

/// A parity-db database.
pub struct ParityDb {
    db: Db,
}

impl std::fmt::Debug for ParityDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParityDb").finish_non_exhaustive()
    }
}

fn db_error(e: parity_db::Error) -> ChainError {
    ChainError::Database(e.to_string())
}

/// The options of column `col`.
fn column_options(col: Column) -> ColumnOptions {
    match col {
        Column::TrieNodes => {
            ColumnOptions { preimage: true, uniform: true, ref_counted: true, ..Default::default() }
        }
        Column::Headers | Column::Bodies => ColumnOptions { uniform: true, ..Default::default() },
        Column::NumberToHash | Column::Meta | Column::Journal => ColumnOptions::default(),
    }
}

impl ParityDb {
    /// Open the database in directory `path`, creating it if needed.
    pub fn open(path: &Path) -> ChainResult<Self> {
        let mut options = Options::with_columns(path, 0);
        options.columns = Column::ALL.iter().map(|c| column_options(*c)).collect();
        options.stats = false;
        let db = Db::open_or_create(&options).map_err(db_error)?;
        Ok(Self { db })
    }
}

impl Database for ParityDb {
    fn get(&self, col: Column, key: &[u8]) -> ChainResult<Option<Vec<u8>>> {
        self.db.get(col.id(), key).map_err(db_error)
    }

    fn commit(&self, tx: Transaction) -> ChainResult<()> {
        let ops = tx.ops.into_iter().map(|op| match op {
            Op::Set(col, key, value) => (col.id(), Operation::Set(key, value)),
            Op::Remove(col, key) => (col.id(), Operation::Dereference(key)),
        });
        self.db.commit_changes(ops).map_err(db_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_reference_counts_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = ParityDb::open(dir.path()).unwrap();
            let mut tx = Transaction::new();
            tx.set(Column::TrieNodes, [7u8; 32].to_vec(), b"node".to_vec());
            tx.set(Column::TrieNodes, [7u8; 32].to_vec(), b"node".to_vec());
            tx.set(Column::Meta, b"best".to_vec(), b"x".to_vec());
            db.commit(tx).unwrap();
            let mut tx = Transaction::new();
            tx.remove(Column::TrieNodes, [7u8; 32].to_vec());
            db.commit(tx).unwrap();
            assert_eq!(db.get(Column::TrieNodes, &[7u8; 32]).unwrap(), Some(b"node".to_vec()));
        }
        let db = ParityDb::open(dir.path()).unwrap();
        assert_eq!(db.get(Column::Meta, b"best").unwrap(), Some(b"x".to_vec()));
        assert_eq!(db.get(Column::TrieNodes, &[7u8; 32]).unwrap(), Some(b"node".to_vec()));
        let mut tx = Transaction::new();
        tx.remove(Column::TrieNodes, [7u8; 32].to_vec());
        db.commit(tx).unwrap();
        drop(db);
        let db = ParityDb::open(dir.path()).unwrap();
        assert_eq!(db.get(Column::TrieNodes, &[7u8; 32]).unwrap(), None);
    }
}
