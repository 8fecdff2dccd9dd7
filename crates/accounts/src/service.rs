//! Use cases of accounts: each one a transaction, with its audit entry inside.
use crate::audit::{self, AuditCtx, Target};
use crate::domain;
use crate::entity::{api_token, organization, station_jurisdiction, user};
use crate::secrets::{self, PasswordCost};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, SqlErr,
    TransactionTrait,
};
use serde_json::json;
use ttx_core::{CreditCode, OrgKind, RegionCode, Role};
use ttx_web::{ErrorCode, ServiceError};

/// Account settings.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(default)]
pub struct AccountsConfig {
    pub password_cost: PasswordCost,
    /// Lifetime of a new token in days.
    pub token_ttl_days: i64,
}

impl Default for AccountsConfig {
    fn default() -> Self {
        AccountsConfig {
            password_cost: PasswordCost::default(),
            token_ttl_days: 90,
        }
    }
}

/// A validated new organisation.
#[derive(Debug, Clone)]
pub struct NewOrg {
    pub kind: OrgKind,
    pub name: String,
    pub credit_code: Option<CreditCode>,
    pub region: RegionCode,
    pub description: Option<String>,
    pub website: Option<String>,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
}

/// A validated new user.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub display_name: String,
    pub password: String,
    pub role: Role,
}

pub use crate::domain::{check_password, normalize_email, MIN_PASSWORD};

async fn hash_blocking(password: String, cost: PasswordCost) -> Result<String, ServiceError> {
    tokio::task::spawn_blocking(move || secrets::hash_password(&password, cost))
        .await
        .map_err(ServiceError::internal)
}

