//! The station: acceptance, registration, return for correction, refusal.
use super::{actor_jurisdiction, audit, lock, today, Settings};
use crate::access;
use crate::domain::command::RegisterSpec;
use crate::domain::content::{review_due_on, review_overdue};
use crate::domain::{ledger, Action, ContractStatus, RefusalGround};
use crate::entity::{contract, round};
use crate::error::ContractError;
use crate::events::{self, ContractEvent};
use crate::numbering;
use crate::store::{self, to_json, write_txn};
use chrono::Datelike;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter,
};
use serde_json::json;
use ttx_accounts::Actor;
use ttx_web::{ErrorCode, ServiceError};

/// Locks the contract and checks the actor is its station's reviewer and the transition is
/// allowed.
async fn begin_station_action(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    action: Action,
) -> Result<(DatabaseTransaction, contract::Model, ContractStatus), ServiceError> {
    let txn = write_txn(db).await?;
    let m = lock(&txn, id).await?;
    let jurisdiction = if access::is_station_actor(actor) {
        actor_jurisdiction(&txn, actor).await?
    } else {
        vec![]
    };
    access::require_station(actor, &m, &jurisdiction)?;
    let to = store::status_of(&m)?
        .apply(action)
        .map_err(|e| ServiceError::invalid_state(e.to_string()))?;
    Ok((txn, m, to))
}

/// Accepts a submitted contract for review; the review deadline starts today.
pub async fn accept(
    db: &DatabaseConnection,
    actor: &Actor,
    settings: &Settings,
    id: i64,
    note: Option<String>,
) -> Result<contract::Model, ServiceError> {
    let (txn, m, to) = begin_station_action(db, actor, id, Action::Accept).await?;
    let now = ttx_core::clock::now();
    let due = review_due_on(today(), settings.review_deadline_days);
    let mut am: contract::ActiveModel = m.clone().into();
    am.status = Set(to.as_str().to_string());
    am.accepted_at = Set(Some(now));
    am.accepted_by = Set(Some(actor.user_id));
    am.review_due_on = Set(Some(due));
    am.version = Set(m.version + 1);
    am.updated_at = Set(now);
    let updated = am.update(&txn).await?;
    audit(
        &txn,
        actor,
        "contract.accept",
        &updated,
        json!({"due_on": due, "note": note}),
    )
    .await?;
    events::emit(&txn, &updated, ContractEvent::Accepted).await?;
    txn.commit().await?;
    ttx_notify::wake();
    Ok(updated)
}

