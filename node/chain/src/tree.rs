//! The block tree above finality: every imported block that is not finalized yet, its leaves in
//! the order they were first seen, and the fork-choice rule.
//!
//! The tree is rooted at the last finalized block. Fork choice: the best block is the highest
//! leaf (every leaf descends from the root); among leaves of equal height, the one seen first.
//! A block that extends a leaf replaces it at the END of the leaf list, so "seen first" means
//! "reached that height first". The tree is a plain in-memory index (rebuilt from the stored
//! leaves at start); lookups go through a map, every decision through the ordered leaf list, so
//! fork choice never depends on a map's iteration order.

use crate::api::Hash;
use std::collections::HashMap;
use subtensor_runtime::BlockNumber;

/// A block and its number.
pub type Entry = (Hash, BlockNumber);

/// One block of the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeNode {
    /// Its number.
    pub number: BlockNumber,
    /// Its parent's hash.
    pub parent: Hash,
}

/// The unfinalized blocks, rooted at the last finalized block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockTree {
    root: Hash,
    root_number: BlockNumber,
    nodes: HashMap<Hash, TreeNode>,
    /// Blocks without children, first seen first. The root is the only leaf of an empty tree.
    leaves: Vec<(Hash, BlockNumber)>,
}

/// A change of the best chain: the blocks that left it and those that joined it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Route {
    /// The highest block both chains share.
    pub common: (Hash, BlockNumber),
    /// Blocks of the old chain above `common`, highest first.
    pub retracted: Vec<(Hash, BlockNumber)>,
    /// Blocks of the new chain above `common`, lowest first.
    pub enacted: Vec<(Hash, BlockNumber)>,
}

impl BlockTree {
    /// A tree holding only its root, the finalized block `root` at `number`.
    pub fn new(root: Hash, number: BlockNumber) -> Self {
        Self { root, root_number: number, nodes: HashMap::new(), leaves: vec![(root, number)] }
    }

    /// The root (last finalized block).
    pub fn root(&self) -> (Hash, BlockNumber) {
        (self.root, self.root_number)
    }

    /// The leaves, first seen first.
    pub fn leaves(&self) -> &[(Hash, BlockNumber)] {
        &self.leaves
    }

    /// How many unfinalized blocks the tree holds.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the tree holds no unfinalized block.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The tree node of `hash` (not the root).
    pub fn get(&self, hash: &Hash) -> Option<TreeNode> {
        self.nodes.get(hash).copied()
    }

    /// Whether `hash` is the root or an unfinalized block of the tree.
    pub fn contains(&self, hash: &Hash) -> bool {
        *hash == self.root || self.nodes.contains_key(hash)
    }

    /// The number of `hash` if the tree holds it (root included).
    pub fn number(&self, hash: &Hash) -> Option<BlockNumber> {
        if *hash == self.root {
            Some(self.root_number)
        } else {
            self.nodes.get(hash).map(|n| n.number)
        }
    }

    /// Add `hash` (number `number`) as a child of `parent`, which must be in the tree; returns
    /// false (and changes nothing) otherwise or when `hash` is present already.
    pub fn insert(&mut self, hash: Hash, number: BlockNumber, parent: Hash) -> bool {
        if self.contains(&hash) || !self.contains(&parent) {
            return false;
        }
        self.nodes.insert(hash, TreeNode { number, parent });
        self.leaves.retain(|(leaf, _)| *leaf != parent);
        self.leaves.push((hash, number));
        true
    }

    /// The best leaf: the highest, the first seen among equals.
    pub fn best(&self) -> (Hash, BlockNumber) {
        self.best_of(self.leaves.iter().copied())
    }

    fn best_of(&self, leaves: impl Iterator<Item = (Hash, BlockNumber)>) -> (Hash, BlockNumber) {
        let mut best = (self.root, self.root_number);
        let mut found = false;
        for leaf in leaves {
            if !found || leaf.1 > best.1 {
                best = leaf;
                found = true;
            }
        }
        best
    }

    /// The ancestor of `hash` at height `number` (itself when equal), walking the tree; `None`
    /// when `number` is above `hash`, below the root, or `hash` is not in the tree.
    pub fn ancestor_at(&self, hash: Hash, number: BlockNumber) -> Option<Hash> {
        let mut current = hash;
        let mut current_number = self.number(&current)?;
        if number > current_number || number < self.root_number {
            return None;
        }
        while current_number > number {
            let node = self.nodes.get(&current)?;
            current = node.parent;
            current_number = node.number.checked_sub(1)?;
        }
        Some(current)
    }

