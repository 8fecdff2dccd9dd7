//! `Idempotency-Key` on creating POSTs.
//!
//! The first request with a key reserves it (a unique row per caller and key), runs, and stores
//! its response. A retry with the same key and the same request gets the stored response again
//! (with `Idempotent-Replayed: true`) and writes nothing; the same key with another request is
//! 422 `idempotency_key_reused`; a retry while the first is still running is 409
//! `idempotency_in_progress`. Keys are scoped to the caller (a hash of its bearer token, or the
//! anonymous scope) and kept for 24 hours.
//!
//! What happens when the first request fails:
//! - the client disconnects: the request runs to its end anyway (it runs in its own task, not in
//!   the connection's), so its response is stored and the retry replays it;
//! - the handler panics, times out (408) or answers 5xx: nothing was committed the client can rely
//!   on, so the reservation is dropped and a retry runs afresh (this middleware sits outside the
//!   timeout and panic layers, so it sees their answers);
//! - the process dies (crash, kill -9) while the request runs: the reservation is a lease of
//!   [`Settings::lease`] (longer than the request timeout); a retry after it has lapsed takes the
//!   key over and runs. A process killed between the handler's commit and the storing of its
//!   response is the one case where the retry runs a second time.
use crate::error::{problem_response, ApiError, ErrorCode};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, DatabaseConnection, SqlErr};
use sha2::{Digest, Sha256};
use std::time::Duration;

pub const HEADER: &str = "idempotency-key";
pub const REPLAYED: &str = "idempotent-replayed";
/// Stored responses larger than this are not kept (the key still blocks double writes).
const MAX_STORED_BODY: usize = 1 << 20;

/// The middleware's state.
#[derive(Clone)]
pub struct Settings {
    pub db: DatabaseConnection,
    /// How long a reservation without a stored response blocks retries (409) before a retry may
    /// take it over: longer than the request timeout, so only a dead process's key lapses.
    pub lease: Duration,
    /// Largest request body read (a larger one is 413 and the connection is closed).
    pub body_limit: usize,
    /// Only requests whose path starts with this are handled (`/v1/`).
    pub path_prefix: &'static str,
}

impl Settings {
    /// The lease for a server whose requests time out after `request_timeout`.
    pub fn lease_for(request_timeout: Duration) -> Duration {
        request_timeout + Duration::from_secs(30)
    }
}

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "idempotency_keys")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub scope: String,
        pub key: String,
        pub fingerprint: String,
        pub status_code: Option<i32>,
        pub response_headers: Option<String>,
        pub response_body: Option<Vec<u8>>,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

use entity::{ActiveModel, Column, Entity};

fn sha256_hex(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p);
    }
    hex::encode(h.finalize())
}

fn scope_of(headers: &HeaderMap) -> String {
    match headers.get(header::AUTHORIZATION) {
        Some(v) => sha256_hex(&[b"auth", v.as_bytes()]),
        None => "anonymous".to_string(),
    }
}

const KEPT_HEADERS: &[HeaderName] = &[header::CONTENT_TYPE, header::LOCATION, header::ETAG];