/// Records the finished round.
async fn close_round(
    txn: &DatabaseTransaction,
    actor: &Actor,
    m: &contract::Model,
    outcome: ContractStatus,
    reasons: Option<&[String]>,
    ground: Option<RefusalGround>,
    note: Option<&str>,
) -> Result<(), ServiceError> {
    let snapshot = store::content_of(m)?;
    round::ActiveModel {
        contract_id: Set(m.id),
        round: Set(m.round),
        station_id: Set(m.station_id.unwrap_or_default()),
        submitted_at: Set(m.submitted_at.unwrap_or(m.updated_at)),
        submitted_by: Set(m.submitted_by.unwrap_or(m.created_by)),
        accepted_at: Set(m.accepted_at),
        accepted_by: Set(m.accepted_by),
        outcome: Set(outcome.as_str().to_string()),
        decided_at: Set(ttx_core::clock::now()),
        decided_by: Set(actor.user_id),
        reasons: Set(reasons.map(to_json)),
        ground: Set(ground.map(|g| g.as_str().to_string())),
        note: Set(note.map(str::to_string)),
        snapshot: Set(to_json(&snapshot)),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// Registers an accepted contract: recognised kind, technology amount, number, ledger entry.
///
/// An exact duplicate of a registered contract is refused on the `duplicate` ground instead,
/// and the answer is 409 `duplicate_contract` naming the registered one.
pub async fn register(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    spec: RegisterSpec,
) -> Result<contract::Model, ServiceError> {
    let (txn, m, to) = begin_station_action(db, actor, id, Action::Register).await?;
    let mut content = store::content_of(&m)?;
    if let Some(costs) = spec.non_technical_costs {
        content.non_technical_costs = costs;
    }
    let tech = crate::domain::content::registrable_technology_amount(
        content.contract_amount,
        content.non_technical_costs,
    )?;
    let recognised = spec.recognised_sub_kind.unwrap_or(content.sub_kind);
    let station_id = m
        .station_id
        .ok_or_else(|| ServiceError::internal("no station"))?;
    let today = today();
    let booking = store::booking(&content, station_id, recognised);

    close_round(
        &txn,
        actor,
        &m,
        ContractStatus::Registered,
        None,
        None,
        spec.note.as_deref(),
    )
    .await?;
    crate::ledger::append(&txn, m.id, None, today, &ledger::on_register(&booking)).await?;
    // The counter row is locked from here to the commit: keep this part short.
    let number = numbering::next(&txn, station_id, today.year()).await?;
    let now = ttx_core::clock::now();
    let mut am: contract::ActiveModel = m.clone().into();
    am.status = Set(to.as_str().to_string());
    am.registration_number = Set(Some(number.format()));
    am.registered_on = Set(Some(today));
    am.recognised_kind = Set(Some(recognised.kind().as_str().to_string()));
    am.recognised_sub_kind = Set(Some(recognised.as_str().to_string()));
    am.non_technical_costs = Set(content.non_technical_costs.0);
    am.technology_amount = Set(tech.0);
    am.registered_fingerprint = Set(Some(m.fingerprint.clone()));
    am.decided_at = Set(Some(now));
    am.decided_by = Set(Some(actor.user_id));
    am.version = Set(m.version + 1);
    am.updated_at = Set(now);
    let updated = match am.update(&txn).await {
        Ok(u) => u,
        Err(e) if store::unique_violation_on(&e, "registered_fingerprint") => {
            // Another transaction registered the same contract first. This one rolls back
            // (giving its number back) and the contract is refused as a duplicate.
            txn.rollback().await?;
            return Err(refuse_duplicate(db, actor, id).await);
        }
        Err(e) => return Err(e.into()),
    };
    audit(
        &txn,
        actor,
        "contract.register",
        &updated,
        json!({
            "registration_number": updated.registration_number,
            "recognised_sub_kind": recognised.as_str(),
            "technology_amount": tech.0,
        }),
    )
    .await?;
    events::emit(&txn, &updated, ContractEvent::Registered).await?;
    txn.commit().await?;
    ttx_notify::wake();
    Ok(updated)
}

/// Refuses a contract whose twin is registered; returns the problem to answer with.
async fn refuse_duplicate(db: &DatabaseConnection, actor: &Actor, id: i64) -> ServiceError {
    match try_refuse_duplicate(db, actor, id).await {
        Ok(e) | Err(e) => e,
    }
}

async fn try_refuse_duplicate(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
) -> Result<ServiceError, ServiceError> {
    let (txn, m, _) = begin_station_action(db, actor, id, Action::Refuse).await?;
    let twin = contract::Entity::find()
        .filter(contract::Column::RegisteredFingerprint.eq(m.fingerprint.clone()))
        .one(&txn)
        .await?;
    let Some(twin) = twin.filter(|t| t.id != m.id) else {
        return Ok(ServiceError::new(ErrorCode::Conflict)
            .detail("a concurrent registration of the same contract did not complete; retry"));
    };
    let number = twin.registration_number.clone().unwrap_or_default();
    let text = format!("与已登记合同（登记编号 {number}）重复");
    let updated = set_refused(&txn, actor, m, RefusalGround::Duplicate, Some(text)).await?;
    txn.commit().await?;
    ttx_notify::wake();
    Ok(ServiceError::new(ContractError::DuplicateContract)
        .detail(format!(
            "the same contract is registered under {number}; contract {} was refused as a duplicate",
            updated.id
        ))
        .with_context(json!({
            "contract_id": updated.id,
            "status": updated.status,
            "refusal_ground": RefusalGround::Duplicate.as_str(),
            "duplicate_of": {"id": twin.id, "registration_number": number},
        })))
}

async fn set_refused(
    txn: &DatabaseTransaction,
    actor: &Actor,
    m: contract::Model,
    ground: RefusalGround,
    text: Option<String>,
) -> Result<contract::Model, ServiceError> {
    close_round(
        txn,
        actor,
        &m,
        ContractStatus::Refused,
        None,
        Some(ground),
        text.as_deref(),
    )
    .await?;
    let now = ttx_core::clock::now();
    let mut am: contract::ActiveModel = m.clone().into();
    am.status = Set(ContractStatus::Refused.as_str().to_string());
    am.refusal_ground = Set(Some(ground.as_str().to_string()));
    am.refusal_text = Set(text.clone());
    am.decided_at = Set(Some(now));
    am.decided_by = Set(Some(actor.user_id));
    am.version = Set(m.version + 1);
    am.updated_at = Set(now);
    let updated = am.update(txn).await?;
    audit(
        txn,
        actor,
        "contract.refuse",
        &updated,
        json!({"ground": ground.as_str(), "text": text}),
    )
    .await?;
    events::emit(
        txn,
        &updated,
        ContractEvent::Refused {
            ground: ground.as_str(),
            text: text.as_deref(),
        },
    )
    .await?;
    Ok(updated)
}

/// Refuses a contract on an official ground.
pub async fn refuse(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    ground: RefusalGround,
    text: Option<String>,
) -> Result<contract::Model, ServiceError> {
    let (txn, m, _) = begin_station_action(db, actor, id, Action::Refuse).await?;
    let updated = set_refused(&txn, actor, m, ground, text).await?;
    txn.commit().await?;
    ttx_notify::wake();
    Ok(updated)
}

/// Returns a contract for correction. Once the review deadline has passed, a station may no
/// longer return (which would restart the clock): it registers or refuses.
pub async fn return_for_correction(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    reasons: Vec<String>,
) -> Result<contract::Model, ServiceError> {
    let (txn, m, to) = begin_station_action(db, actor, id, Action::Return).await?;
    if let Some(due) = m
        .review_due_on
        .filter(|_| review_overdue(m.review_due_on, today()))
    {
        return Err(
            ServiceError::new(ContractError::ReviewOverdue).detail(format!(
                "the review was due on {due}; register or refuse the contract"
            )),
        );
    }
    close_round(
        &txn,
        actor,
        &m,
        ContractStatus::Returned,
        Some(&reasons),
        None,
        None,
    )
    .await?;
    let now = ttx_core::clock::now();
    let mut am: contract::ActiveModel = m.clone().into();
    am.status = Set(to.as_str().to_string());
    am.return_reasons = Set(Some(to_json(&reasons)));
    am.decided_at = Set(Some(now));
    am.decided_by = Set(Some(actor.user_id));
    am.version = Set(m.version + 1);
    am.updated_at = Set(now);
    let updated = am.update(&txn).await?;
    audit(
        &txn,
        actor,
        "contract.return",
        &updated,
        json!({"reasons": reasons}),
    )
    .await?;
    events::emit(
        &txn,
        &updated,
        ContractEvent::Returned { reasons: &reasons },
    )
    .await?;
    txn.commit().await?;
    ttx_notify::wake();
    Ok(updated)
}