    /// Whether `descendant` is `ancestor` or descends from it (both in the tree).
    pub fn is_descendant(&self, descendant: Hash, ancestor: Hash) -> bool {
        match self.number(&ancestor) {
            Some(number) => self.ancestor_at(descendant, number) == Some(ancestor),
            None => false,
        }
    }

    /// The best leaf among those descending from `base` (which must be in the tree).
    pub fn best_containing(&self, base: Hash) -> Option<(Hash, BlockNumber)> {
        if !self.contains(&base) {
            return None;
        }
        let mut candidates =
            self.leaves.iter().copied().filter(|(leaf, _)| self.is_descendant(*leaf, base));
        let first = candidates.next()?;
        Some(self.best_of(std::iter::once(first).chain(candidates)))
    }

    /// The route from the chain ending at `from` to the chain ending at `to` (both in the tree).
    pub fn route(&self, from: Hash, to: Hash) -> Option<Route> {
        let mut a = (from, self.number(&from)?);
        let mut b = (to, self.number(&to)?);
        let mut retracted = Vec::new();
        let mut enacted = Vec::new();
        while a.1 > b.1 {
            retracted.push(a);
            a = self.parent_of(a)?;
        }
        while b.1 > a.1 {
            enacted.push(b);
            b = self.parent_of(b)?;
        }
        while a.0 != b.0 {
            retracted.push(a);
            enacted.push(b);
            a = self.parent_of(a)?;
            b = self.parent_of(b)?;
        }
        enacted.reverse();
        Some(Route { common: a, retracted, enacted })
    }

    fn parent_of(&self, (hash, _): (Hash, BlockNumber)) -> Option<(Hash, BlockNumber)> {
        let node = self.nodes.get(&hash)?;
        Some((node.parent, node.number.checked_sub(1)?))
    }

