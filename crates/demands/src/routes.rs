//! HTTP routes of needs, challenges and proposals. Handlers parse input, call a use case and
//! render the result for the caller; the rules live in [`crate::domain`],
//! [`crate::challenge`] and [`crate::service`].
use crate::challenge::Decision;
use crate::dto::*;
use crate::search::{self, ChallengeListParams, DemandSearchParams};
use crate::service::proposals::{self, ProposalBundle};
use crate::service::{demands, viewer_of, Loaded};
use crate::state::DemandsState;
use crate::view::{DemandSearchResponse, DemandView, ProposalView};
use axum::extract::{FromRef, State};
use axum::response::{IntoResponse, Response};
use sea_orm::DatabaseConnection;
use ttx_accounts::{Actor, MaybeActor};
use ttx_web::error::Problem;
use ttx_web::read_cache::Cached;
use ttx_web::{
    ApiJson, ApiPath, ApiQuery, ApiResult, Cursor, IfMatch, OptionalJson, Page, PageQuery,
    Versioned,
};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    DemandsState: FromRef<S>,
    DatabaseConnection: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(create_demand, search_demands))
        .routes(routes!(get_demand, update_demand))
        .routes(routes!(publish_demand))
        .routes(routes!(close_demand))
        .routes(routes!(create_challenge, list_challenges))
        .routes(routes!(get_challenge))
        .routes(routes!(submit_proposal, list_proposals))
        .routes(routes!(get_proposal))
        .routes(routes!(list_own_proposals))
        .routes(routes!(shortlist_proposal))
        .routes(routes!(accept_proposal))
        .routes(routes!(decline_proposal))
}

fn view(l: &Loaded, actor: Option<&Actor>) -> DemandView {
    DemandView::build(
        &l.demand,
        l.challenge.as_ref(),
        l.org.as_ref(),
        &viewer_of(actor),
        ttx_core::clock::now(),
    )
}

fn proposal_view(b: &ProposalBundle) -> ProposalView {
    ProposalView::build(&b.proposal, &b.challenge_title, &b.orgs)
}

fn today() -> chrono::NaiveDate {
    ttx_core::clock::today()
}

/// Post a need (技术需求): a draft, or published at once with `publish: true` when complete
/// enough. The response carries the completeness score and hints.
#[utoipa::path(post, path = "/demands", tag = "demands", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body = DemandInput,
    responses((status = 201, body = DemandView, headers(("ETag" = String), ("Location" = String))),
        (status = 403, body = Problem), (status = 422, body = Problem, description = "validation_failed or incomplete_demand")))]
async fn create_demand(
    State(st): State<DemandsState>,
    actor: Actor,
    ApiJson(req): ApiJson<DemandInput>,
) -> ApiResult<Versioned<DemandView>> {
    let new = req.parse(today())?;
    let l = demands::create(&st, &actor, new, None).await?;
    let loc = format!("/v1/demands/{}", l.demand.id);
    Ok(Versioned::created(
        l.demand.version,
        view(&l, Some(&actor)),
        loc,
    ))
}

/// Search open needs (and challenges) with filters, facets and sort; `mine=true` searches
/// the caller's own needs in every state.
#[utoipa::path(get, path = "/demands", tag = "demands", params(DemandSearchParams),
    responses((status = 200, body = DemandSearchResponse), (status = 400, body = Problem),
        (status = 422, body = Problem), (status = 503, body = Problem)))]
async fn search_demands(
    State(st): State<DemandsState>,
    MaybeActor(actor): MaybeActor,
    ApiQuery(q): ApiQuery<DemandSearchParams>,
) -> ApiResult<axum::Json<DemandSearchResponse>> {
    let s = q.parse()?;
    Ok(axum::Json(search::search(&st, actor.as_ref(), s).await?))
}

/// A need. Others than the owner see open needs only; contact details only the owner; an
/// anonymous firm's name only verified agencies and brokers. Anonymous reads may be answered
/// from the public read cache (at most `read_cache.ttl_secs` old when another process changed
/// the need).
#[utoipa::path(get, path = "/demands/{id}", tag = "demands", params(("id" = i64, Path)),
    responses((status = 200, body = DemandView, headers(("ETag" = String))), (status = 404, body = Problem)))]
async fn get_demand(
    State(st): State<DemandsState>,
    MaybeActor(actor): MaybeActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    if actor.is_some() || !st.reads.enabled() {
        let l = demands::get(&st.db, actor.as_ref(), id).await?;
        return Ok(Versioned::ok(l.demand.version, view(&l, actor.as_ref())).into_response());
    }
    // Anonymous: the public view, from the cache or rendered once into it.
    let now = ttx_core::clock::now();
    if let Some(hit) = st.reads.get(id, now) {
        return Ok(hit.into_response());
    }
    let ticket = st.reads.ticket();
    let l = demands::get(&st.db, None, id).await?;
    let cached =
        Cached::render(l.demand.version, &view(&l, None)).map_err(ttx_web::ApiError::internal)?;
    // A challenge's view says whether proposals are still accepted: not past its deadline.
    let until = l.challenge.as_ref().map(|c| c.terms.proposal_deadline);
    st.reads
        .put(ticket, id, cached.clone(), st.reads.expiry(now, until));
    Ok(cached.into_response())
}

