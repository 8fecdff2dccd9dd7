//! HTTP routes of accounts.
use crate::dto::*;
use crate::service::{self, AccountsConfig, OrgPatch};
use crate::Actor;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use sea_orm::DatabaseConnection;
use std::sync::Arc;
use ttx_core::{FieldErrors, OrgKind, RegionCode, Role};
use ttx_web::error::Problem;
use ttx_web::{
    ApiJson, ApiPath, ApiQuery, ApiResult, Cursor, IfMatch, Page, PageQuery, RequestId, Versioned,
};
use utoipa_axum::{router::OpenApiRouter, routes};

/// State the accounts routes need.
#[derive(Clone)]
pub struct AccountsState {
    pub db: DatabaseConnection,
    pub cfg: Arc<AccountsConfig>,
    /// Verified against when an e-mail is unknown, so timing reveals nothing.
    pub dummy_hash: Arc<String>,
}

impl AccountsState {
    pub fn new(db: DatabaseConnection, cfg: AccountsConfig) -> Self {
        let dummy = crate::secrets::dummy_hash(cfg.password_cost);
        AccountsState {
            db,
            cfg: Arc::new(cfg),
            dummy_hash: Arc::new(dummy),
        }
    }
}

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    AccountsState: FromRef<S>,
    DatabaseConnection: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(signup))
        .routes(routes!(create_token, list_tokens))
        .routes(routes!(revoke_token))
        .routes(routes!(me))
        .routes(routes!(list_orgs))
        .routes(routes!(get_org, update_org))
        .routes(routes!(verify_org))
        .routes(routes!(list_members, add_member))
        .routes(routes!(update_member, remove_member))
        .routes(routes!(list_audit))
}

async fn org_view(
    db: &DatabaseConnection,
    o: crate::entity::organization::Model,
    show_contact: bool,
) -> ApiResult<OrgView> {
    let j = if o.kind == OrgKind::Station.as_str() {
        service::jurisdiction_of(db, o.id).await?
    } else {
        vec![]
    };
    Ok(OrgView::build(o, j, show_contact))
}

/// Sign up an organisation and its first admin; returns the admin's token.
#[utoipa::path(post, path = "/signup", tag = "accounts",
    params(("Idempotency-Key" = Option<String>, Header, description = "Retry-safe key")),
    request_body = SignupRequest,
    responses((status = 201, body = SignupResponse), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn signup(
    State(st): State<AccountsState>,
    rid: RequestId,
    ApiJson(req): ApiJson<SignupRequest>,
) -> ApiResult<(StatusCode, axum::Json<SignupResponse>)> {
    let (org, admin) = req.parse()?;
    let ctx = crate::audit::AuditCtx {
        actor_user_id: None,
        actor_org_id: None,
        request_id: rid.0,
    };
    let (o, u, token) = service::signup(&st.db, &st.cfg, org, admin, &ctx).await?;
    let org = org_view(&st.db, o, true).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(SignupResponse {
            token,
            org,
            user: u.into(),
        }),
    ))
}

/// Log in with e-mail and password; returns a new bearer token.
#[utoipa::path(post, path = "/tokens", tag = "accounts", request_body = LoginRequest,
    responses((status = 201, body = NewTokenResponse), (status = 401, body = Problem)))]
async fn create_token(
    State(st): State<AccountsState>,
    rid: RequestId,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<(StatusCode, axum::Json<NewTokenResponse>)> {
    let mut errs = FieldErrors::new();
    errs.text("email", &req.email, 1, 254);
    if req.password.is_empty() {
        errs.add("password", "required", "must not be empty");
    }
    let name = errs
        .opt_text("token_name", req.token_name.as_deref(), 100)
        .unwrap_or_else(|| "login".into());
    errs.into_result()?;
    let (u, token, tok) = service::login(
        &st.db,
        &st.cfg,
        &st.dummy_hash,
        &req.email,
        &req.password,
        &name,
        &rid.0,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(NewTokenResponse {
            token,
            token_info: tok.into(),
            user: u.into(),
        }),
    ))
}

/// The caller's tokens.
#[utoipa::path(get, path = "/tokens", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = Vec<TokenView>), (status = 401, body = Problem)))]
async fn list_tokens(
    State(st): State<AccountsState>,
    actor: Actor,
) -> ApiResult<axum::Json<Vec<TokenView>>> {
    let rows = service::list_tokens(&st.db, actor.user_id).await?;
    Ok(axum::Json(rows.into_iter().map(Into::into).collect()))
}

/// Revoke one of the caller's tokens.
#[utoipa::path(delete, path = "/tokens/{id}", tag = "accounts", security(("bearer" = [])),
    params(("id" = i64, Path)), responses((status = 204), (status = 404, body = Problem)))]
