//! One table of error codes, each with its HTTP status and title, and the problem+json body.
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use ttx_core::{FieldError, FieldErrors};

/// `application/problem+json`
pub const PROBLEM_JSON: &str = "application/problem+json";

macro_rules! error_codes {
    ($( $variant:ident = ($code:literal, $status:literal, $title:literal) ),+ $(,)?) => {
        /// Platform-wide error codes. Domain crates add their own codes with
        /// [`ApiError::domain`] and list them in their own `ERROR_CODES` table.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum ErrorCode { $( $variant ),+ }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant ),+ ];
            pub fn code(&self) -> &'static str { match self { $( ErrorCode::$variant => $code ),+ } }
            pub fn status(&self) -> StatusCode {
                match self { $( ErrorCode::$variant => StatusCode::from_u16($status).expect("valid status") ),+ }
            }
            pub fn title(&self) -> &'static str { match self { $( ErrorCode::$variant => $title ),+ } }
        }
    };
}

error_codes! {
    MalformedJson = ("malformed_json", 400, "The request body is not valid JSON"),
    InvalidQuery = ("invalid_query", 400, "The query string is invalid"),
    InvalidPath = ("invalid_path", 400, "A path parameter is invalid"),
    InvalidCursor = ("invalid_cursor", 400, "The pagination cursor is invalid"),
    InvalidHeader = ("invalid_header", 400, "A request header is invalid"),
    Unauthenticated = ("unauthenticated", 401, "Authentication is required"),
    InvalidToken = ("invalid_token", 401, "The bearer token is invalid, expired or revoked"),
    InvalidCredentials = ("invalid_credentials", 401, "The e-mail or password is wrong"),
    Forbidden = ("forbidden", 403, "You may not do this"),
    OrgNotVerified = ("org_not_verified", 403, "The organisation must be verified by an operator first"),
    NotFound = ("not_found", 404, "The resource does not exist"),
    RouteNotFound = ("route_not_found", 404, "No such route"),
    MethodNotAllowed = ("method_not_allowed", 405, "The method is not allowed on this route"),
    Conflict = ("conflict", 409, "The request conflicts with the current state"),
    AlreadyExists = ("already_exists", 409, "The resource already exists"),
    InvalidState = ("invalid_state", 409, "The resource is not in a state that allows this"),
    IdempotencyInProgress = ("idempotency_in_progress", 409, "A request with this Idempotency-Key is still being processed"),
    PreconditionFailed = ("precondition_failed", 412, "The resource was changed by someone else (stale If-Match)"),
    PayloadTooLarge = ("payload_too_large", 413, "The request body is too large"),
    UriTooLong = ("uri_too_long", 414, "The request URI is too long"),
    UnsupportedMediaType = ("unsupported_media_type", 415, "The request body must be application/json"),
    ValidationFailed = ("validation_failed", 422, "The input is invalid"),
    IdempotencyKeyReused = ("idempotency_key_reused", 422, "This Idempotency-Key was used with a different request"),
    PreconditionRequired = ("precondition_required", 428, "An If-Match header with the current ETag is required"),
    Timeout = ("timeout", 503, "The request took too long"),
    Unavailable = ("unavailable", 503, "The service is not ready"),
    Internal = ("internal", 500, "Internal error"),
}

/// An error as the API reports it.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub title: &'static str,
    pub detail: Option<String>,
    pub errors: Vec<FieldError>,
    pub extra: Option<serde_json::Value>,
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The problem+json body (RFC 9457) with TTX's `code` and field `errors`.
#[derive(Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Problem {
    /// `urn:ttx:problem:<code>`
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    /// Stable machine-readable code.
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Per-field problems, for validation errors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Additional machine-readable context (e.g. completeness hints).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub context: Option<serde_json::Value>,
}

