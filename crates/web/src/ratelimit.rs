//! Rate limits: a fixed one-minute window per key, in this process's memory (each process of a
//! scaled-out deployment counts its own requests), on the application's clock
//! (`ttx_core::clock::now`, so tests move time instead of sleeping).
//!
//! - [`Limiter`]: the counter, for any key; bounded memory (idle keys are evicted);
//! - [`layer`]: the middleware every request passes: keyed by the (hashed) bearer token when one is
//!   sent, by the client address otherwise; 429 `rate_limited` with `Retry-After` (seconds) and
//!   `RateLimit-Limit` / `RateLimit-Remaining` / `RateLimit-Reset` on every counted answer;
//! - [`client_ip`]: the client's address, from the connection or a trusted `X-Forwarded-For`.
//!
//! A request whose bearer token turns out to be invalid (401) is also charged to its address,
//! in a window of its own: once an address has failed `per_address` times in a minute, its
//! requests with a token are refused too, so guessing tokens (each a new key) is limited.
use crate::error::{problem_response, ApiError, ErrorCode};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

/// The length of a window.
pub const WINDOW_SECS: i64 = 60;
/// Keys tracked by one limiter at most; beyond, expired windows are swept and then the oldest
/// evicted.
pub const DEFAULT_CAPACITY: usize = 100_000;
/// The counter of refused requests (label `key`: `token` or `address`).
pub const REFUSED_METRIC: &str = "ttx_rate_limited_total";

/// Paths never limited: probes and the metrics scrape.
pub const EXEMPT_PATHS: &[&str] = &["/healthz", "/readyz", "/metrics"];

const RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
const RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
const RATELIMIT_RESET: HeaderName = HeaderName::from_static("ratelimit-reset");

/// What a limiter says about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Counted: `remaining` more are allowed in this window, which ends in `reset` seconds.
    Allowed {
        limit: u32,
        remaining: u32,
        reset: u64,
    },
    /// Over the limit: retry in `retry_after` seconds.
    Refused { limit: u32, retry_after: u64 },
    /// No limit configured.
    Unlimited,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start: DateTime<Utc>,
    count: u32,
}

/// At most `per_minute` events per key in a fixed one-minute window that starts at the key's
/// first event.
#[derive(Debug)]
pub struct Limiter<K> {
    per_minute: u32,
    capacity: usize,
    windows: Mutex<HashMap<K, Window>>,
}

fn elapsed_ms(start: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (now - start).num_milliseconds().max(0)
}

