//! Matchmaking events (科技对接活动): an organiser (a verified agency or bureau) creates an
//! event, registers published listings and open needs, asks the matcher for a pairing schedule
//! (time slots and tables, no organisation twice in a slot, best pairs first: see
//! [`schedule`]), records the outcome of each pairing, and reads the report — projects
//! presented, pairings held, intents, signed contracts and their registered amounts from the
//! ledger. The organiser organisation sees everything; the report is public once the event is
//! over; anyone else gets 404.
pub mod command;
pub mod domain;
pub mod dto;
pub mod schedule;
pub mod service;

use crate::MatchingState;
use axum::extract::{FromRef, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use dto::*;
use sea_orm::DatabaseConnection;
use ttx_accounts::{Actor, MaybeActor};
use ttx_contracts::routes::OptionalJson;
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
        .routes(routes!(create_event, list_events))
        .routes(routes!(get_event))
        .routes(routes!(add_entry))
        .routes(routes!(propose_schedule))
        .routes(routes!(record_outcome))
        .routes(routes!(event_report))
}

const IDEMPOTENCY: &str =
    "Retry-safe key: a retry with the same key and body replays the first answer";

/// Create a matchmaking event (admins and brokers of verified agencies, admins and analysts
/// of verified bureaus).
#[utoipa::path(post, path = "/events", tag = "matching", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = IDEMPOTENCY)),
    request_body = EventInput,
    responses((status = 201, body = EventView, headers(("Location" = String))),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_event(
    State(st): State<MatchingState>,
    actor: Actor,
    ApiJson(req): ApiJson<EventInput>,
) -> ApiResult<impl IntoResponse> {
    let today = ttx_core::clock::today();
    let n = req.parse(today).map_err(ApiError::validation)?;
    let v = service::create(&st.db, &actor, n).await?;
    let loc = format!("/v1/events/{}", v.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, loc)],
        axum::Json(v),
    ))
}

/// Events your organisation organises.
#[utoipa::path(get, path = "/events", tag = "matching", security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, body = Page<EventView>), (status = 400, body = Problem),
        (status = 401, body = Problem)))]
async fn list_events(
    State(st): State<MatchingState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> ApiResult<axum::Json<Page<EventView>>> {
    let limit = q.limit();
    let rows = service::list(&st.db, &actor, q.cursor()?, limit).await?;
    Ok(axum::Json(Page::from_rows(
        rows,
        limit,
        |v| Cursor::after_id(v.id),
        |v| v,
    )))
}

/// An event with its registered listings and needs and its schedule (the organiser
/// organisation; 404 for others).
#[utoipa::path(get, path = "/events/{id}", tag = "matching", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = EventView), (status = 401, body = Problem),
        (status = 404, body = Problem)))]
async fn get_event(
    State(st): State<MatchingState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<axum::Json<EventView>> {
    Ok(axum::Json(service::detail(&st.db, &actor, id).await?))
}

/// Register a published listing or an open need (`listing_id` or `demand_id`).
#[utoipa::path(post, path = "/events/{id}/entries", tag = "matching", security(("bearer" = [])),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header, description = IDEMPOTENCY)),
    request_body = EntryInput,
    responses((status = 201, body = EntryView), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn add_entry(
    State(st): State<MatchingState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<EntryInput>,
) -> ApiResult<(StatusCode, axum::Json<EntryView>)> {
    let t = req.parse().map_err(ApiError::validation)?;
    let v = service::add_entry(&st.db, &actor, id, t).await?;
    Ok((StatusCode::CREATED, axum::Json(v)))
}

/// Ask the matcher for a pairing schedule: every registered listing with every registered
/// need of another organisation, scored like a suggestion, placed greedily best first in the
/// earliest slot with a free table where neither organisation is already booked. Replaces the
/// previous proposal until outcomes are recorded (then 409). The body is optional.
#[utoipa::path(post, path = "/events/{id}/schedule", tag = "matching", security(("bearer" = [])),
    params(("id" = i64, Path)),
    request_body(content = Option<ScheduleInput>),
    responses((status = 200, body = ScheduleView), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn propose_schedule(
    State(st): State<MatchingState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    OptionalJson(req): OptionalJson<ScheduleInput>,
) -> ApiResult<axum::Json<ScheduleView>> {
    let min_score = req.parse().map_err(ApiError::validation)?;
    Ok(axum::Json(
        service::schedule(&st.db, &st.cfg, &actor, id, min_score).await?,
    ))
}

/// Record what came of a pairing: `met`, `intent` (意向) or `signed` with the contract (its
/// seller or buyer is one of the pairing's organisations).
#[utoipa::path(post, path = "/events/{id}/pairings/{pid}/outcome", tag = "matching",
    security(("bearer" = [])),
    params(("id" = i64, Path), ("pid" = i64, Path)),
    request_body = OutcomeInput,
    responses((status = 200, body = PairingView), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn record_outcome(
    State(st): State<MatchingState>,
    actor: Actor,
    ApiPath((id, pid)): ApiPath<(i64, i64)>,
    ApiJson(req): ApiJson<OutcomeInput>,
) -> ApiResult<axum::Json<PairingView>> {
    let (outcome, contract_id) = req.parse().map_err(ApiError::validation)?;
    Ok(axum::Json(
        service::record_outcome(&st.db, &actor, id, pid, outcome, contract_id).await?,
    ))
}

/// The event's figures: projects presented, pairings held (= met + intents + signed),
/// intents, signed contracts and their registered amounts read from the ledger. For the
/// organiser at any time (with the per-contract figures); public once the event is over.
#[utoipa::path(get, path = "/events/{id}/report", tag = "matching",
    params(("id" = i64, Path)),
    responses((status = 200, body = ReportView), (status = 404, body = Problem)))]
async fn event_report(
    State(st): State<MatchingState>,
    MaybeActor(actor): MaybeActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<axum::Json<ReportView>> {
    Ok(axum::Json(
        service::report(&st.db, actor.as_ref(), id).await?,
    ))
}
