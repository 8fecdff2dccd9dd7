//! Error codes of notifications: one typed enum, declared once with [`ttx_web::error_codes!`].
//! `GET /v1/meta/errors` serves [`ERROR_CODES`].

ttx_web::error_codes! {
    /// Every notification-specific problem.
    pub enum NotifyError {
        WebhookLimitReached = ("webhook_limit_reached", 409, "The organisation has registered as many webhooks as allowed"),
    }
}

/// (code, status, title) of every notification-specific error.
pub const ERROR_CODES: ttx_web::error::ErrorTable = NotifyError::TABLE;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_a_problem_with_its_status() {
        for c in NotifyError::ALL {
            let p = ttx_web::ApiError::from(*c).to_problem();
            assert_eq!((p.code.as_str(), p.status), (c.code(), c.status()));
            assert!((400..600).contains(&p.status));
        }
    }
}
