//! What changed between the searchers one index generation opened, so that a cached answer
//! can be carried over a commit that did not touch it (see [`super::results`]).
//!
//! Every reload of the reader is recorded, under one lock with the commit it makes visible:
//!
//! * [`Change::Ids`]: a commit of this process's writer, with the ids of the documents it
//!   added, replaced or deleted;
//! * [`Change::Merge`]: a reload while this process holds the writer, which shows merged
//!   segments (the same documents in fewer segments): no other process can commit while the
//!   writer's directory lock is held;
//! * [`Change::Unknown`]: anything else (a reload while no writer is held may show another
//!   process's commit; a rebuild).
//!
//! Each record also carries the writer's epoch. It grows when the writer is opened on an index
//! whose last commit on disk the reader does not show (another process may have committed while
//! no writer was held), and when a commit or reload fails: between two records with the same
//! epoch, no commit went unrecorded. An answer is carried from one searcher to a later one only
//! across records of its own epoch that name their changes.

use std::collections::VecDeque;

/// Reloads remembered: an answer older than this is recomputed. Each record keeps its
/// searcher, and with it the segments it read (merged-away ones stay on disk until then).
pub const KEEP: usize = 32;
/// Most changed documents an answer is checked against; past this it is recomputed.
pub const MAX_IDS: usize = 256;

/// What a reload made visible.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// This process's commit of these documents.
    Ids(Vec<i64>),
    /// Merged segments only.
    Merge,
    /// Not known.
    Unknown,
}

struct Record<S> {
    generation: u64,
    epoch: u64,
    change: Change,
    searcher: S,
}

/// The recent reloads of one index, oldest first. `S` is the searcher kept for each (a
/// `tantivy::Searcher`; anything in the unit tests).
pub struct Lineage<S> {
    records: VecDeque<Record<S>>,
}

impl<S> Default for Lineage<S> {
    fn default() -> Self {
        Lineage {
            records: VecDeque::new(),
        }
    }
}

impl<S: Clone> Lineage<S> {
    /// Records that searcher `generation` became visible by `change`, with the writer at
    /// `epoch`.
    pub fn record(&mut self, generation: u64, epoch: u64, change: Change, searcher: S) {
        if let Some(last) = self.records.back_mut() {
            if generation <= last.generation {
                // A reload that opened no newer searcher: its change belongs to the last one,
                // which searches may already be using, so that one can no longer be vouched
                // for.
                last.change = Change::Unknown;
                return;
            }
        }
        self.records.push_back(Record {
            generation,
            epoch,
            change,
            searcher,
        });
        while self.records.len() > KEEP {
            self.records.pop_front();
        }
    }

    /// The searcher of generation `from` and the ids of every document changed after it up
    /// to generation `to`, sorted; `None` when that is not known (a record is missing or
    /// unknown, the writer was reopened, or too many documents changed).
    pub fn changes(&self, from: u64, to: u64) -> Option<(S, Vec<i64>)> {
        let at = |g: u64| self.records.iter().position(|r| r.generation == g);
        let (i, j) = (at(from)?, at(to)?);
        if j < i {
            return None;
        }
        let epoch = self.records[i].epoch;
        let mut ids = Vec::new();
        for r in self.records.range(i + 1..=j) {
            if r.epoch != epoch {
                return None;
            }
            match &r.change {
                Change::Ids(v) => ids.extend_from_slice(v),
                Change::Merge => {}
                Change::Unknown => return None,
            }
            if ids.len() > MAX_IDS {
                return None;
            }
        }
        ids.sort_unstable();
        ids.dedup();
        Some((self.records[i].searcher.clone(), ids))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_the_ids_changed_between_two_searchers() {
        let mut l: Lineage<&str> = Lineage::default();
        l.record(1, 0, Change::Unknown, "s1");
        l.record(2, 1, Change::Ids(vec![7]), "s2");
        l.record(3, 1, Change::Ids(vec![9, 7]), "s3");
        l.record(4, 1, Change::Merge, "s4");
        l.record(5, 1, Change::Ids(vec![3]), "s5");
        assert_eq!(l.changes(2, 5), Some(("s2", vec![3, 7, 9])));
        assert_eq!(l.changes(3, 4), Some(("s3", vec![])));
        assert_eq!(l.changes(5, 5), Some(("s5", vec![])));
        // the first record follows an unknown past; the writer's epoch changed at 2
        assert_eq!(l.changes(1, 2), None);
        // backwards, or generations never recorded
        assert_eq!(l.changes(5, 2), None);
        assert_eq!(l.changes(2, 6), None);
        assert_eq!(l.changes(0, 5), None);
    }

    #[test]
    fn a_reopened_writer_or_an_unknown_reload_breaks_the_chain() {
        let mut l: Lineage<u64> = Lineage::default();
        l.record(1, 1, Change::Ids(vec![1]), 1);
        l.record(2, 1, Change::Ids(vec![2]), 2);
        // the writer was closed and opened again: another process may have committed
        l.record(3, 2, Change::Ids(vec![3]), 3);
        assert_eq!(l.changes(1, 2), Some((1, vec![2])));
        assert_eq!(l.changes(1, 3), None);
        assert_eq!(l.changes(2, 3), None);
        l.record(4, 2, Change::Unknown, 4);
        l.record(5, 2, Change::Merge, 5);
        assert_eq!(l.changes(3, 5), None);
        assert_eq!(l.changes(4, 5), Some((4, vec![])));
    }

    #[test]
    fn a_reload_without_a_new_searcher_taints_the_last_one() {
        let mut l: Lineage<u64> = Lineage::default();
        l.record(1, 1, Change::Ids(vec![1]), 1);
        l.record(2, 1, Change::Ids(vec![2]), 2);
        l.record(2, 1, Change::Ids(vec![5]), 2);
        assert_eq!(l.changes(1, 2), None);
        assert_eq!(l.changes(2, 2), Some((2, vec![])));
    }

    #[test]
    fn forgets_old_reloads_and_long_change_lists() {
        let mut l: Lineage<u64> = Lineage::default();
        for g in 1..=(KEEP as u64 + 3) {
            l.record(g, 1, Change::Ids(vec![g as i64]), g);
        }
        assert_eq!(l.changes(1, 5), None);
        let last = KEEP as u64 + 3;
        assert_eq!(
            l.changes(last - 1, last).map(|c| c.1),
            Some(vec![last as i64])
        );
        let mut m: Lineage<u64> = Lineage::default();
        m.record(1, 1, Change::Merge, 1);
        m.record(2, 1, Change::Ids((0..=MAX_IDS as i64).collect()), 2);
        assert_eq!(m.changes(1, 2), None);
    }
}
