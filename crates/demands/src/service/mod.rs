//! Use cases: each one transaction with its audit entry, its search outbox row and its
//! notification events, so a change, its index update and its notifications commit together.
pub mod demands;
pub mod expiry;
pub mod proposals;

use crate::domain::{self, Viewer};
use crate::entity::{demand, proposal};
use crate::store::{self, Challenge, Demand, OrgInfo};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
use ttx_accounts::Actor;
use ttx_core::{OrgKind, Role};
use ttx_web::{ErrorCode, ServiceError};

/// What the rules need to know about a caller.
pub fn viewer_of(actor: Option<&Actor>) -> Viewer {
    match actor {
        None => Viewer::ANONYMOUS,
        Some(a) => Viewer {
            user_id: Some(a.user_id),
            org_id: Some(a.org_id),
            org_admin: a.role == Role::OrgAdmin,
            operator: a.is_operator(),
            identity_cleared: a.org_kind == OrgKind::Agency && a.org_verified,
        },
    }
}

/// A need with its challenge terms and owner.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub demand: Demand,
    pub challenge: Option<Challenge>,
    pub org: Option<OrgInfo>,
}

/// Whether the viewer's organisation answered the challenge `id`.
pub async fn has_proposal<C: ConnectionTrait>(
    conn: &C,
    viewer: &Viewer,
    id: i64,
) -> Result<bool, ServiceError> {
    let Some(org) = viewer.org_id else {
        return Ok(false);
    };
    Ok(proposal::Entity::find()
        .filter(proposal::Column::ChallengeId.eq(id))
        .filter(proposal::Column::SolverOrgId.eq(org))
        .count(conn)
        .await?
        > 0)
}

/// Loads a need the viewer may read; 404 otherwise (it is not revealed that it exists).
pub async fn load_visible<C: ConnectionTrait>(
    conn: &C,
    viewer: &Viewer,
    id: i64,
) -> Result<Loaded, ServiceError> {
    let not_found = || ServiceError::not_found("need");
    // One query for the row and its owner (a read by id is the hottest path of the API).
    let (d, org) = store::find_with_org(conn, id)
        .await?
        .ok_or_else(not_found)?;
    let status = domain::effective_status(d.status, d.data.deadline, ttx_core::clock::today());
    let mut readable = domain::can_read(status, d.owner_org_id, viewer, false);
    if !readable && d.is_challenge {
        readable = domain::can_read(
            status,
            d.owner_org_id,
            viewer,
            has_proposal(conn, viewer, id).await?,
        );
    }
    if !readable {
        return Err(not_found());
    }
    let challenge = if d.is_challenge {
        store::find_challenge(conn, id).await?
    } else {
        None
    };
    Ok(Loaded {
        demand: d,
        challenge,
        org,
    })
}

/// Compare-and-set of a need row on its version: 412 when someone changed it meanwhile
/// (`precondition` for If-Match updates), 409 for actions.
pub async fn save<C: ConnectionTrait>(
    conn: &C,
    cur_version: i64,
    id: i64,
    mut am: demand::ActiveModel,
    precondition: bool,
) -> Result<(), ServiceError> {
    use sea_orm::ActiveValue::Set;
    am.version = Set(cur_version + 1);
    am.updated_at = Set(ttx_core::clock::now());
    let res = demand::Entity::update_many()
        .set(am)
        .filter(demand::Column::Id.eq(id))
        .filter(demand::Column::Version.eq(cur_version))
        .exec(conn)
        .await?;
    if res.rows_affected == 1 {
        Ok(())
    } else if precondition {
        Err(ServiceError::new(ErrorCode::PreconditionFailed))
    } else {
        Err(ServiceError::new(ErrorCode::Conflict).detail("the need was changed meanwhile; retry"))
    }
}

/// Re-reads a need inside the transaction after a change.
pub async fn reload<C: ConnectionTrait>(conn: &C, id: i64) -> Result<Demand, ServiceError> {
    store::find(conn, id)
        .await?
        .ok_or_else(|| ServiceError::not_found("need"))
}
