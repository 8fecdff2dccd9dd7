//! The monthly roll-up of the turnover ledger (`stats_monthly`), which reports read instead of
//! summing every entry.
//!
//! Each ledger entry adds to one cell per side and breakdown dimension: output (by the seller's
//! city), absorption (by the buyer's city) and flow (seller city → buyer city), in the month it
//! was booked. [`apply`] runs inside the same transaction as the ledger append, so the roll-up
//! never disagrees with the ledger; [`rebuild`] recomputes it from the ledger and [`check`]
//! compares the two. Both go through [`cells`], the one definition of which cells an entry
//! touches.
use crate::domain::ledger::LedgerDelta;
use crate::entity::{ledger_entry as le, stats_monthly as sm};
use chrono::{Datelike, Months, NaiveDate};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, TransactionSession, TransactionTrait,
};
use std::collections::BTreeMap;

/// Technology output: by the seller's region.
pub const SIDE_OUTPUT: &str = "o";
/// Technology absorption: by the buyer's region.
pub const SIDE_ABSORPTION: &str = "a";
/// Flows: region = the seller's city, value = the buyer's city.
pub const SIDE_FLOW: &str = "f";

/// The breakdown dimensions kept per side (`total` has the value '').
pub const DIMS: &[&str] = &[
    "total",
    "kind",
    "sub_kind",
    "field",
    "seller_entity_kind",
    "buyer_entity_kind",
    "ip_kind",
    "programme",
];
/// The dimension of the flow cells.
pub const DIM_FLOW: &str = "flow";

/// The city a region belongs to, as the roll-up keys it: its first four digits, then `00`.
pub fn city_of(region: &str) -> String {
    let digits: String = region.chars().take(4).collect();
    format!("{digits:0<6}")
}

/// The first day of the month of `d`.
pub fn month_of(d: NaiveDate) -> NaiveDate {
    d.with_day(1).expect("day 1 exists in every month")
}

/// One cell of the roll-up.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CellKey {
    pub side: &'static str,
    pub dim: &'static str,
    pub month: NaiveDate,
    pub region: String,
    pub value: String,
}

/// Net count and amounts (fen).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sums {
    pub count: i64,
    pub contract_amount: i64,
    pub technology_amount: i64,
}

impl Sums {
    pub fn add(&mut self, o: Sums) {
        self.count += o.count;
        self.contract_amount += o.contract_amount;
        self.technology_amount += o.technology_amount;
    }
    pub fn is_zero(&self) -> bool {
        *self == Sums::default()
    }
}

/// What the roll-up needs of one entry, whether it comes from a delta being appended or from a
/// stored ledger row.
#[derive(Clone, Copy, Debug)]
pub struct EntryView<'a> {
    pub booked_on: NaiveDate,
    pub seller_region: &'a str,
    pub buyer_region: &'a str,
    pub kind: &'a str,
    pub sub_kind: &'a str,
    pub tech_field: &'a str,
    pub seller_entity_kind: &'a str,
    pub buyer_entity_kind: &'a str,
    pub ip_kind: Option<&'a str>,
    pub programme: Option<&'a str>,
    pub sums: Sums,
}

impl<'a> EntryView<'a> {
    pub fn of_row(e: &'a le::Model) -> Self {
        EntryView {
            booked_on: e.booked_on,
            seller_region: &e.seller_region,
            buyer_region: &e.buyer_region,
            kind: &e.kind,
            sub_kind: &e.sub_kind,
            tech_field: &e.tech_field,
            seller_entity_kind: &e.seller_entity_kind,
            buyer_entity_kind: &e.buyer_entity_kind,
            ip_kind: e.ip_kind.as_deref(),
            programme: e.programme_source.as_deref(),
            sums: Sums {
                count: e.count_delta as i64,
                contract_amount: e.contract_amount_delta,
                technology_amount: e.technology_amount_delta,
            },
        }
    }

