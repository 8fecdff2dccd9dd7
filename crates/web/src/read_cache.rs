//! A read-through cache of *public* rendered views by id (`GET /v1/listings/{id}`,
//! `GET /v1/demands/{id}` for anonymous callers): the JSON body and its version (the ETag), so a
//! hit answers without touching the database.
//!
//! What it holds and for whom:
//! - only what an anonymous caller is shown (no contact details, no confidential fields); a
//!   caller with a bearer token always reads the database;
//! - only found, visible resources (a 404 is never cached, so a newly published resource shows
//!   at once everywhere).
//!
//! How fresh it is:
//! - in this process, a write invalidates its entry after its commit and before its response is
//!   sent (read-your-writes); a fill that raced with any invalidation is not stored
//!   ([`ReadCache::ticket`], [`ReadCache::put`]);
//! - a change to an organisation (name, kind, verification) drops every entry
//!   ([`ReadCache::clear`]; the server does it after any successful write under `/v1/orgs/`);
//! - entries expire after `ttl_secs` of the application clock, at the next Beijing midnight
//!   (expiry dates), and at any instant the caller names (a challenge's proposal deadline),
//!   whichever comes first;
//! - writes made by *another* process on the same database (the scale-out setup, or a `ttx
//!   import` run) are followed through the database's change log every `follow_ms`
//!   (`ttx_server::read_follow`), so they are seen here about a second later; `ttl_secs` bounds
//!   what following cannot see (it is off, or the database is unreachable).
//!
//! The size is bounded by `max_entries` per cache (expired entries are swept first, then
//! arbitrary ones evicted, an eighth of a shard at a time).
//!
//! The same cache, holding a typed value instead of a rendered body (`ReadCache<V>`), keeps the
//! cards that public searches show (`search_cards` entries): a search's hits are found in the
//! index, and their cards then come from memory instead of the database, fresh by the same rules.
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// Settings of the public read cache (`[read_cache]` in `ttx.toml`, `TTX_READ_CACHE__*`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct ReadCacheConfig {
    /// Serve anonymous reads by id from memory.
    pub enabled: bool,
    /// Entries per cache (one for listings, one for needs); a listing's view is 1 to 4 KiB.
    pub max_entries: usize,
    /// Longest time an entry is served: the bound on how stale a read may be after a write made
    /// by another process on the same database when following its writes fails or is off.
    /// 0 turns the cache off.
    pub ttl_secs: u64,
    /// Cards of listings shown by public searches kept in memory (a card is about 1 KiB; 0
    /// turns this cache off). Same freshness rules as the views.
    pub search_cards: usize,
    /// How often the server reads the database's change log to drop views that another process
    /// changed (`ttx_server::read_follow`): the usual bound on that staleness. 0 turns following
    /// off (then `ttl_secs` is the bound).
    pub follow_ms: u64,
}

impl Default for ReadCacheConfig {
    fn default() -> Self {
        ReadCacheConfig {
            enabled: true,
            max_entries: 20_000,
            ttl_secs: 60,
            search_cards: 50_000,
            follow_ms: 1_000,
        }
    }
}

/// A cached public view: the serialised JSON body and its version.
#[derive(Clone, Debug)]
pub struct Cached {
    pub version: i64,
    pub body: Bytes,
}

impl Cached {
    /// Serialises `view` (the same bytes `axum::Json` would send).
    pub fn render<T: Serialize>(version: i64, view: &T) -> Result<Cached, serde_json::Error> {
        Ok(Cached {
            version,
            body: Bytes::from(serde_json::to_vec(view)?),
        })
    }
}

impl IntoResponse for Cached {
    /// 200 with `Content-Type: application/json` and `ETag: "<version>"`, as
    /// [`crate::Versioned::ok`] answers.
    fn into_response(self) -> Response {
        let mut r = (StatusCode::OK, self.body).into_response();
        let h = r.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        h.insert(header::ETAG, crate::etag::etag_value(self.version));
        r
    }
}

/// Taken before reading the database for a fill; [`ReadCache::put`] stores the fill only if no
/// invalidation happened since.
#[derive(Clone, Copy, Debug)]
pub struct Ticket {
    writes: u64,
}

struct Entry<V> {
    value: V,
    expires_at: DateTime<Utc>,
}

const SHARDS: usize = 16;

/// Lookups by cache and result (`hit`, `miss`).
pub const LOOKUPS_METRIC: &str = "ttx_read_cache_lookups_total";

/// One cache of public values by id: rendered views ([`Cached`], the default) or typed values
/// such as search cards. Cheap to share (`Arc`).
pub struct ReadCache<V = Cached> {
    name: &'static str,
    shards: Vec<Mutex<HashMap<i64, Entry<V>>>>,
    per_shard: usize,
    ttl: chrono::Duration,
    /// Invalidations so far (in this cache).
    writes: AtomicU64,
}