/// The middleware (outside the timeout and panic layers).
pub async fn layer(State(cfg): State<Settings>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST || !req.uri().path().starts_with(cfg.path_prefix) {
        return next.run(req).await;
    }
    let Some(key) = req.headers().get(HEADER).cloned() else {
        return next.run(req).await;
    };
    let key = match key.to_str() {
        Ok(k) if !k.trim().is_empty() && k.len() <= 255 => k.trim().to_string(),
        _ => {
            return problem_response(
                &ApiError::new(ErrorCode::InvalidHeader)
                    .detail("Idempotency-Key must be 1 to 255 visible ASCII characters"),
            )
        }
    };
    let scope = scope_of(req.headers());
    let (mut parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, cfg.body_limit).await {
        Ok(b) => b,
        Err(e) => {
            let too_large = {
                let inner = e.into_inner();
                let mut src: Option<&(dyn std::error::Error + 'static)> = Some(&*inner);
                let mut found = false;
                while let Some(s) = src {
                    if s.is::<http_body_util::LengthLimitError>() {
                        found = true;
                        break;
                    }
                    src = s.source();
                }
                found
            };
            if !too_large {
                // The client went away or sent a broken body: nothing was reserved.
                return problem_response(
                    &ApiError::new(ErrorCode::MalformedJson)
                        .detail("the request body could not be read"),
                );
            }
            let mut r = problem_response(&ApiError::new(ErrorCode::PayloadTooLarge));
            r.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return r;
        }
    };
    let fingerprint = sha256_hex(&[
        parts.method.as_str().as_bytes(),
        parts.uri.path().as_bytes(),
        parts.uri.query().unwrap_or("").as_bytes(),
        &bytes,
    ]);
    // The stored response is replayed to any client: keep it uncompressed.
    parts.headers.remove(header::ACCEPT_ENCODING);

    // From here on the request runs in its own task: a client that disconnects cancels neither
    // the reservation nor the handler halfway, so the request ends with its response stored (or
    // its reservation dropped).
    let req = Request::from_parts(parts, Body::from(bytes));
    let task = ttx_core::clock::spawn(async move {
        reserve_and_run(&cfg, scope, key, fingerprint, req, next).await
    });
    match task.await {
        Ok(resp) => resp,
        // Storing the response itself failed; the reservation lapses with its lease.
        Err(e) => problem_response(&ApiError::internal(e)),
    }
}

/// Reserves the key (or takes over a lapsed reservation, or answers from the stored response),
/// then runs the request and stores its response.
async fn reserve_and_run(
    cfg: &Settings,
    scope: String,
    key: String,
    fingerprint: String,
    req: Request,
    next: Next,
) -> Response {
    let reserve = ActiveModel {
        scope: Set(scope.clone()),
        key: Set(key.clone()),
        fingerprint: Set(fingerprint.clone()),
        status_code: Set(None),
        response_headers: Set(None),
        response_body: Set(None),
        created_at: Set(ttx_core::clock::now()),
        ..Default::default()
    };
    let reserved_id = match Entity::insert(reserve).exec(&cfg.db).await {
        Ok(r) => r.last_insert_id,
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            match claim(cfg, &scope, &key, &fingerprint).await {
                Claim::Owned(id) => id,
                Claim::Answer(resp) => return resp,
            }
        }
        Err(e) => return problem_response(&ApiError::internal(e)),
    };
    let resp = next.run(req).await;
    finish(&cfg.db, reserved_id, resp).await
}

/// Stores the response of a reserved request, or drops the reservation when the request failed
/// in a way that leaves nothing the client can rely on (5xx, including panics, and timeouts).
async fn finish(db: &DatabaseConnection, reserved_id: i64, resp: Response) -> Response {
    let status = resp.status();
    if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
        if let Err(e) = Entity::delete_by_id(reserved_id).exec(db).await {
            tracing::warn!(error = %e, "failed to release an idempotency key; it lapses with its lease");
        }
        return resp;
    }
    let (mut rparts, rbody) = resp.into_parts();
    let rbytes = match axum::body::to_bytes(rbody, usize::MAX).await {
        Ok(b) => b,
        Err(e) => {
            let _ = Entity::delete_by_id(reserved_id).exec(db).await;
            return problem_response(&ApiError::internal(e));
        }
    };
    let kept: Vec<(String, String)> = KEPT_HEADERS
        .iter()
        .filter_map(|h| {
            rparts
                .headers
                .get(h)
                .and_then(|v| v.to_str().ok())
                .map(|v| (h.as_str().to_string(), v.to_string()))
        })
        .collect();
    let stored_body = (rbytes.len() <= MAX_STORED_BODY).then(|| rbytes.to_vec());
    let update = ActiveModel {
        id: Set(reserved_id),
        status_code: Set(Some(status.as_u16() as i32)),
        response_headers: Set(Some(serde_json::to_string(&kept).unwrap_or_default())),
        response_body: Set(stored_body),
        ..Default::default()
    };
    if let Err(e) = Entity::update(update).exec(db).await {
        tracing::error!(error = %e, "failed to store idempotent response");
    }
    rparts
        .headers
        .insert(REPLAYED, HeaderValue::from_static("false"));
    Response::from_parts(rparts, Body::from(rbytes))
}

