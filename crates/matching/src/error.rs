//! Error codes of matching (problem+json `code`), on top of the platform codes. Every module of
//! the crate lists its codes here; `GET /v1/meta/errors` serves the table.
use axum::http::StatusCode;
use ttx_web::ApiError;

/// `(code, status, title)` of every matching-specific problem.
pub const ERROR_CODES: &[(&str, u16, &str)] = &[
    (
        MATCH_INVALID_TRANSITION,
        409,
        "The match is not at a stage that allows this; `allowed` names what is",
    ),
    (
        MATCH_EXISTS,
        409,
        "Your agency already has a match of this listing and need under way",
    ),
];

pub const MATCH_INVALID_TRANSITION: &str = "match_invalid_transition";
pub const MATCH_EXISTS: &str = "match_exists";

/// The problem for one of the codes above.
pub fn err(code: &'static str) -> ApiError {
    let (c, status, title) = ERROR_CODES
        .iter()
        .find(|(c, _, _)| *c == code)
        .copied()
        .unwrap_or((code, 500, "Internal error"));
    ApiError::domain(
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        c,
        title,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_known_and_4xx() {
        let mut seen = std::collections::HashSet::new();
        for (code, status, title) in ERROR_CODES {
            assert!(seen.insert(*code), "duplicate {code}");
            assert!((400..500).contains(status), "{code}");
            assert!(!title.is_empty());
            assert!(
                ttx_web::ErrorCode::ALL.iter().all(|p| p.code() != *code),
                "{code} shadows a platform code"
            );
            let e = err(code);
            assert_eq!(e.status.as_u16(), *status);
            assert_eq!(e.code, *code);
        }
    }
}
