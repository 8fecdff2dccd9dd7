//! Expiry: open needs past their deadline become expired. Readers see it at once (the status
//! is computed on read); this job records it, removes the need from the index and tells the
//! owner (`demand.expired`), all in one transaction per need.
use crate::domain::{self, Action, DemandStatus};
use crate::entity::demand::{self, Column, Entity};
use crate::store;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};
use ttx_accounts::audit::{self, AuditCtx, Target};
use ttx_search::DEMANDS;

/// Needs expired per batch.
const BATCH: u64 = 200;

/// Records the expiry of every open need whose deadline lies before today (Beijing);
/// returns how many. Safe to run on several instances at once: each row changes only if it
/// is still open (compare-and-set), and only that instance writes its event.
pub async fn expire_due(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64, DbErr> {
    let today = ttx_core::clock::beijing_date(now);
    let ctx = AuditCtx::system("demands expiry");
    let mut total = 0;
    loop {
        let rows = Entity::find()
            .filter(Column::Status.eq(DemandStatus::Open.as_str()))
            .filter(Column::Deadline.lt(today))
            .order_by_asc(Column::Id)
            .limit(BATCH)
            .all(db)
            .await?;
        if rows.is_empty() {
            return Ok(total);
        }
        let mut changed = 0;
        for m in rows {
            let d = store::decode(&m).map_err(|e| DbErr::Custom(e.to_string()))?;
            let to = domain::transition(d.status, Action::Expire)
                .map_err(|e| DbErr::Custom(e.to_string()))?;
            let txn = ttx_notify::begin_write(db).await?;
            let res = Entity::update_many()
                .col_expr(Column::Status, Expr::value(to.as_str()))
                .col_expr(Column::Version, Expr::value(d.version + 1))
                .col_expr(Column::UpdatedAt, Expr::value(now))
                .filter(demand::Column::Id.eq(d.id))
                .filter(demand::Column::Version.eq(d.version))
                .filter(demand::Column::Status.eq(DemandStatus::Open.as_str()))
                .exec(&txn)
                .await?;
            if res.rows_affected != 1 {
                // Changed meanwhile by someone else; the next run looks again.
                txn.rollback().await?;
                continue;
            }
            audit::record(
                &txn,
                &ctx,
                "demand.expire",
                Target::new("demand", d.id, Some(d.owner_org_id)),
                json!({"deadline": d.data.deadline}),
            )
            .await?;
            ttx_notify::emit(&txn, crate::events::expired(&d)).await?;
            ttx_search::enqueue(&txn, DEMANDS, d.id).await?;
            txn.commit().await?;
            changed += 1;
        }
        total += changed;
        if changed == 0 {
            return Ok(total);
        }
    }
}

/// Runs [`expire_due`] every `every` until `stop` turns true; wakes the search outbox worker
/// and the webhook worker after expiring something.
pub async fn expiry_loop(
    db: DatabaseConnection,
    outbox: Arc<Notify>,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        match expire_due(&db, ttx_core::clock::now()).await {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(expired = n, "needs expired");
                metrics::counter!("ttx_demands_expired_total").increment(n);
                outbox.notify_one();
                ttx_notify::wake();
            }
            Err(e) => tracing::warn!(error = %e, "expiring needs failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            r = stop.changed() => if r.is_err() || *stop.borrow() { return },
        }
    }
}
