//! `Idempotency-Key` on creating POSTs.
//!
//! The first request with a key reserves it (a unique row per caller and key), runs, and stores
//! its response. A retry with the same key and the same request gets the stored response again
//! (with `Idempotent-Replayed: true`) and writes nothing; the same key with another request is
//! 422 `idempotency_key_reused`; a retry while the first is still running is 409
//! `idempotency_in_progress`. Responses of 5xx are not stored, so the client may retry.
//! Keys are scoped to the caller (a hash of its bearer token, or the anonymous scope) and kept
//! for 24 hours.
use crate::error::{problem_response, ApiError, ErrorCode};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, DatabaseConnection, SqlErr};
use sha2::{Digest, Sha256};

pub const HEADER: &str = "idempotency-key";
pub const REPLAYED: &str = "idempotent-replayed";
/// Stored responses larger than this are not kept (the key still blocks double writes).
const MAX_STORED_BODY: usize = 1 << 20;

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

/// The middleware; the state is the database connection.
pub async fn layer(State(db): State<DatabaseConnection>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
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
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(_) => return problem_response(&ApiError::new(ErrorCode::PayloadTooLarge)),
    };
    let fingerprint = sha256_hex(&[
        parts.method.as_str().as_bytes(),
        parts.uri.path().as_bytes(),
        parts.uri.query().unwrap_or("").as_bytes(),
        &bytes,
    ]);

    // Reserve the key.
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
            match claim(&cfg, &scope, &key, &fingerprint).await {
                Claim::Owned(id) => id,
                Claim::Answer(resp) => return resp,
            }
        }
        Err(e) => return problem_response(&ApiError::internal(e)),
    };

    // The request runs in its own task: a client that disconnects does not cancel it halfway,
    // so it ends with its response stored (or its reservation dropped).
    let req = Request::from_parts(parts, Body::from(bytes));
    let db = cfg.db.clone();
    let task = ttx_core::clock::spawn(async move {
        let resp = next.run(req).await;
        finish(&db, reserved_id, resp).await
    });
    match task.await {
        Ok(resp) => resp,
        Err(e) => {
            let _ = Entity::delete_by_id(reserved_id).exec(&cfg.db).await;
            problem_response(&ApiError::internal(e))
        }
    }
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
        Err(e) => return problem_response(&ApiError::internal(e)),
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
    if let Err(e) = Entity::update(update).exec(&db).await {
        tracing::error!(error = %e, "failed to store idempotent response");
    }
    rparts
        .headers
        .insert(REPLAYED, HeaderValue::from_static("false"));
    Response::from_parts(rparts, Body::from(rbytes))
}

async fn replay(db: &DatabaseConnection, scope: &str, key: &str, fingerprint: &str) -> Response {
    let row = match Entity::find()
        .filter(Column::Scope.eq(scope))
        .filter(Column::Key.eq(key))
        .one(db)
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