/// Edit a need (the member who posted it, its organisation's admins). Requires `If-Match`.
/// The response carries the new completeness score and hints.
#[utoipa::path(patch, path = "/demands/{id}", tag = "demands", security(("bearer" = [])),
    params(("id" = i64, Path), ("If-Match" = String, Header)), request_body = DemandPatchInput,
    responses((status = 200, body = DemandView), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem)))]
async fn update_demand(
    State(st): State<DemandsState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    if_match: IfMatch,
    ApiJson(req): ApiJson<DemandPatchInput>,
) -> ApiResult<Versioned<DemandView>> {
    let patch = req.parse(today())?;
    let l = demands::update(&st, &actor, id, if_match.0, patch).await?;
    Ok(Versioned::ok(l.demand.version, view(&l, Some(&actor))))
}

/// Publish a need: needs a completeness score of at least `demands.min_publish_score`
/// (422 `incomplete_demand` with hints otherwise) and a deadline ahead.
#[utoipa::path(post, path = "/demands/{id}/publish", tag = "demands", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = DemandView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn publish_demand(
    State(st): State<DemandsState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Versioned<DemandView>> {
    let l = demands::publish(&st, &actor, id).await?;
    Ok(Versioned::ok(l.demand.version, view(&l, Some(&actor))))
}

/// Resolve or close a need; a challenge's open proposals are declined with the reason.
#[utoipa::path(post, path = "/demands/{id}/close", tag = "demands", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = CloseInput,
    responses((status = 200, body = DemandView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
async fn close_demand(
    State(st): State<DemandsState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    OptionalJson(body): OptionalJson<Option<CloseInput>>,
) -> ApiResult<Versioned<DemandView>> {
    let (outcome, reason) = body.unwrap_or_default().parse()?;
    let l = demands::close(&st, &actor, id, outcome, reason).await?;
    Ok(Versioned::ok(l.demand.version, view(&l, Some(&actor))))
}

/// Post a challenge (揭榜挂帅 / 技术难题招标): a need with a bounty, a proposal deadline,
/// eligibility, evaluation criteria and a number of winners.
#[utoipa::path(post, path = "/challenges", tag = "demands", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body = ChallengeCreate,
    responses((status = 201, body = DemandView, headers(("ETag" = String), ("Location" = String))),
        (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_challenge(
    State(st): State<DemandsState>,
    actor: Actor,
    ApiJson(req): ApiJson<ChallengeCreate>,
) -> ApiResult<Versioned<DemandView>> {
    let (new, terms) = req.parse(ttx_core::clock::now())?;
    let l = demands::create(&st, &actor, new, Some(terms)).await?;
    let loc = format!("/v1/challenges/{}", l.demand.id);
    Ok(Versioned::created(
        l.demand.version,
        view(&l, Some(&actor)),
        loc,
    ))
}

/// Open challenges, newest first; `mine=true`: the caller's own in every state.
#[utoipa::path(get, path = "/challenges", tag = "demands", params(ChallengeListParams),
    responses((status = 200, body = Page<DemandView>), (status = 400, body = Problem)))]
async fn list_challenges(
    State(st): State<DemandsState>,
    MaybeActor(actor): MaybeActor,
    ApiQuery(q): ApiQuery<ChallengeListParams>,
) -> ApiResult<axum::Json<Page<DemandView>>> {
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    };
    let limit = page.limit();
    let (items, more) = search::list_challenges(
        &st.db,
        actor.as_ref(),
        q.mine.unwrap_or(false),
        page.cursor()?.map(|c| c.id),
        limit,
    )
    .await?;
    let next_cursor = if more {
        items.last().map(|v| Cursor::after_id(v.id).encode())
    } else {
        None
    };
    Ok(axum::Json(Page { items, next_cursor }))
}

/// A challenge (the same as its need, 404 for a need that is not a challenge).
#[utoipa::path(get, path = "/challenges/{id}", tag = "demands", params(("id" = i64, Path)),
    responses((status = 200, body = DemandView, headers(("ETag" = String))), (status = 404, body = Problem)))]
