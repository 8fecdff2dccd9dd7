//! HTTP routes of the pipeline (mounted under `/v1`).
use super::dto::*;
use super::service::{self, Step};
use super::view::{FeedbackLine, FunnelView, MatchFeedbackView, MatchView};
use crate::MatchingState;
use axum::extract::{FromRef, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sea_orm::DatabaseConnection;
use ttx_accounts::Actor;
use ttx_contracts::routes::OptionalJson;
use ttx_core::FieldErrors;
use ttx_web::error::{Problem, PROBLEM_JSON};
use ttx_web::{ApiError, ApiJson, ApiPath, ApiQuery, Cursor, Page, PageQuery, Versioned};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    MatchingState: FromRef<S>,
    DatabaseConnection: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(open_match, list_matches))
        .routes(routes!(match_funnel))
        .routes(routes!(match_feedback))
        .routes(routes!(export_match_feedback))
        .routes(routes!(get_match))
        .routes(routes!(introduce_match))
        .routes(routes!(accept_match))
        .routes(routes!(decline_match))
        .routes(routes!(sign_match))
        .routes(routes!(close_match))
}

/// A problem+json answer whose `context.allowed` (the actions allowed now, with
/// `match_invalid_transition`) is also given as the top-level extension member `allowed`.
pub struct MatchProblem(pub ApiError);

impl From<ApiError> for MatchProblem {
    fn from(e: ApiError) -> Self {
        MatchProblem(e)
    }
}

impl From<ttx_web::ServiceError> for MatchProblem {
    fn from(e: ttx_web::ServiceError) -> Self {
        MatchProblem(e.into())
    }
}

impl From<FieldErrors> for MatchProblem {
    fn from(e: FieldErrors) -> Self {
        MatchProblem(ApiError::validation(e))
    }
}

impl IntoResponse for MatchProblem {
    fn into_response(self) -> Response {
        let allowed = self
            .0
            .extra
            .as_ref()
            .and_then(|c| c.get("allowed"))
            .cloned();
        let Some(allowed) = allowed else {
            return self.0.into_response();
        };
        let mut body = serde_json::to_value(self.0.to_problem()).unwrap_or_default();
        body["allowed"] = allowed;
        let mut resp = (self.0.status, body.to_string()).into_response();
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        resp
    }
}

type Res<T> = Result<T, MatchProblem>;

async fn detail(st: &MatchingState, actor: &Actor, id: i64) -> Res<Versioned<MatchView>> {
    let d = service::get(&st.db, actor, id).await?;
    let actions = service::actions_for(&d.viewer, &d.m);
    let view = MatchView::build(&d.m, &d.names, &d.viewer, actions, Some(&d.history));
    Ok(Versioned::ok(d.m.version, view))
}

/// Open a match between a published listing and an open need of another organisation (a
/// broker of a verified agency). It starts `suggested`: the parties see it once introduced.
#[utoipa::path(post, path = "/matches", tag = "matching", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key: a retry with the same key and body replays the first answer")),
    request_body = MatchOpenRequest,
    responses((status = 201, body = MatchView, headers(("ETag" = String), ("Location" = String))),
        (status = 403, body = Problem, description = "forbidden, org_not_verified"),
        (status = 409, body = Problem, description = "match_exists: your agency has this pair under way (`context.match_id`)"),
        (status = 422, body = Problem)))]
async fn open_match(
    State(st): State<MatchingState>,
    actor: Actor,
    ApiJson(req): ApiJson<MatchOpenRequest>,
) -> Res<Versioned<MatchView>> {
    let spec = req.parse()?;
    let m = service::open(&st.db, &actor, spec).await?;
    let d = service::get(&st.db, &actor, m.id).await?;
    let actions = service::actions_for(&d.viewer, &d.m);
    let view = MatchView::build(&d.m, &d.names, &d.viewer, actions, Some(&d.history));
    Ok(Versioned::created(
        d.m.version,
        view,
        format!("/v1/matches/{}", m.id),
    ))
}

/// The matches the caller may see, newest first: a broker's own pipeline, an agency admin's
/// agency's, a party's introduced matches, all of them for operators.
#[utoipa::path(get, path = "/matches", tag = "matching", security(("bearer" = [])),
    params(MatchListQuery),
    responses((status = 200, body = Page<MatchView>), (status = 400, body = Problem)))]
async fn list_matches(
    State(st): State<MatchingState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<MatchListQuery>,
) -> Res<axum::Json<Page<MatchView>>> {
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor.clone(),
    };
    if q.broker.is_some_and(|b| b <= 0) {
        return Err(ApiError::field("broker", "invalid", "must be positive").into());
    }
    let limit = page.limit();
    let filter = service::ListFilter {
        stage: q.stage,
        broker: q.broker,
    };
    let (rows, names) = service::list(&st.db, &actor, &filter, page.cursor()?, limit).await?;
    Ok(axum::Json(Page::from_rows(
        rows,
        limit,
        |m| Cursor::after_id(m.id),
        |m| {
            let v = super::access::viewer_of(&actor, &m);
            let actions = service::actions_for(&v, &m);
            MatchView::build(&m, &names, &v, actions, None)
        },
    )))
}

/// A match with its history (who did what and when) and the actions the caller may take.
#[utoipa::path(get, path = "/matches/{id}", tag = "matching", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = MatchView, headers(("ETag" = String))), (status = 404, body = Problem)))]
async fn get_match(
    State(st): State<MatchingState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
) -> Res<Versioned<MatchView>> {
    detail(&st, &actor, id).await
}

async fn step(st: MatchingState, actor: Actor, id: i64, step: Step) -> Res<Versioned<MatchView>> {
    service::act(&st.db, &actor, id, step).await?;
    st.committed();
    detail(&st, &actor, id).await
}

