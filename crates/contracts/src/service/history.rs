//! Contracts registered outside the review flow: a station's historical register moved to TTX
//! (keeping its numbers) and the demo data set. Each is booked in the ledger on its original
//! registration date; their amendments and terminations decided outside TTX are recorded as
//! approved requests and booked on the date they were decided.
use crate::domain::{ledger, AmendmentChanges, AmendmentKind, AmendmentStatus};
use crate::domain::{ContractContent, ContractStatus};
use crate::entity::{amendment, contract};
use crate::numbering;
use crate::service::amend::apply_approval;
use crate::store::{self, to_json};
use chrono::{Datelike, NaiveDate};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait};
use ttx_core::ContractSubKind;
use ttx_web::ServiceError;

/// A contract registered on `registered_on`.
#[derive(Debug, Clone)]
pub struct Registered {
    pub content: ContractContent,
    pub recognised: ContractSubKind,
    pub registered_on: NaiveDate,
    /// The number it was registered under elsewhere; `None` issues the next TTX number of the
    /// station for that year (call in registration-date order to keep them chronological).
    pub number: Option<String>,
    /// From a historical register (booked as `import` in the ledger).
    pub imported: bool,
}

/// Noon in Beijing on `d`, as the time of a decision known only by its date.
fn noon_beijing(d: NaiveDate) -> chrono::DateTime<chrono::Utc> {
    d.and_hms_opt(4, 0, 0)
        .map(|d| d.and_utc())
        .unwrap_or_else(chrono::Utc::now)
}

/// Inserts a registered contract and its ledger entry, inside the caller's transaction. The
/// content must have passed [`ContractContent::check`].
pub async fn insert_registered<C: ConnectionTrait>(
    conn: &C,
    station_id: i64,
    r: &Registered,
) -> Result<contract::Model, ServiceError> {
    let number = match &r.number {
        Some(n) => n.clone(),
        None => numbering::next(conn, station_id, r.registered_on.year())
            .await?
            .format(),
    };
    let decided = noon_beijing(r.registered_on);
    let now = ttx_core::clock::now();
    let mut am = contract::ActiveModel {
        status: Set(ContractStatus::Registered.as_str().to_string()),
        round: Set(0),
        imported: Set(r.imported),
        created_by: Set(0),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        station_id: Set(Some(station_id)),
        decided_at: Set(Some(decided)),
        registration_number: Set(Some(number)),
        registered_on: Set(Some(r.registered_on)),
        recognised_kind: Set(Some(r.recognised.kind().as_str().to_string())),
        recognised_sub_kind: Set(Some(r.recognised.as_str().to_string())),
        ..Default::default()
    };
    store::set_content(&mut am, &r.content);
    am.registered_fingerprint = Set(Some(crate::domain::fingerprint::fingerprint(&r.content)));
    let m = am.insert(conn).await?;
    let booking = store::booking(&r.content, station_id, r.recognised);
    let deltas = if r.imported {
        ledger::on_import(&booking)
    } else {
        ledger::on_register(&booking)
    };
    crate::ledger::append(conn, m.id, None, r.registered_on, &deltas).await?;
    Ok(m)
}

/// An amendment or termination decided outside TTX's request flow.
#[derive(Debug, Clone)]
pub struct DecidedChange {
    pub kind: AmendmentKind,
    /// The changes (amendments only).
    pub changes: Option<AmendmentChanges>,
    pub reason: String,
    /// When the change was approved: the ledger books it on this date.
    pub decided_on: NaiveDate,
    /// When a termination takes effect (default: `decided_on`); amendments: `None`.
    pub effective_on: Option<NaiveDate>,
    pub note: Option<String>,
}

/// Records `c` for the registered contract `m` (locked or inside a write transaction of the
/// caller) as an approved request and applies it as an approval does
/// ([`apply_approval`]): the contract changes or ends, and the ledger books the difference or
/// the reversal on `c.decided_on`. Returns the request and the contract after.
pub async fn record_decided<C: ConnectionTrait>(
    conn: &C,
    m: &contract::Model,
    c: &DecidedChange,
) -> Result<(amendment::Model, contract::Model), ServiceError> {
    let at = noon_beijing(c.decided_on);
    let a = amendment::ActiveModel {
        contract_id: Set(m.id),
        kind: Set(c.kind.as_str().to_string()),
        status: Set(AmendmentStatus::Approved.as_str().to_string()),
        reason: Set(c.reason.clone()),
        changes: Set(c.changes.as_ref().map(to_json)),
        before: Set(None),
        station_id: Set(m.station_id.unwrap_or_default()),
        submitted_by: Set(0),
        submitted_at: Set(at),
        decided_by: Set(Some(0)),
        decided_at: Set(Some(at)),
        effective_on: Set(c.effective_on),
        decision_note: Set(c.note.clone()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    let (after, before) = apply_approval(conn, m, &a, None, c.decided_on).await?;
    let a = if before.is_some() {
        let mut am: amendment::ActiveModel = a.into();
        am.before = Set(before);
        am.update(conn).await?
    } else {
        a
    };
    Ok((a, after))
}
