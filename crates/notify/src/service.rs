//! Use cases of notifications: webhooks of an organisation and the inbox of a user. Each
//! change is one transaction with its audit entry.
use crate::config::NotifyConfig;
use crate::entity::{attempt, delivery, event, notification, webhook};
use crate::error::NotifyError;
use crate::signature::new_secret;
use crate::worker::{CANCELLED, PENDING};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;
use std::collections::HashMap;
use ttx_accounts::audit::{self, Target};
use ttx_accounts::Actor;
use ttx_web::ServiceError;

/// A validated new webhook.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub url: String,
    /// Event kinds; empty: all.
    pub events: Vec<String>,
    pub description: Option<String>,
}

/// Webhooks belong to an organisation and are managed by its admins. Another organisation's
/// webhook is 404; a member who is not an admin gets 403.
fn require_admin(actor: &Actor) -> Result<(), ServiceError> {
    if actor.administers(actor.org_id) {
        Ok(())
    } else {
        Err(ServiceError::forbidden(
            "only the organisation's admins manage webhooks",
        ))
    }
}

async fn own_active_hook(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
) -> Result<webhook::Model, ServiceError> {
    let hook = webhook::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|h| h.org_id == actor.org_id && h.active)
        .ok_or_else(|| ServiceError::not_found("webhook"))?;
    require_admin(actor)?;
    Ok(hook)
}

/// Registers a webhook; returns it with its secret (shown once).
pub async fn create_webhook(
    db: &DatabaseConnection,
    cfg: &NotifyConfig,
    actor: &Actor,
    new: NewWebhook,
) -> Result<(webhook::Model, String), ServiceError> {
    require_admin(actor)?;
    let txn = crate::begin_write(db).await?;
    let n = webhook::Entity::find()
        .filter(webhook::Column::OrgId.eq(actor.org_id))
        .filter(webhook::Column::Active.eq(true))
        .count(&txn)
        .await?;
    if n >= cfg.max_webhooks_per_org {
        return Err(
            ServiceError::new(NotifyError::WebhookLimitReached).detail(format!(
                "at most {} active webhooks per organisation",
                cfg.max_webhooks_per_org
            )),
        );
    }
    let secret = new_secret();
    let hook = webhook::ActiveModel {
        org_id: Set(actor.org_id),
        url: Set(new.url),
        secret: Set(secret.clone()),
        events: Set(serde_json::to_string(&new.events).expect("strings serialise")),
        description: Set(new.description),
        active: Set(true),
        created_by: Set(actor.user_id),
        created_at: Set(ttx_core::clock::now()),
        deleted_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        &actor.audit(),
        "webhook.create",
        Target::new("webhook", hook.id, Some(actor.org_id)),
        json!({"url": hook.url, "events": new.events}),
    )
    .await?;
    txn.commit().await?;
    Ok((hook, secret))
}

/// Active webhooks of the caller's organisation.
pub async fn list_webhooks(
    db: &DatabaseConnection,
    actor: &Actor,
) -> Result<Vec<webhook::Model>, ServiceError> {
    require_admin(actor)?;
    Ok(webhook::Entity::find()
        .filter(webhook::Column::OrgId.eq(actor.org_id))
        .filter(webhook::Column::Active.eq(true))
        .order_by_asc(webhook::Column::Id)
        .all(db)
        .await?)
}