/// Whole seconds until the window that started at `start` ends (at least 1).
fn secs_left(start: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    let left_ms = (WINDOW_SECS * 1000 - elapsed_ms(start, now)).max(0) as u64;
    left_ms.div_ceil(1000).max(1)
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    /// `per_minute` events per key (0: no limit).
    pub fn new(per_minute: u32) -> Self {
        Self::with_capacity(per_minute, DEFAULT_CAPACITY)
    }

    /// [`Limiter::new`] tracking at most `capacity` keys.
    pub fn with_capacity(per_minute: u32, capacity: usize) -> Self {
        Limiter {
            per_minute,
            capacity: capacity.max(1),
            windows: Mutex::new(HashMap::new()),
        }
    }

    pub fn per_minute(&self) -> u32 {
        self.per_minute
    }

    /// Keys tracked now.
    pub fn tracked(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Window>> {
        self.windows.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn is_live(w: &Window, now: DateTime<Utc>) -> bool {
        elapsed_ms(w.start, now) < WINDOW_SECS * 1000
    }

    /// Counts one event of `key` at `now`.
    pub fn check(&self, key: K, now: DateTime<Utc>) -> Decision {
        if self.per_minute == 0 {
            return Decision::Unlimited;
        }
        let mut map = self.lock();
        if map.len() >= self.capacity && !map.contains_key(&key) {
            map.retain(|_, w| Self::is_live(w, now));
            if map.len() >= self.capacity {
                // Still full of live windows: the oldest tenth goes (their keys start afresh).
                let mut starts: Vec<DateTime<Utc>> = map.values().map(|w| w.start).collect();
                let cut = (starts.len() / 10).max(1) - 1;
                let (_, &mut nth, _) = starts.select_nth_unstable(cut);
                map.retain(|_, w| w.start > nth);
            }
        }
        let w = map.entry(key).or_insert(Window {
            start: now,
            count: 0,
        });
        if !Self::is_live(w, now) {
            *w = Window {
                start: now,
                count: 0,
            };
        }
        if w.count >= self.per_minute {
            return Decision::Refused {
                limit: self.per_minute,
                retry_after: secs_left(w.start, now),
            };
        }
        w.count += 1;
        Decision::Allowed {
            limit: self.per_minute,
            remaining: self.per_minute - w.count,
            reset: secs_left(w.start, now),
        }
    }

    /// Whether `key` has used up its window at `now` (without counting): the seconds to wait.
    pub fn exhausted(&self, key: &K, now: DateTime<Utc>) -> Option<u64> {
        if self.per_minute == 0 {
            return None;
        }
        let map = self.lock();
        let w = map.get(key)?;
        (Self::is_live(w, now) && w.count >= self.per_minute).then(|| secs_left(w.start, now))
    }
}

/// The client's address: behind a trusted reverse proxy the last `X-Forwarded-For` entry (the
/// one the proxy added), otherwise the connection's peer.
pub fn client_ip(
    trust_forwarded_for: bool,
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
) -> IpAddr {
    if trust_forwarded_for {
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|s| s.trim().parse::<IpAddr>().ok())
            .next_back();
        if let Some(ip) = forwarded {
            return ip;
        }
    }
    peer.map(|p| p.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// The key of a bearer token: the first 16 bytes of its SHA-256 (tokens are not kept in memory).
pub fn token_key(token: &str) -> [u8; 16] {
    let d = Sha256::digest(token.as_bytes());
    let mut k = [0u8; 16];
    k.copy_from_slice(&d[..16]);
    k
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = v.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The limits of the [`layer`].
#[derive(Debug)]
pub struct RateLimits {
    tokens: Limiter<[u8; 16]>,
    addresses: Limiter<IpAddr>,
    /// Requests with a token that was refused (401), per address.
    failures: Limiter<IpAddr>,
    trust_forwarded_for: bool,
}

impl RateLimits {
    /// Requests per token and minute, per address and minute (anonymous requests; 0: no limit),
    /// and whether `X-Forwarded-For` names the client.
    pub fn new(per_token: u32, per_address: u32, trust_forwarded_for: bool) -> Self {
        metrics::describe_counter!(
            REFUSED_METRIC,
            "Requests refused by the rate limits (429), by key: token or address"
        );
        RateLimits {
            tokens: Limiter::new(per_token),
            addresses: Limiter::new(per_address),
            failures: Limiter::new(per_address),
            trust_forwarded_for,
        }
    }
}

fn refused(kind: &'static str, limit: u32, retry_after: u64) -> Response {
    metrics::counter!(REFUSED_METRIC, "key" => kind).increment(1);
    let what = if kind == "token" {
        "this token"
    } else {
        "this address"
    };
    let mut resp = problem_response(&ApiError::new(ErrorCode::RateLimited).detail(format!(
        "at most {limit} requests a minute from {what}; retry in {retry_after} s"
    )));
    let h = resp.headers_mut();
    h.insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    h.insert(RATELIMIT_LIMIT, HeaderValue::from(limit));
    h.insert(RATELIMIT_REMAINING, HeaderValue::from(0u32));
    h.insert(RATELIMIT_RESET, HeaderValue::from(retry_after));
    resp
}

/// The middleware: `axum::middleware::from_fn_with_state(Arc<RateLimits>, layer)`. Runs inside
/// the clock scope (it reads `ttx_core::clock::now`).
pub async fn layer(State(limits): State<Arc<RateLimits>>, req: Request, next: Next) -> Response {
    if EXEMPT_PATHS.contains(&req.uri().path()) {
        return next.run(req).await;
    }
    let now = ttx_core::clock::now();
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let ip = client_ip(limits.trust_forwarded_for, peer, req.headers());
    let token = bearer(req.headers()).map(token_key);
    let decision = match token {
        Some(key) => {
            if let Some(wait) = limits.failures.exhausted(&ip, now) {
                return refused("address", limits.failures.per_minute(), wait);
            }
            match limits.tokens.check(key, now) {
                Decision::Refused { limit, retry_after } => {
                    return refused("token", limit, retry_after)
                }
                d => d,
            }
        }
        None => match limits.addresses.check(ip, now) {
            Decision::Refused { limit, retry_after } => {
                return refused("address", limit, retry_after)
            }
            d => d,
        },
    };
    let mut resp = next.run(req).await;
    if token.is_some() && resp.status() == StatusCode::UNAUTHORIZED {
        limits.failures.check(ip, now);
    }
    if let Decision::Allowed {
        limit,
        remaining,
        reset,
    } = decision
    {
        let h = resp.headers_mut();
        h.insert(RATELIMIT_LIMIT, HeaderValue::from(limit));
        h.insert(RATELIMIT_REMAINING, HeaderValue::from(remaining));
        h.insert(RATELIMIT_RESET, HeaderValue::from(reset));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn t0() -> DateTime<Utc> {
        "2026-01-01T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_window_per_key() {
        let l = Limiter::new(3);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for left in [2, 1, 0] {
            assert_eq!(
                l.check(a, t0()),
                Decision::Allowed {
                    limit: 3,
                    remaining: left,
                    reset: 60
                }
            );
        }
        assert_eq!(
            l.check(a, t0()),
            Decision::Refused {
                limit: 3,
                retry_after: 60
            }
        );
        assert_eq!(l.exhausted(&a, t0()), Some(60));
        assert_eq!(
            l.check(a, t0() + Duration::milliseconds(30_500)),
            Decision::Refused {
                limit: 3,
                retry_after: 30
            }
        );
        assert!(matches!(l.check(b, t0()), Decision::Allowed { .. }));
        assert_eq!(l.exhausted(&b, t0()), None);
        assert!(matches!(
            l.check(a, t0() + Duration::seconds(60)),
            Decision::Allowed { remaining: 2, .. }
        ));
        assert_eq!(Limiter::new(0).check(a, t0()), Decision::Unlimited);
    }

    #[test]
    fn memory_is_bounded() {
        let l = Limiter::with_capacity(5, 100);
        for i in 0..1000u32 {
            l.check(i, t0() + Duration::milliseconds(i64::from(i)));
            assert!(l.tracked() <= 100, "{} keys tracked", l.tracked());
        }
        // Expired windows go first: after a minute, a sweep leaves only the new key.
        for i in 0..100u32 {
            l.check(10_000 + i, t0() + Duration::seconds(120));
        }
        l.check(99_999, t0() + Duration::seconds(200));
        assert_eq!(l.tracked(), 1);
    }

    #[test]
    fn forwarded_for_only_when_trusted() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("203.0.113.9, 198.51.100.7"),
        );
        let peer: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        assert_eq!(
            client_ip(true, Some(peer), &h),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_ip(false, Some(peer), &h), peer.ip());
        assert_eq!(client_ip(true, Some(peer), &HeaderMap::new()), peer.ip());
    }

    #[test]
    fn bearer_tokens() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(bearer(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&h), None);
        assert_ne!(token_key("a"), token_key("b"));
    }
}
