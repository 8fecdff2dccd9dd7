//! Reading grouped sums for a period: whole months from the roll-up (`stats_monthly`), the
//! days of partial months (and whatever the roll-up does not keep) from the ledger itself.
//!
//! Both sources are grouped by the same keys, so the path taken never changes a figure.
use crate::domain::{Level, Period, Side, Sums};
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Func, SimpleExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect,
};
use std::collections::BTreeMap;
use ttx_contracts::entity::{ledger_entry as le, stats_monthly as sm};
use ttx_contracts::rollup;

/// A breakdown dimension the roll-up keeps, by its name there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dim {
    Kind,
    SubKind,
    Field,
    SellerEntityKind,
    BuyerEntityKind,
    IpKind,
    Programme,
}

impl Dim {
    fn rollup_name(&self) -> &'static str {
        match self {
            Dim::Kind => "kind",
            Dim::SubKind => "sub_kind",
            Dim::Field => "field",
            Dim::SellerEntityKind => "seller_entity_kind",
            Dim::BuyerEntityKind => "buyer_entity_kind",
            Dim::IpKind => "ip_kind",
            Dim::Programme => "programme",
        }
    }
    fn ledger_column(&self) -> le::Column {
        match self {
            Dim::Kind => le::Column::Kind,
            Dim::SubKind => le::Column::SubKind,
            Dim::Field => le::Column::TechField,
            Dim::SellerEntityKind => le::Column::SellerEntityKind,
            Dim::BuyerEntityKind => le::Column::BuyerEntityKind,
            Dim::IpKind => le::Column::IpKind,
            Dim::Programme => le::Column::ProgrammeSource,
        }
    }
}

/// What the sums are grouped by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// One figure for everything.
    Total,
    /// The side's region at a level (keys: 6-digit codes).
    Region(Level),
    Dim(Dim),
    /// The registering station (keys: its organisation id).
    Station,
    /// The month booked in (keys: `YYYY-MM-01`).
    Month,
    /// Seller region → buyer region at a level (keys: `seller>buyer`).
    Flow(Level),
}

/// Which entries count: a side's region prefix and a station.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    pub side: Side,
    /// A significant region prefix (2, 4 or 6 digits); none: the whole country.
    pub region: Option<String>,
    pub station: Option<i64>,
}

/// `[low, high]` of the 6-digit codes starting with `prefix` (digits compare the same under
/// every collation, unlike `LIKE` patterns, and an index serves the range).
fn code_range(prefix: &str) -> (String, String) {
    (format!("{prefix:0<6}"), format!("{prefix:9<6}"))
}

fn within(col: SimpleExpr, prefix: &str) -> SimpleExpr {
    let (lo, hi) = code_range(prefix);
    col.clone().gte(lo).and(col.lte(hi))
}

impl Scope {
    /// Whether the roll-up can answer for this scope and grouping.
    fn rollup_serves(&self, group: Group) -> bool {
        let region_ok = self.region.as_ref().is_none_or(|r| r.len() <= 4);
        let group_ok = match group {
            Group::Station => false,
            Group::Region(l) | Group::Flow(l) => l != Level::County,
            _ => true,
        };
        self.station.is_none() && region_ok && group_ok
    }
}

#[derive(Debug, FromQueryResult)]
struct Row {
    g1: Option<String>,
    g2: Option<String>,
    count: Option<i64>,
    contract_amount: Option<i64>,
    technology_amount: Option<i64>,
}

impl Row {
    fn sums(&self) -> Sums {
        Sums {
            count: self.count.unwrap_or(0),
            contract_amount: self.contract_amount.unwrap_or(0),
            technology_amount: self.technology_amount.unwrap_or(0),
        }
    }
}

fn text(e: SimpleExpr) -> SimpleExpr {
    e.cast_as(Alias::new("text"))
}

fn sum(e: SimpleExpr) -> SimpleExpr {
    // SUM over BIGINT is NUMERIC on PostgreSQL: cast back so both backends answer integers.
    e.sum().cast_as(Alias::new("bigint"))
}

/// The key of a row, from its group columns.
fn key_of(group: Group, r: &Row) -> String {
    let g1 = r.g1.clone().unwrap_or_default();
    let g2 = r.g2.clone().unwrap_or_default();
    match group {
        Group::Total => String::new(),
        Group::Region(l) => l.key_of(&g1),
        Group::Flow(l) => format!("{}>{}", l.key_of(&g1), l.key_of(&g2)),
        // Dates are `YYYY-MM-DD` on both backends (text on SQLite, cast on PostgreSQL).
        Group::Month => format!("{}-01", g1.get(..7).unwrap_or(&g1)),
        Group::Dim(_) | Group::Station => g1,
    }
}