/// Deactivates a webhook and cancels its pending deliveries (the delivery log is kept).
pub async fn delete_webhook(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
) -> Result<(), ServiceError> {
    let hook = own_active_hook(db, actor, id).await?;
    let txn = crate::begin_write(db).await?;
    let mut am: webhook::ActiveModel = hook.into();
    am.active = Set(false);
    am.deleted_at = Set(Some(ttx_core::clock::now()));
    am.update(&txn).await?;
    delivery::Entity::update_many()
        .col_expr(delivery::Column::Status, Expr::value(CANCELLED))
        .filter(delivery::Column::WebhookId.eq(id))
        .filter(delivery::Column::Status.eq(PENDING))
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        &actor.audit(),
        "webhook.delete",
        Target::new("webhook", id, Some(actor.org_id)),
        json!(null),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Queues a `webhook.ping` for one webhook; returns the event and its delivery.
pub async fn ping_webhook(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
) -> Result<(event::Model, delivery::Model), ServiceError> {
    let hook = own_active_hook(db, actor, id).await?;
    let txn = crate::begin_write(db).await?;
    let (ev, d) = crate::events::emit_ping(&txn, &hook, actor.user_id).await?;
    txn.commit().await?;
    crate::events::wake();
    Ok((ev, d))
}

/// A delivery with its event and its attempts.
pub struct DeliveryRecord {
    pub delivery: delivery::Model,
    pub event: Option<event::Model>,
    pub attempts: Vec<attempt::Model>,
}

/// The delivery log of a webhook, newest first; `before` is the last id of the previous page.
pub async fn deliveries(
    db: &DatabaseConnection,
    actor: &Actor,
    webhook_id: i64,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<DeliveryRecord>, ServiceError> {
    let hook = webhook::Entity::find_by_id(webhook_id)
        .one(db)
        .await?
        .filter(|h| h.org_id == actor.org_id)
        .ok_or_else(|| ServiceError::not_found("webhook"))?;
    require_admin(actor)?;
    let mut q = delivery::Entity::find().filter(delivery::Column::WebhookId.eq(hook.id));
    if let Some(b) = before {
        q = q.filter(delivery::Column::Id.lt(b));
    }
    let rows = q
        .order_by_desc(delivery::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|d| d.id).collect();
    let ev_ids: Vec<i64> = rows.iter().map(|d| d.event_row_id).collect();
    let mut events: HashMap<i64, event::Model> = event::Entity::find()
        .filter(event::Column::Id.is_in(ev_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    let mut attempts: HashMap<i64, Vec<attempt::Model>> = HashMap::new();
    for a in attempt::Entity::find()
        .filter(attempt::Column::DeliveryId.is_in(ids))
        .order_by_asc(attempt::Column::Id)
        .all(db)
        .await?
    {
        attempts.entry(a.delivery_id).or_default().push(a);
    }
    Ok(rows
        .into_iter()
        .map(|d| DeliveryRecord {
            event: events.remove(&d.event_row_id),
            attempts: attempts.remove(&d.id).unwrap_or_default(),
            delivery: d,
        })
        .collect())
}

/// An inbox entry with its event.
pub struct InboxEntry {
    pub notification: notification::Model,
    pub event: Option<event::Model>,
}

/// The caller's inbox, newest first.
pub async fn inbox(
    db: &DatabaseConnection,
    actor: &Actor,
    unread_only: bool,
    before: Option<i64>,
    limit: u64,
) -> Result<(Vec<InboxEntry>, u64), ServiceError> {
    let mut q = notification::Entity::find().filter(notification::Column::UserId.eq(actor.user_id));
    if unread_only {
        q = q.filter(notification::Column::ReadAt.is_null());
    }
    if let Some(b) = before {
        q = q.filter(notification::Column::Id.lt(b));
    }
    let rows = q
        .order_by_desc(notification::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    let unread = notification::Entity::find()
        .filter(notification::Column::UserId.eq(actor.user_id))
        .filter(notification::Column::ReadAt.is_null())
        .count(db)
        .await?;
    let ev_ids: Vec<i64> = rows.iter().map(|n| n.event_row_id).collect();
    let events: HashMap<i64, event::Model> = event::Entity::find()
        .filter(event::Column::Id.is_in(ev_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    Ok((
        rows.into_iter()
            .map(|n| InboxEntry {
                event: events.get(&n.event_row_id).cloned(),
                notification: n,
            })
            .collect(),
        unread,
    ))
}

/// Marks one of the caller's notifications read (again: no change).
pub async fn mark_read(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
) -> Result<notification::Model, ServiceError> {
    let n = notification::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|n| n.user_id == actor.user_id)
        .ok_or_else(|| ServiceError::not_found("notification"))?;
    if n.read_at.is_some() {
        return Ok(n);
    }
    let mut am: notification::ActiveModel = n.into();
    am.read_at = Set(Some(ttx_core::clock::now()));
    Ok(am.update(db).await?)
}

/// Marks all of the caller's notifications read; returns how many changed.
pub async fn mark_all_read(db: &DatabaseConnection, actor: &Actor) -> Result<u64, ServiceError> {
    let res = notification::Entity::update_many()
        .col_expr(
            notification::Column::ReadAt,
            Expr::value(ttx_core::clock::now()),
        )
        .filter(notification::Column::UserId.eq(actor.user_id))
        .filter(notification::Column::ReadAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}
