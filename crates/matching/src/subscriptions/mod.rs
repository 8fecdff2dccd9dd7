//! Subscriptions: a firm or a broker saves a search (query text and filters) or follows one of
//! its own needs; new or changed published listings that score at least
//! `matching.push_threshold` reach the organisation's inbox and webhooks, at once or as a daily
//! digest, each (subscription, listing) pairing once, at most `matching.push_daily_cap` a day.
//!
//! - [`domain`]: the rules (dedup, cap, window, saved-search relevance), pure;
//! - [`dto`], [`service`]: the HTTP types and use cases;
//! - [`job`]: the push job ([`job::run_once`], [`job::job_loop`]).
pub mod command;
pub mod domain;
pub mod dto;
pub mod job;
pub mod service;

use crate::MatchingState;
use axum::extract::{FromRef, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use dto::{SubscriptionInput, SubscriptionView};
use sea_orm::DatabaseConnection;
use ttx_accounts::Actor;
use ttx_web::error::Problem;
use ttx_web::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult, Cursor, Page, PageQuery};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    MatchingState: FromRef<S>,
    DatabaseConnection: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(create_subscription, list_subscriptions))
        .routes(routes!(get_subscription, delete_subscription))
}

/// Save a search or follow a need of your organisation (firms, and brokers of verified
/// agencies). New or changed published listings scoring at least the push threshold reach
/// your organisation's inbox and webhooks (`subscription.match`, or one `subscription.digest` a
/// day with `delivery = daily`), each listing once, at most the daily cap a day.
#[utoipa::path(post, path = "/subscriptions", tag = "matching", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key: a retry with the same key and body replays the first answer")),
    request_body = SubscriptionInput,
    responses((status = 201, body = SubscriptionView, headers(("Location" = String))),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_subscription(
    State(st): State<MatchingState>,
    actor: Actor,
    ApiJson(req): ApiJson<SubscriptionInput>,
) -> ApiResult<impl IntoResponse> {
    let n = req.parse().map_err(ApiError::validation)?;
    let v = service::create(&st.db, &actor, n).await?;
    let loc = format!("/v1/subscriptions/{}", v.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, loc)],
        axum::Json(v),
    ))
}

/// Your organisation's subscriptions, with their push counts.
#[utoipa::path(get, path = "/subscriptions", tag = "matching", security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, body = Page<SubscriptionView>), (status = 400, body = Problem),
        (status = 401, body = Problem)))]
async fn list_subscriptions(
    State(st): State<MatchingState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<axum::Json<Page<SubscriptionView>>> {
    let limit = q.limit();
    let rows = service::list(&st.db, &actor, q.cursor()?, limit).await?;
    Ok(axum::Json(Page::from_rows(
        rows,
        limit,
        |v| Cursor::after_id(v.id),
        |v| v,
    )))
}

/// A subscription with its latest pushes (members of its organisation; 404 for others).
#[utoipa::path(get, path = "/subscriptions/{id}", tag = "matching", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = SubscriptionView), (status = 401, body = Problem),
        (status = 404, body = Problem)))]
async fn get_subscription(
    State(st): State<MatchingState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<axum::Json<SubscriptionView>> {
    Ok(axum::Json(service::get(&st.db, &actor, id).await?))
}

/// Delete a subscription (members of its organisation; 404 for others).
#[utoipa::path(delete, path = "/subscriptions/{id}", tag = "matching", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn delete_subscription(
    State(st): State<MatchingState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    service::delete(&st.db, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