fn unique_violation(e: &sea_orm::DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Inserts a token for a user; returns the secret (shown once) and the row.
pub async fn issue_token<C: ConnectionTrait>(
    conn: &C,
    cfg: &AccountsConfig,
    user_id: i64,
    name: &str,
) -> Result<(String, api_token::Model), ServiceError> {
    let secret = secrets::new_token();
    let now = ttx_core::clock::now();
    let row = api_token::ActiveModel {
        user_id: Set(user_id),
        name: Set(name.chars().take(100).collect()),
        token_hash: Set(secrets::token_hash(&secret)),
        prefix: Set(secret.chars().take(10).collect()),
        created_at: Set(now),
        expires_at: Set(now + chrono::Duration::days(cfg.token_ttl_days)),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok((secret, row))
}

async fn insert_org<C: ConnectionTrait>(
    conn: &C,
    o: &NewOrg,
) -> Result<organization::Model, ServiceError> {
    let now = ttx_core::clock::now();
    organization::ActiveModel {
        kind: Set(o.kind.as_str().to_string()),
        name: Set(o.name.clone()),
        credit_code: Set(o.credit_code.as_ref().map(|c| c.as_str().to_string())),
        region_code: Set(o.region.as_string()),
        description: Set(o.description.clone()),
        website: Set(o.website.clone()),
        contact_name: Set(o.contact_name.clone()),
        contact_email: Set(o.contact_email.clone()),
        contact_phone: Set(o.contact_phone.clone()),
        verified: Set(false),
        verified_at: Set(None),
        verified_by: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await
    .map_err(|e| {
        if unique_violation(&e) {
            ServiceError::new(ErrorCode::AlreadyExists)
                .detail("an organisation with this credit code is already registered")
        } else {
            ServiceError::internal(e)
        }
    })
}

async fn insert_user<C: ConnectionTrait>(
    conn: &C,
    org_id: i64,
    u: &NewUser,
    password_hash: String,
) -> Result<user::Model, ServiceError> {
    let now = ttx_core::clock::now();
    user::ActiveModel {
        org_id: Set(org_id),
        email: Set(normalize_email(&u.email)),
        display_name: Set(u.display_name.clone()),
        password_hash: Set(password_hash),
        role: Set(u.role.as_str().to_string()),
        active: Set(true),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await
    .map_err(|e| {
        if unique_violation(&e) {
            ServiceError::new(ErrorCode::AlreadyExists)
                .detail("a user with this e-mail already exists")
        } else {
            ServiceError::internal(e)
        }
    })
}

/// Signup: an organisation, its first admin, and a token.
pub async fn signup(
    db: &DatabaseConnection,
    cfg: &AccountsConfig,
    org: NewOrg,
    admin: NewUser,
    ctx: &AuditCtx,
) -> Result<(organization::Model, user::Model, String), ServiceError> {
    let hash = hash_blocking(admin.password.clone(), cfg.password_cost).await?;
    let txn = ttx_web::begin_write(db).await?;
    let o = insert_org(&txn, &org).await?;
    let u = insert_user(&txn, o.id, &admin, hash).await?;
    let (secret, _) = issue_token(&txn, cfg, u.id, "signup").await?;
    let ctx = AuditCtx {
        actor_user_id: Some(u.id),
        actor_org_id: Some(o.id),
        request_id: ctx.request_id.clone(),
    };
    audit::record(
        &txn,
        &ctx,
        "org.signup",
        Target::new("organization", o.id, Some(o.id)),
        json!({"kind": o.kind, "name": o.name, "admin_user_id": u.id}),
    )
    .await?;
    txn.commit().await?;
    Ok((o, u, secret))
}

/// Creates an organisation with a first user without signup checks (CLI, seed).
pub async fn create_org_with_user(
    db: &DatabaseConnection,
    cfg: &AccountsConfig,
    org: NewOrg,
    first: NewUser,
    verified: bool,
    ctx: &AuditCtx,
) -> Result<(organization::Model, user::Model, String), ServiceError> {
    let hash = hash_blocking(first.password.clone(), cfg.password_cost).await?;
    let txn = ttx_web::begin_write(db).await?;
    let mut o = insert_org(&txn, &org).await?;
    if verified {
        let mut am: organization::ActiveModel = o.clone().into();
        am.verified = Set(true);
        am.verified_at = Set(Some(ttx_core::clock::now()));
        o = am.update(&txn).await?;
    }
    let u = insert_user(&txn, o.id, &first, hash).await?;
    let (secret, _) = issue_token(&txn, cfg, u.id, "created").await?;
    audit::record(
        &txn,
        ctx,
        "org.create",
        Target::new("organization", o.id, Some(o.id)),
        json!({"kind": o.kind, "name": o.name, "verified": verified}),
    )
    .await?;
    txn.commit().await?;
    Ok((o, u, secret))
}

/// Creates an organisation without users and unverified, without signup checks (seed: the
/// parties that do not log in).
pub async fn create_org(
    db: &DatabaseConnection,
    org: &NewOrg,
    ctx: &AuditCtx,
) -> Result<organization::Model, ServiceError> {
    let txn = ttx_web::begin_write(db).await?;
    let o = insert_org(&txn, org).await?;
    audit::record(
        &txn,
        ctx,
        "org.create",
        Target::new("organization", o.id, Some(o.id)),
        json!({"kind": o.kind, "name": o.name, "verified": false}),
    )
    .await?;
    txn.commit().await?;
    Ok(o)
}

/// Adds a user to an existing organisation without the member checks, and issues a token named
/// `token_name` (CLI, seed: an operator, a demo reviewer).
pub async fn create_user_with_token(
    db: &DatabaseConnection,
    cfg: &AccountsConfig,
    org_id: i64,
    new: NewUser,
    token_name: &str,
    ctx: &AuditCtx,
) -> Result<(user::Model, String), ServiceError> {
    let hash = hash_blocking(new.password.clone(), cfg.password_cost).await?;
    let txn = ttx_web::begin_write(db).await?;
    let u = insert_user(&txn, org_id, &new, hash).await?;
    let (secret, _) = issue_token(&txn, cfg, u.id, token_name).await?;
    audit::record(
        &txn,
        ctx,
        "member.add",
        Target::new("user", u.id, Some(org_id)),
        json!({"role": u.role}),
    )
    .await?;
    txn.commit().await?;
    Ok((u, secret))
}

/// Password login; returns the user and a new token. Wrong e-mail and wrong password are
/// indistinguishable (same error, same work).
pub async fn login(
    db: &DatabaseConnection,
    cfg: &AccountsConfig,
    dummy_hash: &str,
    email: &str,
    password: &str,
    token_name: &str,
    request_id: &str,
) -> Result<(user::Model, String, api_token::Model), ServiceError> {
    let found = user::Entity::find()
        .filter(user::Column::Email.eq(normalize_email(email)))
        .one(db)
        .await?;
    let phc = found
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| dummy_hash.to_string());
    let pw = password.to_string();
    let ok = tokio::task::spawn_blocking(move || secrets::verify_password(&pw, &phc))
        .await
        .map_err(ServiceError::internal)?;
    let u = match found {
        Some(u) if ok && u.active => u,
        _ => return Err(ServiceError::new(ErrorCode::InvalidCredentials)),
    };
    let txn = ttx_web::begin_write(db).await?;
    let (secret, tok) = issue_token(&txn, cfg, u.id, token_name).await?;
    audit::record(
        &txn,
        &AuditCtx {
            actor_user_id: Some(u.id),
            actor_org_id: Some(u.org_id),
            request_id: request_id.into(),
        },
        "token.create",
        Target::new("token", tok.id, Some(u.org_id)),
        json!({"name": tok.name}),
    )
    .await?;
    txn.commit().await?;
    Ok((u, secret, tok))
}

/// Tokens of a user, newest first.
pub async fn list_tokens(
    db: &DatabaseConnection,
    user_id: i64,
) -> Result<Vec<api_token::Model>, ServiceError> {
    Ok(api_token::Entity::find()
        .filter(api_token::Column::UserId.eq(user_id))
        .order_by_desc(api_token::Column::Id)
        .limit(200)
        .all(db)
        .await?)
}

/// Revokes one of the caller's tokens (operators: anyone's).
pub async fn revoke_token(
    db: &DatabaseConnection,
    actor: &crate::Actor,
    token_id: i64,
) -> Result<(), ServiceError> {
    let txn = ttx_web::begin_write(db).await?;
    let tok = api_token::Entity::find_by_id(token_id)
        .one(&txn)
        .await?
        .ok_or_else(|| ServiceError::not_found("token"))?;
    if tok.user_id != actor.user_id && !actor.is_operator() {
        return Err(ServiceError::not_found("token"));
    }
    if tok.revoked_at.is_none() {
        let owner_org = user::Entity::find_by_id(tok.user_id)
            .one(&txn)
            .await?
            .map(|u| u.org_id);
        let mut am: api_token::ActiveModel = tok.into();
        am.revoked_at = Set(Some(ttx_core::clock::now()));
        am.update(&txn).await?;
        audit::record(
            &txn,
            &actor.audit(),
            "token.revoke",
            Target::new("token", token_id, owner_org),
            json!(null),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

pub async fn get_org(
    db: &DatabaseConnection,
    id: i64,
) -> Result<organization::Model, ServiceError> {
    organization::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ServiceError::not_found("organisation"))
}

pub async fn jurisdiction_of<C: ConnectionTrait>(
    conn: &C,
    org_id: i64,
) -> Result<Vec<String>, ServiceError> {
    Ok(station_jurisdiction::Entity::find()
        .filter(station_jurisdiction::Column::OrgId.eq(org_id))
        .order_by_asc(station_jurisdiction::Column::RegionCode)
        .all(conn)
        .await?
        .into_iter()
        .map(|j| j.region_code)
        .collect())
}

/// Changes to an organisation's profile; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct OrgPatch {
    pub name: Option<String>,
    pub region: Option<RegionCode>,
    pub description: Option<Option<String>>,
    pub website: Option<Option<String>>,
    pub contact_name: Option<Option<String>>,
    pub contact_email: Option<Option<String>>,
    pub contact_phone: Option<Option<String>>,
}

/// Updates a profile with optimistic concurrency (`expected_version`).
pub async fn update_org(
    db: &DatabaseConnection,
    actor: &crate::Actor,
    id: i64,
    expected_version: i64,
    patch: OrgPatch,
) -> Result<organization::Model, ServiceError> {
    if !actor.administers(id) {
        return Err(if actor.belongs_to(id) {
            ServiceError::forbidden("only the organisation's admins may change its profile")
        } else {
            ServiceError::not_found("organisation")
        });
    }
    let txn = ttx_web::begin_write(db).await?;
    let cur = organization::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| ServiceError::not_found("organisation"))?;
    ttx_web::IfMatch(expected_version).check(cur.version)?;
    let mut changed = vec![];
    let mut am: organization::ActiveModel = cur.clone().into();
    if let Some(v) = patch.name {
        am.name = Set(v);
        changed.push("name");
    }
    if let Some(v) = patch.region {
        am.region_code = Set(v.as_string());
        changed.push("region_code");
    }
    macro_rules! opt {
        ($f:ident) => {
            if let Some(v) = patch.$f {
                am.$f = Set(v);
                changed.push(stringify!($f));
            }
        };
    }
    opt!(description);
    opt!(website);
    opt!(contact_name);
    opt!(contact_email);
    opt!(contact_phone);
    am.version = Set(cur.version + 1);
    am.updated_at = Set(ttx_core::clock::now());
    // Compare-and-set on the version, so a concurrent writer cannot be overwritten.
    let res = organization::Entity::update_many()
        .set(am)
        .filter(organization::Column::Id.eq(id))
        .filter(organization::Column::Version.eq(cur.version))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(ServiceError::new(ErrorCode::PreconditionFailed));
    }
    audit::record(
        &txn,
        &actor.audit(),
        "org.update",
        Target::new("organization", id, Some(id)),
        json!({"fields": changed}),
    )
    .await?;
    let updated = organization::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| ServiceError::not_found("organisation"))?;
    txn.commit().await?;
    Ok(updated)
}

/// Operator verification; a station gets its jurisdiction at the same time.
pub async fn verify_org(
    db: &DatabaseConnection,
    actor: &crate::Actor,
    id: i64,
    jurisdiction: Option<Vec<RegionCode>>,
) -> Result<organization::Model, ServiceError> {
    actor.require_operator()?;
    let txn = ttx_web::begin_write(db).await?;
    let cur = organization::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| ServiceError::not_found("organisation"))?;
    let kind: OrgKind = cur.kind.parse().map_err(ServiceError::internal)?;
    domain::check_jurisdiction_given(kind, jurisdiction.is_some())?;
    if let Some(regions) = &jurisdiction {
        station_jurisdiction::Entity::delete_many()
            .filter(station_jurisdiction::Column::OrgId.eq(id))
            .exec(&txn)
            .await?;
        for r in regions {
            station_jurisdiction::ActiveModel {
                org_id: Set(id),
                region_code: Set(r.as_string()),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
    }
    if kind == OrgKind::Station {
        let n = station_jurisdiction::Entity::find()
            .filter(station_jurisdiction::Column::OrgId.eq(id))
            .count(&txn)
            .await?;
        domain::check_station_has_jurisdiction(kind, n)?;
    }
    let now = ttx_core::clock::now();
    organization::Entity::update_many()
        .col_expr(organization::Column::Verified, Expr::value(true))
        .col_expr(organization::Column::VerifiedAt, Expr::value(now))
        .col_expr(organization::Column::VerifiedBy, Expr::value(actor.user_id))
        .col_expr(
            organization::Column::Version,
            Expr::col(organization::Column::Version).add(1),
        )
        .col_expr(organization::Column::UpdatedAt, Expr::value(now))
        .filter(organization::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        &actor.audit(),
        "org.verify",
        Target::new("organization", id, Some(id)),
        json!({"jurisdiction": jurisdiction.map(|j| j.iter().map(|r| r.as_string()).collect::<Vec<_>>())}),
    )
    .await?;
    let o = organization::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| ServiceError::not_found("organisation"))?;
    txn.commit().await?;
    Ok(o)
}

/// Adds a member (org admins, operators).
pub async fn add_member(
    db: &DatabaseConnection,
    cfg: &AccountsConfig,
    actor: &crate::Actor,
    org_id: i64,
    new: NewUser,
) -> Result<user::Model, ServiceError> {
    if !actor.administers(org_id) {
        return Err(member_denied(actor, org_id));
    }
    let org = get_org(db, org_id).await?;
    let kind: OrgKind = org.kind.parse().map_err(ServiceError::internal)?;
    if !new.role.allowed_in(kind) {
        return Err(ServiceError::field(
            "role",
            "role_not_allowed",
            format!(
                "role {} is not allowed in an organisation of kind {}",
                new.role, kind
            ),
        ));
    }
    let hash = hash_blocking(new.password.clone(), cfg.password_cost).await?;
    let txn = ttx_web::begin_write(db).await?;
    let u = insert_user(&txn, org_id, &new, hash).await?;
    audit::record(
        &txn,
        &actor.audit(),
        "member.add",
        Target::new("user", u.id, Some(org_id)),
        json!({"role": u.role}),
    )
    .await?;
    txn.commit().await?;
    Ok(u)
}

fn member_denied(actor: &crate::Actor, org_id: i64) -> ServiceError {
    if actor.belongs_to(org_id) {
        ServiceError::forbidden("only the organisation's admins may manage members")
    } else {
        ServiceError::not_found("organisation")
    }
}

/// Members of an organisation (its members, operators).
pub async fn list_members(
    db: &DatabaseConnection,
    actor: &crate::Actor,
    org_id: i64,
    after_id: Option<i64>,
    limit: u64,
) -> Result<Vec<user::Model>, ServiceError> {
    if !actor.belongs_to(org_id) && !actor.is_operator() {
        return Err(ServiceError::not_found("organisation"));
    }
    let mut q = user::Entity::find().filter(user::Column::OrgId.eq(org_id));
    if let Some(a) = after_id {
        q = q.filter(user::Column::Id.gt(a));
    }
    Ok(q.order_by_asc(user::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?)
}

/// Starts a transaction that changes an organisation's members and locks the organisation's row
/// first, so membership changes of one organisation run one at a time and the last-admin rule
/// counts what the others committed: `BEGIN IMMEDIATE` on SQLite (the write lock is taken at
/// `BEGIN`, waiting on the busy timeout, instead of "database is locked" when a reading
/// transaction upgrades), `SELECT … FOR UPDATE` of the organisation on PostgreSQL (each later
/// statement of the transaction sees what the previous holder committed).
async fn lock_members(
    db: &DatabaseConnection,
    org_id: i64,
) -> Result<sea_orm::DatabaseTransaction, ServiceError> {
    let txn = db
        .begin_with_options(sea_orm::TransactionOptions {
            sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await?;
    organization::Entity::find_by_id(org_id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or_else(|| ServiceError::not_found("organisation"))?;
    Ok(txn)
}

async fn active_admins<C: ConnectionTrait>(conn: &C, org_id: i64) -> Result<u64, ServiceError> {
    Ok(user::Entity::find()
        .filter(user::Column::OrgId.eq(org_id))
        .filter(user::Column::Role.eq(Role::OrgAdmin.as_str()))
        .filter(user::Column::Active.eq(true))
        .count(conn)
        .await?)
}

/// Changes a member's role or active flag, with optimistic concurrency. The last active admin
/// cannot be demoted or deactivated.
pub async fn change_member(
    db: &DatabaseConnection,
    actor: &crate::Actor,
    org_id: i64,
    user_id: i64,
    expected_version: i64,
    role: Option<Role>,
    active: Option<bool>,
) -> Result<user::Model, ServiceError> {
    if !actor.administers(org_id) {
        return Err(member_denied(actor, org_id));
    }
    let org = get_org(db, org_id).await?;
    let kind: OrgKind = org.kind.parse().map_err(ServiceError::internal)?;
    let txn = lock_members(db, org_id).await?;
    let cur = user::Entity::find_by_id(user_id)
        .one(&txn)
        .await?
        .filter(|u| u.org_id == org_id)
        .ok_or_else(|| ServiceError::not_found("member"))?;
    ttx_web::IfMatch(expected_version).check(cur.version)?;
    if let Some(r) = role {
        domain::check_role(kind, r)?;
    }
    let current = membership(&cur)?;
    if current.is_active_admin() {
        let admins = active_admins(&txn, org_id).await?;
        domain::check_member_change(current, role, active, admins)
            .map_err(|e| ServiceError::invalid_state(e.to_string()))?;
    }
    let mut am: user::ActiveModel = cur.clone().into();
    if let Some(r) = role {
        am.role = Set(r.as_str().to_string());
    }
    if let Some(a) = active {
        am.active = Set(a);
    }
    am.version = Set(cur.version + 1);
    am.updated_at = Set(ttx_core::clock::now());
    let res = user::Entity::update_many()
        .set(am)
        .filter(user::Column::Id.eq(user_id))
        .filter(user::Column::Version.eq(cur.version))
        .exec(&txn)
        .await?;
    if res.rows_affected != 1 {
        return Err(ServiceError::new(ErrorCode::PreconditionFailed));
    }
    if active == Some(false) {
        revoke_all(&txn, user_id).await?;
    }
    audit::record(
        &txn,
        &actor.audit(),
        "member.change",
        Target::new("user", user_id, Some(org_id)),
        json!({"role": role.map(|r| r.as_str()), "active": active}),
    )
    .await?;
    let u = user::Entity::find_by_id(user_id)
        .one(&txn)
        .await?
        .ok_or_else(|| ServiceError::not_found("member"))?;
    txn.commit().await?;
    Ok(u)
}

/// The last-admin rule's view of a stored user.
fn membership(u: &user::Model) -> Result<domain::Membership, ServiceError> {
    Ok(domain::Membership {
        role: u.role.parse().map_err(ServiceError::internal)?,
        active: u.active,
    })
}

async fn revoke_all<C: ConnectionTrait>(conn: &C, user_id: i64) -> Result<(), ServiceError> {
    api_token::Entity::update_many()
        .col_expr(
            api_token::Column::RevokedAt,
            Expr::value(ttx_core::clock::now()),
        )
        .filter(api_token::Column::UserId.eq(user_id))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// Removes a member: deactivates the user (kept for the audit trail) and revokes its tokens.
pub async fn remove_member(
    db: &DatabaseConnection,
    actor: &crate::Actor,
    org_id: i64,
    user_id: i64,
) -> Result<(), ServiceError> {
    if !actor.administers(org_id) {
        return Err(member_denied(actor, org_id));
    }
    let txn = lock_members(db, org_id).await?;
    let cur = user::Entity::find_by_id(user_id)
        .one(&txn)
        .await?
        .filter(|u| u.org_id == org_id)
        .ok_or_else(|| ServiceError::not_found("member"))?;
    let current = membership(&cur)?;
    if current.is_active_admin() {
        let admins = active_admins(&txn, org_id).await?;
        domain::check_member_removal(current, admins)
            .map_err(|e| ServiceError::invalid_state(e.to_string()))?;
    }
    let mut am: user::ActiveModel = cur.clone().into();
    am.active = Set(false);
    am.version = Set(cur.version + 1);
    am.updated_at = Set(ttx_core::clock::now());
    am.update(&txn).await?;
    revoke_all(&txn, user_id).await?;
    audit::record(
        &txn,
        &actor.audit(),
        "member.remove",
        Target::new("user", user_id, Some(org_id)),
        json!(null),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// A user by id.
pub async fn get_user(db: &DatabaseConnection, id: i64) -> Result<user::Model, ServiceError> {
    user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ServiceError::not_found("user"))
}

/// A filter of the public directory of organisations.
#[derive(Clone, Debug, Default)]
pub struct OrgFilter {
    pub kind: Option<OrgKind>,
    /// A region code prefix (2, 4 or 6 digits).
    pub region_prefix: Option<String>,
    pub verified: Option<bool>,
}

/// Up to `limit + 1` organisations after id `after`, by id, with each station's jurisdiction.
pub async fn list_orgs(
    db: &DatabaseConnection,
    f: &OrgFilter,
    after: Option<i64>,
    limit: u64,
) -> Result<
    (
        Vec<organization::Model>,
        std::collections::HashMap<i64, Vec<String>>,
    ),
    ServiceError,
> {
    let mut cond = Condition::all();
    if let Some(k) = f.kind {
        cond = cond.add(organization::Column::Kind.eq(k.as_str()));
    }
    if let Some(p) = &f.region_prefix {
        cond = cond.add(organization::Column::RegionCode.starts_with(p));
    }
    if let Some(v) = f.verified {
        cond = cond.add(organization::Column::Verified.eq(v));
    }
    if let Some(id) = after {
        cond = cond.add(organization::Column::Id.gt(id));
    }
    let rows = organization::Entity::find()
        .filter(cond)
        .order_by_asc(organization::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    let station_ids: Vec<i64> = rows
        .iter()
        .filter(|o| o.kind == OrgKind::Station.as_str())
        .map(|o| o.id)
        .collect();
    let mut jur: std::collections::HashMap<i64, Vec<String>> = Default::default();
    if !station_ids.is_empty() {
        for j in station_jurisdiction::Entity::find()
            .filter(station_jurisdiction::Column::OrgId.is_in(station_ids))
            .all(db)
            .await?
        {
            jur.entry(j.org_id).or_default().push(j.region_code);
        }
    }
    Ok((rows, jur))
}

/// Up to `limit + 1` audit entries before id `before`, newest first: an operator's of any
/// organisation (or of `org_id`), an org admin's of its own organisation only.
pub async fn audit_page(
    db: &DatabaseConnection,
    actor: &crate::Actor,
    org_id: Option<i64>,
    action: Option<&str>,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<crate::entity::audit_log::Model>, ServiceError> {
    use crate::entity::audit_log;
    if !actor.is_operator() && actor.role != Role::OrgAdmin {
        return Err(ServiceError::forbidden(
            "only org admins and operators read the audit log",
        ));
    }
    let org_scope = if actor.is_operator() {
        org_id
    } else {
        Some(actor.org_id)
    };
    let mut cond = Condition::all();
    if let Some(o) = org_scope {
        cond = cond.add(
            Condition::any()
                .add(audit_log::Column::ActorOrgId.eq(o))
                .add(audit_log::Column::TargetOrgId.eq(o)),
        );
    }
    if let Some(a) = action {
        cond = cond.add(audit_log::Column::Action.eq(a));
    }
    if let Some(id) = before {
        cond = cond.add(audit_log::Column::Id.lt(id));
    }
    Ok(audit_log::Entity::find()
        .filter(cond)
        .order_by_desc(audit_log::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?)
}
