//! One table of error codes, each with its HTTP status and title, and the problem+json body.
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use ttx_core::{FieldError, FieldErrors};

/// `application/problem+json`
pub const PROBLEM_JSON: &str = "application/problem+json";

/// `(code, status, title)` rows of one error table.
pub type ErrorTable = &'static [(&'static str, u16, &'static str)];

/// Declares a table of error codes as a typed enum: each variant is written once, as
/// `Variant = (code, status, title)`, and the enum gets `code()`, `status()`, `title()`,
/// `ALL`, `TABLE` (for `GET /v1/meta/errors`) and conversions into [`ServiceError`] and
/// [`ApiError`]. A status outside 400..=599 or a code listed twice in one table does not compile,
/// and neither does a mistyped variant:
///
/// ```compile_fail
/// ttx_web::error_codes! {
///     pub enum DemoError { Gone = ( "demo_gone", 410, "It is gone" ) }
/// }
/// let _ = DemoError::Gnoe;
/// ```
///
/// ```compile_fail
/// ttx_web::error_codes! {
///     pub enum DemoError { Fine = ( "demo_fine", 200, "Not an error" ) }
/// }
/// ```
///
/// ```compile_fail
/// ttx_web::error_codes! {
///     pub enum DemoError { A = ( "demo_a", 409, "A" ), B = ( "demo_a", 409, "B" ) }
/// }
/// ```
#[macro_export]
macro_rules! error_codes {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = ($code:literal, $status:literal, $title:literal) ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name { $( $(#[$vmeta])* $variant ),+ }

        impl $name {
            /// Every code of the table.
            pub const ALL: &'static [$name] = &[ $( $name::$variant ),+ ];
            /// The table as `(code, status, title)` rows.
            pub const TABLE: $crate::error::ErrorTable = &[ $( ($code, $status, $title) ),+ ];
            /// The stable machine-readable code.
            pub const fn code(self) -> &'static str { match self { $( $name::$variant => $code ),+ } }
            /// The HTTP status this code is answered with.
            pub const fn status(self) -> u16 { match self { $( $name::$variant => $status ),+ } }
            /// The human-readable title.
            pub const fn title(self) -> &'static str { match self { $( $name::$variant => $title ),+ } }
        }

        const _: () = {
            $( assert!($status >= 400 && $status <= 599, concat!("error code `", $code, "` needs a 4xx or 5xx status")); )+
            assert!($crate::error::table_is_unique($name::TABLE), concat!("a code is listed twice in ", stringify!($name)));
        };

        impl $crate::error::Registered for $name {
            fn code(self) -> &'static str { $name::code(self) }
            fn status(self) -> u16 { $name::status(self) }
            fn title(self) -> &'static str { $name::title(self) }
        }

        impl ::core::convert::From<$name> for $crate::error::ServiceError {
            fn from(c: $name) -> Self { $crate::error::ServiceError::new(c) }
        }

        impl ::core::convert::From<$name> for $crate::error::ApiError {
            fn from(c: $name) -> Self { $crate::error::ApiError::new(c) }
        }
    };
}

/// A code of an error table declared with [`error_codes!`].
pub trait Registered: Copy {
    fn code(self) -> &'static str;
    fn status(self) -> u16;
    fn title(self) -> &'static str;
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// No code appears twice in `table` (usable in constants).
pub const fn table_is_unique(table: ErrorTable) -> bool {
    let mut i = 0;
    while i < table.len() {
        let mut j = i + 1;
        while j < table.len() {
            if str_eq(table[i].0, table[j].0) {
                return false;
            }
            j += 1;
        }
        i += 1;
    }
    true
}

/// No code appears twice in the registry `tables`, within a table or across tables (usable in
/// constants: the server checks its registry at compile time).
pub const fn registry_is_unique(tables: &[(&str, ErrorTable)]) -> bool {
    let mut a = 0;
    while a < tables.len() {
        if !table_is_unique(tables[a].1) {
            return false;
        }
        let mut b = a + 1;
        while b < tables.len() {
            let (ta, tb) = (tables[a].1, tables[b].1);
            let mut i = 0;
            while i < ta.len() {
                let mut j = 0;
                while j < tb.len() {
                    if str_eq(ta[i].0, tb[j].0) {
                        return false;
                    }
                    j += 1;
                }
                i += 1;
            }
            b += 1;
        }
        a += 1;
    }
    true
}

/// The first code defined by two tables of `registry` (or twice by one), with the names of the
/// tables that define it.
pub fn duplicate_code(
    registry: &[(&'static str, ErrorTable)],
) -> Option<(&'static str, &'static str, &'static str)> {
    let mut seen: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
    for (name, table) in registry {
        for (code, _, _) in table.iter() {
            if let Some(first) = seen.insert(code, name) {
                return Some((code, first, name));
            }
        }
    }
    None
}

error_codes! {
    /// Platform-wide error codes. Each domain crate declares its own table with
    /// [`error_codes!`] in its `error.rs`; `GET /v1/meta/errors` serves them all.
    pub enum ErrorCode {
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
    RateLimited = ("rate_limited", 429, "Too many requests; retry after the seconds in Retry-After"),
    Timeout = ("timeout", 503, "The request took too long"),
    Unavailable = ("unavailable", 503, "The service is not ready"),
    SearchUnavailable = ("search_unavailable", 503, "Search is temporarily unavailable"),
    Internal = ("internal", 500, "Internal error"),
    }
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
    /// The problem for a registered code (a platform [`ErrorCode`] or a domain crate's code).
    pub fn new(code: impl Registered) -> Self {
        ApiError {
            status: StatusCode::from_u16(code.status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            code: code.code(),
            title: code.title(),
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

/// The error of a use case (a service, store or access check): a registered code with an
/// optional detail, field errors and context. It knows nothing of HTTP; routes turn it into an
/// [`ApiError`] with `?` (the one place a code becomes a status line and a problem+json body).
/// It is built only from a typed code (`ServiceError::new(ListingError::Expired)`,
/// `ListingError::Expired.into()`) or one of the platform shorthands below.
#[derive(Debug, Clone)]
pub struct ServiceError {
    pub code: &'static str,
    pub status: u16,
    pub title: &'static str,
    pub detail: Option<String>,
    pub errors: Vec<FieldError>,
    pub context: Option<serde_json::Value>,
}

/// The result of a use case.
pub type ServiceResult<T> = Result<T, ServiceError>;

impl ServiceError {
    pub fn new(code: impl Registered) -> Self {
        ServiceError {
            code: code.code(),
            status: code.status(),
            title: code.title(),
            detail: None,
            errors: vec![],
            context: None,
        }
    }
    pub fn detail(mut self, d: impl Into<String>) -> Self {
        self.detail = Some(d.into());
        self
    }
    pub fn with_context(mut self, v: serde_json::Value) -> Self {
        self.context = Some(v);
        self
    }
    /// This error is `code`.
    pub fn is(&self, code: impl Registered) -> bool {
        self.code == code.code()
    }
    pub fn not_found(what: &str) -> Self {
        ServiceError::new(ErrorCode::NotFound).detail(format!("{what} not found"))
    }
    pub fn forbidden(why: impl Into<String>) -> Self {
        ServiceError::new(ErrorCode::Forbidden).detail(why)
    }
    pub fn invalid_state(why: impl Into<String>) -> Self {
        ServiceError::new(ErrorCode::InvalidState).detail(why)
    }
    pub fn validation(errors: FieldErrors) -> Self {
        let api = ApiError::validation(errors);
        ServiceError::from(api)
    }
    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        ServiceError::validation(FieldError::new(field, code, message).into())
    }
    /// An unexpected failure: logged in full, reported without internals.
    pub fn internal(err: impl std::fmt::Display) -> Self {
        ServiceError::from(ApiError::internal(err))
    }
}

impl std::fmt::Display for ServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.code, self.status)?;
        if let Some(d) = &self.detail {
            write!(f, ": {d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ServiceError {}

/// The edge: a use case's error as the API reports it.
impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        ApiError {
            status: StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            code: e.code,
            title: e.title,
            detail: e.detail,
            errors: e.errors,
            extra: e.context,
        }
    }
}

/// Errors of the HTTP helpers a use case calls (cursors, `If-Match`) keep their code.
impl From<ApiError> for ServiceError {
    fn from(e: ApiError) -> Self {
        ServiceError {
            code: e.code,
            status: e.status.as_u16(),
            title: e.title,
            detail: e.detail,
            errors: e.errors,
            context: e.extra,
        }
    }
}

impl From<FieldErrors> for ServiceError {
    fn from(e: FieldErrors) -> Self {
        ServiceError::validation(e)
    }
}

impl From<FieldError> for ServiceError {
    fn from(e: FieldError) -> Self {
        ServiceError::validation(e.into())
    }
}

impl From<sea_orm::DbErr> for ServiceError {
    fn from(e: sea_orm::DbErr) -> Self {
        ServiceError::internal(e)
    }
}

impl<E: Into<ServiceError> + std::fmt::Display> From<sea_orm::TransactionError<E>>
    for ServiceError
{
    fn from(e: sea_orm::TransactionError<E>) -> Self {
        match e {
            sea_orm::TransactionError::Connection(db) => ServiceError::internal(db),
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
            status: c.status(),
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
            assert!((400..600).contains(&c.status()));
        }
    }

    #[test]
    fn duplicates_within_or_across_tables_are_found() {
        const A: ErrorTable = &[("a_one", 409, "One"), ("a_two", 422, "Two")];
        const B: ErrorTable = &[("b_one", 409, "One")];
        const CLASH: ErrorTable = &[("b_one", 403, "Another one")];
        const TWICE: ErrorTable = &[("c", 409, "C"), ("c", 409, "C again")];
        assert!(table_is_unique(A) && !table_is_unique(TWICE));
        assert!(registry_is_unique(&[("a", A), ("b", B)]));
        assert!(!registry_is_unique(&[("a", A), ("b", B), ("clash", CLASH)]));
        assert!(!registry_is_unique(&[("a", A), ("twice", TWICE)]));
        assert_eq!(duplicate_code(&[("a", A), ("b", B)]), None);
        assert_eq!(
            duplicate_code(&[("a", A), ("b", B), ("clash", CLASH)]),
            Some(("b_one", "b", "clash"))
        );
        assert_eq!(
            duplicate_code(&[("twice", TWICE)]),
            Some(("c", "twice", "twice"))
        );
    }

    #[test]
    fn every_platform_code_is_problem_json_with_its_status() {
        for c in ErrorCode::ALL {
            let resp = problem_response(&ApiError::new(*c));
            assert_eq!(resp.status().as_u16(), c.status(), "{}", c.code());
            assert_eq!(resp.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
        }
        assert_eq!(ErrorCode::TABLE.len(), ErrorCode::ALL.len());
    }

    #[test]
    fn a_service_error_keeps_its_code_detail_and_context_at_the_edge() {
        let e = ServiceError::new(ErrorCode::InvalidState)
            .detail("the need is closed")
            .with_context(serde_json::json!({"status": "closed"}));
        assert!(e.is(ErrorCode::InvalidState));
        let p = ApiError::from(e).to_problem();
        assert_eq!((p.status, p.code.as_str()), (409, "invalid_state"));
        assert_eq!(p.detail.as_deref(), Some("the need is closed"));
        assert_eq!(p.context.unwrap()["status"], "closed");
        let p = ApiError::from(ServiceError::internal("10.0.0.1 refused")).to_problem();
        assert_eq!(p.status, 500);
        assert!(!p.detail.unwrap().contains("10.0.0.1"));
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