    /// The value of a breakdown dimension ('' for none).
    fn value(&self, dim: &str) -> &'a str {
        match dim {
            "kind" => self.kind,
            "sub_kind" => self.sub_kind,
            "field" => self.tech_field,
            "seller_entity_kind" => self.seller_entity_kind,
            "buyer_entity_kind" => self.buyer_entity_kind,
            "ip_kind" => self.ip_kind.unwrap_or(""),
            "programme" => self.programme.unwrap_or(""),
            _ => "",
        }
    }
}

/// Adds the cells one entry touches to `out`.
pub fn cells(e: &EntryView<'_>, out: &mut BTreeMap<CellKey, Sums>) {
    let month = month_of(e.booked_on);
    let seller_city = city_of(e.seller_region);
    let buyer_city = city_of(e.buyer_region);
    for (side, city) in [(SIDE_OUTPUT, &seller_city), (SIDE_ABSORPTION, &buyer_city)] {
        for dim in DIMS {
            let key = CellKey {
                side,
                dim,
                month,
                region: city.clone(),
                value: e.value(dim).to_string(),
            };
            out.entry(key).or_default().add(e.sums);
        }
    }
    let key = CellKey {
        side: SIDE_FLOW,
        dim: DIM_FLOW,
        month,
        region: seller_city,
        value: buyer_city,
    };
    out.entry(key).or_default().add(e.sums);
}

/// Adds the deltas being appended on `booked_on` to the roll-up (inside the append's
/// transaction).
pub async fn apply<C: ConnectionTrait>(
    conn: &C,
    booked_on: NaiveDate,
    deltas: &[LedgerDelta],
) -> Result<(), DbErr> {
    let mut acc = BTreeMap::new();
    for d in deltas {
        let (seller, buyer) = (
            d.dims.seller_region.as_string(),
            d.dims.buyer_region.as_string(),
        );
        let view = EntryView {
            booked_on,
            seller_region: &seller,
            buyer_region: &buyer,
            kind: d.dims.kind.as_str(),
            sub_kind: d.dims.sub_kind.as_str(),
            tech_field: d.dims.tech_field.as_str(),
            seller_entity_kind: d.dims.seller_entity_kind.as_str(),
            buyer_entity_kind: d.dims.buyer_entity_kind.as_str(),
            ip_kind: d.dims.ip_kind.map(|k| k.as_str()),
            programme: d.dims.programme_source.as_deref(),
            sums: Sums {
                count: d.count as i64,
                contract_amount: d.contract_amount.0,
                technology_amount: d.technology_amount.0,
            },
        };
        cells(&view, &mut acc);
    }
    upsert(conn, acc).await
}

