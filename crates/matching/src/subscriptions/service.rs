//! Use cases of subscriptions: create, list, read, delete (the owner organisation's members
//! only; to anyone else a subscription does not exist).
use super::command::{NewSubscription, Target};
use super::domain::{self, Kind};
use super::dto::{PushCounts, PushView, SubscriptionView};
use crate::entity::{subscription, subscription_push};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;
use std::collections::HashMap;
use ttx_accounts::audit::{self, Target as AuditTarget};
use ttx_accounts::Actor;
use ttx_core::{OrgKind, Role};
use ttx_demands::domain::DemandStatus;
use ttx_web::{Cursor, ServiceError, ServiceResult};

fn not_found() -> ServiceError {
    ServiceError::not_found("subscription")
}

/// Firms (enterprises) and brokers (verified agencies) subscribe.
fn may_subscribe(actor: &Actor) -> ServiceResult<()> {
    actor.require_org_kind(&[OrgKind::Enterprise, OrgKind::Agency])?;
    actor.require_verified()?;
    actor.require_role(&[Role::OrgAdmin, Role::Member, Role::Broker])
}

/// Creates a subscription for the caller's organisation.
pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    n: NewSubscription,
) -> ServiceResult<SubscriptionView> {
    may_subscribe(actor)?;
    let (kind, query, demand_id, default_name) = match &n.target {
        Target::Search(q) => (Kind::Search, Some(q.clone()), None, q.clone()),
        Target::Demand(id) => {
            let d = ttx_demands::store::find(db, *id)
                .await?
                .filter(|d| d.owner_org_id == actor.org_id)
                .ok_or_else(|| {
                    ServiceError::field(
                        "demand_id",
                        "not_found",
                        "your organisation has no need with this id",
                    )
                })?;
            let status = ttx_demands::domain::effective_status(
                d.status,
                d.data.deadline,
                ttx_core::clock::today(),
            );
            if !matches!(status, DemandStatus::Draft | DemandStatus::Open) {
                return Err(ServiceError::field(
                    "demand_id",
                    "not_open",
                    format!(
                        "the need is {}; only drafts and open needs can be followed",
                        status.as_str()
                    ),
                ));
            }
            (Kind::Demand, None, Some(d.id), d.data.title.clone())
        }
    };
    let name: String = n
        .name
        .clone()
        .unwrap_or(default_name)
        .chars()
        .take(200)
        .collect();
    let txn = ttx_notify::begin_write(db).await?;
    let m = subscription::ActiveModel {
        org_id: Set(actor.org_id),
        created_by: Set(actor.user_id),
        kind: Set(kind.as_str().to_string()),
        name: Set(name),
        query: Set(query),
        demand_id: Set(demand_id),
        filters: Set(serde_json::to_string(&n.filters).expect("filters serialise")),
        delivery: Set(n.delivery.as_str().to_string()),
        created_at: Set(ttx_core::clock::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        &actor.audit(),
        "subscription.create",
        AuditTarget::new("subscription", m.id, Some(actor.org_id)),
        json!({"kind": m.kind, "name": m.name, "demand_id": m.demand_id, "delivery": m.delivery}),
    )
    .await?;
    txn.commit().await?;
    Ok(SubscriptionView::build(m, PushCounts::default()))
}

/// Push counts of subscriptions, by id.
async fn counts<C: ConnectionTrait>(
    conn: &C,
    ids: &[i64],
) -> ServiceResult<HashMap<i64, PushCounts>> {
    let mut out: HashMap<i64, PushCounts> =
        ids.iter().map(|i| (*i, PushCounts::default())).collect();
    if ids.is_empty() {
        return Ok(out);
    }
    let today = ttx_core::clock::today();
    let rows: Vec<(i64, String, i64)> = subscription_push::Entity::find()
        .select_only()
        .column(subscription_push::Column::SubscriptionId)
        .column(subscription_push::Column::Status)
        .column_as(subscription_push::Column::Id.count(), "n")
        .filter(subscription_push::Column::SubscriptionId.is_in(ids.iter().copied()))
        .group_by(subscription_push::Column::SubscriptionId)
        .group_by(subscription_push::Column::Status)
        .into_tuple()
        .all(conn)
        .await?;
    for (id, status, n) in rows {
        let c = out.entry(id).or_default();
        let n = n.max(0) as u64;
        if status == domain::CAPPED {
            c.capped += n;
        } else {
            c.total += n;
        }
    }
    let today_rows: Vec<(i64, i64)> = subscription_push::Entity::find()
        .select_only()
        .column(subscription_push::Column::SubscriptionId)
        .column_as(subscription_push::Column::Id.count(), "n")
        .filter(subscription_push::Column::SubscriptionId.is_in(ids.iter().copied()))
        .filter(subscription_push::Column::Day.eq(today))
        .filter(subscription_push::Column::Status.ne(domain::CAPPED))
        .group_by(subscription_push::Column::SubscriptionId)
        .into_tuple()
        .all(conn)
        .await?;
    for (id, n) in today_rows {
        out.entry(id).or_default().today = n.max(0) as u64;
    }
    Ok(out)
}

async fn load_own(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
) -> ServiceResult<subscription::Model> {
    subscription::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|m| actor.belongs_to(m.org_id))
        .ok_or_else(not_found)
}

/// The caller's organisation's subscriptions, oldest first, `limit + 1` rows.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    cursor: Option<Cursor>,
    limit: u64,
) -> ServiceResult<Vec<SubscriptionView>> {
    let mut q = subscription::Entity::find().filter(subscription::Column::OrgId.eq(actor.org_id));
    if let Some(c) = cursor {
        q = q.filter(subscription::Column::Id.gt(c.id));
    }
    let rows = q
        .order_by_asc(subscription::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut counts = counts(db, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|m| {
            let c = counts.remove(&m.id).unwrap_or_default();
            SubscriptionView::build(m, c)
        })
        .collect())
}

/// How many recent pushes a single read shows.
const RECENT: u64 = 20;

/// One subscription with its latest pushes.
pub async fn get(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
) -> ServiceResult<SubscriptionView> {
    let m = load_own(db, actor, id).await?;
    let c = counts(db, &[id]).await?.remove(&id).unwrap_or_default();
    let pushes = subscription_push::Entity::find()
        .filter(subscription_push::Column::SubscriptionId.eq(id))
        .order_by_desc(subscription_push::Column::Id)
        .limit(RECENT)
        .all(db)
        .await?;
    let ids: Vec<i64> = pushes.iter().map(|p| p.listing_id).collect();
    let titles: HashMap<i64, String> = ttx_listings::store::by_ids(db, &ids)
        .await?
        .into_iter()
        .map(|l| (l.id, l.title))
        .collect();
    let mut v = SubscriptionView::build(m, c);
    v.recent = Some(
        pushes
            .into_iter()
            .map(|p| {
                let t = titles.get(&p.listing_id).cloned();
                PushView::build(p, t)
            })
            .collect(),
    );
    Ok(v)
}

/// Deletes a subscription and its record of pushes.
pub async fn delete(db: &DatabaseConnection, actor: &Actor, id: i64) -> ServiceResult<()> {
    let txn = ttx_notify::begin_write(db).await?;
    let m = subscription::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .filter(|m| actor.belongs_to(m.org_id))
        .ok_or_else(not_found)?;
    subscription_push::Entity::delete_many()
        .filter(subscription_push::Column::SubscriptionId.eq(id))
        .exec(&txn)
        .await?;
    subscription::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        &actor.audit(),
        "subscription.delete",
        AuditTarget::new("subscription", id, Some(m.org_id)),
        json!({"name": m.name}),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
