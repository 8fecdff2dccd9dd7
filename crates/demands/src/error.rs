//! Error codes of the demands domain (used with `ApiError::domain`). Each is stable: clients
//! may branch on it.
use crate::challenge::{Decision, Ineligible, ProposalStatus};
use crate::completeness::Completeness;
use crate::domain::TransitionError;
use axum::http::StatusCode;
use ttx_search::SearchError;
use ttx_web::{ApiError, ErrorCode};

pub const DEMAND_ORG_KIND: &str = "demand_org_kind";
pub const DEMAND_INVALID_TRANSITION: &str = "demand_invalid_transition";
pub const INCOMPLETE_DEMAND: &str = "incomplete_demand";
pub const DEMAND_DEADLINE_PASSED: &str = "demand_deadline_passed";
pub const CHALLENGE_NOT_OPEN: &str = "challenge_not_open";
pub const PROPOSAL_DEADLINE_PASSED: &str = "proposal_deadline_passed";
pub const PROPOSAL_NOT_ELIGIBLE: &str = "proposal_not_eligible";
pub const PROPOSAL_OWN_CHALLENGE: &str = "proposal_own_challenge";
pub const PROPOSAL_ALREADY_SUBMITTED: &str = "proposal_already_submitted";
pub const PROPOSAL_INVALID_TRANSITION: &str = "proposal_invalid_transition";
pub const CHALLENGE_WINNERS_EXHAUSTED: &str = "challenge_winners_exhausted";
pub const SEARCH_UNAVAILABLE: &str = "search_unavailable";

/// (code, status, title) of every demands-specific error.
pub const ERROR_CODES: &[(&str, u16, &str)] = &[
    (
        DEMAND_ORG_KIND,
        403,
        "Only enterprises, research institutes and universities post needs",
    ),
    (
        DEMAND_INVALID_TRANSITION,
        409,
        "The need's state does not allow this",
    ),
    (
        INCOMPLETE_DEMAND,
        422,
        "The need is not described completely enough to be published",
    ),
    (
        DEMAND_DEADLINE_PASSED,
        409,
        "The need's deadline has passed; move it before publishing",
    ),
    (
        CHALLENGE_NOT_OPEN,
        409,
        "The challenge is not open for proposals",
    ),
    (
        PROPOSAL_DEADLINE_PASSED,
        409,
        "The proposal deadline of the challenge has passed",
    ),
    (
        PROPOSAL_NOT_ELIGIBLE,
        403,
        "Your organisation is not eligible for this challenge",
    ),
    (
        PROPOSAL_OWN_CHALLENGE,
        403,
        "A challenger cannot answer its own challenge",
    ),
    (
        PROPOSAL_ALREADY_SUBMITTED,
        409,
        "Your organisation has already submitted a proposal to this challenge",
    ),
    (
        PROPOSAL_INVALID_TRANSITION,
        409,
        "The proposal's state does not allow this",
    ),
    (
        CHALLENGE_WINNERS_EXHAUSTED,
        409,
        "The challenge has already accepted as many proposals as it allows",
    ),
    (SEARCH_UNAVAILABLE, 503, "Search is temporarily unavailable"),
];

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

pub fn org_kind() -> ApiError {
    domain(DEMAND_ORG_KIND)
}

pub fn transition(e: TransitionError) -> ApiError {
    domain(DEMAND_INVALID_TRANSITION)
        .detail(e.to_string())
        .with_context(serde_json::json!({"status": e.from.as_str(), "action": e.action.as_str()}))
}

/// 422 `incomplete_demand` with the score and the hints (zh + en) in `context`.
pub fn incomplete(c: &Completeness, min: u8) -> ApiError {
    domain(INCOMPLETE_DEMAND)
        .detail(format!(
            "the need scores {} of 100; publishing needs at least {min}",
            c.score
        ))
        .with_context(serde_json::json!({
            "score": c.score,
            "min_publish_score": min,
            "hints": c.hints,
        }))
}

pub fn deadline_passed() -> ApiError {
    domain(DEMAND_DEADLINE_PASSED)
}

pub fn challenge_not_open(status: &str) -> ApiError {
    domain(CHALLENGE_NOT_OPEN).detail(format!("the challenge is {status}"))
}

pub fn proposal_deadline_passed(deadline: chrono::DateTime<chrono::Utc>) -> ApiError {
    domain(PROPOSAL_DEADLINE_PASSED).detail(format!(
        "proposals were accepted until {}",
        deadline.to_rfc3339()
    ))
}

pub fn ineligible(e: &Ineligible) -> ApiError {
    let code = match e {
        Ineligible::OwnChallenge => PROPOSAL_OWN_CHALLENGE,
        _ => PROPOSAL_NOT_ELIGIBLE,
    };
    domain(code).detail(e.to_string())
}

pub fn already_submitted() -> ApiError {
    domain(PROPOSAL_ALREADY_SUBMITTED)
}

pub fn proposal_transition(from: ProposalStatus, d: Decision) -> ApiError {
    domain(PROPOSAL_INVALID_TRANSITION)
        .detail(format!(
            "the proposal is {} and cannot be {}ed",
            from.as_str(),
            d.as_str().trim_end_matches('e')
        ))
        .with_context(serde_json::json!({"status": from.as_str(), "action": d.as_str()}))
}

pub fn winners_exhausted(max: u32) -> ApiError {
    domain(CHALLENGE_WINNERS_EXHAUSTED)
        .detail(format!("the challenge accepts at most {max} proposal(s)"))
        .with_context(serde_json::json!({"max_winners": max}))
}

/// Maps a search failure: a bad cursor is the caller's, the rest is ours.
pub fn search(e: SearchError) -> ApiError {
    match e {
        SearchError::InvalidCursor => ApiError::new(ErrorCode::InvalidCursor),
        SearchError::Db(db) => ApiError::internal(db),
        other => {
            tracing::error!(error = %other, "demand search failed");
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
            assert!(seen.insert(*code), "duplicate {code}");
            assert!(ErrorCode::ALL.iter().all(|p| p.code() != *code));
            let s = StatusCode::from_u16(*status).unwrap();
            assert!(s.is_client_error() || s == StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(domain(code).code, *code);
        }
        assert_eq!(
            search(SearchError::InvalidCursor).status,
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn proposal_rule_codes_are_distinct() {
        let codes = [
            proposal_deadline_passed(ttx_core::clock::now()).code,
            ineligible(&Ineligible::Kind(ttx_core::OrgKind::Enterprise)).code,
            ineligible(&Ineligible::OwnChallenge).code,
            winners_exhausted(1).code,
            already_submitted().code,
        ];
        let set: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(set.len(), codes.len());
        assert_eq!(
            proposal_transition(ProposalStatus::Accepted, Decision::Decline)
                .detail
                .unwrap(),
            "the proposal is accepted and cannot be declined"
        );
    }
}
