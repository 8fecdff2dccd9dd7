//! HTTP routes of enquiries (`/v1/enquiries…`) and of the confidential details, NDA, contact
//! and access log of listings and needs.
use crate::confidential;
use crate::domain::{EnquiryStatus, Side, SubjectType};
use crate::dto::*;
use crate::service::{self, ListFilter, Seen};
use crate::EnquiriesState;
use axum::extract::{FromRef, FromRequestParts, State};
use axum::http::{header, request::Parts, StatusCode};
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use ttx_accounts::{Actor, MaybeActor};
use ttx_core::OrgKind;
use ttx_web::error::Problem;
use ttx_web::{
    ApiError, ApiJson, ApiPath, ApiQuery, ApiResult, Cursor, ErrorCode, Page, Versioned,
};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    EnquiriesState: FromRef<S>,
    DatabaseConnection: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(create_enquiry, list_enquiries))
        .routes(routes!(get_enquiry))
        .routes(routes!(post_message, list_messages))
        .routes(routes!(accept_enquiry))
        .routes(routes!(decline_enquiry))
        .routes(routes!(close_enquiry))
        .routes(routes!(accept_nda))
        .routes(routes!(grant_access))
        .routes(routes!(get_confidential, put_confidential))
        .routes(routes!(get_nda))
        .routes(routes!(listing_contact))
        .routes(routes!(demand_contact))
        .routes(routes!(listing_access_log))
        .routes(routes!(demand_access_log))
}

/// Whether the reader sees anonymous firms' names (verified agencies, as `ttx-demands` rules).
fn cleared(actor: &Actor) -> bool {
    actor.org_kind == OrgKind::Agency && actor.org_verified
}

async fn view(
    st: &EnquiriesState,
    actor: &Actor,
    seen: Seen,
    contact: Option<service::Contact>,
) -> ApiResult<EnquiryView> {
    let names = Names::load(&st.db, std::slice::from_ref(&seen.enquiry)).await?;
    Ok(EnquiryView::build(seen, &names, contact, cleared(actor)))
}

async fn versioned(
    st: &EnquiriesState,
    actor: &Actor,
    seen: Seen,
) -> ApiResult<Versioned<EnquiryView>> {
    let v = view(st, actor, seen, None).await?;
    Ok(Versioned::ok(v.version, v))
}

/// Send an enquiry about a listing or a need (意向 / 咨询): members of verified universities,
/// institutes and firms, brokers of verified agencies. At most `enquiries.daily_limit_per_org`
/// a day per organisation (429), one under way per organisation and item (409).
#[utoipa::path(post, path = "/enquiries", tag = "enquiries", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body = EnquiryInput,
    responses((status = 201, body = EnquiryView, headers(("ETag" = String), ("Location" = String))),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem), (status = 429, body = Problem)))]
async fn create_enquiry(
    State(st): State<EnquiriesState>,
    actor: Actor,
    ApiJson(input): ApiJson<EnquiryInput>,
) -> ApiResult<Versioned<EnquiryView>> {
    let n = input.parse()?;
    let seen = service::create(&st, &actor, n).await?;
    let v = view(&st, &actor, seen, None).await?;
    let location = format!("/v1/enquiries/{}", v.id);
    Ok(Versioned::created(v.version, v, location))
}

/// `GET /v1/enquiries` parameters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// `sent` (by the caller's organisation) or `received` (about its listings and needs).
    #[serde(rename = "box")]
    #[param(rename = "box", inline)]
    pub mailbox: Mailbox,
    pub status: Option<EnquiryStatus>,
    pub listing_id: Option<i64>,
    pub demand_id: Option<i64>,
    /// 1 to 100 (default 20).
    #[serde(default, deserialize_with = "ttx_web::pagination::page_limit")]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mailbox {
    Sent,
    Received,
}

/// The enquiries the caller's organisation sent or received, newest first.
#[utoipa::path(get, path = "/enquiries", tag = "enquiries", security(("bearer" = [])),
    params(ListParams),
    responses((status = 200, body = Page<EnquiryView>), (status = 400, body = Problem),
        (status = 401, body = Problem)))]
