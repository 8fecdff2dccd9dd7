//! Error codes of the listings domain (used with `ApiError::domain`).
use axum::http::StatusCode;
use ttx_search::SearchError;
use ttx_web::{ApiError, ErrorCode};

use crate::domain::TransitionError;

/// (code, status, title) of every listings-specific error.
pub const ERROR_CODES: &[(&str, u16, &str)] = &[
    (
        LISTING_INVALID_TRANSITION,
        409,
        "The listing's state does not allow this",
    ),
    (LISTING_NOT_DRAFT, 409, "Only draft listings can be deleted"),
    (
        LISTING_EXPIRED,
        409,
        "The listing's expiry date has passed; move it before publishing",
    ),
    (
        LISTING_ORG_KIND,
        403,
        "Only universities, research institutes and enterprises post listings",
    ),
    (SEARCH_UNAVAILABLE, 503, "Search is temporarily unavailable"),
];

pub const LISTING_INVALID_TRANSITION: &str = "listing_invalid_transition";
pub const LISTING_NOT_DRAFT: &str = "listing_not_draft";
pub const LISTING_EXPIRED: &str = "listing_expired";
pub const LISTING_ORG_KIND: &str = "listing_org_kind";
pub const SEARCH_UNAVAILABLE: &str = "search_unavailable";

fn domain(code: &'static str) -> ApiError {
    let (_, status, title) = ERROR_CODES
        .iter()
        .find(|(c, _, _)| *c == code)
        .expect("listed error code");
    ApiError::domain(
        StatusCode::from_u16(*status).expect("valid status"),
        code,
        title,
    )
}

/// A transition the lifecycle forbids (deleting a non-draft has its own code).
pub fn transition(e: TransitionError) -> ApiError {
    let code = if e.action == crate::domain::Action::Delete {
        LISTING_NOT_DRAFT
    } else {
        LISTING_INVALID_TRANSITION
    };
    domain(code)
        .detail(e.to_string())
        .with_context(serde_json::json!({"status": e.from.as_str(), "action": e.action.as_str()}))
}

pub fn expired() -> ApiError {
    domain(LISTING_EXPIRED)
}

pub fn org_kind() -> ApiError {
    domain(LISTING_ORG_KIND)
}

/// Maps a search failure: a bad cursor is the caller's, the rest is ours.
pub fn search(e: SearchError) -> ApiError {
    match e {
        SearchError::InvalidCursor => ApiError::new(ErrorCode::InvalidCursor),
        SearchError::Db(db) => ApiError::internal(db),
        other => {
            tracing::error!(error = %other, "search failed");
            domain(SEARCH_UNAVAILABLE)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_not_platform_codes() {
        let mut seen = std::collections::HashSet::new();
        for (code, status, _) in ERROR_CODES {
            assert!(seen.insert(*code));
            assert!(ErrorCode::ALL.iter().all(|p| p.code() != *code));
            assert!(StatusCode::from_u16(*status).unwrap().is_client_error() || *status >= 500);
            assert_eq!(domain(code).code, *code);
        }
        assert_eq!(
            search(SearchError::InvalidCursor).status,
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            search(SearchError::Engine("x".into())).status,
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
}