/// Introduce the listing and the need to each other (the broker): both parties are notified
/// and asked to accept or decline.
#[utoipa::path(post, path = "/matches/{id}/introduce", tag = "matching", security(("bearer" = [])),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body(content = Option<MatchNoteRequest>),
    responses((status = 200, body = MatchView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "match_invalid_transition, with `allowed`"), (status = 422, body = Problem)))]
async fn introduce_match(
    State(st): State<MatchingState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    OptionalJson(req): OptionalJson<MatchNoteRequest>,
) -> Res<Versioned<MatchView>> {
    let note = req.parse()?;
    step(st, actor, id, Step::Introduce { note }).await
}

/// Accept the introduction for the caller's side (a member of the listing's or the need's
/// organisation: the caller's organisation decides the side). Once both sides accepted, the
/// match is `negotiating` by itself.
#[utoipa::path(post, path = "/matches/{id}/accept", tag = "matching", security(("bearer" = [])),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body(content = Option<MatchNoteRequest>),
    responses((status = 200, body = MatchView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "match_invalid_transition, with `allowed`"), (status = 422, body = Problem)))]
async fn accept_match(
    State(st): State<MatchingState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    OptionalJson(req): OptionalJson<MatchNoteRequest>,
) -> Res<Versioned<MatchView>> {
    let note = req.parse()?;
    step(st, actor, id, Step::Accept { note }).await
}

/// Decline the introduction for the caller's side: the match is closed (reason `declined`).
#[utoipa::path(post, path = "/matches/{id}/decline", tag = "matching", security(("bearer" = [])),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body(content = Option<MatchNoteRequest>),
    responses((status = 200, body = MatchView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "match_invalid_transition, with `allowed`"), (status = 422, body = Problem)))]
async fn decline_match(
    State(st): State<MatchingState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    OptionalJson(req): OptionalJson<MatchNoteRequest>,
) -> Res<Versioned<MatchView>> {
    let note = req.parse()?;
    step(st, actor, id, Step::Decline { note }).await
}

/// Sign a negotiating match (the broker), with the registered contract it led to: a contract
/// whose `match_id` is this match, sold by the listing's owner to the need's owner.
#[utoipa::path(post, path = "/matches/{id}/sign", tag = "matching", security(("bearer" = [])),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = MatchSignRequest,
    responses((status = 200, body = MatchView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "match_invalid_transition, with `allowed`"),
        (status = 422, body = Problem, description = "contract_id: not_linked, not_registered, wrong_parties")))]
async fn sign_match(
    State(st): State<MatchingState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<MatchSignRequest>,
) -> Res<Versioned<MatchView>> {
    let (contract_id, note) = req.parse()?;
    step(st, actor, id, Step::Sign { contract_id, note }).await
}

/// Close a match with a reason (the broker, or either party once introduced).
#[utoipa::path(post, path = "/matches/{id}/close", tag = "matching", security(("bearer" = [])),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = MatchCloseRequest,
    responses((status = 200, body = MatchView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "match_invalid_transition, with `allowed`"), (status = 422, body = Problem)))]
async fn close_match(
    State(st): State<MatchingState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<MatchCloseRequest>,
) -> Res<Versioned<MatchView>> {
    let (reason, note) = req.parse()?;
    step(st, actor, id, Step::Close { reason, note }).await
}

/// Mark a suggested pair relevant or not (a member of the listing's or the need's organisation,
/// or a broker of a verified agency). One answer per user and pair: a new one replaces the old
/// (201 the first time, 200 after).
#[utoipa::path(post, path = "/matches/feedback", tag = "matching", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header)),
    request_body = MatchFeedbackRequest,
    responses((status = 201, body = MatchFeedbackView), (status = 200, body = MatchFeedbackView),
        (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn match_feedback(
    State(st): State<MatchingState>,
    actor: Actor,
    ApiJson(req): ApiJson<MatchFeedbackRequest>,
) -> Res<Response> {
    let spec = req.parse()?;
    let (row, created) = service::feedback(&st.db, &actor, spec).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(MatchFeedbackView::from(row))).into_response())
}

/// Every feedback answer as JSON Lines (`application/x-ndjson`), oldest first, for evaluation
/// (operators): one line per answer with the pair, the answer, the side, role and organisation
/// kind it came from, and when.
#[utoipa::path(get, path = "/matches/feedback/export", tag = "matching", security(("bearer" = [])),
    responses((status = 200, content_type = "application/x-ndjson", body = FeedbackLine,
        description = "one FeedbackLine per line"), (status = 403, body = Problem)))]
async fn export_match_feedback(State(st): State<MatchingState>, actor: Actor) -> Res<Response> {
    let body = service::export_feedback(&st.db, &actor).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/x-ndjson; charset=utf-8")],
        body,
    )
        .into_response())
}

/// The funnel of a broker's (`broker=<user id>`: the broker, its agency's admins, operators) or
/// an agency's pipeline (`agency=<org id>`: its admins, operators): matches per stage now and
/// ever, median days per stage from the history, closed matches by reason, and the registered
/// amounts of the signed matches read from the turnover ledger, contract by contract.
#[utoipa::path(get, path = "/matches/funnel", tag = "matching", security(("bearer" = [])),
    params(FunnelQuery),
    responses((status = 200, body = FunnelView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn match_funnel(
    State(st): State<MatchingState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<FunnelQuery>,
) -> Res<axum::Json<FunnelView>> {
    let scope = q.parse()?;
    Ok(axum::Json(service::funnel(&st.db, &actor, scope).await?))
}
