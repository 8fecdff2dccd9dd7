//! The turnover ledger in the database: append and read, nothing else.
//!
//! There is deliberately no update or delete path here, and the entity is private to the crate;
//! the migration adds triggers so the database itself refuses `UPDATE` and `DELETE` on
//! `ledger_entries`.
use crate::domain::ledger::LedgerDelta;
use crate::entity::ledger_entry as le;
use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;
use ttx_core::Fen;
use utoipa::ToSchema;

/// Appends entries booked on `booked_on`, and adds them to the statistics roll-up
/// ([`crate::rollup`]) in the same transaction.
pub async fn append<C: ConnectionTrait>(
    conn: &C,
    contract_id: i64,
    amendment_id: Option<i64>,
    booked_on: NaiveDate,
    deltas: &[LedgerDelta],
) -> Result<(), DbErr> {
    if deltas.is_empty() {
        return Ok(());
    }
    let now = ttx_core::clock::now();
    let rows = deltas.iter().map(|d| le::ActiveModel {
        contract_id: Set(contract_id),
        amendment_id: Set(amendment_id),
        entry_kind: Set(d.kind.as_str().to_string()),
        booked_on: Set(booked_on),
        count_delta: Set(d.count),
        contract_amount_delta: Set(d.contract_amount.0),
        technology_amount_delta: Set(d.technology_amount.0),
        station_id: Set(d.dims.station_id),
        seller_org_id: Set(d.dims.seller_org_id),
        seller_region: Set(d.dims.seller_region.as_string()),
        seller_entity_kind: Set(d.dims.seller_entity_kind.as_str().to_string()),
        buyer_org_id: Set(d.dims.buyer_org_id),
        buyer_region: Set(d.dims.buyer_region.as_string()),
        buyer_entity_kind: Set(d.dims.buyer_entity_kind.as_str().to_string()),
        kind: Set(d.dims.kind.as_str().to_string()),
        sub_kind: Set(d.dims.sub_kind.as_str().to_string()),
        tech_field: Set(d.dims.tech_field.as_str().to_string()),
        ip_kind: Set(d.dims.ip_kind.map(|k| k.as_str().to_string())),
        programme_source: Set(d.dims.programme_source.clone()),
        created_at: Set(now),
        ..Default::default()
    });
    le::Entity::insert_many(rows).exec(conn).await?;
    crate::rollup::apply(conn, booked_on, deltas).await
}

/// One ledger entry as the API shows it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
pub struct LedgerEntryView {
    pub id: i64,
    pub contract_id: i64,
    pub amendment_id: Option<i64>,
    /// `registration`, `amendment`, `termination` or `import`.
    pub entry_kind: String,
    pub booked_on: NaiveDate,
    /// +1 when a contract starts counting, −1 when it stops, 0 for a change of amounts.
    pub count_delta: i32,
    /// Fen.
    pub contract_amount_delta: i64,
    /// Fen.
    pub technology_amount_delta: i64,
    pub station_id: i64,
    pub seller_org_id: Option<i64>,
    pub seller_region: String,
    pub seller_entity_kind: String,
    pub buyer_org_id: Option<i64>,
    pub buyer_region: String,
    pub buyer_entity_kind: String,
    pub kind: String,
    pub sub_kind: String,
    pub tech_field: String,
    pub ip_kind: Option<String>,
    pub programme_source: Option<String>,
}

impl From<le::Model> for LedgerEntryView {
    fn from(e: le::Model) -> Self {
        LedgerEntryView {
            id: e.id,
            contract_id: e.contract_id,
            amendment_id: e.amendment_id,
            entry_kind: e.entry_kind,
            booked_on: e.booked_on,
            count_delta: e.count_delta,
            contract_amount_delta: e.contract_amount_delta,
            technology_amount_delta: e.technology_amount_delta,
            station_id: e.station_id,
            seller_org_id: e.seller_org_id,
            seller_region: e.seller_region,
            seller_entity_kind: e.seller_entity_kind,
            buyer_org_id: e.buyer_org_id,
            buyer_region: e.buyer_region,
            buyer_entity_kind: e.buyer_entity_kind,
            kind: e.kind,
            sub_kind: e.sub_kind,
            tech_field: e.tech_field,
            ip_kind: e.ip_kind,
            programme_source: e.programme_source,
        }
    }
}

/// The entries of one contract, oldest first.
pub async fn of_contract<C: ConnectionTrait>(
    conn: &C,
    contract_id: i64,
) -> Result<Vec<LedgerEntryView>, DbErr> {
    Ok(le::Entity::find()
        .filter(le::Column::ContractId.eq(contract_id))
        .order_by_asc(le::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// Net count and amounts per contract kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindTotal {
    pub kind: String,
    pub contracts: i64,
    pub contract_amount: Fen,
    pub technology_amount: Fen,
}

#[derive(FromQueryResult)]
struct KindRow {
    kind: String,
    contracts: i64,
    contract_amount: i64,
    technology_amount: i64,
}

/// A seller's bookings between two dates (inclusive), summed per kind.
pub async fn seller_totals_by_kind<C: ConnectionTrait>(
    conn: &C,
    seller_org_id: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<KindTotal>, DbErr> {
    // SUM over BIGINT is NUMERIC on PostgreSQL: cast back so both backends answer integers.
    let sum = |c: le::Column| Expr::col(c).sum().cast_as("bigint");
    let rows = le::Entity::find()
        .select_only()
        .column(le::Column::Kind)
        .expr_as(sum(le::Column::CountDelta), "contracts")
        .expr_as(sum(le::Column::ContractAmountDelta), "contract_amount")
        .expr_as(sum(le::Column::TechnologyAmountDelta), "technology_amount")
        .filter(le::Column::SellerOrgId.eq(seller_org_id))
        .filter(le::Column::BookedOn.gte(from))
        .filter(le::Column::BookedOn.lte(to))
        .group_by(le::Column::Kind)
        .into_model::<KindRow>()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| KindTotal {
            kind: r.kind,
            contracts: r.contracts,
            contract_amount: Fen(r.contract_amount),
            technology_amount: Fen(r.technology_amount),
        })
        .collect())
}
