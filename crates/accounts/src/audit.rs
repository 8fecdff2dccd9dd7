//! The audit log: actor, organisation, action, target, time and request id of every state
//! change, written in the same transaction as the change.
use crate::entity::audit_log;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};

/// Who is acting, for the audit log.
#[derive(Debug, Clone)]
pub struct AuditCtx {
    pub actor_user_id: Option<i64>,
    pub actor_org_id: Option<i64>,
    pub request_id: String,
}

impl AuditCtx {
    /// Work done by the system or the CLI.
    pub fn system(what: &str) -> Self {
        AuditCtx {
            actor_user_id: None,
            actor_org_id: None,
            request_id: format!("cli:{what}"),
        }
    }
}

/// A target of an audited action.
pub struct Target<'a> {
    pub kind: &'a str,
    pub id: String,
    /// The organisation whose record this is (it may read the entry).
    pub org_id: Option<i64>,
}

impl<'a> Target<'a> {
    pub fn new(kind: &'a str, id: impl ToString, org_id: Option<i64>) -> Self {
        Target {
            kind,
            id: id.to_string(),
            org_id,
        }
    }
}

/// Appends one entry.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    ctx: &AuditCtx,
    action: &str,
    target: Target<'_>,
    detail: serde_json::Value,
) -> Result<(), DbErr> {
    let row = audit_log::ActiveModel {
        at: Set(ttx_core::clock::now()),
        actor_user_id: Set(ctx.actor_user_id),
        actor_org_id: Set(ctx.actor_org_id),
        action: Set(action.to_string()),
        target_type: Set(target.kind.to_string()),
        target_id: Set(target.id),
        target_org_id: Set(target.org_id),
        request_id: Set(ctx.request_id.chars().take(64).collect()),
        detail: Set(if detail.is_null() {
            None
        } else {
            Some(detail.to_string())
        }),
        ..Default::default()
    };
    audit_log::Entity::insert(row).exec(conn).await?;
    Ok(())
}
