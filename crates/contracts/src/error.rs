//! Error codes of contract registration (problem+json `code`), on top of the platform codes.
ttx_web::error_codes! {
    /// Every contract-specific problem.
    pub enum ContractError {
        NoStationForRegion = ("no_station_for_region", 422, "No verified registration station covers the seller's region"),
        StationOutsideJurisdiction = ("station_outside_jurisdiction", 422, "The chosen station's jurisdiction does not cover the seller's region"),
        IncompleteForSubmission = ("incomplete_for_submission", 422, "The contract lacks what a submission needs"),
        DuplicateContract = ("duplicate_contract", 409, "The same contract is already registered"),
        ReviewOverdue = ("review_overdue", 409, "The review deadline has passed; the station must register or refuse"),
        NotRegistered = ("not_registered", 409, "The contract is not registered"),
        AmendmentPending = ("amendment_pending", 409, "A change request of this contract is still pending"),
        NothingToAmend = ("nothing_to_amend", 422, "The amendment changes nothing"),
        NotRegisteringStation = ("not_registering_station", 403, "Only a reviewer of the registering station may do this"),
        NotSellerSide = ("not_seller_side", 403, "Only a member of the seller organisation may do this"),
        ReadOnlyAccess = ("read_only_access", 403, "You may read this contract but not change it"),
        TooManyChecks = ("too_many_checks", 429, "Too many certificate checks from this address; retry later"),
        DocumentNotListed = ("document_not_listed", 409, "The document is not listed in the registered contract or a pending change request"),
    }
}

/// `(code, status, title)` of every contract-specific problem.
pub const ERROR_CODES: ttx_web::error::ErrorTable = ContractError::TABLE;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_a_problem_with_its_status() {
        for c in ContractError::ALL {
            let p = ttx_web::ApiError::from(*c).to_problem();
            assert_eq!((p.code.as_str(), p.status), (c.code(), c.status()));
            assert!((400..600).contains(&p.status));
            assert!(!p.title.is_empty());
        }
    }
}