impl<V: Clone> std::fmt::Debug for ReadCache<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadCache")
            .field("name", &self.name)
            .field("enabled", &self.enabled())
            .field("per_shard", &self.per_shard)
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl ReadCache<Cached> {
    /// A cache named `name` in the metrics (`listings`, `demands`) of `max_entries` views.
    pub fn new(name: &'static str, cfg: &ReadCacheConfig) -> ReadCache {
        ReadCache::sized(name, cfg, cfg.max_entries)
    }

    /// A cache that holds nothing (one shared instance).
    pub fn disabled() -> Arc<ReadCache> {
        static OFF: OnceLock<Arc<ReadCache>> = OnceLock::new();
        OFF.get_or_init(|| {
            Arc::new(ReadCache::new(
                "disabled",
                &ReadCacheConfig {
                    enabled: false,
                    ..Default::default()
                },
            ))
        })
        .clone()
    }
}

impl<V: Clone> ReadCache<V> {
    /// A cache named `name` in the metrics of at most `entries` values (0 holds nothing), with
    /// the TTL and switch of `cfg`.
    pub fn sized(name: &'static str, cfg: &ReadCacheConfig, entries: usize) -> ReadCache<V> {
        let on = cfg.enabled && cfg.ttl_secs > 0 && entries > 0;
        metrics::describe_counter!(
            LOOKUPS_METRIC,
            "Anonymous reads by id looked up in the public read cache, by cache and result"
        );
        ReadCache {
            name,
            shards: (0..if on { SHARDS } else { 0 })
                .map(|_| Mutex::new(HashMap::new()))
                .collect(),
            per_shard: entries.div_ceil(SHARDS).max(1),
            // at most ten years: beyond, "never" is as good
            ttl: chrono::Duration::seconds(cfg.ttl_secs.min(315_360_000) as i64),
            writes: AtomicU64::new(0),
        }
    }

    pub fn enabled(&self) -> bool {
        !self.shards.is_empty()
    }

    fn shard(&self, id: i64) -> Option<&Mutex<HashMap<i64, Entry<V>>>> {
        if self.shards.is_empty() {
            return None;
        }
        // ids are sequential: spread neighbours over the shards
        let i = (id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 60;
        self.shards.get(i as usize % self.shards.len())
    }

    /// The entry for `id` if it is still valid at `now`.
    pub fn get(&self, id: i64, now: DateTime<Utc>) -> Option<V> {
        let shard = self.shard(id)?;
        let found = {
            let mut map = shard.lock().unwrap_or_else(|p| p.into_inner());
            match map.get(&id) {
                Some(e) if now < e.expires_at => Some(e.value.clone()),
                Some(_) => {
                    map.remove(&id);
                    None
                }
                None => None,
            }
        };
        let result = if found.is_some() { "hit" } else { "miss" };
        metrics::counter!(LOOKUPS_METRIC, "cache" => self.name, "result" => result).increment(1);
        found
    }

    /// Take before reading the database for a fill.
    pub fn ticket(&self) -> Ticket {
        Ticket {
            writes: self.writes.load(Ordering::SeqCst),
        }
    }

    /// When an entry filled at `now` expires: after the TTL, and no later than the next Beijing
    /// midnight (expiry dates and deadlines are Beijing dates) or `until`.
    pub fn expiry(&self, now: DateTime<Utc>, until: Option<DateTime<Utc>>) -> DateTime<Utc> {
        let midnight = ttx_core::clock::beijing_date(now)
            .succ_opt()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc() - chrono::Duration::hours(8));
        let mut at = now
            .checked_add_signed(self.ttl)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        if let Some(m) = midnight {
            at = at.min(m);
        }
        if let Some(u) = until.filter(|u| *u > now) {
            at = at.min(u);
        }
        at
    }

    /// Stores a fill made after `ticket`, valid until `expires_at`, unless an invalidation (of
    /// any entry) happened since the ticket was taken.
    pub fn put(&self, ticket: Ticket, id: i64, value: V, expires_at: DateTime<Utc>) {
        let Some(shard) = self.shard(id) else { return };
        let mut map = shard.lock().unwrap_or_else(|p| p.into_inner());
        // Checked under the shard lock: an invalidation bumps `writes` before it takes the lock
        // to remove, so a stale fill is either refused here or removed by it.
        if self.writes.load(Ordering::SeqCst) != ticket.writes {
            return;
        }
        if map.len() >= self.per_shard && !map.contains_key(&id) {
            let now = ttx_core::clock::now();
            map.retain(|_, e| now < e.expires_at);
            if map.len() >= self.per_shard {
                // An eighth of the shard at once, so that a full cache does not sweep the shard
                // again on every fill.
                let evict: Vec<i64> = map
                    .keys()
                    .take((self.per_shard / 8).max(1))
                    .copied()
                    .collect();
                for k in evict {
                    map.remove(&k);
                }
            }
        }
        map.insert(id, Entry { value, expires_at });
    }

    /// The resource `id` changed (call after the commit, before answering).
    pub fn invalidate(&self, id: i64) {
        self.writes.fetch_add(1, Ordering::SeqCst);
        if let Some(shard) = self.shard(id) {
            shard.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
        }
    }

