//! HTTP routes of listings (`/v1/listings…`).
use crate::domain::Action;
use crate::dto::{
    DealInput, ListingInput, ListingPatchInput, ListingView, SearchParams, SearchResponse,
    WithdrawInput,
};
use crate::search;
use crate::service::{self, Seen, Step};
use crate::state::ListingsState;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sea_orm::DatabaseConnection;
use ttx_accounts::{Actor, MaybeActor};
use ttx_web::error::Problem;
use ttx_web::read_cache::Cached;
use ttx_web::{ApiJson, ApiPath, ApiQuery, ApiResult, IfMatch, OptionalJson, Versioned};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    ListingsState: FromRef<S>,
    DatabaseConnection: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(create_listing, search_listings))
        .routes(routes!(get_listing, update_listing, delete_listing))
        .routes(routes!(publish_listing))
        .routes(routes!(withdraw_listing))
        .routes(routes!(mark_transacted))
}

fn view(s: Seen) -> Versioned<ListingView> {
    let version = s.listing.version;
    Versioned::ok(
        version,
        ListingView::build(s.listing, s.org.as_ref(), s.status, s.owner_view),
    )
}

fn today() -> chrono::NaiveDate {
    ttx_core::clock::today()
}

/// Post a technology listing (a draft, or published with `"publish": true`).
#[utoipa::path(post, path = "/listings", tag = "listings", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body = ListingInput,
    responses((status = 201, body = ListingView, headers(("ETag" = String), ("Location" = String))),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_listing(
    State(st): State<ListingsState>,
    actor: Actor,
    ApiJson(input): ApiJson<ListingInput>,
) -> ApiResult<Versioned<ListingView>> {
    let n = input.parse(today())?;
    let s = service::create(&st, &actor, n).await?;
    let location = format!("/v1/listings/{}", s.listing.id);
    let v = view(s);
    Ok(Versioned::created(v.version, v.body, location))
}

/// Search listings: full text (Chinese, English, mixed), filters, facets, sort, cursor.
/// Public searches see published listings; `mine=true` searches the caller's own in every
/// state. Hits never carry contact details.
#[utoipa::path(get, path = "/listings", tag = "listings", params(SearchParams),
    responses((status = 200, body = ttx_web::pagination::SearchPage<crate::dto::SearchHit>), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 422, body = Problem), (status = 503, body = Problem)))]
async fn search_listings(
    State(st): State<ListingsState>,
    MaybeActor(actor): MaybeActor,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> ApiResult<axum::Json<SearchResponse>> {
    let s = params.parse()?;
    Ok(axum::Json(search::search(&st, actor.as_ref(), s).await?))
}

/// A listing. Others' drafts and withdrawn listings are 404; contact details only for the
/// owner organisation. Anonymous reads may be answered from the public read cache (at most
/// `read_cache.ttl_secs` old when another process changed the listing).
#[utoipa::path(get, path = "/listings/{id}", tag = "listings", params(("id" = i64, Path)),
    responses((status = 200, body = ListingView, headers(("ETag" = String))), (status = 404, body = Problem)))]
async fn get_listing(
    State(st): State<ListingsState>,
    MaybeActor(actor): MaybeActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    if actor.is_some() || !st.reads.enabled() {
        return Ok(view(service::get(&st.db, actor.as_ref(), id).await?).into_response());
    }
    // Anonymous: the public view, from the cache or rendered once into it.
    let now = ttx_core::clock::now();
    if let Some(hit) = st.reads.get(id, now) {
        return Ok(hit.into_response());
    }
    let ticket = st.reads.ticket();
    let v = view(service::get(&st.db, None, id).await?);
    let cached = Cached::render(v.version, &v.body).map_err(ttx_web::ApiError::internal)?;
    st.reads
        .put(ticket, id, cached.clone(), st.reads.expiry(now, None));
    Ok(cached.into_response())
}

/// Change a listing (owner organisation; `If-Match` required).
#[utoipa::path(patch, path = "/listings/{id}", tag = "listings", security(("bearer" = [])),
    params(("id" = i64, Path), ("If-Match" = String, Header, description = "ETag of the version you read")),
    request_body = ListingPatchInput,
    responses((status = 200, body = ListingView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem)))]
async fn update_listing(
    State(st): State<ListingsState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    if_match: IfMatch,
    ApiJson(input): ApiJson<ListingPatchInput>,
) -> ApiResult<Versioned<ListingView>> {
    let patch = input.parse(today())?;
    Ok(view(
        service::update(&st, &actor, id, if_match, patch).await?,
    ))
}

/// Delete a draft.
#[utoipa::path(delete, path = "/listings/{id}", tag = "listings", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn delete_listing(
    State(st): State<ListingsState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    service::delete(&st, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Publish a draft (or re-publish a withdrawn or expired listing).
#[utoipa::path(post, path = "/listings/{id}/publish", tag = "listings", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = ListingView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn publish_listing(
    State(st): State<ListingsState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Versioned<ListingView>> {
    Ok(view(service::act(&st, &actor, id, Action::Publish).await?))
}

/// Withdraw a published listing (owner, or an operator moderating), optionally saying why:
/// `{"reason": "…"}` (at most 500 characters; required from an operator). The reason is
/// shown to the owner organisation in the listing and recorded in the audit log; public reads
/// never show it.
#[utoipa::path(post, path = "/listings/{id}/withdraw", tag = "listings", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body(content = Option<WithdrawInput>),
    responses((status = 200, body = ListingView), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn withdraw_listing(
    State(st): State<ListingsState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    OptionalJson(input): OptionalJson<WithdrawInput>,
) -> ApiResult<Versioned<ListingView>> {
    let s = Step::Withdraw {
        reason: input.reason,
    };
    Ok(view(service::step(&st, &actor, id, s).await?))
}

/// Record a deal on a published listing (成交). A non-exclusive licence
/// (`{"mode": "license", "licence_scope": "non_exclusive"}`) is counted in `licences_granted`
/// and the listing stays published for further licensees; a transfer, an exclusive or sole
/// licence, or a deal of unstated kind (no body) marks it transacted for good.
#[utoipa::path(post, path = "/listings/{id}/transacted", tag = "listings", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body(content = Option<DealInput>),
    responses((status = 200, body = ListingView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "listing_invalid_transition, listing_licence_conflict"),
        (status = 422, body = Problem)))]
async fn mark_transacted(
    State(st): State<ListingsState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    OptionalJson(input): OptionalJson<DealInput>,
) -> ApiResult<Versioned<ListingView>> {
    let s = Step::Deal(input.into_deal());
    Ok(view(service::step(&st, &actor, id, s).await?))
}
