//! Reads: one contract with its history, lists scoped to the caller, the station's queue, the
//! ledger of a contract, certificates, public verification and a seller's technology income.
use super::today;
use crate::access::{self, Viewer};
use crate::domain::fingerprint::{near_duplicate, DupFacts};
use crate::domain::{AmendmentStatus, ContractStatus};
use crate::entity::{amendment, contract, round};
use crate::error::ContractError;
use crate::ledger::{self, LedgerEntryView};
use crate::view::{likeness_code, NearDuplicateView};
use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait, Func, Order, Query, SimpleExpr};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use std::collections::HashMap;
use ttx_accounts::entity::organization;
use ttx_accounts::Actor;
use ttx_core::{ContractKind, Fen, OrgKind};
use ttx_web::{Cursor, ServiceError};

/// A contract the caller may see, with how they see it.
pub async fn get(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
) -> Result<(contract::Model, Viewer), ServiceError> {
    let m = contract::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ServiceError::not_found("contract"))?;
    let v = access::require_view(actor, &m)?;
    Ok((m, v))
}

pub async fn rounds(db: &DatabaseConnection, id: i64) -> Result<Vec<round::Model>, ServiceError> {
    Ok(round::Entity::find()
        .filter(round::Column::ContractId.eq(id))
        .order_by_asc(round::Column::Round)
        .all(db)
        .await?)
}

pub async fn amendments(
    db: &DatabaseConnection,
    id: i64,
) -> Result<Vec<amendment::Model>, ServiceError> {
    Ok(amendment::Entity::find()
        .filter(amendment::Column::ContractId.eq(id))
        .order_by_asc(amendment::Column::Id)
        .all(db)
        .await?)
}

fn facts(m: &contract::Model) -> DupFacts {
    DupFacts {
        party_key: m.party_key.clone(),
        title: m.title.clone(),
        signed_on: m.signed_on,
        amount: Fen(m.contract_amount),
    }
}

/// Submitted or registered contracts of the same parties that look like `m`.
pub async fn near_duplicates(
    db: &DatabaseConnection,
    m: &contract::Model,
) -> Result<Vec<NearDuplicateView>, ServiceError> {
    let others = contract::Entity::find()
        .filter(contract::Column::PartyKey.eq(m.party_key.clone()))
        .filter(contract::Column::Id.ne(m.id))
        .filter(contract::Column::Status.is_in([
            ContractStatus::Submitted.as_str(),
            ContractStatus::Accepted.as_str(),
            ContractStatus::Registered.as_str(),
            ContractStatus::Terminated.as_str(),
        ]))
        .order_by_desc(contract::Column::Id)
        .limit(50)
        .all(db)
        .await?;
    let me = facts(m);
    Ok(others
        .into_iter()
        .filter_map(|o| {
            let exact = o.fingerprint == m.fingerprint;
            let likeness = near_duplicate(&me, &facts(&o));
            (exact || likeness.is_some()).then(|| NearDuplicateView {
                id: o.id,
                title: o.title,
                status: o.status,
                registration_number: o.registration_number,
                exact,
                likeness: likeness
                    .unwrap_or_default()
                    .into_iter()
                    .map(likeness_code)
                    .collect(),
            })
        })
        .collect())
}

/// Filters of a contract list.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// The station's work: contracts in review and registered ones with a pending request.
    pub queue: bool,
    /// Only accepted contracts past their review deadline.
    pub overdue: bool,
    pub status: Option<ContractStatus>,
    pub kind: Option<ContractKind>,
}

fn scope(actor: &Actor, f: &ListFilter) -> Result<Condition, ServiceError> {
    use contract::Column as C;
    let not_draft = C::Status.ne(ContractStatus::Draft.as_str());
    if f.queue || f.overdue {
        if actor.org_kind != OrgKind::Station {
            return Err(ServiceError::forbidden("only a station has a review queue"));
        }
        let pending = Query::select()
            .column(amendment::Column::ContractId)
            .from(amendment::Entity)
            .and_where(amendment::Column::StationId.eq(actor.org_id))
            .and_where(amendment::Column::Status.eq(AmendmentStatus::Pending.as_str()))
            .to_owned();
        let mut c = Condition::all().add(C::StationId.eq(actor.org_id));
        if f.overdue {
            c = c
                .add(C::Status.eq(ContractStatus::Accepted.as_str()))
                .add(C::ReviewDueOn.lt(today()));
        } else {
            c = c.add(
                Condition::any()
                    .add(C::Status.is_in([
                        ContractStatus::Submitted.as_str(),
                        ContractStatus::Accepted.as_str(),
                    ]))
                    .add(C::Id.in_subquery(pending)),
            );
        }
        return Ok(c);
    }
    if actor.is_operator() {
        return Ok(Condition::all());
    }
    if actor.org_kind == OrgKind::Station {
        return Ok(Condition::all()
            .add(C::StationId.eq(actor.org_id))
            .add(not_draft));
    }
    if let Some(region) = access::bureau_region(actor) {
        let p = ttx_core::region::parse_region_prefix(&region.as_string())
            .map_err(ServiceError::internal)?;
        return Ok(Condition::all().add(not_draft).add(
            Condition::any()
                .add(C::SellerRegion.starts_with(&p))
                .add(C::BuyerRegion.starts_with(&p)),
        ));
    }
    Ok(Condition::any().add(C::SellerOrgId.eq(actor.org_id)).add(
        Condition::all()
            .add(C::BuyerOrgId.eq(actor.org_id))
            .add(not_draft),
    ))
}

