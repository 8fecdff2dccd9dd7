//! The reminder job: a contract under review whose deadline is near gets one
//! `contract.review_due_soon` event per review round (to the station and the seller side).
use super::today;
use crate::domain::ContractStatus;
use crate::entity::contract;
use crate::events::{self, ContractEvent};
use crate::store::write_txn;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::time::Duration;
use tokio::sync::watch;
use ttx_web::ServiceError;

/// Sends the due reminders once; returns how many contracts were reminded about.
pub async fn remind_due(db: &DatabaseConnection, within_days: i64) -> Result<u64, ServiceError> {
    let limit = today() + chrono::Duration::days(Ord::max(within_days, 0));
    let due = contract::Entity::find()
        .filter(contract::Column::Status.eq(ContractStatus::Accepted.as_str()))
        .filter(contract::Column::ReviewDueOn.lte(limit))
        .filter(
            Condition::any()
                .add(contract::Column::ReviewRemindedRound.is_null())
                .add(
                    Expr::col(contract::Column::ReviewRemindedRound)
                        .lt(Expr::col(contract::Column::Round)),
                ),
        )
        .order_by_asc(contract::Column::Id)
        .limit(500)
        .all(db)
        .await?;
    let mut n = 0;
    for m in due {
        let txn = write_txn(db).await?;
        // Claim the reminder of this round: only one process (and one run) sends it.
        let res = contract::Entity::update_many()
            .col_expr(contract::Column::ReviewRemindedRound, Expr::value(m.round))
            .filter(contract::Column::Id.eq(m.id))
            .filter(contract::Column::Round.eq(m.round))
            .filter(contract::Column::Status.eq(ContractStatus::Accepted.as_str()))
            .filter(
                Condition::any()
                    .add(contract::Column::ReviewRemindedRound.is_null())
                    .add(contract::Column::ReviewRemindedRound.ne(m.round)),
            )
            .exec(&txn)
            .await?;
        if res.rows_affected == 1 {
            events::emit(&txn, &m, ContractEvent::ReviewDueSoon).await?;
            txn.commit().await?;
            n += 1;
        } else {
            txn.rollback().await?;
        }
    }
    if n > 0 {
        ttx_notify::wake();
    }
    Ok(n)
}

/// Every `every`, sends the reminders of reviews due within `within_days` until `stop`.
pub async fn reminder_loop(
    db: DatabaseConnection,
    within_days: i64,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        match remind_due(&db, within_days).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(reminded = n, "contract review reminders sent"),
            Err(e) => tracing::warn!(error = ?e.code, "contract review reminders failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            r = stop.changed() => if r.is_err() || *stop.borrow() { return },
        }
    }
}
