//! Error codes of contract registration (problem+json `code`), on top of the platform codes.
use axum::http::StatusCode;
use ttx_web::ApiError;

/// `(code, status, title)` of every contract-specific problem.
pub const ERROR_CODES: &[(&str, u16, &str)] = &[
    (
        NO_STATION_FOR_REGION,
        422,
        "No verified registration station covers the seller's region",
    ),
    (
        STATION_OUTSIDE_JURISDICTION,
        422,
        "The chosen station's jurisdiction does not cover the seller's region",
    ),
    (
        INCOMPLETE_FOR_SUBMISSION,
        422,
        "The contract lacks what a submission needs",
    ),
    (
        DUPLICATE_CONTRACT,
        409,
        "The same contract is already registered",
    ),
    (
        REVIEW_OVERDUE,
        409,
        "The review deadline has passed; the station must register or refuse",
    ),
    (NOT_REGISTERED, 409, "The contract is not registered"),
    (
        AMENDMENT_PENDING,
        409,
        "A change request of this contract is still pending",
    ),
    (NOTHING_TO_AMEND, 422, "The amendment changes nothing"),
    (
        NOT_REGISTERING_STATION,
        403,
        "Only a reviewer of the registering station may do this",
    ),
    (
        NOT_SELLER_SIDE,
        403,
        "Only a member of the seller organisation may do this",
    ),
    (
        READ_ONLY_ACCESS,
        403,
        "You may read this contract but not change it",
    ),
];

pub const NO_STATION_FOR_REGION: &str = "no_station_for_region";
pub const STATION_OUTSIDE_JURISDICTION: &str = "station_outside_jurisdiction";
pub const INCOMPLETE_FOR_SUBMISSION: &str = "incomplete_for_submission";
pub const DUPLICATE_CONTRACT: &str = "duplicate_contract";
pub const REVIEW_OVERDUE: &str = "review_overdue";
pub const NOT_REGISTERED: &str = "not_registered";
pub const AMENDMENT_PENDING: &str = "amendment_pending";
pub const NOTHING_TO_AMEND: &str = "nothing_to_amend";
pub const NOT_REGISTERING_STATION: &str = "not_registering_station";
pub const NOT_SELLER_SIDE: &str = "not_seller_side";
pub const READ_ONLY_ACCESS: &str = "read_only_access";

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
            // no clash with a platform code
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
