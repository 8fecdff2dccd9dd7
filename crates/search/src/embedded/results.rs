//! Results of recent searches, per searcher (what Solr calls its query result cache).
//!
//! A search is a pure function of its query and the searcher it runs on: the same query on
//! the same searcher gives the same page, total and facets. Each entry remembers the searcher
//! generation it was computed on, and answers lookups on that searcher as they are.
//!
//! A commit opens a new searcher. A live market edits listings all day, and dropping every
//! answer at each commit would leave the cache empty (measured at 1M listings: two edits a
//! second cut the share of searches answered from it from 74% to 23–24%). So an older entry is
//! returned as [`Lookup::Stale`], and the engine carries it over when no document changed
//! since its searcher matches the query, before or after the change (see `super::lineage`
//! and `Generation::refusal`): the matches, hence the total, the facets and which
//! documents compete for the page, are then the same. Only the BM25 statistics moved (a few
//! documents' lengths and terms in a corpus of many), which can reorder near-ties on the
//! page; a fresh search runs as soon as an entry cannot be vouched for. Cards are not cached
//! here: the caller loads them for the ids of every answer.
//!
//! Searches for a whole need or listing (`long_text`, `top_only`: matching's candidates) are
//! not cached; they seldom repeat and their keys are long.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use crate::{ResultCacheStats, SearchQuery, SearchResults};

/// Entries kept per generation unless `TTX_SEARCH_RESULT_CACHE` sets another number (`0`
/// turns the cache off).
const DEFAULT_ENTRIES: usize = 4096;
/// Most memory the entries of one generation hold (approximately, see [`size_of`]), whatever
/// their number: a page of 100 hits with highlights is tens of kilobytes. A page of 20 hits
/// with highlights and facets is about 15 KB: 4,096 of them fit.
const MAX_BYTES: usize = 64 << 20;
/// Longest query text cached.
const MAX_TEXT_CHARS: usize = 256;

/// Entries kept, from `TTX_SEARCH_RESULT_CACHE`.
pub fn configured_entries() -> usize {
    static N: OnceLock<usize> = OnceLock::new();
    *N.get_or_init(|| {
        std::env::var("TTX_SEARCH_RESULT_CACHE")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(DEFAULT_ENTRIES)
    })
}

pub struct ResultCache {
    capacity: usize,
    max_bytes: usize,
    inner: Mutex<Entries>,
    hits: AtomicU64,
    misses: AtomicU64,
    carried: AtomicU64,
    stale_unknown: AtomicU64,
    stale_touched: AtomicU64,
}

/// Why a stale answer was recomputed ([`ResultCache::missed`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// The reloads since its searcher are not all known.
    Unknown,
    /// A changed document matches the query, or its words resolve differently.
    Touched,
}

#[derive(Default)]
struct Entries {
    tick: u64,
    /// Key → entry.
    map: HashMap<String, Entry>,
    bytes: usize,
}

struct Entry {
    /// Last use (`Entries::tick`).
    used: u64,
    /// The searcher generation the answer holds for.
    searcher: u64,
    answer: SearchResults,
    /// Approximate size in bytes.
    size: usize,
}

/// What the cache holds for a query on a searcher.
pub enum Lookup {
    /// The answer on this searcher.
    Hit(SearchResults),
    /// The answer on an older searcher (its generation), to be carried over or recomputed.
    Stale(u64, SearchResults),
    Miss,
}

/// Approximate memory held by an entry.
fn size_of(key: &str, r: &SearchResults) -> usize {
    let hits: usize = r
        .hits
        .iter()
        .map(|h| {
            64 + h
                .highlights
                .iter()
                .map(|(k, v)| 48 + k.len() + v.len())
                .sum::<usize>()
        })
        .sum();
    let facets: usize = r
        .facets
        .iter()
        .map(|(k, m)| 48 + k.len() + m.keys().map(|v| 56 + v.len()).sum::<usize>())
        .sum();
    128 + key.len() + hits + facets + r.next_cursor.as_ref().map_or(0, String::len)
}

impl ResultCache {
    pub fn new(capacity: usize) -> ResultCache {
        ResultCache::with_budget(capacity, MAX_BYTES)
    }

