//! HTTP routes of contract registration (mounted under `/v1`).
use crate::access::{self, Viewer};
use crate::certificate;
use crate::dto::*;
use crate::entity::{amendment, contract};
use crate::ledger::LedgerEntryView;
use crate::service::{amend, draft, query, review, Settings};
use crate::store;
use crate::view::*;
use axum::extract::{FromRef, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use sea_orm::DatabaseConnection;
use std::sync::Arc;
use ttx_accounts::{Actor, MaybeActor};
use ttx_core::{ContractKind, Labelled};
use ttx_web::error::Problem;
use ttx_web::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult, IfMatch, Page, Versioned};
use utoipa_axum::{router::OpenApiRouter, routes};

/// The per-address limit of the public registration check: the platform's rate limiter, keyed
/// by client address. Without a limit the check could be used to guess a certificate's figures.
pub type CheckLimiter = ttx_web::ratelimit::Limiter<std::net::IpAddr>;

/// State the contract routes need.
#[derive(Clone)]
pub struct ContractsState {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    /// The per-address limit of the public registration check (shared by all requests).
    pub checks: Arc<CheckLimiter>,
}

impl ContractsState {
    pub fn new(db: DatabaseConnection, settings: Settings) -> Self {
        let checks = Arc::new(CheckLimiter::new(settings.checks_per_minute));
        ContractsState {
            db,
            settings: Arc::new(settings),
            checks,
        }
    }

    /// Shares a limiter kept by the application (the state is built per request).
    pub fn with_checks(mut self, checks: Arc<CheckLimiter>) -> Self {
        self.checks = checks;
        self
    }
}

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    ContractsState: FromRef<S>,
    DatabaseConnection: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(create_contract, list_contracts))
        .routes(routes!(get_contract, update_contract))
        .routes(routes!(submit))
        .routes(routes!(accept))
        .routes(routes!(register))
        .routes(routes!(return_contract))
        .routes(routes!(refuse))
        .routes(routes!(terminate))
        .routes(routes!(request_amendment, list_amendments))
        .routes(routes!(approve_amendment))
        .routes(routes!(reject_amendment))
        .routes(routes!(contract_ledger))
        .routes(routes!(contract_certificate))
        .routes(routes!(verify_registration))
        .routes(routes!(draft_from_proposal))
        .routes(routes!(technology_income))
}

/// Kept under its old path for crates that import it from here.
pub use ttx_web::OptionalJson;

fn detail_view(
    actor: &Actor,
    m: contract::Model,
    viewer: Option<Viewer>,
) -> ApiResult<ContractView> {
    let status = store::status_of(&m)?;
    let overdue = crate::domain::content::review_overdue(m.review_due_on, crate::service::today());
    ContractView::build(m, actions_for(viewer, actor.role, status, overdue))
}

fn versioned(actor: &Actor, m: contract::Model) -> ApiResult<Versioned<ContractView>> {
    let viewer = access::viewer_of(actor, &m);
    let v = m.version;
    Ok(Versioned::ok(v, detail_view(actor, m, viewer)?))
}