/// Sums of the entries in `period` within `scope`, grouped.
pub async fn grouped<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    group: Group,
    period: Period,
) -> Result<BTreeMap<String, Sums>, DbErr> {
    let mut out: BTreeMap<String, Sums> = BTreeMap::new();
    let mut add = |rows: Vec<Row>| {
        for r in rows {
            let s = r.sums();
            out.entry(key_of(group, &r)).or_default().add(s);
        }
    };
    if scope.rollup_serves(group) {
        let split = period.split();
        if let Some((first, last)) = split.months {
            add(from_rollup(conn, scope, group, first, last).await?);
        }
        for days in split.days {
            add(from_ledger(conn, scope, group, days).await?);
        }
    } else {
        add(from_ledger(conn, scope, group, period).await?);
    }
    out.retain(|_, s| !s.is_zero());
    Ok(out)
}

/// Whole months `first..=last` (first days) from the roll-up.
async fn from_rollup<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    group: Group,
    first: chrono::NaiveDate,
    last: chrono::NaiveDate,
) -> Result<Vec<Row>, DbErr> {
    let side = match (group, scope.side) {
        (Group::Flow(_), _) => rollup::SIDE_FLOW,
        (_, Side::Output) => rollup::SIDE_OUTPUT,
        (_, Side::Absorption) => rollup::SIDE_ABSORPTION,
    };
    let dim = match group {
        Group::Dim(d) => d.rollup_name(),
        Group::Flow(_) => rollup::DIM_FLOW,
        _ => "total",
    };
    let region = Expr::col((sm::Entity, sm::Column::Region));
    let value = Expr::col((sm::Entity, sm::Column::Value));
    let mut q = sm::Entity::find()
        .select_only()
        .filter(sm::Column::Side.eq(side))
        .filter(sm::Column::Dim.eq(dim))
        .filter(sm::Column::Month.gte(first))
        .filter(sm::Column::Month.lte(last));
    if let Some(p) = &scope.region {
        q = match group {
            Group::Flow(_) => q.filter(
                Condition::any()
                    .add(within(region.clone(), p))
                    .add(within(value.clone(), p)),
            ),
            _ => q.filter(within(region.clone(), p)),
        };
    }
    let (g1, g2): (Option<SimpleExpr>, Option<SimpleExpr>) = match group {
        Group::Total => (None, None),
        Group::Region(_) => (Some(region), None),
        Group::Dim(_) => (Some(value), None),
        Group::Month => (Some(text(Expr::col((sm::Entity, sm::Column::Month)))), None),
        Group::Flow(_) => (Some(region), Some(value)),
        Group::Station => unreachable!("the roll-up keeps no stations"),
    };
    let q = select_groups(q, g1, g2)
        .expr_as(sum(Expr::col(sm::Column::Count)), "count")
        .expr_as(
            sum(Expr::col(sm::Column::ContractAmount)),
            "contract_amount",
        )
        .expr_as(
            sum(Expr::col(sm::Column::TechnologyAmount)),
            "technology_amount",
        );
    q.into_model::<Row>().all(conn).await
}

fn select_groups<E: EntityTrait>(
    mut q: sea_orm::Select<E>,
    g1: Option<SimpleExpr>,
    g2: Option<SimpleExpr>,
) -> sea_orm::Select<E> {
    for (alias, g) in [("g1", g1), ("g2", g2)] {
        if let Some(g) = g {
            q = q.expr_as(g.clone(), alias).group_by(g);
        }
    }
    q
}

/// The days of `period` from the ledger.
async fn from_ledger<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    group: Group,
    period: Period,
) -> Result<Vec<Row>, DbErr> {
    let side_col = match scope.side {
        Side::Output => le::Column::SellerRegion,
        Side::Absorption => le::Column::BuyerRegion,
    };
    let col = |c: le::Column| -> SimpleExpr { Expr::col((le::Entity, c)) };
    let mut q = le::Entity::find()
        .select_only()
        .filter(le::Column::BookedOn.gte(period.from))
        .filter(le::Column::BookedOn.lte(period.to));
    if let Some(p) = &scope.region {
        q = match group {
            Group::Flow(_) => q.filter(
                Condition::any()
                    .add(within(col(le::Column::SellerRegion), p))
                    .add(within(col(le::Column::BuyerRegion), p)),
            ),
            _ => q.filter(within(col(side_col), p)),
        };
    }
    if let Some(s) = scope.station {
        q = q.filter(le::Column::StationId.eq(s));
    }
    let (g1, g2) = match group {
        Group::Total => (None, None),
        Group::Region(_) => (Some(col(side_col)), None),
        Group::Dim(d) => (Some(col(d.ledger_column())), None),
        Group::Station => (Some(text(col(le::Column::StationId))), None),
        Group::Month => (Some(text(col(le::Column::BookedOn))), None),
        Group::Flow(_) => (
            Some(col(le::Column::SellerRegion)),
            Some(col(le::Column::BuyerRegion)),
        ),
    };
    let q = select_groups(q, g1, g2)
        .expr_as(sum(col(le::Column::CountDelta)), "count")
        .expr_as(sum(col(le::Column::ContractAmountDelta)), "contract_amount")
        .expr_as(
            sum(col(le::Column::TechnologyAmountDelta)),
            "technology_amount",
        );
    q.into_model::<Row>().all(conn).await
}

