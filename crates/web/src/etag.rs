//! Optimistic concurrency: every versioned resource carries `ETag: "<version>"`; updates must
//! send `If-Match` with it and get 412 when someone else changed the resource meanwhile.
use crate::error::{ApiError, ErrorCode};
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The ETag of a version.
pub fn etag_value(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).expect("digits are a valid header")
}

/// A JSON body with its ETag; `Versioned::created` answers 201.
pub struct Versioned<T> {
    pub status: StatusCode,
    pub version: i64,
    pub body: T,
    pub location: Option<String>,
}

impl<T> Versioned<T> {
    pub fn ok(version: i64, body: T) -> Self {
        Versioned {
            status: StatusCode::OK,
            version,
            body,
            location: None,
        }
    }
    pub fn created(version: i64, body: T, location: String) -> Self {
        Versioned {
            status: StatusCode::CREATED,
            version,
            body,
            location: Some(location),
        }
    }
}

impl<T: Serialize> IntoResponse for Versioned<T> {
    fn into_response(self) -> Response {
        let mut r = (self.status, axum::Json(self.body)).into_response();
        r.headers_mut()
            .insert(header::ETAG, etag_value(self.version));
        if let Some(loc) = self.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
            r.headers_mut().insert(header::LOCATION, loc);
        }
        r
    }
}

/// The version a client expects (`If-Match: "<version>"`). Required on updates: a missing header
/// is 428, a malformed one 400. If-Match uses strong comparison (RFC 9110 §13.1.1): a weak tag
/// (`W/"3"`) never matches, so it is 412.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IfMatch(pub i64);

impl IfMatch {
    /// 412 unless the current version is the expected one.
    pub fn check(&self, current: i64) -> Result<(), ApiError> {
        if self.0 == current {
            Ok(())
        } else {
            Err(ApiError::new(ErrorCode::PreconditionFailed).detail(format!(
                "current version is {current}, If-Match named {}",
                self.0
            )))
        }
    }
}

/// The version of a strong ETag (`"3"`); `None` for anything else, weak tags included.
pub fn parse_if_match(v: &str) -> Option<i64> {
    let v = v.trim();
    let v = v.strip_prefix('"')?.strip_suffix('"')?;
    v.parse().ok()
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(v) = parts.headers.get(header::IF_MATCH) else {
            return Err(ApiError::new(ErrorCode::PreconditionRequired));
        };
        let raw = v.to_str().unwrap_or("").trim();
        if raw.strip_prefix("W/").and_then(parse_if_match).is_some() {
            return Err(ApiError::new(ErrorCode::PreconditionFailed)
                .detail("If-Match uses strong comparison: a weak ETag (W/\"…\") never matches"));
        }
        v.to_str()
            .ok()
            .and_then(parse_if_match)
            .map(IfMatch)
            .ok_or_else(|| {
                ApiError::new(ErrorCode::InvalidHeader)
                    .detail("If-Match must be an ETag such as \"3\"")
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tags() {
        assert_eq!(parse_if_match("\"3\""), Some(3));
        assert_eq!(parse_if_match("W/\"12\""), None);
        assert_eq!(parse_if_match("3"), None);
        assert_eq!(parse_if_match("\"x\""), None);
        assert!(IfMatch(2).check(2).is_ok());
        assert_eq!(
            IfMatch(1).check(2).unwrap_err().status,
            StatusCode::PRECONDITION_FAILED
        );
    }
}
