//! Contracts registered outside the review flow: a station's historical register moved to TTX
//! (keeping its numbers) and the demo data set. Each is booked in the ledger on its original
//! registration date.
use crate::domain::{ledger, ContractContent, ContractStatus};
use crate::entity::contract;
use crate::numbering;
use crate::store;
use chrono::{Datelike, NaiveDate};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait};
use ttx_core::ContractSubKind;
use ttx_web::ApiError;

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

/// Inserts a registered contract and its ledger entry, inside the caller's transaction. The
/// content must have passed [`ContractContent::check`].
pub async fn insert_registered<C: ConnectionTrait>(
    conn: &C,
    station_id: i64,
    r: &Registered,
) -> Result<contract::Model, ApiError> {
    let number = match &r.number {
        Some(n) => n.clone(),
        None => numbering::next(conn, station_id, r.registered_on.year())
            .await?
            .format(),
    };
    let decided = r
        .registered_on
        .and_hms_opt(4, 0, 0)
        .map(|d| d.and_utc())
        .unwrap_or_else(chrono::Utc::now);
    let now = chrono::Utc::now();
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