/// Draft a contract (the seller side: a member of the seller organisation).
#[utoipa::path(post, path = "/contracts", tag = "contracts", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key: a retry with the same key and body replays the first answer")),
    request_body = ContractInput,
    responses((status = 201, body = ContractView, headers(("ETag" = String), ("Location" = String))),
        (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_contract(
    State(st): State<ContractsState>,
    actor: Actor,
    ApiJson(req): ApiJson<ContractInput>,
) -> ApiResult<Versioned<ContractView>> {
    let spec = req.parse()?;
    let m = draft::create(&st.db, &actor, spec).await?;
    let loc = format!("/v1/contracts/{}", m.id);
    let v = m.version;
    let view = detail_view(&actor, m, Some(Viewer::Seller))?;
    Ok(Versioned::created(v, view, loc))
}

/// Draft the contract of an accepted proposal (揭榜挂帅), prefilled: the solver as seller, the
/// challenger as buyer, the challenge's title and field, the bid as contract amount, and links
/// to the challenge and the proposal. The solver's members only; complete and submit it as any
/// draft. A second draft of the same proposal is 409 `already_exists` naming the first.
#[utoipa::path(post, path = "/proposals/{id}/contract-draft", tag = "contracts", security(("bearer" = [])),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body(content = Option<crate::service::prefill::DraftChoices>, description = "optional: sub_kind, tech_field, signed_on"),
    responses((status = 201, body = ContractView, headers(("ETag" = String), ("Location" = String))),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn draft_from_proposal(
    State(st): State<ContractsState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    OptionalJson(choices): OptionalJson<crate::service::prefill::DraftChoices>,
) -> ApiResult<Versioned<ContractView>> {
    let m = crate::service::prefill::create_from_proposal(&st.db, &actor, id, choices).await?;
    let loc = format!("/v1/contracts/{}", m.id);
    let v = m.version;
    let view = detail_view(&actor, m, Some(Viewer::Seller))?;
    Ok(Versioned::created(v, view, loc))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ContractListQuery {
    /// Stations: the review queue (contracts submitted or accepted, and registered ones with a
    /// pending amendment or termination), oldest first, with days left.
    pub queue: Option<bool>,
    /// Stations: only accepted contracts past their review deadline.
    pub overdue: Option<bool>,
    #[param(inline)]
    pub status: Option<crate::domain::ContractStatus>,
    pub kind: Option<ContractKind>,
    /// Page size, 1 to 100 (default 20).
    #[serde(default, deserialize_with = "ttx_web::pagination::page_limit")]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// Contracts the caller may see: its organisation's as seller or buyer; a station's
/// submissions (`queue=true` for its work); a bureau analyst's region; everything for operators.
#[utoipa::path(get, path = "/contracts", tag = "contracts", security(("bearer" = [])),
    params(ContractListQuery),
    responses((status = 200, body = Page<ContractSummary>), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn list_contracts(
    State(st): State<ContractsState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<ContractListQuery>,
) -> ApiResult<axum::Json<Page<ContractSummary>>> {
    let page = ttx_web::PageQuery {
        limit: q.limit,
        cursor: q.cursor.clone(),
    };
    let filter = query::ListFilter {
        queue: q.queue.unwrap_or(false),
        overdue: q.overdue.unwrap_or(false),
        status: q.status,
        kind: q.kind,
    };
    let limit = page.limit();
    let (rows, pending) = query::list(&st.db, &actor, &filter, page.cursor()?, limit).await?;
    let now = ttx_core::clock::now();
    Ok(axum::Json(Page::from_rows(
        rows,
        limit,
        |m| query::cursor_after(m, filter.queue || filter.overdue),
        |m| {
            let p = pending.get(&m.id).copied();
            ContractSummary::build(m, p, now)
        },
    )))
}

/// A contract with its review rounds, amendments and (for its station) look-alike contracts.
#[utoipa::path(get, path = "/contracts/{id}", tag = "contracts", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = ContractView, headers(("ETag" = String))), (status = 404, body = Problem)))]
async fn get_contract(
    State(st): State<ContractsState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Versioned<ContractView>> {
    let (m, viewer) = query::get(&st.db, &actor, id).await?;
    let rounds = query::rounds(&st.db, id).await?;
    let amendments = query::amendments(&st.db, id).await?;
    let near = if viewer.sees_review_notes() {
        Some(query::near_duplicates(&st.db, &m).await?)
    } else {
        None
    };
    let version = m.version;
    let mut view = detail_view(&actor, m, Some(viewer))?;
    view.rounds = Some(rounds.into_iter().map(Into::into).collect());
    view.amendments = Some(amendments.into_iter().map(Into::into).collect());
    view.near_duplicates = near;
    Ok(Versioned::ok(version, view))
}

/// Edit a draft or a contract returned for correction (seller side). Requires `If-Match`.
#[utoipa::path(patch, path = "/contracts/{id}", tag = "contracts", security(("bearer" = [])),
    params(("id" = i64, Path), ("If-Match" = String, Header)), request_body = ContractPatch,
    responses((status = 200, body = ContractView), (status = 409, body = Problem), (status = 412, body = Problem),
        (status = 422, body = Problem), (status = 428, body = Problem)))]
async fn update_contract(
    State(st): State<ContractsState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    if_match: IfMatch,
    ApiJson(req): ApiJson<ContractPatch>,
) -> ApiResult<Versioned<ContractView>> {
    let spec = req.parse()?;
    let m = draft::update(&st.db, &actor, id, if_match, spec).await?;
    versioned(&actor, m)
}

/// Submit to the competent registration station (seller side). The station is chosen
/// automatically: the most specific verified station whose jurisdiction covers the seller's
/// region; naming another one is 422 `station_outside_jurisdiction`.
#[utoipa::path(post, path = "/contracts/{id}/submit", tag = "contracts", security(("bearer" = [])),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)), request_body(content = Option<SubmitRequest>),
    responses((status = 200, body = ContractView), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem, description = "incomplete_for_submission, no_station_for_region, station_outside_jurisdiction")))]
async fn submit(
    State(st): State<ContractsState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    OptionalJson(req): OptionalJson<SubmitRequest>,
) -> ApiResult<Versioned<ContractView>> {
    let m = draft::submit(&st.db, &actor, id, req.station_id).await?;
    versioned(&actor, m)
}

/// Accept a submitted contract for review (a reviewer of the station); the review deadline
/// starts.
#[utoipa::path(post, path = "/contracts/{id}/accept", tag = "contracts", security(("bearer" = [])),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)), request_body(content = Option<AcceptRequest>),
    responses((status = 200, body = ContractView), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn accept(
    State(st): State<ContractsState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    OptionalJson(req): OptionalJson<AcceptRequest>,
) -> ApiResult<Versioned<ContractView>> {
    let mut errs = ttx_core::FieldErrors::new();
    let note = errs.opt_text("note", req.note.as_deref(), 2000);
    errs.into_result()?;
    let m = review::accept(&st.db, &actor, &st.settings, id, note).await?;
    versioned(&actor, m)
}

/// Register an accepted contract (a reviewer of the station): recognised kind, technology
/// amount, registration number. An exact duplicate of a registered contract is refused instead
/// (409 `duplicate_contract`).
#[utoipa::path(post, path = "/contracts/{id}/register", tag = "contracts", security(("bearer" = [])),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)), request_body(content = Option<RegisterRequest>),
    responses((status = 200, body = ContractView), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn register(
    State(st): State<ContractsState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    OptionalJson(req): OptionalJson<RegisterRequest>,
) -> ApiResult<Versioned<ContractView>> {
    let spec = req.parse()?;
    let m = review::register(&st.db, &actor, id, spec).await?;
    versioned(&actor, m)
}

/// Return a contract for correction, with reasons (a reviewer of the station).
#[utoipa::path(post, path = "/contracts/{id}/return", tag = "contracts", security(("bearer" = [])),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)), request_body = ReturnRequest,
    responses((status = 200, body = ContractView), (status = 403, body = Problem),
        (status = 409, body = Problem, description = "invalid_state, review_overdue"), (status = 422, body = Problem)))]
async fn return_contract(
    State(st): State<ContractsState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<ReturnRequest>,
) -> ApiResult<Versioned<ContractView>> {
    let reasons = req.parse()?;
    let m = review::return_for_correction(&st.db, &actor, id, reasons).await?;
    versioned(&actor, m)
}

/// Refuse to register a contract on an official ground (a reviewer of the station).
#[utoipa::path(post, path = "/contracts/{id}/refuse", tag = "contracts", security(("bearer" = [])),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)), request_body = RefuseRequest,
    responses((status = 200, body = ContractView), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn refuse(
    State(st): State<ContractsState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<RefuseRequest>,
) -> ApiResult<Versioned<ContractView>> {
    let (ground, text) = req.parse()?;
    let m = review::refuse(&st.db, &actor, id, ground, text).await?;
    versioned(&actor, m)
}

/// Request the termination of a registered contract (seller side); the registering station
/// approves or rejects it like an amendment.
#[utoipa::path(post, path = "/contracts/{id}/terminate", tag = "contracts", security(("bearer" = [])),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)), request_body = TerminateRequest,
    responses((status = 201, body = AmendmentView, headers(("Location" = String))), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn terminate(
    State(st): State<ContractsState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<TerminateRequest>,
) -> ApiResult<Response> {
    let mut errs = ttx_core::FieldErrors::new();
    let reason = errs.text("reason", &req.reason, 2, 2000);
    errs.into_result()?;
    let a = amend::request_termination(&st.db, &actor, id, reason, req.effective_on).await?;
    Ok(created_amendment(a))
}

fn created_amendment(a: amendment::Model) -> Response {
    let loc = format!("/v1/contracts/{}/amendments", a.contract_id);
    let mut r = (StatusCode::CREATED, axum::Json(AmendmentView::from(a))).into_response();
    if let Ok(v) = header::HeaderValue::from_str(&loc) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// Request an amendment of a registered contract: amounts, buyer and other parties, term,
/// payment plan, documents (seller side).
#[utoipa::path(post, path = "/contracts/{id}/amendments", tag = "contracts", security(("bearer" = [])),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)), request_body = AmendmentRequest,
    responses((status = 201, body = AmendmentView, headers(("Location" = String))), (status = 403, body = Problem),
        (status = 409, body = Problem, description = "invalid_state, amendment_pending"), (status = 422, body = Problem)))]
async fn request_amendment(
    State(st): State<ContractsState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<AmendmentRequest>,
) -> ApiResult<Response> {
    let spec = req.parse()?;
    let a = amend::request_amendment(&st.db, &actor, id, spec).await?;
    Ok(created_amendment(a))
}

/// Amendment and termination requests of a contract.
#[utoipa::path(get, path = "/contracts/{id}/amendments", tag = "contracts", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Vec<AmendmentView>), (status = 404, body = Problem)))]
async fn list_amendments(
    State(st): State<ContractsState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<axum::Json<Vec<AmendmentView>>> {
    query::get(&st.db, &actor, id).await?;
    let rows = query::amendments(&st.db, id).await?;
    Ok(axum::Json(rows.into_iter().map(Into::into).collect()))
}

/// The station's decision on an amendment or termination.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct DecisionResponse {
    pub amendment: AmendmentView,
    pub contract: ContractView,
}

async fn decide(
    st: ContractsState,
    actor: Actor,
    (id, aid): (i64, i64),
    req: DecisionRequest,
    approve: bool,
) -> ApiResult<axum::Json<DecisionResponse>> {
    let (note, costs) = req.parse(!approve)?;
    let (a, m) = amend::decide(&st.db, &actor, id, aid, approve, note, costs).await?;
    let viewer = access::viewer_of(&actor, &m);
    Ok(axum::Json(DecisionResponse {
        amendment: a.into(),
        contract: detail_view(&actor, m, viewer)?,
    }))
}

/// Approve an amendment or termination (a reviewer of the registering station): it applies and
/// the ledger books the difference (or the reversal) today.
#[utoipa::path(post, path = "/contracts/{id}/amendments/{aid}/approve", tag = "contracts", security(("bearer" = [])),
    params(("id" = i64, Path), ("aid" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body(content = Option<DecisionRequest>),
    responses((status = 200, body = DecisionResponse), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn approve_amendment(
    State(st): State<ContractsState>,
    actor: Actor,
    ApiPath(ids): ApiPath<(i64, i64)>,
    OptionalJson(req): OptionalJson<DecisionRequest>,
) -> ApiResult<axum::Json<DecisionResponse>> {
    decide(st, actor, ids, req, true).await
}

/// Reject an amendment or termination, saying why (a reviewer of the registering station).
#[utoipa::path(post, path = "/contracts/{id}/amendments/{aid}/reject", tag = "contracts", security(("bearer" = [])),
    params(("id" = i64, Path), ("aid" = i64, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = DecisionRequest,
    responses((status = 200, body = DecisionResponse), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
async fn reject_amendment(
    State(st): State<ContractsState>,
    actor: Actor,
    ApiPath(ids): ApiPath<(i64, i64)>,
    ApiJson(req): ApiJson<DecisionRequest>,
) -> ApiResult<axum::Json<DecisionResponse>> {
    decide(st, actor, ids, req, false).await
}

/// The turnover ledger entries of a contract (append-only): registration, amendments,
/// termination.
#[utoipa::path(get, path = "/contracts/{id}/ledger", tag = "contracts", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Vec<LedgerEntryView>), (status = 404, body = Problem)))]
async fn contract_ledger(
    State(st): State<ContractsState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<axum::Json<Vec<LedgerEntryView>>> {
    Ok(axum::Json(query::ledger_of(&st.db, &actor, id).await?))
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .any(|m| m == "application/json")
}

/// The registration certificate: a printable HTML page, or JSON with `Accept: application/json`.
#[utoipa::path(get, path = "/contracts/{id}/certificate", tag = "contracts", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses(
        (status = 200, content(
            (CertificateView = "application/json"),
            (String = "text/html"))),
        (status = 404, body = Problem), (status = 409, body = Problem, description = "not_registered")))]
async fn contract_certificate(
    State(st): State<ContractsState>,
    actor: Actor,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let (m, station) = query::certificate(&st.db, &actor, id).await?;
    let cert = certificate::build(&m, station)?;
    if wants_json(&headers) {
        Ok(axum::Json(cert).into_response())
    } else {
        let base = public_base(&st.settings, &headers);
        let url = certificate::verify_url(&base, &cert);
        Ok(Html(certificate::html(&cert, &url)).into_response())
    }
}

/// The service's public base URL: configured, or from the request's `Host`.
fn public_base(settings: &Settings, headers: &HeaderMap) -> String {
    if let Some(u) = settings.public_url.as_deref().filter(|u| !u.is_empty()) {
        return u.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost");
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"));
    format!("{}://{host}", if https { "https" } else { "http" })
}

/// The peer address of the connection (when the server records it).
pub struct PeerAddr(pub Option<std::net::SocketAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PeerAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(PeerAddr(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0),
        ))
    }
}

/// Figures to confirm against a registration: what the certificate shows.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CheckQuery {
    /// The technology transaction amount (技术交易额) printed on the certificate, in fen.
    pub technology_amount: Option<i64>,
    /// The same in 元 as printed, e.g. `1,234,500.50`.
    pub technology_amount_yuan: Option<String>,
    /// The contract amount (合同成交额) printed on the certificate, in fen.
    pub contract_amount: Option<i64>,
    /// The same in 元 as printed.
    pub contract_amount_yuan: Option<String>,
}

/// One figure to check, from fen or 元 (both given: they must agree).
fn figure(
    fen: Option<i64>,
    yuan: Option<&str>,
    field: &str,
    errs: &mut ttx_core::FieldErrors,
) -> Option<ttx_core::Fen> {
    let from_yuan = match yuan {
        None => None,
        Some(y) => match ttx_core::Fen::parse_yuan(&y.replace([',', '，', ' '], "")) {
            Ok(f) => Some(f),
            Err(_) => {
                errs.add(
                    &format!("{field}_yuan"),
                    "invalid_amount",
                    "an amount in 元 such as 1234500.50 (at most two decimals)",
                );
                return None;
            }
        },
    };
    match (fen.map(ttx_core::Fen), from_yuan) {
        (Some(a), Some(b)) if a != b => {
            errs.add(
                field,
                "conflicting_amounts",
                format!("{field} and {field}_yuan give different amounts"),
            );
            None
        }
        (a, b) => a.or(b),
    }
}

/// Public check of a registration number: number, kind, date, station and whether the contract
/// still stands. Nothing confidential. With `technology_amount` (and/or `contract_amount`) it
/// answers whether the figures printed on a certificate match, without revealing them. Rate
/// limited per address: 429 with `Retry-After`.
#[utoipa::path(get, path = "/registrations/{number}", tag = "contracts",
    params(("number" = String, Path, description = "登记编号"), CheckQuery),
    responses((status = 200, body = RegistrationCheck), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem), (status = 429, body = Problem, description = "too_many_checks; see Retry-After")))]
async fn verify_registration(
    State(st): State<ContractsState>,
    _caller: MaybeActor,
    PeerAddr(peer): PeerAddr,
    headers: HeaderMap,
    ApiPath(number): ApiPath<String>,
    ApiQuery(q): ApiQuery<CheckQuery>,
) -> ApiResult<Response> {
    let ip = ttx_web::ratelimit::client_ip(st.settings.trust_forwarded_for, peer, &headers);
    if let ttx_web::ratelimit::Decision::Refused {
        retry_after: secs, ..
    } = st.checks.check(ip, ttx_core::clock::now())
    {
        let e = ttx_web::ApiError::new(crate::error::ContractError::TooManyChecks)
            .detail(format!("retry in {secs} s"));
        let mut r = ttx_web::error::problem_response(&e);
        if let Ok(v) = axum::http::HeaderValue::from_str(&secs.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return Ok(r);
    }
    let mut errs = ttx_core::FieldErrors::new();
    let tech = figure(
        q.technology_amount,
        q.technology_amount_yuan.as_deref(),
        "technology_amount",
        &mut errs,
    );
    let total = figure(
        q.contract_amount,
        q.contract_amount_yuan.as_deref(),
        "contract_amount",
        &mut errs,
    );
    errs.into_result()?;
    let (m, station_name) = query::verify(&st.db, &number).await?;
    let kind = m.recognised_kind.clone().unwrap_or(m.kind.clone());
    Ok(axum::Json(RegistrationCheck {
        technology_amount_matches: tech.map(|f| f.0 == m.technology_amount),
        contract_amount_matches: total.map(|f| f.0 == m.contract_amount),
        registration_number: m.registration_number.unwrap_or_default(),
        registered_on: m
            .registered_on
            .ok_or_else(|| ApiError::not_found("registration"))?,
        kind_zh: kind
            .parse::<ContractKind>()
            .map(|k| k.zh().to_string())
            .unwrap_or_default(),
        kind,
        station_id: m.station_id.unwrap_or_default(),
        station_name,
        status: m.status,
    })
    .into_response())
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct IncomeQuery {
    /// Calendar year, e.g. 2026.
    pub year: i32,
}

/// A seller's registered technology income in a year, by contract kind, as used for tax relief
/// (its members, operators). Sums of the ledger: amendments and terminations are included on
/// their dates.
#[utoipa::path(get, path = "/orgs/{id}/technology-income", tag = "contracts", security(("bearer" = [])),
    params(("id" = i64, Path), IncomeQuery),
    responses((status = 200, body = TechnologyIncomeView), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn technology_income(
    State(st): State<ContractsState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<IncomeQuery>,
) -> ApiResult<axum::Json<TechnologyIncomeView>> {
    if !(1980..=2200).contains(&q.year) {
        return Err(ApiError::field(
            "year",
            "out_of_range",
            "a year between 1980 and 2200",
        ));
    }
    let totals = query::technology_income(&st.db, &actor, id, q.year).await?;
    let line = |k: ContractKind| {
        let t = totals.iter().find(|t| t.kind == k.as_str());
        IncomeLine {
            kind: k.as_str().into(),
            kind_zh: k.zh().into(),
            contracts: t.map(|t| t.contracts).unwrap_or(0),
            contract_amount: t.map(|t| t.contract_amount.0).unwrap_or(0),
            technology_amount: t.map(|t| t.technology_amount.0).unwrap_or(0),
        }
    };
    let by_kind: Vec<IncomeLine> = ContractKind::ALL.iter().map(|k| line(*k)).collect();
    let total = IncomeLine {
        kind: "total".into(),
        kind_zh: "合计".into(),
        contracts: by_kind.iter().map(|l| l.contracts).sum(),
        contract_amount: by_kind.iter().map(|l| l.contract_amount).sum(),
        technology_amount: by_kind.iter().map(|l| l.technology_amount).sum(),
    };
    Ok(axum::Json(TechnologyIncomeView {
        org_id: id,
        year: q.year,
        by_kind,
        total,
    }))
}
