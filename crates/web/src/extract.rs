//! Extractors whose rejections are problem+json with the right 4xx, never a 500.
use crate::error::{ApiError, ErrorCode};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use ttx_core::FieldError;

/// A JSON body. Syntax errors are 400 `malformed_json`; a body of the wrong shape is 422
/// `validation_failed` naming the field; a wrong content type is 415; too large is 413.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !declares_json(&req) {
            return Err(ApiError::new(ErrorCode::UnsupportedMediaType));
        }
        parse_json(&body_bytes(req, state).await?).map(ApiJson)
    }
}

/// A JSON body that may be left out: routes whose every field is optional (an action with an
/// optional note, a decision with optional reasons).
///
/// One behaviour everywhere: a body that is absent — no bytes, or only whitespace, whatever the
/// headers say — is `T::default()` (use `OptionalJson<Option<B>>` to tell "no body" apart);
/// a body that is present is read exactly like [`ApiJson`] (415 without a JSON content type,
/// 400 for bad syntax, 422 naming the field for a wrong shape, 413 when too large).
#[derive(Debug, Clone, Copy, Default)]
pub struct OptionalJson<T>(pub T);

impl<T, S> FromRequest<S> for OptionalJson<T>
where
    T: DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = declares_json(&req);
        let bytes = body_bytes(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        if !is_json {
            return Err(ApiError::new(ErrorCode::UnsupportedMediaType));
        }
        parse_json(&bytes).map(OptionalJson)
    }
}

/// Whether the request declares a JSON body (`application/json` or a `+json` type).
fn declares_json(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|ct| {
            let mime = ct
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            mime == "application/json" || mime.ends_with("+json")
        })
        .unwrap_or(false)
}

/// The whole body; 413 beyond the body limit.
async fn body_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<bytes::Bytes, ApiError> {
    bytes::Bytes::from_request(req, state).await.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(ErrorCode::PayloadTooLarge)
        } else {
            ApiError::new(ErrorCode::MalformedJson).detail("the body could not be read")
        }
    })
}

/// The JSON path of the first string (value or key) holding a NUL character: no text field may
/// hold one (PostgreSQL cannot store it), whatever route validation follows.
fn nul_path(v: &serde_json::Value, path: &str) -> Option<String> {
    use serde_json::Value;
    match v {
        Value::String(s) if s.contains('\0') => Some(path.to_string()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, x)| nul_path(x, &format!("{path}[{i}]"))),
        Value::Object(m) => m.iter().find_map(|(k, x)| {
            let p = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            if k.contains('\0') {
                Some(p)
            } else {
                nul_path(x, &p)
            }
        }),
        _ => None,
    }
}

/// Parses JSON with the path of a failing field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // `\u0000` is the only way a NUL gets into a JSON string (a raw one is a syntax error).
    if bytes.windows(6).any(|w| w == b"\\u0000") {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) {
            if let Some(path) = nul_path(&v, "") {
                let field = if path.is_empty() { "body".into() } else { path };
                return Err(ApiError::validation(
                    FieldError::new(
                        field,
                        "control_character",
                        "must not contain control characters (U+0000)",
                    )
                    .into(),
                ));
            }
        }
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(v) => Ok(v),
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            use serde_json::error::Category;
            match inner.classify() {
                Category::Syntax | Category::Eof | Category::Io => {
                    Err(ApiError::new(ErrorCode::MalformedJson).detail(format!(
                        "invalid JSON at line {} column {}",
                        inner.line(),
                        inner.column()
                    )))
                }
                Category::Data => {
                    let field = if path == "." { String::new() } else { path };
                    let raw = clean_serde_message(&inner.to_string());
                    // In words a user understands, the field named by its path.
                    let (code, msg) = crate::serde_msg::explain(&raw);
                    let (field, code, msg) = if let Some(missing) = missing_field(&raw) {
                        let f = if field.is_empty() {
                            missing
                        } else {
                            format!("{field}.{missing}")
                        };
                        (f, "required", "is required".to_string())
                    } else {
                        (field, code, msg)
                    };
                    Err(ApiError::validation(
                        FieldError::new(if field.is_empty() { "body" } else { &field }, code, msg)
                            .into(),
                    ))
                }
            }
        }
    }
}

fn clean_serde_message(m: &str) -> String {
    // serde_json appends " at line X column Y"; keep the message itself.
    match m.rfind(" at line ") {
        Some(i) => m[..i].to_string(),
        None => m.to_string(),
    }
}

fn missing_field(msg: &str) -> Option<String> {
    let rest = msg.strip_prefix("missing field `")?;
    Some(rest.split('`').next()?.to_string())
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// A query string; repeated keys fill a `Vec` (`?mode=transfer&mode=license`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        if let Some(name) = nul_param(q) {
            return Err(ApiError::new(ErrorCode::InvalidQuery).detail(format!(
                "{name}: must not contain control characters (U+0000)"
            )));
        }
        serde_html_form::from_str::<T>(q)
            .map(ApiQuery)
            .map_err(|e| {
                ApiError::new(ErrorCode::InvalidQuery).detail(query_detail(&e.to_string()))
            })
    }
}

/// serde's "unknown field `x`, expected one of …" said in terms of a query string.
fn query_detail(msg: &str) -> String {
    match msg.strip_prefix("unknown field ") {
        Some(rest) => format!("unknown query parameter {rest}"),
        None => msg.to_string(),
    }
}

/// The name of the first query parameter whose name or value holds an encoded NUL.
fn nul_param(q: &str) -> Option<String> {
    if !q.contains("%00") {
        return None;
    }
    q.split('&')
        .find(|pair| pair.contains("%00"))
        .map(|pair| pair.split('=').next().unwrap_or(pair).to_string())
}

/// Path parameters; a value that does not parse is 400 `invalid_path`.
#[derive(Debug, Clone, Copy)]
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|e| ApiError::new(ErrorCode::InvalidPath).detail(e.body_text()))
    }
}

/// The request id set by the request-id layer (`x-request-id`).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestId(
            parts
                .headers
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-")
                .to_string(),
        ))
    }
}

/// For PATCH bodies: an absent field is `None`, `null` is `Some(None)`, a value is
/// `Some(Some(v))`. Use with `#[serde(default, deserialize_with = "ttx_web::double_option")]`.
pub fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Inner {
        min: i64,
    }
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Body {
        title: String,
        price: Inner,
    }

    #[test]
    fn syntax_is_400_and_shape_is_422_with_field() {
        let e = parse_json::<Body>(b"{\"title\": ").unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert_eq!(e.code, "malformed_json");

        let e = parse_json::<Body>(br#"{"title": "x", "price": {"min": "a"}}"#).unwrap_err();
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.errors[0].field, "price.min");

        let e = parse_json::<Body>(br#"{"price": {"min": 1}}"#).unwrap_err();
        assert_eq!(e.errors[0].field, "title");
        assert_eq!(e.errors[0].code, "required");
    }
}
