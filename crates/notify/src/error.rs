//! Error codes of notifications (used with `ApiError::domain`).
use axum::http::StatusCode;
use ttx_web::ApiError;

pub const WEBHOOK_LIMIT_REACHED: &str = "webhook_limit_reached";

/// (code, status, title) of every notification-specific error.
pub const ERROR_CODES: &[(&str, u16, &str)] = &[(
    WEBHOOK_LIMIT_REACHED,
    409,
    "The organisation has registered as many webhooks as allowed",
)];

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

pub fn webhook_limit(max: u64) -> ApiError {
    domain(WEBHOOK_LIMIT_REACHED).detail(format!("at most {max} active webhooks per organisation"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ttx_web::ErrorCode;

    #[test]
    fn codes_are_unique_and_not_platform_codes() {
        let mut seen = std::collections::HashSet::new();
        for (code, status, _) in ERROR_CODES {
            assert!(seen.insert(*code));
            assert!(ErrorCode::ALL.iter().all(|p| p.code() != *code));
            assert!(StatusCode::from_u16(*status).unwrap().is_client_error());
            assert_eq!(domain(code).code, *code);
        }
    }
}