async fn get_challenge(
    State(st): State<DemandsState>,
    MaybeActor(actor): MaybeActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Versioned<DemandView>> {
    let l = demands::get(&st.db, actor.as_ref(), id).await?;
    if l.challenge.is_none() {
        return Err(ttx_web::ApiError::not_found("challenge"));
    }
    Ok(Versioned::ok(l.demand.version, view(&l, actor.as_ref())))
}

/// Answer a challenge (eligible organisations, before the proposal deadline, one proposal
/// per organisation). The challenger is notified (`proposal.submitted`).
#[utoipa::path(post, path = "/challenges/{id}/proposals", tag = "demands", security(("bearer" = [])),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body = ProposalInput,
    responses((status = 201, body = ProposalView, headers(("ETag" = String), ("Location" = String))),
        (status = 403, body = Problem, description = "proposal_not_eligible, proposal_own_challenge"),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "proposal_deadline_passed, challenge_not_open, proposal_already_submitted"),
        (status = 422, body = Problem)))]
async fn submit_proposal(
    State(st): State<DemandsState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<ProposalInput>,
) -> ApiResult<Versioned<ProposalView>> {
    let new = req.parse()?;
    let b = proposals::submit(&st, &actor, id, new).await?;
    let loc = format!("/v1/proposals/{}", b.proposal.id);
    Ok(Versioned::created(
        b.proposal.version,
        proposal_view(&b),
        loc,
    ))
}

/// Proposals of a challenge: all for the challenger's organisation, one's own otherwise.
#[utoipa::path(get, path = "/challenges/{id}/proposals", tag = "demands", security(("bearer" = [])),
    params(("id" = i64, Path), PageQuery),
    responses((status = 200, body = Page<ProposalView>), (status = 404, body = Problem)))]
async fn list_proposals(
    State(st): State<DemandsState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<axum::Json<Page<ProposalView>>> {
    let limit = page.limit();
    let rows =
        proposals::list_for_challenge(&st.db, &actor, id, page.cursor()?.map(|c| c.id), limit)
            .await?;
    Ok(axum::Json(Page::from_rows(
        rows,
        limit,
        |b| Cursor::after_id(b.proposal.id),
        |b| proposal_view(&b),
    )))
}

/// The proposals the caller's organisation submitted to challenges (a solver's own list), newest
/// first, with their status (`submitted`, `shortlisted`, `accepted`, `declined`,
/// `not_selected`).
#[utoipa::path(get, path = "/proposals", tag = "demands", security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, body = Page<ProposalView>), (status = 400, body = Problem), (status = 401, body = Problem)))]
async fn list_own_proposals(
    State(st): State<DemandsState>,
    actor: Actor,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<axum::Json<Page<ProposalView>>> {
    let limit = page.limit();
    let rows = proposals::list_own(&st.db, &actor, page.cursor()?.map(|c| c.id), limit).await?;
    Ok(axum::Json(Page::from_rows(
        rows,
        limit,
        |b| Cursor::after_id(b.proposal.id),
        |b| proposal_view(&b),
    )))
}

/// A proposal: visible to the submitting organisation and the challenger only (404 for
/// anyone else).
#[utoipa::path(get, path = "/proposals/{id}", tag = "demands", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = ProposalView, headers(("ETag" = String))), (status = 404, body = Problem)))]
async fn get_proposal(
    State(st): State<DemandsState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Versioned<ProposalView>> {
    let b = proposals::get(&st.db, &actor, id).await?;
    Ok(Versioned::ok(b.proposal.version, proposal_view(&b)))
}

async fn decide(
    st: &DemandsState,
    actor: &Actor,
    id: i64,
    d: Decision,
    reason: Option<String>,
) -> ApiResult<Versioned<ProposalView>> {
    let b = proposals::decide(st, actor, id, d, reason).await?;
    Ok(Versioned::ok(b.proposal.version, proposal_view(&b)))
}

/// Shortlist a proposal (the challenger). The solver is notified.
#[utoipa::path(post, path = "/proposals/{id}/shortlist", tag = "demands", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = ProposalView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
async fn shortlist_proposal(
    State(st): State<DemandsState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Versioned<ProposalView>> {
    decide(&st, &actor, id, Decision::Shortlist, None).await
}

/// Accept a proposal (the challenger), up to the challenge's number of winners (409
/// `challenge_winners_exhausted` beyond). Records the contract parties: seller = solver,
/// buyer = challenger, amount = the proposal's price.
#[utoipa::path(post, path = "/proposals/{id}/accept", tag = "demands", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = ProposalView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "challenge_winners_exhausted, proposal_invalid_transition")))]
async fn accept_proposal(
    State(st): State<DemandsState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Versioned<ProposalView>> {
    decide(&st, &actor, id, Decision::Accept, None).await
}

/// Decline a proposal with a reason (the challenger). The solver is notified with it.
#[utoipa::path(post, path = "/proposals/{id}/decline", tag = "demands", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = DeclineInput,
    responses((status = 200, body = ProposalView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn decline_proposal(
    State(st): State<DemandsState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<DeclineInput>,
) -> ApiResult<Versioned<ProposalView>> {
    let reason = req.parse()?;
    decide(&st, &actor, id, Decision::Decline, Some(reason)).await
}
