//! Generators of valid test inputs.
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(1);

/// A process-unique number (with the process id, so parallel test processes never collide).
pub fn next() -> u64 {
    std::process::id() as u64 * 100_000 + COUNTER.fetch_add(1, Ordering::Relaxed)
}

/// A valid unified social credit code for `region` (6 digits), unique per `n`.
pub fn credit_code(region: &str, n: u64) -> String {
    // 9 = registered with market regulation, 1 = enterprise; then the region; then a 9-character
    // organisation code from `n`.
    let org = format!("{:09}", n % 1_000_000_000);
    let first17 = format!("91{region}{org}");
    ttx_core::CreditCode::complete(&first17)
        .expect("valid")
        .to_string()
}

/// Percent-encodes `s` for a query string (RFC 3986 unreserved characters stay as they are).
pub fn query_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
