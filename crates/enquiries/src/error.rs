//! Error codes of enquiries and confidential details (problem+json `code`), on top of the
//! platform codes; `GET /v1/meta/errors` serves the table.
use crate::domain::{EnquiryStatus, GrantRefusal, Refusal, SendRefusal, Side};
use ttx_web::{ApiError, ErrorCode};

ttx_web::error_codes! {
    /// Every enquiries-specific problem.
    pub enum EnquiryError {
        InvalidTransition = ("enquiry_invalid_transition", 409, "The enquiry's status does not allow this; `allowed` names what does"),
        Duplicate = ("enquiry_duplicate", 409, "Your organisation already has an enquiry under way about this item"),
        DailyLimit = ("enquiry_daily_limit", 429, "Your organisation has sent as many enquiries today as allowed"),
        SubjectClosed = ("enquiry_subject_closed", 409, "The listing or need does not take enquiries in its current state"),
        NdaRequired = ("nda_required", 409, "The listing has no confidential details, hence no NDA to accept"),
        NdaVersionMismatch = ("nda_version_mismatch", 409, "The NDA changed: read the current version and accept that one"),
        NdaNotAccepted = ("nda_not_accepted", 409, "The enquirer has not accepted the current version of the NDA"),
    }
}

/// `(code, status, title)` of every enquiries-specific problem.
pub const ERROR_CODES: ttx_web::error::ErrorTable = EnquiryError::TABLE;

/// The problem for one of the codes above.
pub fn err(code: EnquiryError) -> ApiError {
    ApiError::new(code)
}

/// A refused action: 403 for the wrong side, 409 naming the allowed actions otherwise.
pub fn refused(
    r: Refusal,
    status: EnquiryStatus,
    side: Side,
    action: crate::domain::Action,
) -> ApiError {
    match r {
        Refusal::WrongSide => ApiError::forbidden(format!(
            "the {} of an enquiry may not {}",
            side.as_str(),
            action.as_str()
        )),
        Refusal::InvalidState => {
            let allowed: Vec<&str> = crate::domain::allowed(status, side)
                .iter()
                .map(|a| a.as_str())
                .collect();
            err(EnquiryError::InvalidTransition)
                .detail(format!(
                    "an enquiry that is {} does not allow {} now; allowed: {}",
                    status.as_str(),
                    action.as_str(),
                    if allowed.is_empty() {
                        "nothing".to_string()
                    } else {
                        allowed.join(", ")
                    }
                ))
                .with_context(serde_json::json!({
                    "status": status.as_str(),
                    "action": action.as_str(),
                    "allowed": allowed,
                }))
        }
    }
}

/// A caller who may not send enquiries.
pub fn may_not_send(r: SendRefusal) -> ApiError {
    match r {
        SendRefusal::NotVerified => ApiError::new(ErrorCode::OrgNotVerified)
            .detail("only verified organisations send enquiries"),
        SendRefusal::NotAllowed => ApiError::forbidden(
            "enquiries are sent by members of universities, research institutes and enterprises, \
             and by brokers of agencies",
        ),
    }
}

/// A refused NDA acceptance or grant.
pub fn grant(r: GrantRefusal, accepting: bool) -> ApiError {
    match (r, accepting) {
        (GrantRefusal::NoNda, _) => err(EnquiryError::NdaRequired),
        (GrantRefusal::NdaNotAccepted, true) => err(EnquiryError::NdaVersionMismatch),
        (GrantRefusal::NdaNotAccepted, false) => err(EnquiryError::NdaNotAccepted),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_problems_with_their_status() {
        for c in EnquiryError::ALL {
            let e = err(*c);
            assert_eq!((e.code, e.status.as_u16()), (c.code(), c.status()));
            assert!((400..500).contains(&c.status()), "{}", c.code());
            assert!(ErrorCode::ALL.iter().all(|p| p.code() != c.code()));
        }
        assert_eq!(
            grant(GrantRefusal::NdaNotAccepted, true).code,
            EnquiryError::NdaVersionMismatch.code()
        );
        assert_eq!(
            grant(GrantRefusal::NdaNotAccepted, false).code,
            EnquiryError::NdaNotAccepted.code()
        );
    }
}
