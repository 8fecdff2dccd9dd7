//! Error codes of the listings domain: one typed enum, declared once with
//! [`ttx_web::error_codes!`]. Services return them as [`ServiceError`]s; routes turn those into
//! problem+json. `GET /v1/meta/errors` serves [`ERROR_CODES`].
use ttx_web::ServiceError;

use crate::domain::{DealRefusal, TransitionError};

ttx_web::error_codes! {
    /// Every listings-specific problem.
    pub enum ListingError {
        InvalidTransition = ("listing_invalid_transition", 409, "The listing's state does not allow this"),
        NotDraft = ("listing_not_draft", 409, "Only draft listings can be deleted"),
        Expired = ("listing_expired", 409, "The listing's expiry date has passed; move it before publishing"),
        OrgKind = ("listing_org_kind", 403, "Only universities, research institutes and enterprises post listings"),
        LicenceConflict = ("listing_licence_conflict", 409, "Non-exclusive licences were granted on this listing; it can no longer be licensed exclusively"),
    }
}

/// (code, status, title) of every listings-specific error.
pub const ERROR_CODES: ttx_web::error::ErrorTable = ListingError::TABLE;

/// A transition the lifecycle forbids (deleting a non-draft has its own code).
impl From<TransitionError> for ServiceError {
    fn from(e: TransitionError) -> Self {
        let code = if e.action == crate::domain::Action::Delete {
            ListingError::NotDraft
        } else {
            ListingError::InvalidTransition
        };
        ServiceError::new(code).detail(e.to_string()).with_context(
            serde_json::json!({"status": e.from.as_str(), "action": e.action.as_str()}),
        )
    }
}

/// A deal the rules refuse: the state (409), the body (422 naming the field), or a licence
/// that would contradict the non-exclusive licences already granted (409).
impl From<DealRefusal> for ServiceError {
    fn from(r: DealRefusal) -> Self {
        match r {
            DealRefusal::State(e) => e.into(),
            DealRefusal::ModeNotOffered(m) => ServiceError::field(
                "mode",
                "not_offered",
                format!(
                    "the listing does not offer {} ({}); it offers only its transfer_modes",
                    m.as_str(),
                    ttx_core::Labelled::zh(&m)
                ),
            ),
            DealRefusal::ScopeRequired => ServiceError::field(
                "licence_scope",
                "required",
                "a licence deal says its scope: exclusive (独占许可), sole (排他许可) or non_exclusive (普通许可)",
            ),
            DealRefusal::ScopeWithoutLicence => ServiceError::field(
                "licence_scope",
                "not_a_licence",
                "licence_scope applies only to a deal with mode license",
            ),
            DealRefusal::ExclusiveAfterNonExclusive { granted } => {
                ServiceError::new(ListingError::LicenceConflict).detail(format!(
                    "{granted} non-exclusive licence(s) were granted on this listing; an exclusive or sole licence would take their rights away"
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Action, ListingStatus as Status};

    #[test]
    fn every_code_is_a_problem_with_its_status() {
        for c in ListingError::ALL {
            let p = ttx_web::ApiError::from(*c).to_problem();
            assert_eq!((p.code.as_str(), p.status), (c.code(), c.status()));
            assert!((400..600).contains(&p.status));
        }
    }

    #[test]
    fn deleting_a_non_draft_has_its_own_code() {
        let e = ServiceError::from(
            crate::domain::transition(Status::Published, Action::Delete).unwrap_err(),
        );
        assert!(e.is(ListingError::NotDraft));
        let e = ServiceError::from(
            crate::domain::transition(Status::Draft, Action::Withdraw).unwrap_err(),
        );
        assert!(e.is(ListingError::InvalidTransition));
        assert_eq!(e.context.unwrap()["status"], "draft");
    }
}