async fn list_enquiries(
    State(st): State<EnquiriesState>,
    actor: Actor,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<axum::Json<Page<EnquiryView>>> {
    let subject = match (p.listing_id, p.demand_id) {
        (Some(_), Some(_)) => {
            return Err(ApiError::new(ErrorCode::InvalidQuery)
                .detail("give listing_id or demand_id, not both"))
        }
        (Some(id), None) => Some((SubjectType::Listing, id)),
        (None, Some(id)) => Some((SubjectType::Demand, id)),
        (None, None) => None,
    };
    let side = match p.mailbox {
        Mailbox::Sent => Side::Sender,
        Mailbox::Received => Side::Owner,
    };
    let page = ttx_web::PageQuery {
        limit: p.limit,
        cursor: p.cursor,
    };
    let limit = page.limit();
    let f = ListFilter {
        side,
        status: p.status,
        subject,
    };
    let rows = service::list(&st.db, &actor, &f, page.cursor()?, limit).await?;
    let names = Names::load(&st.db, &rows).await?;
    let c = cleared(&actor);
    Ok(axum::Json(Page::from_rows(
        rows,
        limit,
        |e| Cursor::after_id(e.id),
        |e| EnquiryView::build(Seen { enquiry: e, side }, &names, None, c),
    )))
}

/// An enquiry (either side; anyone else 404). The sender of an accepted enquiry reads the
/// item's contact details here (the read is logged for the owner).
#[utoipa::path(get, path = "/enquiries/{id}", tag = "enquiries", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = EnquiryView, headers(("ETag" = String))),
        (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_enquiry(
    State(st): State<EnquiriesState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Versioned<EnquiryView>> {
    let (seen, contact) = service::get(&st, &actor, id).await?;
    let v = view(&st, &actor, seen, contact).await?;
    Ok(Versioned::ok(v.version, v))
}

/// Post a message in the thread (either side, while the enquiry is open, answered or
/// accepted). The owner's first message answers the enquiry.
#[utoipa::path(post, path = "/enquiries/{id}/messages", tag = "enquiries", security(("bearer" = [])),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body = MessageInput,
    responses((status = 201, body = MessageView), (status = 401, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn post_message(
    State(st): State<EnquiriesState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<MessageInput>,
) -> ApiResult<(StatusCode, axum::Json<MessageView>)> {
    let body = input.parse()?;
    let m = service::post_message(&st, &actor, id, body).await?;
    let users = user_names(&st.db, [m.author_user_id]).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(MessageView::build(m, &users)),
    ))
}

/// The thread of an enquiry, oldest first (either side; anyone else 404).
#[utoipa::path(get, path = "/enquiries/{id}/messages", tag = "enquiries", security(("bearer" = [])),
    params(("id" = i64, Path), ttx_web::PageQuery),
    responses((status = 200, body = Page<MessageView>), (status = 401, body = Problem),
        (status = 404, body = Problem)))]
async fn list_messages(
    State(st): State<EnquiriesState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(page): ApiQuery<ttx_web::PageQuery>,
) -> ApiResult<axum::Json<Page<MessageView>>> {
    let limit = page.limit();
    let rows = service::messages(&st.db, &actor, id, page.cursor()?, limit).await?;
    let users = user_names(&st.db, rows.iter().map(|m| m.author_user_id)).await?;
    Ok(axum::Json(Page::from_rows(
        rows,
        limit,
        |m| Cursor::after_id(m.id),
        |m| MessageView::build(m, &users),
    )))
}

/// Accept an enquiry (the owner): the item's contact details are revealed to the enquirer
/// (logged); with `grant_confidential`, access to the listing's confidential details too.
#[utoipa::path(post, path = "/enquiries/{id}/accept", tag = "enquiries", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = AcceptInput,
    responses((status = 200, body = EnquiryView), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn accept_enquiry(
    State(st): State<EnquiriesState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<AcceptInput>,
) -> ApiResult<Versioned<EnquiryView>> {
    let (note, grant) = input.parse()?;
    let seen = service::accept(&st, &actor, id, note, grant).await?;
    versioned(&st, &actor, seen).await
}

/// Decline an enquiry (the owner), with a reason the enquirer reads.
#[utoipa::path(post, path = "/enquiries/{id}/decline", tag = "enquiries", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = DeclineInput,
    responses((status = 200, body = EnquiryView), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn decline_enquiry(
    State(st): State<EnquiriesState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<DeclineInput>,
) -> ApiResult<Versioned<EnquiryView>> {
    let reason = input.parse()?;
    let seen = service::decline(&st, &actor, id, reason).await?;
    versioned(&st, &actor, seen).await
}

/// Close an enquiry: the enquirer withdraws (or ends an accepted one); the owner ends an
/// accepted one.
#[utoipa::path(post, path = "/enquiries/{id}/close", tag = "enquiries", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = CloseInput,
    responses((status = 200, body = EnquiryView), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn close_enquiry(
    State(st): State<EnquiriesState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<CloseInput>,
) -> ApiResult<Versioned<EnquiryView>> {
    let reason = input.parse()?;
    let seen = service::close(&st, &actor, id, reason).await?;
    versioned(&st, &actor, seen).await
}

/// Accept the listing's NDA (the enquirer), naming the version read at
/// `GET /v1/listings/{id}/nda`; who, when and which version are recorded. When the listing
/// grants access automatically, access follows.
#[utoipa::path(post, path = "/enquiries/{id}/nda", tag = "enquiries", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = NdaAcceptInput,
    responses((status = 200, body = EnquiryView), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn accept_nda(
    State(st): State<EnquiriesState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<NdaAcceptInput>,
) -> ApiResult<Versioned<EnquiryView>> {
    let version = input.parse()?;
    let seen = service::accept_nda(&st, &actor, id, version).await?;
    versioned(&st, &actor, seen).await
}

/// Grant the enquirer access to the listing's confidential details (the owner; the enquirer
/// must have accepted the current NDA version).
#[utoipa::path(post, path = "/enquiries/{id}/grant", tag = "enquiries", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = EnquiryView), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn grant_access(
    State(st): State<EnquiriesState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Versioned<EnquiryView>> {
    let seen = service::grant(&st, &actor, id).await?;
    versioned(&st, &actor, seen).await
}

/// `If-Match`, optional: required by the service only once the resource exists.
pub struct MaybeIfMatch(pub Option<i64>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeIfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if parts.headers.get(header::IF_MATCH).is_none() {
            return Ok(MaybeIfMatch(None));
        }
        let m = ttx_web::IfMatch::from_request_parts(parts, state).await?;
        Ok(MaybeIfMatch(Some(m.0)))
    }
}

/// A listing's confidential details: the owner organisation, and enquirers granted access
/// (each such read is logged for the owner). Anyone else 404. Never in public reads, search
/// or listing cards.
#[utoipa::path(get, path = "/listings/{id}/confidential", tag = "enquiries", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = ConfidentialView, headers(("ETag" = String))),
        (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_confidential(
    State(st): State<EnquiriesState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Versioned<ConfidentialView>> {
    let c = confidential::get(&st, &actor, id).await?;
    Ok(Versioned::ok(c.row.version, c.into()))
}

/// Set a listing's confidential details and their NDA (owner organisation; replaces them). A
/// changed NDA text is a new NDA version. `If-Match` with the record's ETag is required once
/// it exists (428 otherwise).
#[utoipa::path(put, path = "/listings/{id}/confidential", tag = "enquiries", security(("bearer" = [])),
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version you read (once it exists)")),
    request_body = ConfidentialInput,
    responses((status = 200, body = ConfidentialView, headers(("ETag" = String))),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 412, body = Problem),
        (status = 422, body = Problem), (status = 428, body = Problem)))]
async fn put_confidential(
    State(st): State<EnquiriesState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    MaybeIfMatch(if_match): MaybeIfMatch,
    ApiJson(input): ApiJson<ConfidentialInput>,
) -> ApiResult<Versioned<ConfidentialView>> {
    let spec = input.parse()?;
    let c = confidential::put(&st, &actor, id, if_match, spec).await?;
    Ok(Versioned::ok(c.row.version, c.into()))
}

/// The listing's current NDA, for whoever may read the listing (read it before accepting).
/// 404 when the listing keeps nothing confidential.
#[utoipa::path(get, path = "/listings/{id}/nda", tag = "enquiries",
    params(("id" = i64, Path)),
    responses((status = 200, body = NdaView), (status = 404, body = Problem)))]
async fn get_nda(
    State(st): State<EnquiriesState>,
    MaybeActor(actor): MaybeActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<axum::Json<NdaView>> {
    let (row, nda) = confidential::nda(&st.db, actor.as_ref(), id).await?;
    Ok(axum::Json(NdaView {
        listing_id: row.listing_id,
        nda_version: nda.nda_version,
        text: nda.text,
        auto_grant: row.auto_grant,
        published_at: nda.created_at,
    }))
}

/// The listing's contact details: the owner organisation, and enquirers whose enquiry was
/// accepted (each such read is logged). Anyone else 404.
#[utoipa::path(get, path = "/listings/{id}/contact", tag = "enquiries", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = ContactView), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn listing_contact(
    State(st): State<EnquiriesState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<axum::Json<ContactView>> {
    let c = confidential::contact(&st, &actor, SubjectType::Listing, id).await?;
    Ok(axum::Json(c.into()))
}

/// The need's contact details: the owner organisation, and enquirers whose enquiry was
/// accepted (each such read is logged). Anyone else 404.
#[utoipa::path(get, path = "/demands/{id}/contact", tag = "enquiries", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = ContactView), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn demand_contact(
    State(st): State<EnquiriesState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<axum::Json<ContactView>> {
    let c = confidential::contact(&st, &actor, SubjectType::Demand, id).await?;
    Ok(axum::Json(c.into()))
}

async fn access_log(
    st: &EnquiriesState,
    actor: &Actor,
    kind: SubjectType,
    id: i64,
    page: ttx_web::PageQuery,
) -> ApiResult<axum::Json<Page<DisclosureView>>> {
    let limit = page.limit();
    let rows = confidential::access_log(&st.db, actor, kind, id, page.cursor()?, limit).await?;
    let orgs = org_names(&st.db, rows.iter().map(|d| d.reader_org_id)).await?;
    Ok(axum::Json(Page::from_rows(
        rows,
        limit,
        |d| Cursor::after_id(d.id),
        |d| DisclosureView::build(d, &orgs),
    )))
}

/// Who outside the owner organisation was shown the listing's contact details or read its
/// confidential details, newest first (owner organisation only; anyone else 404).
#[utoipa::path(get, path = "/listings/{id}/access-log", tag = "enquiries", security(("bearer" = [])),
    params(("id" = i64, Path), ttx_web::PageQuery),
    responses((status = 200, body = Page<DisclosureView>), (status = 401, body = Problem),
        (status = 404, body = Problem)))]
async fn listing_access_log(
    State(st): State<EnquiriesState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(page): ApiQuery<ttx_web::PageQuery>,
) -> ApiResult<axum::Json<Page<DisclosureView>>> {
    access_log(&st, &actor, SubjectType::Listing, id, page).await
}

/// Who outside the owner organisation was shown the need's contact details, newest first
/// (owner organisation only; anyone else 404).
#[utoipa::path(get, path = "/demands/{id}/access-log", tag = "enquiries", security(("bearer" = [])),
    params(("id" = i64, Path), ttx_web::PageQuery),
    responses((status = 200, body = Page<DisclosureView>), (status = 401, body = Problem),
        (status = 404, body = Problem)))]
async fn demand_access_log(
    State(st): State<EnquiriesState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(page): ApiQuery<ttx_web::PageQuery>,
) -> ApiResult<axum::Json<Page<DisclosureView>>> {
    access_log(&st, &actor, SubjectType::Demand, id, page).await
}
