//! An in-memory [`Database`] for tests: one ordered map per column, with the same reference
//! counting semantics as the parity-db column.

use super::{Column, Database, Op, Transaction};
use crate::api::ChainResult;
use parking_lot::RwLock;
use std::collections::BTreeMap;

/// A value and its reference count (always 1 in columns without reference counting).
type Entry = (Vec<u8>, u32);

/// An in-memory database.
#[derive(Debug, Default)]
pub struct MemoryDb {
    columns: RwLock<BTreeMap<Column, BTreeMap<Vec<u8>, Entry>>>,
}

impl MemoryDb {
    /// An empty database.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every key of `col`, in order (for tests that inspect the layout).
    pub fn keys(&self, col: Column) -> Vec<Vec<u8>> {
        self.columns.read().get(&col).map(|c| c.keys().cloned().collect()).unwrap_or_default()
    }

    /// The reference count of `key` in `col` (0 when absent).
    pub fn ref_count(&self, col: Column, key: &[u8]) -> u32 {
        self.columns.read().get(&col).and_then(|c| c.get(key)).map_or(0, |(_, rc)| *rc)
    }
}

impl Database for MemoryDb {
    fn get(&self, col: Column, key: &[u8]) -> ChainResult<Option<Vec<u8>>> {
        Ok(self.columns.read().get(&col).and_then(|c| c.get(key)).map(|(v, _)| v.clone()))
    }

    fn commit(&self, tx: Transaction) -> ChainResult<()> {
        let mut columns = self.columns.write();
        for op in tx.ops {
            match op {
                Op::Set(col, key, value) => {
                    let column = columns.entry(col).or_default();
                    match column.get_mut(&key) {
                        Some((_, rc)) if col.is_ref_counted() => *rc = rc.saturating_add(1),
                        _ => {
                            column.insert(key, (value, 1));
                        }
                    }
                }
                Op::Remove(col, key) => {
                    let column = columns.entry(col).or_default();
                    let delete = match column.get_mut(&key) {
                        Some((_, rc)) if col.is_ref_counted() && *rc > 1 => {
                            *rc = rc.saturating_sub(1);
                            false
                        }
                        Some(_) => true,
                        None => false,
                    };
                    if delete {
                        column.remove(&key);
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_counting_deletes_at_zero() {
        let db = MemoryDb::new();
        let mut tx = Transaction::new();
        tx.set(Column::TrieNodes, b"k".to_vec(), b"v".to_vec());
        tx.set(Column::TrieNodes, b"k".to_vec(), b"v".to_vec());
        tx.set(Column::Meta, b"m".to_vec(), b"1".to_vec());
        tx.set(Column::Meta, b"m".to_vec(), b"2".to_vec());
        db.commit(tx).unwrap();
        assert_eq!(db.ref_count(Column::TrieNodes, b"k"), 2);
        assert_eq!(db.get(Column::Meta, b"m").unwrap(), Some(b"2".to_vec()));

        let mut tx = Transaction::new();
        tx.remove(Column::TrieNodes, b"k".to_vec());
        db.commit(tx).unwrap();
        assert_eq!(db.get(Column::TrieNodes, b"k").unwrap(), Some(b"v".to_vec()));
        let mut tx = Transaction::new();
        tx.remove(Column::TrieNodes, b"k".to_vec());
        tx.remove(Column::Meta, b"m".to_vec());
        db.commit(tx).unwrap();
        assert_eq!(db.get(Column::TrieNodes, b"k").unwrap(), None);
        assert_eq!(db.get(Column::Meta, b"m").unwrap(), None);
    }
}
