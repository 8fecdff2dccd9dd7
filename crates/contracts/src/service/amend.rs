//! Amendments and terminations of registered contracts: requested by the seller side, decided
//! by a reviewer of the registering station; an approval books the ledger.
use super::{actor_jurisdiction, audit, lock, resolve, resolve_all, today};
use crate::access;
use crate::domain::command::AmendmentSpec;
use crate::domain::{
    fingerprint, ledger, Action, AmendmentChanges, AmendmentKind, AmendmentStatus,
};
use crate::entity::{amendment, contract};
use crate::error::ContractError;
use crate::events::{self, ContractEvent};
use crate::store::{self, to_json, write_txn};
use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};
use serde_json::json;
use ttx_accounts::Actor;
use ttx_core::{Fen, FieldErrors};
use ttx_web::ServiceError;

async fn no_pending(txn: &DatabaseTransaction, contract_id: i64) -> Result<(), ServiceError> {
    let n = amendment::Entity::find()
        .filter(amendment::Column::ContractId.eq(contract_id))
        .filter(amendment::Column::Status.eq(AmendmentStatus::Pending.as_str()))
        .count(txn)
        .await?;
    if n > 0 {
        Err(ServiceError::new(ContractError::AmendmentPending)
            .detail("wait for the station's decision on the pending request"))
    } else {
        Ok(())
    }
}

async fn begin_seller_request(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    action: Action,
) -> Result<(DatabaseTransaction, contract::Model), ServiceError> {
    let txn = write_txn(db).await?;
    let m = lock(&txn, id).await?;
    access::require_seller(actor, &m)?;
    store::status_of(&m)?
        .apply(action)
        .map_err(|e| ServiceError::invalid_state(e.to_string()))?;
    no_pending(&txn, m.id).await?;
    Ok((txn, m))
}