/// Adds `cells` to the stored ones. Keys are visited in order, so concurrent appends lock rows
/// in the same order and cannot deadlock.
async fn upsert<C: ConnectionTrait>(conn: &C, cells: BTreeMap<CellKey, Sums>) -> Result<(), DbErr> {
    let rows: Vec<sm::ActiveModel> = cells
        .into_iter()
        .filter(|(_, s)| !s.is_zero())
        .map(|(k, s)| active(k, s))
        .collect();
    let add =
        |c: sm::Column| Expr::col((sm::Entity, c)).add(Expr::col((Alias::new("excluded"), c)));
    // 9 bind parameters a row; stay well below SQLite's limit.
    for chunk in rows.chunks(1000) {
        sm::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::columns([
                    sm::Column::Side,
                    sm::Column::Dim,
                    sm::Column::Month,
                    sm::Column::Region,
                    sm::Column::Value,
                ])
                .value(sm::Column::Count, add(sm::Column::Count))
                .value(sm::Column::ContractAmount, add(sm::Column::ContractAmount))
                .value(
                    sm::Column::TechnologyAmount,
                    add(sm::Column::TechnologyAmount),
                )
                .to_owned(),
            )
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

fn active(k: CellKey, s: Sums) -> sm::ActiveModel {
    sm::ActiveModel {
        month: Set(k.month),
        side: Set(k.side.to_string()),
        region: Set(k.region),
        dim: Set(k.dim.to_string()),
        value: Set(k.value),
        count: Set(s.count),
        contract_amount: Set(s.contract_amount),
        technology_amount: Set(s.technology_amount),
        ..Default::default()
    }
}

/// The first and last booking dates in the ledger.
async fn ledger_span<C: ConnectionTrait>(
    conn: &C,
) -> Result<Option<(NaiveDate, NaiveDate)>, DbErr> {
    let first = le::Entity::find()
        .order_by_asc(le::Column::BookedOn)
        .one(conn)
        .await?;
    let last = le::Entity::find()
        .order_by_desc(le::Column::BookedOn)
        .one(conn)
        .await?;
    Ok(first.zip(last).map(|(a, b)| (a.booked_on, b.booked_on)))
}

/// The cells of one month, recomputed from the ledger.
async fn month_from_ledger<C: ConnectionTrait>(
    conn: &C,
    month: NaiveDate,
) -> Result<BTreeMap<CellKey, Sums>, DbErr> {
    let next = month + Months::new(1);
    let mut acc = BTreeMap::new();
    let mut after = 0i64;
    loop {
        let rows = le::Entity::find()
            .filter(le::Column::BookedOn.gte(month))
            .filter(le::Column::BookedOn.lt(next))
            .filter(le::Column::Id.gt(after))
            .order_by_asc(le::Column::Id)
            .limit(20_000)
            .all(conn)
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        for r in &rows {
            cells(&EntryView::of_row(r), &mut acc);
        }
    }
    acc.retain(|_, s| !s.is_zero());
    Ok(acc)
}

/// The months from the first to the last booking.
async fn months<C: ConnectionTrait>(conn: &C) -> Result<Vec<NaiveDate>, DbErr> {
    let Some((first, last)) = ledger_span(conn).await? else {
        return Ok(vec![]);
    };
    let mut out = vec![];
    let mut m = month_of(first);
    while m <= last {
        out.push(m);
        m = m + Months::new(1);
    }
    Ok(out)
}

/// Recomputes the roll-up from the ledger, month by month, in one transaction. `progress` is
/// called after each month with (months done, months in all).
pub async fn rebuild<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    mut progress: impl FnMut(usize, usize),
) -> Result<u64, DbErr> {
    let txn = db.begin().await?;
    sm::Entity::delete_many().exec(&txn).await?;
    let months = months(&txn).await?;
    let mut cells_written = 0u64;
    for (i, m) in months.iter().enumerate() {
        let acc = month_from_ledger(&txn, *m).await?;
        cells_written += acc.len() as u64;
        upsert(&txn, acc).await?;
        progress(i + 1, months.len());
    }
    txn.commit().await?;
    Ok(cells_written)
}

/// A cell whose stored figures differ from the ledger's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    pub key: CellKey,
    pub stored: Sums,
    pub ledger: Sums,
}

/// Compares the roll-up with the ledger, month by month.
pub async fn check<C: ConnectionTrait>(
    conn: &C,
    mut progress: impl FnMut(usize, usize),
) -> Result<Vec<Mismatch>, DbErr> {
    let mut out = vec![];
    let months = months(conn).await?;
    for (i, m) in months.iter().enumerate() {
        let want = month_from_ledger(conn, *m).await?;
        let mut have: BTreeMap<CellKey, Sums> = BTreeMap::new();
        for r in sm::Entity::find()
            .filter(sm::Column::Month.eq(*m))
            .all(conn)
            .await?
        {
            let Some(side) = [SIDE_OUTPUT, SIDE_ABSORPTION, SIDE_FLOW]
                .into_iter()
                .find(|s| *s == r.side)
            else {
                continue;
            };
            let Some(dim) = DIMS.iter().chain([&DIM_FLOW]).find(|d| **d == r.dim) else {
                continue;
            };
            let s = Sums {
                count: r.count,
                contract_amount: r.contract_amount,
                technology_amount: r.technology_amount,
            };
            if s.is_zero() {
                continue;
            }
            have.insert(
                CellKey {
                    side,
                    dim,
                    month: r.month,
                    region: r.region,
                    value: r.value,
                },
                s,
            );
        }
        for (k, w) in &want {
            let h = have.remove(k).unwrap_or_default();
            if h != *w {
                out.push(Mismatch {
                    key: k.clone(),
                    stored: h,
                    ledger: *w,
                });
            }
        }
        out.extend(have.into_iter().map(|(key, stored)| Mismatch {
            key,
            stored,
            ledger: Sums::default(),
        }));
        progress(i + 1, months.len());
    }
    // Cells outside the ledger's months.
    let stray = match months.first().zip(months.last()) {
        Some((a, b)) => {
            sm::Entity::find()
                .filter(sm::Column::Month.lt(*a).or(sm::Column::Month.gt(*b)))
                .filter(
                    sm::Column::Count
                        .ne(0)
                        .or(sm::Column::ContractAmount.ne(0))
                        .or(sm::Column::TechnologyAmount.ne(0)),
                )
                .count(conn)
                .await?
        }
        None => sm::Entity::find().count(conn).await?,
    };
    if stray > 0 {
        tracing::warn!(cells = stray, "roll-up cells outside the ledger's months");
        out.push(Mismatch {
            key: CellKey {
                side: "",
                dim: "",
                month: NaiveDate::MIN,
                region: String::new(),
                value: format!("{stray} cells outside the ledger's months"),
            },
            stored: Sums::default(),
            ledger: Sums::default(),
        });
    }
    Ok(out)
}

