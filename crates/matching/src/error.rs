//! Error codes of matching (problem+json `code`), on top of the platform codes: one typed enum,
//! declared once with [`ttx_web::error_codes!`]. Every module of the crate adds its codes here;
//! `GET /v1/meta/errors` serves [`ERROR_CODES`].

ttx_web::error_codes! {
    /// Every matching-specific problem.
    pub enum MatchingError {
        InvalidTransition = ("match_invalid_transition", 409, "The match is not at a stage that allows this; `allowed` names what is"),
        Exists = ("match_exists", 409, "Your agency already has a match of this listing and need under way"),
    }
}

/// `(code, status, title)` of every matching-specific problem.
pub const ERROR_CODES: ttx_web::error::ErrorTable = MatchingError::TABLE;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_a_problem_with_its_status() {
        for c in MatchingError::ALL {
            let p = ttx_web::ApiError::from(*c).to_problem();
            assert_eq!((p.code.as_str(), p.status), (c.code(), c.status()));
            assert!((400..500).contains(&p.status));
            assert!(!p.title.is_empty());
        }
    }
}