    /// Drops every entry (an organisation changed: every view names its owner).
    pub fn clear(&self) {
        self.writes.fetch_add(1, Ordering::SeqCst);
        for s in &self.shards {
            s.lock().unwrap_or_else(|p| p.into_inner()).clear();
        }
    }

    /// Entries held (for tests and metrics).
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).len())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cached(v: i64) -> Cached {
        Cached {
            version: v,
            body: Bytes::from(format!("{{\"v\":{v}}}")),
        }
    }

    fn cfg(max: usize) -> ReadCacheConfig {
        ReadCacheConfig {
            enabled: true,
            max_entries: max,
            ttl_secs: 5,
            search_cards: 0,
            follow_ms: 0,
        }
    }

    #[test]
    fn serves_until_expiry() {
        let c = ReadCache::new("t", &cfg(100));
        let now = Utc::now();
        let t = c.ticket();
        c.put(t, 7, cached(1), now + chrono::Duration::seconds(5));
        assert_eq!(c.get(7, now).map(|x| x.version), Some(1));
        assert!(c.get(7, now + chrono::Duration::seconds(5)).is_none());
        assert!(c.get(7, now).is_none(), "an expired entry is removed");
    }

    #[test]
    fn an_invalidation_drops_the_entry_and_refuses_a_racing_fill() {
        let c = ReadCache::new("t", &cfg(100));
        let now = Utc::now();
        let later = now + chrono::Duration::seconds(5);
        c.put(c.ticket(), 1, cached(1), later);
        c.invalidate(1);
        assert!(c.get(1, now).is_none());
        // a fill that read the database before the write committed
        let stale = c.ticket();
        c.invalidate(2);
        c.put(stale, 2, cached(1), later);
        assert!(
            c.get(2, now).is_none(),
            "a fill older than a write is not stored"
        );
        c.put(c.ticket(), 2, cached(2), later);
        assert_eq!(c.get(2, now).map(|x| x.version), Some(2));
    }

    #[test]
    fn clearing_drops_everything_and_refuses_racing_fills() {
        let c = ReadCache::new("t", &cfg(100));
        let now = Utc::now();
        let later = now + chrono::Duration::seconds(5);
        c.put(c.ticket(), 3, cached(1), later);
        c.put(c.ticket(), 4, cached(1), later);
        let before = c.ticket();
        c.clear();
        assert!(c.get(3, now).is_none() && c.get(4, now).is_none());
        c.put(before, 3, cached(1), later);
        assert!(c.get(3, now).is_none());
    }

    #[test]
    fn the_size_is_bounded() {
        let c = ReadCache::new("t", &cfg(32));
        let later = Utc::now() + chrono::Duration::seconds(60);
        for id in 0..1000 {
            c.put(c.ticket(), id, cached(id), later);
        }
        assert!(c.len() <= 32, "{} entries", c.len());
        assert!(!c.is_empty());
    }

    #[test]
    fn typed_values_are_bounded_and_a_full_shard_keeps_most_of_its_entries() {
        let cfg = ReadCacheConfig {
            ttl_secs: 60,
            ..cfg(0)
        };
        let c: ReadCache<String> = ReadCache::sized("t", &cfg, 1600);
        assert!(c.enabled());
        let later = Utc::now() + chrono::Duration::seconds(60);
        for id in 0..10_000 {
            c.put(c.ticket(), id, format!("card {id}"), later);
        }
        let n = c.len();
        assert!(n <= 1600, "{n} entries");
        // evicting an eighth at a time leaves every shard at least 7/8 full
        assert!(n >= 1600 * 7 / 8 - SHARDS, "{n} entries");
        assert_eq!(c.get(9_999, Utc::now()).as_deref(), Some("card 9999"));
        assert!(!ReadCache::<String>::sized("t", &cfg, 0).enabled());
    }

    #[test]
    fn off_holds_nothing() {
        for cfg in [
            ReadCacheConfig {
                enabled: false,
                ..Default::default()
            },
            ReadCacheConfig {
                ttl_secs: 0,
                ..Default::default()
            },
        ] {
            let c = ReadCache::new("t", &cfg);
            assert!(!c.enabled());
            let later = Utc::now() + chrono::Duration::seconds(60);
            c.put(c.ticket(), 1, cached(1), later);
            assert!(c.get(1, Utc::now()).is_none());
        }
    }

    #[test]
    fn entries_end_at_beijing_midnight_and_at_a_named_instant() {
        let c = ReadCache::new(
            "t",
            &ReadCacheConfig {
                ttl_secs: 3600,
                ..Default::default()
            },
        );
        // 15:59:00 UTC is 23:59 in Beijing
        let now = DateTime::parse_from_rfc3339("2026-03-01T15:59:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let midnight = DateTime::parse_from_rfc3339("2026-03-01T16:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(c.expiry(now, None), midnight);
        let soon = now + chrono::Duration::seconds(10);
        assert_eq!(c.expiry(now, Some(soon)), soon);
        let noon = DateTime::parse_from_rfc3339("2026-03-01T04:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(c.expiry(noon, None), noon + chrono::Duration::hours(1));
    }
}