/// The total of `period` within `scope`.
pub async fn total<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    period: Period,
) -> Result<Sums, DbErr> {
    Ok(grouped(conn, scope, Group::Total, period)
        .await?
        .remove("")
        .unwrap_or_default())
}

/// A party of contracts, with its figures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartyFigures {
    pub name: String,
    pub org_id: Option<i64>,
    pub individual: bool,
    pub sums: Sums,
}

#[derive(Debug, FromQueryResult)]
struct PartyRow {
    name: String,
    #[allow(dead_code)]
    party: String,
    org_id: Option<i64>,
    entity_kind: String,
    count: Option<i64>,
    contract_amount: Option<i64>,
    technology_amount: Option<i64>,
}

/// The parties (sellers for `Side::Output`, buyers for `Side::Absorption`) with the largest
/// contract amounts in `period` within `scope`, largest first. Parties are told apart by their
/// credit code, else their name.
pub async fn top_parties<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    period: Period,
    limit: u64,
) -> Result<Vec<PartyFigures>, DbErr> {
    use ttx_contracts::entity::contract as c;
    let (name, code, org, kind, region) = match scope.side {
        Side::Output => (
            c::Column::SellerName,
            c::Column::SellerCreditCode,
            le::Column::SellerOrgId,
            le::Column::SellerEntityKind,
            le::Column::SellerRegion,
        ),
        Side::Absorption => (
            c::Column::BuyerName,
            c::Column::BuyerCreditCode,
            le::Column::BuyerOrgId,
            le::Column::BuyerEntityKind,
            le::Column::BuyerRegion,
        ),
    };
    let lcol = |x: le::Column| -> SimpleExpr { Expr::col((le::Entity, x)) };
    let ccol = |x: c::Column| -> SimpleExpr { Expr::col((c::Entity, x)) };
    let amount = sum(lcol(le::Column::ContractAmountDelta));
    let party: SimpleExpr = Func::coalesce([ccol(code), ccol(name)]).into();
    let mut q = le::Entity::find()
        .select_only()
        .join(
            sea_orm::JoinType::InnerJoin,
            le::Entity::belongs_to(c::Entity)
                .from(le::Column::ContractId)
                .to(c::Column::Id)
                .into(),
        )
        .filter(le::Column::BookedOn.gte(period.from))
        .filter(le::Column::BookedOn.lte(period.to));
    if let Some(p) = &scope.region {
        q = q.filter(within(lcol(region), p));
    }
    if let Some(s) = scope.station {
        q = q.filter(le::Column::StationId.eq(s));
    }
    let rows = q
        .expr_as(ccol(name).max(), "name")
        .expr_as(party.clone(), "party")
        .expr_as(lcol(org).max(), "org_id")
        .expr_as(lcol(kind).max(), "entity_kind")
        .expr_as(sum(lcol(le::Column::CountDelta)), "count")
        .expr_as(amount.clone(), "contract_amount")
        .expr_as(
            sum(lcol(le::Column::TechnologyAmountDelta)),
            "technology_amount",
        )
        .group_by(party)
        .order_by(amount, sea_orm::Order::Desc)
        .limit(limit)
        .into_model::<PartyRow>()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| PartyFigures {
            name: r.name,
            org_id: r.org_id,
            individual: r.entity_kind == ttx_core::EntityKind::Individual.as_str(),
            sums: Sums {
                count: r.count.unwrap_or(0),
                contract_amount: r.contract_amount.unwrap_or(0),
                technology_amount: r.technology_amount.unwrap_or(0),
            },
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_ranges_cover_exactly_the_prefix() {
        assert_eq!(code_range("32"), ("320000".into(), "329999".into()));
        assert_eq!(code_range("3205"), ("320500".into(), "320599".into()));
        assert_eq!(code_range("320505"), ("320505".into(), "320505".into()));
    }

    #[test]
    fn the_rollup_serves_cities_and_above_without_a_station() {
        let s = |region: Option<&str>, station: Option<i64>| Scope {
            side: Side::Output,
            region: region.map(str::to_string),
            station,
        };
        assert!(s(None, None).rollup_serves(Group::Region(Level::Province)));
        assert!(s(Some("3205"), None).rollup_serves(Group::Dim(Dim::Kind)));
        assert!(!s(Some("320505"), None).rollup_serves(Group::Total));
        assert!(!s(None, Some(7)).rollup_serves(Group::Total));
        assert!(!s(None, None).rollup_serves(Group::Region(Level::County)));
        assert!(!s(None, None).rollup_serves(Group::Station));
        assert!(s(None, None).rollup_serves(Group::Flow(Level::City)));
    }
}
