//! HTTP routes of notifications: the inbox and webhooks.
use crate::config::NotifyConfig;
use crate::dto::*;
use crate::service;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use std::sync::Arc;
use ttx_accounts::Actor;
use ttx_web::error::Problem;
use ttx_web::{ApiJson, ApiPath, ApiQuery, ApiResult, Cursor, Page, PageQuery};
use utoipa_axum::{router::OpenApiRouter, routes};

/// State the notification routes need.
#[derive(Clone)]
pub struct NotifyState {
    pub db: DatabaseConnection,
    pub cfg: Arc<NotifyConfig>,
}

impl NotifyState {
    pub fn new(db: DatabaseConnection, cfg: NotifyConfig) -> Self {
        NotifyState {
            db,
            cfg: Arc::new(cfg),
        }
    }
}

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    NotifyState: FromRef<S>,
    DatabaseConnection: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list_notifications))
        .routes(routes!(read_notification))
        .routes(routes!(read_all))
        .routes(routes!(create_webhook, list_webhooks))
        .routes(routes!(delete_webhook))
        .routes(routes!(ping_webhook))
        .routes(routes!(list_deliveries))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InboxQuery {
    /// Only unread notifications.
    pub unread: Option<bool>,
    #[serde(default, deserialize_with = "ttx_web::pagination::page_limit")]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// The caller's inbox, newest first.
#[utoipa::path(get, path = "/notifications", tag = "notifications", security(("bearer" = [])),
    params(InboxQuery), responses((status = 200, body = InboxPage), (status = 401, body = Problem)))]
async fn list_notifications(
    State(st): State<NotifyState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<InboxQuery>,
) -> ApiResult<axum::Json<InboxPage>> {
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    };
    let limit = page.limit();
    let (rows, unread_count) = service::inbox(
        &st.db,
        &actor,
        q.unread.unwrap_or(false),
        page.cursor()?.map(|c| c.id),
        limit,
    )
    .await?;
    let p = Page::from_rows(
        rows,
        limit,
        |e| Cursor::after_id(e.notification.id),
        NotificationView::from,
    );
    Ok(axum::Json(InboxPage {
        items: p.items,
        next_cursor: p.next_cursor,
        unread_count,
    }))
}

/// Mark one notification read.
#[utoipa::path(post, path = "/notifications/{id}/read", tag = "notifications", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 204), (status = 404, body = Problem)))]
async fn read_notification(
    State(st): State<NotifyState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    service::mark_read(&st.db, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mark all of the caller's notifications read.
#[utoipa::path(post, path = "/notifications/read-all", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = ReadAllResponse), (status = 401, body = Problem)))]
async fn read_all(
    State(st): State<NotifyState>,
    actor: Actor,
) -> ApiResult<axum::Json<ReadAllResponse>> {
    let marked = service::mark_all_read(&st.db, &actor).await?;
    Ok(axum::Json(ReadAllResponse { marked }))
}

/// Register a webhook for the caller's organisation (org admins). The signing secret is in
/// the response, once.
#[utoipa::path(post, path = "/webhooks", tag = "notifications", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body = WebhookCreate,
    responses((status = 201, body = WebhookCreated), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_webhook(
    State(st): State<NotifyState>,
    actor: Actor,
    ApiJson(req): ApiJson<WebhookCreate>,
) -> ApiResult<(StatusCode, axum::Json<WebhookCreated>)> {
    let new = req.parse(st.cfg.allow_private_urls)?;
    let (hook, secret) = service::create_webhook(&st.db, &st.cfg, &actor, new).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(WebhookCreated {
            webhook: hook.into(),
            secret,
        }),
    ))
}

/// Webhooks of the caller's organisation (org admins).
#[utoipa::path(get, path = "/webhooks", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = Vec<WebhookView>), (status = 403, body = Problem)))]
async fn list_webhooks(
    State(st): State<NotifyState>,
    actor: Actor,
) -> ApiResult<axum::Json<Vec<WebhookView>>> {
    let rows = service::list_webhooks(&st.db, &actor).await?;
    Ok(axum::Json(rows.into_iter().map(Into::into).collect()))
}

/// Remove a webhook; its pending deliveries are cancelled, its delivery log kept.
#[utoipa::path(delete, path = "/webhooks/{id}", tag = "notifications", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 204), (status = 404, body = Problem)))]
async fn delete_webhook(
    State(st): State<NotifyState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    service::delete_webhook(&st.db, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Send a test event (`webhook.ping`) to a webhook, through the normal delivery queue.
#[utoipa::path(post, path = "/webhooks/{id}/ping", tag = "notifications", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 202, body = PingResponse), (status = 404, body = Problem)))]
async fn ping_webhook(
    State(st): State<NotifyState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<(StatusCode, axum::Json<PingResponse>)> {
    let (ev, d) = service::ping_webhook(&st.db, &actor, id).await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(PingResponse {
            event_id: ev.event_id,
            delivery_id: d.id,
        }),
    ))
}

/// The delivery log of a webhook, newest first, with every attempt.
#[utoipa::path(get, path = "/webhooks/{id}/deliveries", tag = "notifications", security(("bearer" = [])),
    params(("id" = i64, Path), PageQuery),
    responses((status = 200, body = Page<DeliveryView>), (status = 404, body = Problem)))]
async fn list_deliveries(
    State(st): State<NotifyState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<axum::Json<Page<DeliveryView>>> {
    let limit = page.limit();
    let rows = service::deliveries(&st.db, &actor, id, page.cursor()?.map(|c| c.id), limit).await?;
    Ok(axum::Json(Page::from_rows(
        rows,
        limit,
        |r| Cursor::after_id(r.delivery.id),
        DeliveryView::from,
    )))
}
