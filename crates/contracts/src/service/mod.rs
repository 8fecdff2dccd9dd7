//! Use cases: each one database transaction with its audit entry inside.
//!
//! - [`draft`]: writing, editing and submitting contracts (the seller side);
//! - [`review`]: accepting, registering, returning and refusing (the station);
//! - [`amend`]: amendments and terminations of registered contracts;
//! - [`history`]: contracts registered outside the review flow (imports, demo data);
//! - [`query`]: reads (detail, lists, queue, ledger, certificate, verification, income).
pub mod amend;
pub mod documents;
pub mod draft;
pub mod history;
pub mod links;
pub mod prefill;
pub mod query;
pub mod remind;
pub mod review;

use crate::domain::command::PartyRef;
use crate::domain::Party;
use crate::entity::contract;
use sea_orm::{ConnectionTrait, DatabaseTransaction, EntityTrait, QuerySelect};
use serde_json::Value;
use ttx_accounts::audit::{self, Target};
use ttx_accounts::entity::organization;
use ttx_accounts::Actor;
use ttx_core::{CreditCode, FieldErrors, OrgKind, RegionCode};
use ttx_web::ServiceError;

/// Settings of the contracts service.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Days a station has to decide after accepting a contract.
    pub review_deadline_days: i64,
    /// The public base URL of the service (`https://ttx.example.cn`), for the certificate's QR
    /// code; without it, the request's `Host`.
    pub public_url: Option<String>,
    /// Public registration checks per address and minute (429 above; 0: no limit).
    pub checks_per_minute: u32,
    /// Take the client address from the last `X-Forwarded-For` entry.
    pub trust_forwarded_for: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            review_deadline_days: 30,
            public_url: None,
            checks_per_minute: 30,
            trust_forwarded_for: false,
        }
    }
}

/// Today in Beijing time.
pub fn today() -> chrono::NaiveDate {
    ttx_core::clock::today()
}

/// Loads a contract and locks its row until the transaction ends (PostgreSQL; SQLite
/// transactions here hold the write lock already).
pub(crate) async fn lock(
    txn: &DatabaseTransaction,
    id: i64,
) -> Result<contract::Model, ServiceError> {
    contract::Entity::find_by_id(id)
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or_else(|| ServiceError::not_found("contract"))
}

/// The jurisdiction of the actor's station (empty for anyone else).
pub(crate) async fn actor_jurisdiction<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
) -> Result<Vec<RegionCode>, ServiceError> {
    if actor.org_kind != OrgKind::Station {
        return Ok(vec![]);
    }
    Ok(ttx_accounts::service::jurisdiction_of(conn, actor.org_id)
        .await?
        .iter()
        .filter_map(|r| RegionCode::parse(r).ok())
        .collect())
}

/// An organisation as a contract party.
pub(crate) fn org_party(o: &organization::Model) -> Result<Party, ServiceError> {
    let kind: OrgKind = o.kind.parse().map_err(ServiceError::internal)?;
    Ok(Party {
        org_id: Some(o.id),
        name: o.name.clone(),
        credit_code: o
            .credit_code
            .as_deref()
            .and_then(|c| CreditCode::parse(c).ok()),
        entity_kind: kind.entity_kind(),
        region: RegionCode::parse(&o.region_code).map_err(ServiceError::internal)?,
    })
}

/// Resolves parties given by reference; unknown organisations are field errors.
pub(crate) async fn resolve<C: ConnectionTrait>(
    conn: &C,
    r: PartyRef,
    field: &str,
    errs: &mut FieldErrors,
) -> Result<Option<Party>, ServiceError> {
    match r {
        PartyRef::Outside(p) => Ok(Some(p)),
        PartyRef::Org(id) => {
            let o = organization::Entity::find_by_id(id).one(conn).await?;
            match o {
                Some(o) if o.kind != OrgKind::Operator.as_str() => Ok(Some(org_party(&o)?)),
                _ => {
                    errs.add(
                        &format!("{field}.org_id"),
                        "unknown_org",
                        "no such organisation on TTX",
                    );
                    Ok(None)
                }
            }
        }
    }
}

pub(crate) async fn resolve_all<C: ConnectionTrait>(
    conn: &C,
    refs: Vec<PartyRef>,
    field: &str,
    errs: &mut FieldErrors,
) -> Result<Vec<Party>, ServiceError> {
    let mut out = Vec::with_capacity(refs.len());
    for (i, r) in refs.into_iter().enumerate() {
        if let Some(p) = resolve(conn, r, &format!("{field}[{i}]"), errs).await? {
            out.push(p);
        }
    }
    Ok(out)
}

pub use crate::domain::SELLER_KINDS;

/// Appends the audit entry of a contract action.
pub(crate) async fn audit<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    action: &str,
    m: &contract::Model,
    detail: Value,
) -> Result<(), ServiceError> {
    audit::record(
        conn,
        &actor.audit(),
        action,
        Target::new("contract", m.id, m.seller_org_id),
        detail,
    )
    .await?;
    Ok(())
}
