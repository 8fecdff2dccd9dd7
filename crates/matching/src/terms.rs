//! A bounded cache of the weighted words of listings' and needs' texts, by id and version.
//!
//! Pseudo-relevance feedback reads the words of the best first-pass matches of every request
//! ([`crate::text::feedback_terms`]); cutting those texts into words is a tenth of a match
//! request's work, and the same popular texts come back request after request. A text at one
//! version has one set of words, so an entry is keyed by the version it was cut from and is never
//! stale: an edit bumps the version, the next request misses and cuts the new text. Entries of
//! old versions are replaced then or evicted. Nothing is shared across kinds (listings and needs
//! have separate id spaces) and nothing but the words of public texts is held.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::text::{Text, WeightedTerms};

const SHARDS: usize = 16;

/// Lookups by result (`hit`, `miss`).
pub const LOOKUPS_METRIC: &str = "ttx_matching_terms_cache_lookups_total";

struct Shard {
    map: HashMap<(&'static str, i64), (i64, Arc<WeightedTerms>)>,
    bytes: usize,
}

/// Weighted words by (kind, id, version), at most about `max_bytes` of them. Cheap to share
/// (`Arc`); 0 bytes turns it off (every lookup cuts the text).
pub struct TermsCache {
    shards: Vec<Mutex<Shard>>,
    per_shard: usize,
}

impl std::fmt::Debug for TermsCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TermsCache")
            .field("bytes", &self.bytes())
            .field("max_bytes", &(self.per_shard * SHARDS))
            .finish()
    }
}

impl TermsCache {
    pub fn new(max_bytes: usize) -> TermsCache {
        metrics::describe_counter!(
            LOOKUPS_METRIC,
            "Feedback texts of match requests whose weighted words were looked up in the cache, by result"
        );
        TermsCache {
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        map: HashMap::new(),
                        bytes: 0,
                    })
                })
                .collect(),
            per_shard: max_bytes / SHARDS,
        }
    }

    fn shard(&self, id: i64) -> &Mutex<Shard> {
        &self.shards[(id as u64 % SHARDS as u64) as usize]
    }

    /// The weighted words of `kind`'s `id` at `version`, cut from `text()` when not cached.
    pub fn get(
        &self,
        kind: &'static str,
        id: i64,
        version: i64,
        text: impl FnOnce() -> Text,
    ) -> Arc<WeightedTerms> {
        if self.per_shard == 0 {
            return Arc::new(WeightedTerms::of(&text()));
        }
        let key = (kind, id);
        {
            let shard = self.shard(id).lock().unwrap_or_else(|e| e.into_inner());
            if let Some((v, terms)) = shard.map.get(&key) {
                if *v == version {
                    metrics::counter!(LOOKUPS_METRIC, "result" => "hit").increment(1);
                    return terms.clone();
                }
            }
        }
        metrics::counter!(LOOKUPS_METRIC, "result" => "miss").increment(1);
        // cut outside the lock: another request may cut the same text meanwhile (both agree)
        let terms = Arc::new(WeightedTerms::of(&text()));
        let size = terms.bytes();
        if size > self.per_shard {
            return terms;
        }
        let mut shard = self.shard(id).lock().unwrap_or_else(|e| e.into_inner());
        if shard.map.get(&key).is_some_and(|(v, _)| *v > version) {
            // a newer version was stored meanwhile: keep it
            return terms;
        }
        if let Some((_, old)) = shard.map.remove(&key) {
            shard.bytes -= old.bytes();
        }
        while shard.bytes + size > self.per_shard {
            // evict arbitrary entries (the map's order) until the new one fits
            let Some(k) = shard.map.keys().next().copied() else {
                break;
            };
            if let Some((_, t)) = shard.map.remove(&k) {
                shard.bytes -= t.bytes();
            }
        }
        shard.bytes += size;
        shard.map.insert(key, (version, terms.clone()));
        terms
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).map.len())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// About the memory held, in bytes.
    pub fn bytes(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).bytes)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    fn text(title: &str) -> Text {
        Text {
            title: title.to_string(),
            keywords: vec![],
            body: vec!["工业副产石膏制备轻质砌块".to_string()],
        }
    }

    #[test]
    fn a_version_is_cut_once_and_an_edit_is_cut_again() {
        let c = TermsCache::new(1 << 20);
        let cuts = Cell::new(0);
        let get = |id, v, title: &str| {
            c.get("listings", id, v, || {
                cuts.set(cuts.get() + 1);
                text(title)
            })
        };
        let a = get(1, 1, "脱硫石膏");
        let again = get(1, 1, "脱硫石膏");
        assert_eq!(cuts.get(), 1, "the same version is not cut again");
        assert_eq!(a, again);
        assert_eq!(*a, WeightedTerms::of(&text("脱硫石膏")));
        let edited = get(1, 2, "陶瓷釉料");
        assert_eq!(cuts.get(), 2, "a new version is cut");
        assert_eq!(*edited, WeightedTerms::of(&text("陶瓷釉料")));
        assert_ne!(a, edited);
        // an older version asked for late does not replace the newer entry
        get(1, 1, "脱硫石膏");
        get(1, 2, "陶瓷釉料");
        assert_eq!(cuts.get(), 3);
        assert_eq!(c.len(), 1);
        // kinds are apart
        get(1, 2, "陶瓷釉料");
        c.get("demands", 1, 2, || {
            cuts.set(cuts.get() + 1);
            text("陶瓷釉料")
        });
        assert_eq!(cuts.get(), 4);
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn memory_stays_within_its_bound() {
        let one = WeightedTerms::of(&text("脱硫石膏")).bytes();
        let c = TermsCache::new(one * SHARDS * 3);
        for id in 0..1_000 {
            c.get("listings", id, 1, || text("脱硫石膏"));
        }
        assert!(
            c.bytes() <= one * SHARDS * 3,
            "{} > {}",
            c.bytes(),
            one * SHARDS * 3
        );
        assert!(c.len() >= SHARDS, "every shard keeps some: {}", c.len());
        let off = TermsCache::new(0);
        off.get("listings", 1, 1, || text("脱硫石膏"));
        assert!(off.is_empty());
    }
}