/// Builds the roll-up when it is empty but the ledger is not (a database from before the
/// roll-up existed). Returns whether it built.
pub async fn ensure<C: ConnectionTrait + TransactionTrait>(db: &C) -> Result<bool, DbErr> {
    let has_cells = sm::Entity::find().one(db).await?.is_some();
    let has_entries = le::Entity::find().one(db).await?.is_some();
    if has_cells || !has_entries {
        return Ok(false);
    }
    tracing::info!("building the statistics roll-up from the ledger");
    rebuild(db, |_, _| {}).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(
        booked_on: &str,
        seller: &'static str,
        buyer: &'static str,
        amount: i64,
    ) -> EntryView<'static> {
        EntryView {
            booked_on: booked_on.parse().unwrap(),
            seller_region: seller,
            buyer_region: buyer,
            kind: "development",
            sub_kind: "entrusted_development",
            tech_field: "new_energy",
            seller_entity_kind: "university",
            buyer_entity_kind: "enterprise",
            ip_kind: None,
            programme: Some("国家重点研发计划"),
            sums: Sums {
                count: 1,
                contract_amount: amount,
                technology_amount: amount / 2,
            },
        }
    }

    #[test]
    fn cities_and_months() {
        assert_eq!(city_of("320505"), "320500");
        assert_eq!(city_of("110000"), "110000");
        assert_eq!(
            month_of("2025-02-28".parse().unwrap()),
            "2025-02-01".parse().unwrap()
        );
    }

    #[test]
    fn an_entry_touches_every_dimension_on_both_sides_and_one_flow() {
        let mut acc = BTreeMap::new();
        cells(&view("2025-03-15", "320505", "440305", 1000), &mut acc);
        assert_eq!(acc.len(), 2 * DIMS.len() + 1);
        let flow = acc
            .iter()
            .find(|(k, _)| k.side == SIDE_FLOW)
            .map(|(k, s)| (k.region.as_str(), k.value.as_str(), s.contract_amount));
        assert_eq!(flow, Some(("320500", "440300", 1000)));
        // every side and dimension sums to the entry
        for side in [SIDE_OUTPUT, SIDE_ABSORPTION] {
            for dim in DIMS {
                let total: i64 = acc
                    .iter()
                    .filter(|(k, _)| k.side == side && k.dim == *dim)
                    .map(|(_, s)| s.contract_amount)
                    .sum();
                assert_eq!(total, 1000, "{side} {dim}");
            }
        }
        let ip = acc
            .keys()
            .find(|k| k.side == SIDE_OUTPUT && k.dim == "ip_kind")
            .unwrap();
        assert_eq!(ip.value, "");
    }

    #[test]
    fn a_reversal_cancels_its_booking() {
        let mut acc = BTreeMap::new();
        cells(&view("2025-03-15", "320505", "440305", 1000), &mut acc);
        let mut rev = view("2025-03-20", "320505", "440305", -1000);
        rev.sums.count = -1;
        cells(&rev, &mut acc);
        assert!(acc.values().all(Sums::is_zero));
    }
}