async fn revoke_token(
    State(st): State<AccountsState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    service::revoke_token(&st.db, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller: user, organisation, role.
#[utoipa::path(get, path = "/me", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = MeResponse), (status = 401, body = Problem)))]
async fn me(State(st): State<AccountsState>, actor: Actor) -> ApiResult<axum::Json<MeResponse>> {
    let u = service::get_user(&st.db, actor.user_id).await?;
    let o = service::get_org(&st.db, actor.org_id).await?;
    Ok(axum::Json(MeResponse {
        user: u.into(),
        org: org_view(&st.db, o, true).await?,
        role_zh: ttx_core::Labelled::zh(&actor.role).to_string(),
    }))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OrgListQuery {
    /// Organisation kind.
    pub kind: Option<String>,
    /// Region prefix (2, 4 or 6 digits).
    pub region: Option<String>,
    pub verified: Option<bool>,
    #[serde(default, deserialize_with = "ttx_web::pagination::page_limit")]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
}

/// Public directory of organisations (e.g. to find a registration station).
#[utoipa::path(get, path = "/orgs", tag = "accounts", params(OrgListQuery),
    responses((status = 200, body = Page<OrgView>), (status = 400, body = Problem)))]
async fn list_orgs(
    State(st): State<AccountsState>,
    ApiQuery(q): ApiQuery<OrgListQuery>,
) -> ApiResult<axum::Json<Page<OrgView>>> {
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor.clone(),
    };
    let mut errs = FieldErrors::new();
    let mut filter = service::OrgFilter {
        verified: q.verified,
        ..Default::default()
    };
    if let Some(k) = &q.kind {
        filter.kind = errs.take("kind", "invalid_choice", k.parse::<OrgKind>());
    }
    if let Some(r) = &q.region {
        filter.region_prefix = errs.take(
            "region",
            "invalid_region",
            ttx_core::region::parse_region_prefix(r),
        );
    }
    errs.into_result()?;
    let after = page.cursor()?.map(|c| c.id);
    let limit = page.limit();
    let (rows, mut jur) = service::list_orgs(&st.db, &filter, after, limit).await?;
    Ok(axum::Json(Page::from_rows(
        rows,
        limit,
        |o| Cursor::after_id(o.id),
        |o| {
            let j = jur.remove(&o.id).unwrap_or_default();
            OrgView::build(o, j, false)
        },
    )))
}

/// An organisation's profile; contact details only for its members and operators.
#[utoipa::path(get, path = "/orgs/{id}", tag = "accounts", params(("id" = i64, Path)),
    responses((status = 200, body = OrgView, headers(("ETag" = String))), (status = 404, body = Problem)))]
async fn get_org(
    State(st): State<AccountsState>,
    actor: crate::MaybeActor,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Versioned<OrgView>> {
    let o = service::get_org(&st.db, id).await?;
    let show = actor
        .0
        .as_ref()
        .map(|a| a.belongs_to(id) || a.is_operator())
        .unwrap_or(false);
    let v = o.version;
    Ok(Versioned::ok(v, org_view(&st.db, o, show).await?))
}

/// Update an organisation's profile (its admins, operators). Requires `If-Match`.
#[utoipa::path(patch, path = "/orgs/{id}", tag = "accounts", security(("bearer" = [])),
    params(("id" = i64, Path), ("If-Match" = String, Header)), request_body = OrgUpdate,
    responses((status = 200, body = OrgView), (status = 412, body = Problem), (status = 428, body = Problem)))]
async fn update_org(
    State(st): State<AccountsState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    if_match: IfMatch,
    ApiJson(req): ApiJson<OrgUpdate>,
) -> ApiResult<Versioned<OrgView>> {
    let mut errs = FieldErrors::new();
    let name = req.name.as_deref().map(|n| errs.text("name", n, 2, 200));
    let region = req
        .region_code
        .as_deref()
        .and_then(|r| parse_region(&mut errs, "region_code", r));
    let clean = |errs: &mut FieldErrors, f: &str, v: Option<Option<String>>, max| {
        v.map(|inner| errs.opt_text(f, inner.as_deref(), max))
    };
    let description = clean(&mut errs, "description", req.description, 5000);
    let website = clean(&mut errs, "website", req.website, 300);
    let contact_name = clean(&mut errs, "contact_name", req.contact_name, 100);
    let (ce, cp) = parse_contact(
        &mut errs,
        "",
        req.contact_email.clone().flatten().as_deref(),
        req.contact_phone.clone().flatten().as_deref(),
    );
    errs.into_result()?;
    let patch = OrgPatch {
        name,
        region,
        description,
        website,
        contact_name,
        contact_email: req.contact_email.map(|_| ce),
        contact_phone: req.contact_phone.map(|_| cp),
    };
    let o = service::update_org(&st.db, &actor, id, if_match.0, patch).await?;
    let v = o.version;
    Ok(Versioned::ok(v, org_view(&st.db, o, true).await?))
}