    fn with_budget(capacity: usize, max_bytes: usize) -> ResultCache {
        ResultCache {
            capacity,
            max_bytes,
            inner: Mutex::new(Entries::default()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            carried: AtomicU64::new(0),
            stale_unknown: AtomicU64::new(0),
            stale_touched: AtomicU64::new(0),
        }
    }

    /// The cache key of `q`, or `None` when it is not cached.
    pub fn key(&self, q: &SearchQuery) -> Option<String> {
        if self.capacity == 0
            || q.long_text
            || q.top_only
            || q.text
                .as_deref()
                .is_some_and(|t| t.chars().count() > MAX_TEXT_CHARS)
        {
            return None;
        }
        // Every field of the query, in a fixed order (the derived `Debug` of plain data).
        Some(format!("{q:?}"))
    }

    /// What is kept for `key`, looked up on searcher generation `searcher`. A hit or a miss is
    /// counted here; a stale answer is counted by [`Self::carried`] or [`Self::missed`].
    pub fn get(&self, searcher: u64, key: &str) -> Lookup {
        let mut e = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        e.tick += 1;
        let tick = e.tick;
        let found = match e.map.get_mut(key) {
            Some(entry) if entry.searcher == searcher => {
                entry.used = tick;
                Lookup::Hit(entry.answer.clone())
            }
            Some(entry) if entry.searcher < searcher => {
                Lookup::Stale(entry.searcher, entry.answer.clone())
            }
            _ => Lookup::Miss,
        };
        drop(e);
        match found {
            Lookup::Hit(_) => self.hits.fetch_add(1, Ordering::Relaxed),
            Lookup::Miss => self.misses.fetch_add(1, Ordering::Relaxed),
            Lookup::Stale(..) => 0,
        };
        found
    }

    /// The stale answer of `key` from searcher `from` holds on searcher `to`: it answers there
    /// from now on (counted as a hit, and as carried over).
    pub fn carried(&self, key: &str, from: u64, to: u64) {
        let mut e = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        e.tick += 1;
        let tick = e.tick;
        if let Some(entry) = e.map.get_mut(key) {
            if entry.searcher == from {
                entry.searcher = to;
                entry.used = tick;
            }
        }
        drop(e);
        self.hits.fetch_add(1, Ordering::Relaxed);
        self.carried.fetch_add(1, Ordering::Relaxed);
    }

    /// A stale answer could not be carried over, for `why`: counted as a miss.
    pub fn missed(&self, why: Refused) {
        self.misses.fetch_add(1, Ordering::Relaxed);
        match why {
            Refused::Unknown => &self.stale_unknown,
            Refused::Touched => &self.stale_touched,
        }
        .fetch_add(1, Ordering::Relaxed);
    }

    /// Keeps `results`, computed on searcher generation `searcher`, for `key`.
    pub fn put(&self, searcher: u64, key: String, results: &SearchResults) {
        let mut e = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if e.map.get(&key).is_some_and(|old| old.searcher > searcher) {
            // An answer from an older searcher than the kept one: not worth keeping.
            return;
        }
        let size = size_of(&key, results);
        if size > self.max_bytes / 8 {
            return;
        }
        if let Some(old) = e.map.remove(&key) {
            e.bytes -= old.size;
        }
        while !e.map.is_empty() && (e.map.len() >= self.capacity || e.bytes + size > self.max_bytes)
        {
            // Drop the least recently used half.
            let mut ticks: Vec<u64> = e.map.values().map(|x| x.used).collect();
            let mid = ticks.len() / 2;
            let (_, cut, _) = ticks.select_nth_unstable(mid);
            let cut = *cut;
            e.map.retain(|_, x| x.used > cut);
            e.bytes = e.map.values().map(|x| x.size).sum();
        }
        e.tick += 1;
        let tick = e.tick;
        e.bytes += size;
        e.map.insert(
            key,
            Entry {
                used: tick,
                searcher,
                answer: results.clone(),
                size,
            },
        );
    }

    /// Lookups answered from the cache and not, since the generation was opened.
    pub fn counts(&self) -> ResultCacheStats {
        ResultCacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            carried: self.carried.load(Ordering::Relaxed),
            stale_unknown: self.stale_unknown.load(Ordering::Relaxed),
            stale_touched: self.stale_touched.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn results(total: u64) -> SearchResults {
        SearchResults {
            hits: Vec::new(),
            total,
            facets: Default::default(),
            next_cursor: None,
        }
    }

    fn hit(l: Lookup) -> Option<u64> {
        match l {
            Lookup::Hit(r) => Some(r.total),
            _ => None,
        }
    }

    #[test]
    fn answers_on_its_searcher_and_offers_older_answers_as_stale() {
        let c = ResultCache::new(8);
        let q = SearchQuery {
            text: Some("电池".into()),
            ..SearchQuery::default()
        };
        let k = c.key(&q).unwrap();
        assert!(matches!(c.get(1, &k), Lookup::Miss));
        c.put(1, k.clone(), &results(7));
        assert_eq!(hit(c.get(1, &k)), Some(7));
        // a commit made searcher 2 visible: the old answer is only offered as stale
        assert!(matches!(c.get(2, &k), Lookup::Stale(1, ref r) if r.total == 7));
        c.missed(Refused::Touched);
        c.put(2, k.clone(), &results(8));
        assert_eq!(hit(c.get(2, &k)), Some(8));
        // a late answer from searcher 1 does not replace searcher 2's
        c.put(1, k.clone(), &results(7));
        assert_eq!(hit(c.get(2, &k)), Some(8));
        // nor is searcher 2's answer given for searcher 1
        assert!(matches!(c.get(1, &k), Lookup::Miss));
        // carried over to searcher 3: a hit there from now on
        assert!(matches!(c.get(3, &k), Lookup::Stale(2, _)));
        c.carried(&k, 2, 3);
        assert_eq!(hit(c.get(3, &k)), Some(8));
        assert_eq!(
            c.counts(),
            ResultCacheStats {
                hits: 5,
                misses: 3,
                carried: 1,
                stale_unknown: 0,
                stale_touched: 1,
            }
        );
    }

    #[test]
    fn keys_differ_with_any_part_of_the_query_and_skip_long_texts() {
        let c = ResultCache::new(8);
        let q = SearchQuery {
            text: Some("电池".into()),
            ..SearchQuery::default()
        };
        let mut other = q.clone();
        other.filters.statuses = vec!["published".into()];
        assert_ne!(c.key(&q), c.key(&other));
        let mut page = q.clone();
        page.cursor = Some(crate::encode_cursor(10));
        assert_ne!(c.key(&q), c.key(&page));
        assert!(c
            .key(&SearchQuery {
                long_text: true,
                ..q.clone()
            })
            .is_none());
        assert!(ResultCache::new(0).key(&q).is_none());
    }

    #[test]
    fn keeps_at_most_its_capacity_dropping_the_least_recently_used() {
        let c = ResultCache::new(4);
        let key = |i: usize| format!("q{i}");
        for i in 0..4 {
            c.put(1, key(i), &results(i as u64));
        }
        // q0 used again: q1 is now the least recently used
        assert!(hit(c.get(1, &key(0))).is_some());
        c.put(1, key(4), &results(4));
        assert!(hit(c.get(1, &key(0))).is_some());
        assert!(hit(c.get(1, &key(1))).is_none());
        assert!(hit(c.get(1, &key(4))).is_some());
        assert!(c.inner.lock().unwrap().map.len() <= 4);
    }

    #[test]
    fn keeps_within_its_memory_budget() {
        let big = |i: usize| SearchResults {
            hits: (0..100)
                .map(|id| crate::Hit {
                    id,
                    score: 1.0,
                    highlights: [("summary".to_string(), "<em>电池</em>".repeat(20))]
                        .into_iter()
                        .collect(),
                })
                .collect(),
            total: i as u64,
            facets: Default::default(),
            next_cursor: None,
        };
        let one = size_of("q0", &big(0));
        let c = ResultCache::with_budget(1000, one * 10);
        for i in 0..50 {
            c.put(1, format!("q{i}"), &big(i));
            let e = c.inner.lock().unwrap();
            assert!(e.bytes <= one * 10, "{} > {}", e.bytes, one * 10);
            assert_eq!(e.bytes, e.map.values().map(|x| x.size).sum::<usize>());
        }
        // the latest is kept
        assert_eq!(hit(c.get(1, "q49")), Some(49));
        // an answer larger than an eighth of the budget is not kept
        let small = ResultCache::with_budget(1000, one * 4);
        small.put(1, "q".into(), &big(1));
        assert!(hit(small.get(1, "q")).is_none());
    }
}