enum Claim {
    /// The caller now holds the reservation with this id and runs the request.
    Owned(i64),
    /// Answer this (a replay, 409 in progress, 422 reused).
    Answer(Response),
}

fn in_progress() -> Response {
    let mut r =
        problem_response(&ApiError::new(ErrorCode::IdempotencyInProgress).detail("retry shortly"));
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    r
}

/// The key exists: replay its stored response, or report it in progress, or take over a
/// reservation whose lease has lapsed (its process died before storing a response).
async fn claim(cfg: &Settings, scope: &str, key: &str, fingerprint: &str) -> Claim {
    let row = match Entity::find()
        .filter(Column::Scope.eq(scope))
        .filter(Column::Key.eq(key))
        .one(&cfg.db)
        .await
    {
        Ok(Some(r)) => r,
        // Released between our insert and this read: the client may retry at once.
        Ok(None) => return Claim::Answer(in_progress()),
        Err(e) => return Claim::Answer(problem_response(&ApiError::internal(e))),
    };
    if row.fingerprint != fingerprint {
        return Claim::Answer(problem_response(&ApiError::new(
            ErrorCode::IdempotencyKeyReused,
        )));
    }
    if row.status_code.is_some() {
        return Claim::Answer(replay(row));
    }
    let now = ttx_core::clock::now();
    let cutoff = now - chrono::Duration::from_std(cfg.lease).unwrap_or(chrono::Duration::days(1));
    if row.created_at >= cutoff {
        return Claim::Answer(in_progress());
    }
    // Compare-and-set: of several retries, one takes the lapsed lease.
    match Entity::update_many()
        .col_expr(Column::CreatedAt, Expr::value(now))
        .filter(Column::Id.eq(row.id))
        .filter(Column::StatusCode.is_null())
        .filter(Column::CreatedAt.lt(cutoff))
        .exec(&cfg.db)
        .await
    {
        Ok(r) if r.rows_affected == 1 => {
            tracing::warn!(
                key_id = row.id,
                "idempotency key taken over after its lease lapsed"
            );
            Claim::Owned(row.id)
        }
        Ok(_) => Claim::Answer(in_progress()),
        Err(e) => Claim::Answer(problem_response(&ApiError::internal(e))),
    }
}

fn replay(row: entity::Model) -> Response {
    let code = row.status_code.unwrap_or(200);
    let mut resp = Response::new(Body::from(row.response_body.unwrap_or_default()));
    *resp.status_mut() = StatusCode::from_u16(code as u16).unwrap_or(StatusCode::OK);
    let headers: Vec<(String, String)> = row
        .response_headers
        .as_deref()
        .and_then(|h| serde_json::from_str(h).ok())
        .unwrap_or_default();
    for (k, v) in headers {
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
            resp.headers_mut().insert(k, v);
        }
    }
    resp.headers_mut()
        .insert(REPLAYED, HeaderValue::from_static("true"));
    resp
}

/// Deletes keys older than `hours`; run periodically by the server.
pub async fn prune(db: &DatabaseConnection, hours: i64) -> Result<u64, DbErr> {
    let cutoff = ttx_core::clock::now() - chrono::Duration::hours(hours);
    Ok(Entity::delete_many()
        .filter(Column::CreatedAt.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected)
}