/// The queue's sort key: when the contract was last submitted (its creation when it never was).
fn queue_key() -> SimpleExpr {
    Func::coalesce([
        Expr::col(contract::Column::SubmittedAt),
        Expr::col(contract::Column::CreatedAt),
    ])
    .into()
}

/// The cursor after `m` in a list (`queue`: ordered by [`queue_key`]).
pub fn cursor_after(m: &contract::Model, queue: bool) -> Cursor {
    if queue {
        Cursor {
            k: Some(m.submitted_at.unwrap_or(m.created_at).to_rfc3339()),
            id: m.id,
        }
    } else {
        Cursor::after_id(m.id)
    }
}

/// One page of the contracts the caller may see; the queue oldest first, otherwise newest
/// first. Returns the rows (`limit + 1` at most) and pending requests by contract.
pub async fn list(
    db: &DatabaseConnection,
    actor: &Actor,
    f: &ListFilter,
    cursor: Option<Cursor>,
    limit: u64,
) -> Result<(Vec<contract::Model>, HashMap<i64, i64>), ServiceError> {
    use contract::Column as C;
    let mut cond = scope(actor, f)?;
    if let Some(s) = f.status {
        cond = cond.add(C::Status.eq(s.as_str()));
    }
    if let Some(k) = f.kind {
        cond = cond.add(C::Kind.eq(k.as_str()));
    }
    let oldest_first = f.queue || f.overdue;
    let mut q = contract::Entity::find();
    if oldest_first {
        // The queue: by when each contract was last submitted, oldest first, then id.
        if let Some(c) = cursor {
            let at =
                c.k.as_deref()
                    .and_then(|k| chrono::DateTime::parse_from_rfc3339(k).ok())
                    .map(|t| t.with_timezone(&chrono::Utc))
                    .ok_or_else(|| ServiceError::new(ttx_web::ErrorCode::InvalidCursor))?;
            cond = cond.add(
                Condition::any()
                    .add(queue_key().gt(at))
                    .add(Condition::all().add(queue_key().eq(at)).add(C::Id.gt(c.id))),
            );
        }
        q = q
            .filter(cond)
            .order_by(queue_key(), Order::Asc)
            .order_by_asc(C::Id);
    } else {
        if let Some(c) = cursor {
            cond = cond.add(C::Id.lt(c.id));
        }
        q = q.filter(cond).order_by_desc(C::Id);
    }
    let rows = q.limit(limit + 1).all(db).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut pending = HashMap::new();
    if !ids.is_empty() {
        for a in amendment::Entity::find()
            .filter(amendment::Column::ContractId.is_in(ids))
            .filter(amendment::Column::Status.eq(AmendmentStatus::Pending.as_str()))
            .all(db)
            .await?
        {
            pending.insert(a.contract_id, a.id);
        }
    }
    Ok((rows, pending))
}

/// The ledger entries of a contract the caller may see.
pub async fn ledger_of(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
) -> Result<Vec<LedgerEntryView>, ServiceError> {
    let (m, _) = get(db, actor, id).await?;
    Ok(ledger::of_contract(db, m.id).await?)
}

async fn station_name(db: &DatabaseConnection, id: i64) -> Result<String, ServiceError> {
    Ok(organization::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|o| o.name)
        .unwrap_or_default())
}

/// A registered (or terminated) contract the caller may see, with its station's name.
pub async fn certificate(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
) -> Result<(contract::Model, String), ServiceError> {
    let (m, _) = get(db, actor, id).await?;
    if m.registration_number.is_none() {
        return Err(
            ServiceError::new(ContractError::NotRegistered).detail(format!(
                "the contract is {}; only a registered contract has a certificate",
                m.status
            )),
        );
    }
    let name = station_name(db, m.station_id.unwrap_or_default()).await?;
    Ok((m, name))
}

/// Public verification of a registration number.
pub async fn verify(
    db: &DatabaseConnection,
    number: &str,
) -> Result<(contract::Model, String), ServiceError> {
    let n = number.trim();
    if n.is_empty() || n.len() > 32 {
        return Err(ServiceError::not_found("registration"));
    }
    let m = contract::Entity::find()
        .filter(contract::Column::RegistrationNumber.eq(n))
        .one(db)
        .await?
        .ok_or_else(|| ServiceError::not_found("registration"))?;
    let name = station_name(db, m.station_id.unwrap_or_default()).await?;
    Ok((m, name))
}

/// A seller's ledger totals by kind in `year` (its members, operators, and the analysts of a
/// verified bureau whose region holds the organisation).
pub async fn technology_income(
    db: &DatabaseConnection,
    actor: &Actor,
    org_id: i64,
    year: i32,
) -> Result<Vec<ledger::KindTotal>, ServiceError> {
    if !actor.belongs_to(org_id) && !actor.is_operator() {
        let in_bureau_region = match access::bureau_region(actor) {
            Some(region) => organization::Entity::find_by_id(org_id)
                .one(db)
                .await?
                .and_then(|o| crate::store::region(&o.region_code))
                .is_some_and(|r| r.is_within(region)),
            None => false,
        };
        if !in_bureau_region {
            return Err(ServiceError::not_found("organisation"));
        }
    }
    let from = NaiveDate::from_ymd_opt(year, 1, 1)
        .ok_or_else(|| ServiceError::field("year", "invalid", "not a year"))?;
    let to = NaiveDate::from_ymd_opt(year, 12, 31)
        .ok_or_else(|| ServiceError::field("year", "invalid", "not a year"))?;
    Ok(ledger::seller_totals_by_kind(db, org_id, from, to).await?)
}