    /// Make `new_root` (in the tree) the root: its ancestors become finalized and leave the
    /// tree, and every block that does not descend from it is discarded. Returns the finalized
    /// blocks (lowest first, `new_root` last) and the discarded ones (children after parents
    /// is not guaranteed). `None` if `new_root` is not in the tree.
    pub fn finalize(&mut self, new_root: Hash) -> Option<(Vec<Entry>, Vec<Entry>)> {
        let root_number = self.number(&new_root)?;
        if new_root == self.root {
            return Some((Vec::new(), Vec::new()));
        }
        let mut finalized = Vec::new();
        let mut current = new_root;
        while current != self.root {
            let node = self.nodes.get(&current)?;
            finalized.push((current, node.number));
            current = node.parent;
        }
        finalized.reverse();
        // Keep the descendants of the new root, in a stable order.
        let mut discarded = Vec::new();
        let mut kept = HashMap::new();
        let mut sorted: Vec<(Hash, TreeNode)> =
            self.nodes.iter().map(|(hash, node)| (*hash, *node)).collect();
        sorted.sort_by_key(|(hash, node)| (node.number, *hash));
        let on_path: std::collections::HashSet<Hash> = finalized.iter().map(|(h, _)| *h).collect();
        for (hash, node) in sorted {
            if on_path.contains(&hash) {
                continue;
            }
            // Parents come before children in `sorted`, so `kept` already holds the parent of
            // every kept block.
            if node.parent == new_root || kept.contains_key(&node.parent) {
                kept.insert(hash, node);
            } else {
                discarded.push((hash, node.number));
            }
        }
        self.nodes = kept;
        self.root = new_root;
        self.root_number = root_number;
        self.leaves.retain(|(leaf, _)| self.nodes.contains_key(leaf));
        if self.leaves.is_empty() {
            self.leaves.push((new_root, root_number));
        }
        Some((finalized, discarded))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn h(n: u8) -> Hash {
        Hash::repeat_byte(n)
    }

    #[test]
    fn longest_wins_and_first_seen_breaks_ties() {
        let mut tree = BlockTree::new(h(0), 10);
        assert_eq!(tree.best(), (h(0), 10));
        assert!(tree.insert(h(1), 11, h(0)));
        assert!(tree.insert(h(2), 11, h(0)));
        assert_eq!(tree.best(), (h(1), 11));
        assert!(tree.insert(h(3), 12, h(2)));
        assert_eq!(tree.best(), (h(3), 12));
        assert!(tree.insert(h(4), 12, h(1)));
        assert_eq!(tree.best(), (h(3), 12));
        assert!(!tree.insert(h(5), 12, h(9)), "unknown parent");
        assert!(!tree.insert(h(4), 12, h(1)), "known block");
        let route = tree.route(h(3), h(4)).unwrap();
        assert_eq!(route.common, (h(0), 10));
        assert_eq!(route.retracted, vec![(h(3), 12), (h(2), 11)]);
        assert_eq!(route.enacted, vec![(h(1), 11), (h(4), 12)]);
        assert_eq!(tree.best_containing(h(1)), Some((h(4), 12)));

        let (finalized, discarded) = tree.finalize(h(1)).unwrap();
        assert_eq!(finalized, vec![(h(1), 11)]);
        let mut discarded: Vec<_> = discarded.into_iter().map(|(h, _)| h).collect();
        discarded.sort();
        assert_eq!(discarded, vec![h(2), h(3)]);
        assert_eq!(tree.root(), (h(1), 11));
        assert_eq!(tree.leaves(), &[(h(4), 12)]);
        assert_eq!(tree.best(), (h(4), 12));
        // Finalizing the only leaf leaves the root alone.
        tree.finalize(h(4)).unwrap();
        assert!(tree.is_empty());
        assert_eq!(tree.leaves(), &[(h(4), 12)]);
    }

    /// A random fork tree: block i (1-based) has a parent among the blocks before it.
    fn random_tree() -> impl Strategy<Value = Vec<usize>> {
        (1usize..60).prop_flat_map(|n| (0..n).map(|i| 0..=i).collect::<Vec<_>>())
    }

    // Random fork trees: the best block is the first block that reached the greatest height;
    // routes connect any block to it; finalizing any block keeps exactly its descendants and
    // the best of them.
    proptest! {
        #[test]
        fn best_is_a_highest_leaf_and_routes_connect(parents in random_tree(), pick in 0usize..1000) {
            let mut tree = BlockTree::new(Hash::zero(), 0);
            let mut numbers = vec![0u32];
            let hash = |i: usize| Hash::from_low_u64_be(i as u64);
            for (i, parent) in parents.iter().enumerate() {
                let number = numbers[*parent] + 1;
                numbers.push(number);
                let parent_hash = if *parent == 0 { Hash::zero() } else { hash(*parent) };
                prop_assert!(tree.insert(hash(i + 1), number, parent_hash));
            }
            let (best, best_number) = tree.best();
            prop_assert_eq!(best_number, *numbers.iter().max().unwrap());
            prop_assert_eq!(tree.number(&best), Some(best_number));
            prop_assert!(tree.leaves().iter().any(|(l, _)| *l == best));
            // The first block that reached the maximal height is the best one.
            let first_max = numbers.iter().position(|n| *n == best_number).unwrap();
            let expected = if first_max == 0 { Hash::zero() } else { hash(first_max) };
            prop_assert_eq!(best, expected);

            // A route from any block to the best connects the two chains.
            let from_index = pick % numbers.len();
            let from = if from_index == 0 { Hash::zero() } else { hash(from_index) };
            let route = tree.route(from, best).unwrap();
            prop_assert!(tree.is_descendant(from, route.common.0));
            prop_assert!(tree.is_descendant(best, route.common.0));
            prop_assert_eq!(route.enacted.last().map(|e| e.0).unwrap_or(route.common.0), best);

            // Finalizing any block keeps exactly its descendants.
            let all: Vec<Hash> = (1..numbers.len()).map(hash).collect();
            let descendants: Vec<Hash> = all.iter().copied()
                .filter(|b| *b != from && tree.is_descendant(*b, from)).collect();
            let mut after = tree.clone();
            after.finalize(from).unwrap();
            prop_assert_eq!(after.len(), descendants.len());
            for d in &descendants {
                prop_assert!(after.get(d).is_some());
            }
            let (new_best, _) = after.best();
            prop_assert_eq!(Some(new_best), tree.best_containing(from).map(|b| b.0));
        }
    }
}