impl ApiError {
    pub fn new(code: ErrorCode) -> Self {
        ApiError {
            status: code.status(),
            code: code.code(),
            title: code.title(),
            detail: None,
            errors: vec![],
            extra: None,
        }
    }
    /// A domain-specific error code (listed in the domain crate's `ERROR_CODES` table).
    pub fn domain(status: StatusCode, code: &'static str, title: &'static str) -> Self {
        ApiError {
            status,
            code,
            title,
            detail: None,
            errors: vec![],
            extra: None,
        }
    }
    pub fn detail(mut self, d: impl Into<String>) -> Self {
        self.detail = Some(d.into());
        self
    }
    pub fn with_context(mut self, v: serde_json::Value) -> Self {
        self.extra = Some(v);
        self
    }
    pub fn not_found(what: &str) -> Self {
        ApiError::new(ErrorCode::NotFound).detail(format!("{what} not found"))
    }
    pub fn forbidden(why: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::Forbidden).detail(why)
    }
    pub fn invalid_state(why: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::InvalidState).detail(why)
    }
    pub fn validation(errors: FieldErrors) -> Self {
        let mut e = ApiError::new(ErrorCode::ValidationFailed);
        e.detail = Some(
            errors
                .0
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; "),
        );
        e.errors = errors.0;
        e
    }
    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        ApiError::validation(FieldError::new(field, code, message).into())
    }
    /// An unexpected failure: logged in full, reported without internals.
    pub fn internal(err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "internal error");
        ApiError::new(ErrorCode::Internal)
            .detail("an unexpected error occurred; it has been logged")
    }

    pub fn to_problem(&self) -> Problem {
        Problem {
            type_: format!("urn:ttx:problem:{}", self.code),
            title: self.title.to_string(),
            status: self.status.as_u16(),
            code: self.code.to_string(),
            detail: self.detail.clone(),
            errors: self.errors.clone(),
            context: self.extra.clone(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.code, self.status)?;
        if let Some(d) = &self.detail {
            write!(f, ": {d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

impl From<ErrorCode> for ApiError {
    fn from(c: ErrorCode) -> Self {
        ApiError::new(c)
    }
}

impl From<FieldErrors> for ApiError {
    fn from(e: FieldErrors) -> Self {
        ApiError::validation(e)
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        ApiError::validation(e.into())
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        ApiError::internal(e)
    }
}

impl<E: Into<ApiError> + std::fmt::Display> From<sea_orm::TransactionError<E>> for ApiError {
    fn from(e: sea_orm::TransactionError<E>) -> Self {
        match e {
            sea_orm::TransactionError::Connection(db) => ApiError::internal(db),
            sea_orm::TransactionError::Transaction(inner) => inner.into(),
        }
    }
}

/// Builds a problem+json response.
pub fn problem_response(e: &ApiError) -> Response {
    let body = serde_json::to_vec(&e.to_problem()).unwrap_or_else(|_| b"{}".to_vec());
    let mut resp = (e.status, body).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    resp
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        problem_response(&self)
    }
}

/// One row of an error-code table, as served by `GET /v1/meta/errors`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorCodeInfo {
    pub code: &'static str,
    pub status: u16,
    pub title: &'static str,
}

/// The platform table as rows.
pub fn platform_codes() -> Vec<ErrorCodeInfo> {
    ErrorCode::ALL
        .iter()
        .map(|c| ErrorCodeInfo {
            code: c.code(),
            status: c.status().as_u16(),
            title: c.title(),
        })
        .collect()
}

/// The fallback for unknown routes.
pub async fn route_not_found() -> ApiError {
    ApiError::new(ErrorCode::RouteNotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_4xx_or_5xx() {
        let mut seen = std::collections::HashSet::new();
        for c in ErrorCode::ALL {
            assert!(seen.insert(c.code()), "duplicate {}", c.code());
            assert!(c.status().is_client_error() || c.status().is_server_error());
        }
    }

    #[test]
    fn internal_hides_detail() {
        let e = ApiError::internal("connection refused at 10.0.0.1:5432");
        let p = e.to_problem();
        assert_eq!(p.status, 500);
        assert!(!p.detail.unwrap().contains("10.0.0.1"));
    }

    #[test]
    fn validation_lists_fields() {
        let mut fe = FieldErrors::new();
        fe.add("region_code", "invalid_region", "unknown region code");
        let p = ApiError::validation(fe).to_problem();
        assert_eq!(p.status, 422);
        assert_eq!(p.code, "validation_failed");
        assert_eq!(p.errors[0].field, "region_code");
    }
}
