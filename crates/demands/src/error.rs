//! Error codes of the demands domain: one typed enum, declared once with [`ttx_web::error_codes!`],
//! and the constructors that add a detail and context. Each code is stable: clients may branch on
//! it. `GET /v1/meta/errors` serves [`ERROR_CODES`].
use crate::challenge::{Decision, Ineligible, ProposalStatus};
use crate::completeness::Completeness;
use crate::domain::TransitionError;
use ttx_web::ServiceError;

ttx_web::error_codes! {
    /// Every demands-specific problem.
    pub enum DemandError {
        OrgKind = ("demand_org_kind", 403, "Only enterprises, research institutes and universities post needs"),
        InvalidTransition = ("demand_invalid_transition", 409, "The need's state does not allow this"),
        Incomplete = ("incomplete_demand", 422, "The need is not described completely enough to be published"),
        DeadlinePassed = ("demand_deadline_passed", 409, "The need's deadline has passed; move it before publishing"),
        ChallengeNotOpen = ("challenge_not_open", 409, "The challenge is not open for proposals"),
        ProposalDeadlinePassed = ("proposal_deadline_passed", 409, "The proposal deadline of the challenge has passed"),
        ProposalNotEligible = ("proposal_not_eligible", 403, "Your organisation is not eligible for this challenge"),
        ProposalOwnChallenge = ("proposal_own_challenge", 403, "A challenger cannot answer its own challenge"),
        ProposalAlreadySubmitted = ("proposal_already_submitted", 409, "Your organisation has already submitted a proposal to this challenge"),
        ProposalInvalidTransition = ("proposal_invalid_transition", 409, "The proposal's state does not allow this"),
        ChallengeWinnersExhausted = ("challenge_winners_exhausted", 409, "The challenge has already accepted as many proposals as it allows"),
    }
}

/// (code, status, title) of every demands-specific error.
pub const ERROR_CODES: ttx_web::error::ErrorTable = DemandError::TABLE;

fn domain(code: DemandError) -> ServiceError {
    ServiceError::new(code)
}

pub fn org_kind() -> ServiceError {
    domain(DemandError::OrgKind)
}

pub fn transition(e: TransitionError) -> ServiceError {
    domain(DemandError::InvalidTransition)
        .detail(e.to_string())
        .with_context(serde_json::json!({"status": e.from.as_str(), "action": e.action.as_str()}))
}

/// 422 `incomplete_demand` with the score and the hints (zh + en) in `context`.
pub fn incomplete(c: &Completeness, min: u8) -> ServiceError {
    domain(DemandError::Incomplete)
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

pub fn deadline_passed() -> ServiceError {
    domain(DemandError::DeadlinePassed)
}

pub fn challenge_not_open(status: &str) -> ServiceError {
    domain(DemandError::ChallengeNotOpen).detail(format!("the challenge is {status}"))
}

pub fn proposal_deadline_passed(deadline: chrono::DateTime<chrono::Utc>) -> ServiceError {
    domain(DemandError::ProposalDeadlinePassed).detail(format!(
        "proposals were accepted until {}",
        deadline.to_rfc3339()
    ))
}

pub fn ineligible(e: &Ineligible) -> ServiceError {
    let code = match e {
        Ineligible::OwnChallenge => DemandError::ProposalOwnChallenge,
        _ => DemandError::ProposalNotEligible,
    };
    domain(code).detail(e.to_string())
}

pub fn already_submitted() -> ServiceError {
    domain(DemandError::ProposalAlreadySubmitted)
}

pub fn proposal_transition(from: ProposalStatus, d: Decision) -> ServiceError {
    domain(DemandError::ProposalInvalidTransition)
        .detail(format!(
            "the proposal is {} and cannot be {}ed",
            from.as_str(),
            d.as_str().trim_end_matches('e')
        ))
        .with_context(serde_json::json!({"status": from.as_str(), "action": d.as_str()}))
}

pub fn winners_exhausted(max: u32) -> ServiceError {
    domain(DemandError::ChallengeWinnersExhausted)
        .detail(format!("the challenge accepts at most {max} proposal(s)"))
        .with_context(serde_json::json!({"max_winners": max}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_a_problem_with_its_status() {
        for c in DemandError::ALL {
            let p = ttx_web::ApiError::from(*c).to_problem();
            assert_eq!((p.code.as_str(), p.status), (c.code(), c.status()));
            assert!((400..500).contains(&p.status));
        }
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
