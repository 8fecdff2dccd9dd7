//! The authenticated caller, from `Authorization: Bearer <token>`.
use crate::audit::AuditCtx;
use crate::entity::{api_token, organization, user};
use crate::secrets::token_hash;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::{header, request::Parts};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use ttx_core::{OrgKind, Role};
use ttx_web::{ApiError, ErrorCode, ServiceError};

/// The caller of a request: user, organisation, role.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: i64,
    pub org_id: i64,
    pub org_kind: OrgKind,
    pub org_verified: bool,
    /// The organisation's 6-digit region code.
    pub org_region: String,
    pub role: Role,
    pub token_id: i64,
    pub request_id: String,
}

impl Actor {
    pub fn is_operator(&self) -> bool {
        self.role == Role::Operator && self.org_kind == OrgKind::Operator
    }

    /// 403 unless the caller holds one of `roles` (operators pass).
    pub fn require_role(&self, roles: &[Role]) -> Result<(), ServiceError> {
        if self.is_operator() || roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ServiceError::forbidden(format!(
                "this needs the role {}",
                roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(" or ")
            )))
        }
    }

    /// 403 unless the caller is an operator.
    pub fn require_operator(&self) -> Result<(), ServiceError> {
        if self.is_operator() {
            Ok(())
        } else {
            Err(ServiceError::forbidden("operators only"))
        }
    }

    /// 403 `org_not_verified` for an unverified station, bureau or agency.
    pub fn require_verified(&self) -> Result<(), ServiceError> {
        if self.org_kind.requires_verification() && !self.org_verified {
            Err(ServiceError::new(ErrorCode::OrgNotVerified))
        } else {
            Ok(())
        }
    }

    /// 403 unless the caller's organisation is of one of `kinds`.
    pub fn require_org_kind(&self, kinds: &[OrgKind]) -> Result<(), ServiceError> {
        if kinds.contains(&self.org_kind) {
            Ok(())
        } else {
            Err(ServiceError::forbidden(format!(
                "only organisations of kind {} may do this",
                kinds
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(" or ")
            )))
        }
    }

    /// Member of the organisation (any role).
    pub fn belongs_to(&self, org_id: i64) -> bool {
        self.org_id == org_id
    }

    /// Admin of the organisation, or an operator.
    pub fn administers(&self, org_id: i64) -> bool {
        self.is_operator() || (self.org_id == org_id && self.role == Role::OrgAdmin)
    }

    /// A broker of a verified agency (may see anonymous firms' names).
    pub fn is_verified_broker(&self) -> bool {
        self.org_kind == OrgKind::Agency && self.org_verified && self.role == Role::Broker
    }

    pub fn audit(&self) -> AuditCtx {
        AuditCtx {
            actor_user_id: Some(self.user_id),
            actor_org_id: Some(self.org_id),
            request_id: self.request_id.clone(),
        }
    }
}

fn bearer(parts: &Parts) -> Result<Option<&str>, ApiError> {
    let Some(v) = parts.headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let v = v
        .to_str()
        .map_err(|_| ApiError::new(ErrorCode::InvalidToken))?;
    let token = v
        .strip_prefix("Bearer ")
        .or_else(|| v.strip_prefix("bearer "))
        .ok_or_else(|| {
            ApiError::new(ErrorCode::InvalidToken).detail("use Authorization: Bearer <token>")
        })?;
    Ok(Some(token.trim()))
}

/// Resolves a token to its actor.
pub async fn resolve(
    db: &DatabaseConnection,
    token: &str,
    request_id: String,
) -> Result<Actor, ApiError> {
    let invalid = || ApiError::new(ErrorCode::InvalidToken);
    if token.is_empty() || token.len() > 200 {
        return Err(invalid());
    }
    let now = ttx_core::clock::now();
    let tok = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(token_hash(token)))
        .one(db)
        .await?
        .ok_or_else(invalid)?;
    if tok.revoked_at.is_some() || tok.expires_at <= now {
        return Err(invalid());
    }
    touch(db, &tok, now).await;
    let u = user::Entity::find_by_id(tok.user_id)
        .one(db)
        .await?
        .filter(|u| u.active)
        .ok_or_else(invalid)?;
    let org = organization::Entity::find_by_id(u.org_id)
        .one(db)
        .await?
        .ok_or_else(invalid)?;
    let org_kind: OrgKind = org.kind.parse().map_err(ApiError::internal)?;
    let role: Role = u.role.parse().map_err(ApiError::internal)?;
    Ok(Actor {
        user_id: u.id,
        org_id: org.id,
        org_kind,
        org_verified: org.verified,
        org_region: org.region_code,
        role,
        token_id: tok.id,
        request_id,
    })
}

/// `api_tokens.last_used_at` moves at most once per this interval: a token in steady use costs
/// one small write a minute, not one per request.
pub const LAST_USED_RESOLUTION: chrono::Duration = chrono::Duration::seconds(60);

/// Records that `tok` was used at `now`, unless that was recorded less than
/// [`LAST_USED_RESOLUTION`] ago. The conditional `UPDATE` makes concurrent requests write once;
/// a failure is logged and never fails the request.
async fn touch(
    db: &DatabaseConnection,
    tok: &api_token::Model,
    now: chrono::DateTime<chrono::Utc>,
) {
    let stale = now - LAST_USED_RESOLUTION;
    if tok.last_used_at.is_some_and(|t| t > stale) {
        return;
    }
    let res = api_token::Entity::update_many()
        .col_expr(
            api_token::Column::LastUsedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(api_token::Column::Id.eq(tok.id))
        .filter(
            sea_orm::Condition::any()
                .add(api_token::Column::LastUsedAt.is_null())
                .add(api_token::Column::LastUsedAt.lte(stale)),
        )
        .exec(db)
        .await;
    if let Err(e) = res {
        tracing::warn!(error = %e, token_id = tok.id, "recording a token's last use failed");
    }
}

fn request_id(parts: &Parts) -> String {
    parts
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_string()
}

impl<S> FromRequestParts<S> for Actor
where
    DatabaseConnection: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(a) = parts.extensions.get::<Actor>() {
            return Ok(a.clone());
        }
        let token = bearer(parts)?.ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated))?;
        let db = DatabaseConnection::from_ref(state);
        let actor = resolve(&db, token, request_id(parts)).await?;
        parts.extensions.insert(actor.clone());
        Ok(actor)
    }
}

/// An optional caller: no header means anonymous; a bad token is still 401.
#[derive(Debug, Clone)]
pub struct MaybeActor(pub Option<Actor>);

impl<S> FromRequestParts<S> for MaybeActor
where
    DatabaseConnection: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if bearer(parts)?.is_none() {
            return Ok(MaybeActor(None));
        }
        Actor::from_request_parts(parts, state)
            .await
            .map(|a| MaybeActor(Some(a)))
    }
}