/// Verify an organisation (operators); a station's jurisdiction is set here.
#[utoipa::path(post, path = "/orgs/{id}/verify", tag = "accounts", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = VerifyRequest,
    responses((status = 200, body = OrgView), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn verify_org(
    State(st): State<AccountsState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<VerifyRequest>,
) -> ApiResult<Versioned<OrgView>> {
    actor.require_operator()?;
    let mut errs = FieldErrors::new();
    let jurisdiction = req.jurisdiction.map(|codes| {
        codes
            .iter()
            .enumerate()
            .filter_map(|(i, c)| parse_region(&mut errs, &format!("jurisdiction[{i}]"), c))
            .collect::<Vec<RegionCode>>()
    });
    errs.into_result()?;
    let o = service::verify_org(&st.db, &actor, id, jurisdiction).await?;
    let v = o.version;
    Ok(Versioned::ok(v, org_view(&st.db, o, true).await?))
}

/// Members of an organisation (its members, operators).
#[utoipa::path(get, path = "/orgs/{id}/members", tag = "accounts", security(("bearer" = [])),
    params(("id" = i64, Path), PageQuery), responses((status = 200, body = Page<UserView>), (status = 404, body = Problem)))]
async fn list_members(
    State(st): State<AccountsState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<axum::Json<Page<UserView>>> {
    let limit = page.limit();
    let rows =
        service::list_members(&st.db, &actor, id, page.cursor()?.map(|c| c.id), limit).await?;
    Ok(axum::Json(Page::from_rows(
        rows,
        limit,
        |u| Cursor::after_id(u.id),
        UserView::from,
    )))
}

/// Add a member (org admins).
#[utoipa::path(post, path = "/orgs/{id}/members", tag = "accounts", security(("bearer" = [])),
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header)), request_body = NewMemberRequest,
    responses((status = 201, body = UserView), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn add_member(
    State(st): State<AccountsState>,
    actor: Actor,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<NewMemberRequest>,
) -> ApiResult<Versioned<UserView>> {
    let new = req.parse()?;
    let u = service::add_member(&st.db, &st.cfg, &actor, id, new).await?;
    let loc = format!("/v1/orgs/{id}/members/{}", u.id);
    Ok(Versioned::created(u.version, u.into(), loc))
}

/// Change a member's role or active flag (org admins). Requires `If-Match`.
#[utoipa::path(patch, path = "/orgs/{id}/members/{user_id}", tag = "accounts", security(("bearer" = [])),
    params(("id" = i64, Path), ("user_id" = i64, Path), ("If-Match" = String, Header)), request_body = MemberUpdate,
    responses((status = 200, body = UserView), (status = 409, body = Problem), (status = 412, body = Problem)))]
async fn update_member(
    State(st): State<AccountsState>,
    actor: Actor,
    ApiPath((id, user_id)): ApiPath<(i64, i64)>,
    if_match: IfMatch,
    ApiJson(req): ApiJson<MemberUpdate>,
) -> ApiResult<Versioned<UserView>> {
    let mut errs = FieldErrors::new();
    let role = req
        .role
        .as_deref()
        .and_then(|r| errs.take("role", "invalid_choice", r.parse::<Role>()));
    if role == Some(Role::Operator) {
        errs.add(
            "role",
            "not_allowed",
            "operators are created by the admin CLI",
        );
    }
    errs.into_result()?;
    let u =
        service::change_member(&st.db, &actor, id, user_id, if_match.0, role, req.active).await?;
    Ok(Versioned::ok(u.version, u.into()))
}

/// Remove a member: deactivated and its tokens revoked (org admins).
#[utoipa::path(delete, path = "/orgs/{id}/members/{user_id}", tag = "accounts", security(("bearer" = [])),
    params(("id" = i64, Path), ("user_id" = i64, Path)), responses((status = 204), (status = 409, body = Problem)))]
async fn remove_member(
    State(st): State<AccountsState>,
    actor: Actor,
    ApiPath((id, user_id)): ApiPath<(i64, i64)>,
) -> ApiResult<StatusCode> {
    service::remove_member(&st.db, &actor, id, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Operators: only entries concerning this organisation.
    pub org_id: Option<i64>,
    /// Only this action, e.g. `org.verify`.
    pub action: Option<String>,
    #[serde(default, deserialize_with = "ttx_web::pagination::page_limit")]
    pub limit: Option<u64>,
    /// Cursor from the previous page (newest first).
    pub cursor: Option<String>,
}

/// The audit log: operators read all; everyone else their organisation's records.
#[utoipa::path(get, path = "/audit", tag = "accounts", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, body = Page<AuditView>), (status = 403, body = Problem)))]
async fn list_audit(
    State(st): State<AccountsState>,
    actor: Actor,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<axum::Json<Page<AuditView>>> {
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor.clone(),
    };
    let before = page.cursor()?.map(|c| c.id);
    let limit = page.limit();
    let rows =
        service::audit_page(&st.db, &actor, q.org_id, q.action.as_deref(), before, limit).await?;
    Ok(axum::Json(Page::from_rows(
        rows,
        limit,
        |a| Cursor::after_id(a.id),
        AuditView::from,
    )))
}
