//! Webhook signatures: `X-TTX-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` computed with
//! the webhook's secret over `<t>.<body>`. Receivers recompute it, compare in constant time,
//! and reject old timestamps to stop replays; `X-TTX-Event-Id` lets them drop duplicates.
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Header carrying the signature.
pub const SIGNATURE_HEADER: &str = "x-ttx-signature";
/// Header carrying the event's unique id (the same on every retry).
pub const EVENT_ID_HEADER: &str = "x-ttx-event-id";
/// Header carrying the event kind, e.g. `proposal.submitted`.
pub const EVENT_KIND_HEADER: &str = "x-ttx-event";
/// Header carrying the delivery id (one per webhook and event).
pub const DELIVERY_HEADER: &str = "x-ttx-delivery";
/// Header carrying the attempt number, from 1.
pub const ATTEMPT_HEADER: &str = "x-ttx-attempt";

fn mac(secret: &str, t: i64, body: &[u8]) -> HmacSha256 {
    let mut m = HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    m.update(t.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m
}

/// The signature header value for `body` sent at unix time `t`.
pub fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    let tag = mac(secret, t, body).finalize().into_bytes();
    format!("t={t},v1={}", hex::encode(tag))
}

/// Why a signature was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature header is malformed")]
    Malformed,
    #[error("the signature timestamp is outside the tolerated window")]
    Stale,
    #[error("the signature does not match")]
    Mismatch,
}

/// Checks a signature header (as a receiver would): well-formed, `t` within `tolerance_secs`
/// of `now`, and one of its `v1` tags matches (constant-time comparison).
pub fn verify(
    secret: &str,
    header: &str,
    body: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    let mut t: Option<i64> = None;
    let mut tags: Vec<Vec<u8>> = vec![];
    for part in header.split(',') {
        let (k, v) = part
            .trim()
            .split_once('=')
            .ok_or(SignatureError::Malformed)?;
        match k {
            "t" => t = Some(v.parse().map_err(|_| SignatureError::Malformed)?),
            "v1" => tags.push(hex::decode(v).map_err(|_| SignatureError::Malformed)?),
            _ => {}
        }
    }
    let t = t.ok_or(SignatureError::Malformed)?;
    if tags.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if (now - t).abs() > tolerance_secs {
        return Err(SignatureError::Stale);
    }
    let ok = tags
        .iter()
        .any(|tag| mac(secret, t, body).verify_slice(tag).is_ok());
    if ok {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// A new webhook secret: `whsec_` and 64 hex characters (256 random bits).
pub fn new_secret() -> String {
    use rand::RngCore;
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    format!("whsec_{}", hex::encode(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify() {
        let s = "whsec_test";
        let h = sign(s, 1_700_000_000, b"{\"a\":1}");
        assert!(h.starts_with("t=1700000000,v1="));
        assert_eq!(h.len(), "t=1700000000,v1=".len() + 64);
        assert_eq!(verify(s, &h, b"{\"a\":1}", 1_700_000_010, 300), Ok(()));
        assert_eq!(
            verify(s, &h, b"{\"a\":2}", 1_700_000_010, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify("other", &h, b"{\"a\":1}", 1_700_000_010, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(s, &h, b"{\"a\":1}", 1_700_001_000, 300),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(s, "v1=abc", b"", 0, 300),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(s, "garbage", b"", 0, 300),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn known_vector() {
        // HMAC-SHA256(key="key", "1.body"), computed independently.
        let h = sign("key", 1, b"body");
        let tag = h.split("v1=").nth(1).unwrap();
        let mut m = HmacSha256::new_from_slice(b"key").unwrap();
        m.update(b"1.body");
        assert_eq!(tag, hex::encode(m.finalize().into_bytes()));
    }

    #[test]
    fn secrets_are_random() {
        let a = new_secret();
        assert!(a.starts_with("whsec_") && a.len() == 6 + 64);
        assert_ne!(a, new_secret());
    }
}