#[allow(clippy::too_many_arguments)]
async fn insert_request(
    txn: &DatabaseTransaction,
    actor: &Actor,
    m: &contract::Model,
    kind: AmendmentKind,
    reason: String,
    changes: Option<String>,
    effective_on: Option<NaiveDate>,
) -> Result<amendment::Model, ServiceError> {
    let a = amendment::ActiveModel {
        contract_id: Set(m.id),
        kind: Set(kind.as_str().to_string()),
        status: Set(AmendmentStatus::Pending.as_str().to_string()),
        reason: Set(reason),
        changes: Set(changes),
        before: Set(None),
        station_id: Set(m.station_id.unwrap_or_default()),
        submitted_by: Set(actor.user_id),
        submitted_at: Set(ttx_core::clock::now()),
        decided_by: Set(None),
        decided_at: Set(None),
        effective_on: Set(effective_on),
        decision_note: Set(None),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    audit(
        txn,
        actor,
        &format!("contract.{}.request", kind.as_str()),
        m,
        json!({"amendment_id": a.id}),
    )
    .await?;
    Ok(a)
}

/// Requests an amendment of a registered contract.
pub async fn request_amendment(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    spec: AmendmentSpec,
) -> Result<amendment::Model, ServiceError> {
    let mut errs = FieldErrors::new();
    let buyer = match spec.buyer {
        Some(b) => resolve(db, b, "buyer", &mut errs).await?,
        None => None,
    };
    let others = match spec.others {
        Some(o) => Some(resolve_all(db, o, "others", &mut errs).await?),
        None => None,
    };
    let (txn, m) = begin_seller_request(db, actor, id, Action::Amend).await?;
    errs.into_result()?;
    let changes = AmendmentChanges {
        contract_amount: spec.contract_amount,
        non_technical_costs: spec.non_technical_costs,
        payment_plan: spec.payment_plan,
        buyer,
        others,
        term_start: spec.term_start,
        term_end: spec.term_end,
        documents: spec.documents,
        ..Default::default()
    };
    let current = store::content_of(&m)?;
    if changes.changes_nothing(&current, store::booking_of(&m)?.dims.sub_kind) {
        return Err(ServiceError::new(ContractError::NothingToAmend));
    }
    changes.apply(&current).check(today()).into_result()?;
    let a = insert_request(
        &txn,
        actor,
        &m,
        AmendmentKind::Amendment,
        spec.reason,
        Some(to_json(&changes)),
        None,
    )
    .await?;
    txn.commit().await?;
    Ok(a)
}

/// Requests the termination of a registered contract.
pub async fn request_termination(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    reason: String,
    effective_on: Option<NaiveDate>,
) -> Result<amendment::Model, ServiceError> {
    let (txn, m) = begin_seller_request(db, actor, id, Action::Terminate).await?;
    crate::domain::amendment::check_termination_date(m.signed_on, effective_on)?;
    let a = insert_request(
        &txn,
        actor,
        &m,
        AmendmentKind::Termination,
        reason,
        None,
        effective_on,
    )
    .await?;
    txn.commit().await?;
    Ok(a)
}

/// Approves or rejects a pending request. Approving an amendment applies it and books the
/// difference; approving a termination ends the contract and books the reversal.
pub async fn decide(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    amendment_id: i64,
    approve: bool,
    note: Option<String>,
    station_costs: Option<Fen>,
) -> Result<(amendment::Model, contract::Model), ServiceError> {
    let txn = write_txn(db).await?;
    let m = lock(&txn, id).await?;
    let jurisdiction = actor_jurisdiction(&txn, actor).await?;
    access::require_station(actor, &m, &jurisdiction)?;
    let a = amendment::Entity::find_by_id(amendment_id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .filter(|a| a.contract_id == m.id)
        .ok_or_else(|| ServiceError::not_found("amendment"))?;
    let status: AmendmentStatus = a.status.parse().map_err(ServiceError::internal)?;
    let new_status = status
        .decide(approve)
        .map_err(ServiceError::invalid_state)?;
    let kind: AmendmentKind = a.kind.parse().map_err(ServiceError::internal)?;
    let now = ttx_core::clock::now();
    let mut am_a: amendment::ActiveModel = a.clone().into();
    am_a.status = Set(new_status.as_str().to_string());
    am_a.decided_by = Set(Some(actor.user_id));
    am_a.decided_at = Set(Some(now));
    am_a.decision_note = Set(note.clone());
    let contract_after = if approve {
        let (c, before) = apply_approval(&txn, &m, &a, station_costs, today()).await?;
        am_a.before = Set(before);
        c
    } else {
        m.clone()
    };
    let a = am_a.update(&txn).await?;
    audit(
        &txn,
        actor,
        &format!(
            "contract.{}.{}",
            kind.as_str(),
            if approve { "approve" } else { "reject" }
        ),
        &contract_after,
        json!({"amendment_id": a.id, "note": note}),
    )
    .await?;
    events::emit(
        &txn,
        &contract_after,
        ContractEvent::AmendmentDecided {
            a: &a,
            approved: approve,
        },
    )
    .await?;
    txn.commit().await?;
    ttx_notify::wake();
    Ok((a, contract_after))
}

/// Applies an approved request `a` to the registered contract `m` (locked by the caller) and
/// books the ledger on `on`. Returns the contract after, and (amendments) the replaced values.
/// The live approval ([`decide`]) and changes decided outside TTX
/// ([`crate::service::history::record_decided`]) both come here.
pub(crate) async fn apply_approval<C: ConnectionTrait>(
    conn: &C,
    m: &contract::Model,
    a: &amendment::Model,
    station_costs: Option<Fen>,
    on: NaiveDate,
) -> Result<(contract::Model, Option<String>), ServiceError> {
    let kind: AmendmentKind = a.kind.parse().map_err(ServiceError::internal)?;
    let action = match kind {
        AmendmentKind::Amendment => Action::Amend,
        AmendmentKind::Termination => Action::Terminate,
    };
    let to = store::status_of(m)?
        .apply(action)
        .map_err(|e| ServiceError::invalid_state(e.to_string()))?;
    let before_booking = store::booking_of(m)?;
    let mut cm: contract::ActiveModel = m.clone().into();
    let mut replaced = None;
    let deltas = match kind {
        AmendmentKind::Amendment => {
            let changes: AmendmentChanges = a
                .changes
                .as_deref()
                .and_then(|c| serde_json::from_str(c).ok())
                .ok_or_else(|| ServiceError::internal("amendment without changes"))?;
            let current = store::content_of(m)?;
            let mut next = changes.apply(&current);
            if let Some(c) = station_costs {
                next.non_technical_costs = c;
            }
            next.check(on).into_result()?;
            let recognised = changes
                .recognised_sub_kind
                .unwrap_or(before_booking.dims.sub_kind);
            if changes.recognised_sub_kind.is_some() {
                cm.recognised_kind = Set(Some(recognised.kind().as_str().to_string()));
                cm.recognised_sub_kind = Set(Some(recognised.as_str().to_string()));
            }
            let after = store::booking(&next, before_booking.dims.station_id, recognised);
            let mut before = changes.before(&current);
            before.recognised_sub_kind = changes
                .recognised_sub_kind
                .map(|_| before_booking.dims.sub_kind);
            replaced = Some(to_json(&before));
            store::set_content(&mut cm, &next);
            // The registered identity follows the amended content.
            cm.registered_fingerprint = Set(Some(fingerprint::fingerprint(&next)));
            ledger::on_amendment(&before_booking, &after)
        }
        AmendmentKind::Termination => {
            cm.terminated_on = Set(Some(a.effective_on.unwrap_or(on)));
            ledger::on_termination(&before_booking)
        }
    };
    cm.status = Set(to.as_str().to_string());
    cm.version = Set(m.version + 1);
    cm.updated_at = Set(ttx_core::clock::now());
    let after = match cm.update(conn).await {
        Ok(c) => c,
        Err(e) if store::unique_violation_on(&e, "registered_fingerprint") => {
            return Err(ServiceError::new(ContractError::DuplicateContract)
                .detail("after this amendment the contract would equal another registered one"));
        }
        Err(e) => return Err(e.into()),
    };
    crate::ledger::append(conn, m.id, Some(a.id), on, &deltas).await?;
    Ok((after, replaced))
}
