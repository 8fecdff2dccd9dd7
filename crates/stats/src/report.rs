//! The reports: who sees what, the figures with growth, rank and share, labels, and the
//! suppression of small cells in the public view.
use crate::domain::{self, By, Growth, Interval, Level, Period, Side, Sums};
use crate::query::{self, Dim, Group, Scope};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use ttx_accounts::entity::organization;
use ttx_accounts::Actor;
use ttx_core::{
    ContractKind, ContractSubKind, EntityKind, IpKind, Labelled, OrgKind, RegionCode, TechField,
};
use utoipa::ToSchema;

/// How much a caller sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Detail {
    /// Every cell.
    Full,
    /// Aggregates only: cells of fewer than 3 contracts are left out.
    Public,
}

/// The detail `actor` may see of a report within `region` (a significant prefix) and
/// `station`: operators everything; a verified bureau's analysts and admins their own region;
/// a verified station's members their station's registrations; everyone else the public view.
pub fn detail_for(actor: Option<&Actor>, region: Option<&str>, station: Option<i64>) -> Detail {
    let Some(a) = actor else {
        return Detail::Public;
    };
    if a.is_operator() {
        return Detail::Full;
    }
    if let (Some(bureau), Some(region)) = (ttx_contracts::access::bureau_region(a), region) {
        let own = bureau.prefixes().pop().unwrap_or_default();
        if !own.is_empty() && region.starts_with(&own) {
            return Detail::Full;
        }
    }
    if a.org_kind == OrgKind::Station && a.org_verified && station == Some(a.org_id) {
        return Detail::Full;
    }
    Detail::Public
}

/// Count and amounts (fen).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Figures {
    pub count: i64,
    pub contract_amount: i64,
    pub technology_amount: i64,
}

impl From<Sums> for Figures {
    fn from(s: Sums) -> Self {
        Figures {
            count: s.count,
            contract_amount: s.contract_amount,
            technology_amount: s.technology_amount,
        }
    }
}

/// The total of a report, with the same period a year earlier.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Total {
    pub count: i64,
    pub contract_amount: i64,
    pub technology_amount: i64,
    pub previous: Figures,
    pub yoy: Growth,
}

/// One row of a breakdown.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Row {
    /// Region code, vocabulary code, station id or programme name ('' for none).
    pub key: String,
    pub label_zh: String,
    pub count: i64,
    pub contract_amount: i64,
    pub technology_amount: i64,
    /// The row's part of the total contract amount; null when the total is zero.
    pub share: Option<f64>,
    /// The same period a year earlier; null where it is withheld from the public view.
    pub previous: Option<Figures>,
    pub yoy: Option<Growth>,
    /// By contract amount among the rows, 1 = largest; equal amounts share a rank.
    pub rank: u32,
}

/// `GET /v1/stats/turnover`.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct TurnoverReport {
    pub period: Period,
    pub previous: Period,
    pub side: Side,
    pub by: By,
    /// With `by=region`.
    pub level: Option<Level>,
    pub region: Option<String>,
    pub station: Option<i64>,
    pub detail: Detail,
    pub total: Total,
    pub rows: Vec<Row>,
    /// Rows left out of the public view.
    pub suppressed: usize,
}

/// What a turnover report is asked for (validated).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TurnoverSpec {
    pub period: Period,
    pub side: Side,
    pub region: Option<String>,
    pub station: Option<i64>,
    pub by: By,
    pub level: Level,
}

impl TurnoverSpec {
    fn scope(&self) -> Scope {
        Scope {
            side: self.side,
            region: self.region.clone(),
            station: self.station,
        }
    }
    fn group(&self) -> Group {
        match self.by {
            By::Region => Group::Region(self.level),
            By::Kind => Group::Dim(Dim::Kind),
            By::SubKind => Group::Dim(Dim::SubKind),
            By::Field => Group::Dim(Dim::Field),
            By::SellerEntityKind => Group::Dim(Dim::SellerEntityKind),
            By::BuyerEntityKind => Group::Dim(Dim::BuyerEntityKind),
            By::IpKind => Group::Dim(Dim::IpKind),
            By::Station => Group::Station,
            By::Programme => Group::Dim(Dim::Programme),
        }
    }
}

fn sum_all<'a>(it: impl IntoIterator<Item = &'a Sums>) -> Sums {
    let mut t = Sums::default();
    for s in it {
        t.add(*s);
    }
    t
}

/// The label of a region key (a 6-digit code at some level).
pub fn region_label(key: &str) -> String {
    if let Ok(r) = RegionCode::parse(key) {
        return r.full_name();
    }
    // A city-level key of a municipality or of counties under the province (no row of its own).
    let province = format!("{}0000", key.get(..2).unwrap_or(""));
    match RegionCode::parse(&province) {
        Ok(p) => p.name().to_string(),
        Err(_) => key.to_string(),
    }
}

fn vocab_label<T: Labelled>(code: &str) -> Option<&'static str> {
    T::from_code(code).map(|v| v.zh())
}

/// Station names by id.
pub async fn station_names<C: ConnectionTrait>(
    conn: &C,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, String>, DbErr> {
    let ids: Vec<i64> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(organization::Entity::find()
        .filter(organization::Column::Id.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect())
}

fn label(by: By, key: &str, stations: &HashMap<i64, String>) -> String {
    let none = |s: &str| s.to_string();
    match by {
        By::Region => region_label(key),
        By::Kind => vocab_label::<ContractKind>(key).map_or_else(|| none(key), str::to_string),
        By::SubKind => {
            vocab_label::<ContractSubKind>(key).map_or_else(|| none(key), str::to_string)
        }
        By::Field => vocab_label::<TechField>(key).map_or_else(|| none(key), str::to_string),
        By::SellerEntityKind | By::BuyerEntityKind => {
            vocab_label::<EntityKind>(key).map_or_else(|| none(key), str::to_string)
        }
        By::IpKind if key.is_empty() => "无知识产权".into(),
        By::IpKind => vocab_label::<IpKind>(key).map_or_else(|| none(key), str::to_string),
        By::Programme if key.is_empty() => "未注明计划来源".into(),
        By::Programme => key.to_string(),
        By::Station => key
            .parse::<i64>()
            .ok()
            .and_then(|id| stations.get(&id).cloned())
            .unwrap_or_else(|| format!("登记机构 {key}")),
    }
}

/// Builds rows from current and previous sums per key: growth, share, rank, and in the public
/// view the suppression of small cells. Returns the rows (largest first) and how many were
/// left out.
fn breakdown(
    cur: &BTreeMap<String, Sums>,
    prev: &BTreeMap<String, Sums>,
    total: Sums,
    detail: Detail,
    label: impl Fn(&str) -> String,
) -> (Vec<Row>, usize) {
    let keys: Vec<&String> = cur
        .keys()
        .chain(prev.keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let current: Vec<Sums> = keys
        .iter()
        .map(|k| cur.get(*k).copied().unwrap_or_default())
        .collect();
    let ranks = domain::ranks(
        &current
            .iter()
            .map(|s| s.contract_amount)
            .collect::<Vec<_>>(),
    );
    let hidden = match detail {
        Detail::Full => vec![],
        Detail::Public => domain::suppressed_cells(&current),
    };
    let mut rows: Vec<Row> = keys
        .iter()
        .enumerate()
        .filter(|(i, _)| !hidden.contains(i))
        .map(|(i, k)| {
            let c = current[i];
            let p = prev.get(*k).copied().unwrap_or_default();
            let show_prev = detail == Detail::Full || domain::publishable(&p);
            Row {
                key: (*k).clone(),
                label_zh: label(k),
                count: c.count,
                contract_amount: c.contract_amount,
                technology_amount: c.technology_amount,
                share: domain::share(c.contract_amount, total.contract_amount),
                previous: show_prev.then(|| p.into()),
                yoy: show_prev.then(|| domain::yoy(c, p)),
                rank: ranks[i],
            }
        })
        .collect();
    rows.sort_by(|a, b| a.rank.cmp(&b.rank).then_with(|| a.key.cmp(&b.key)));
    (rows, hidden.len())
}

/// A turnover report.
pub async fn turnover<C: ConnectionTrait>(
    conn: &C,
    spec: &TurnoverSpec,
    detail: Detail,
) -> Result<TurnoverReport, DbErr> {
    let scope = spec.scope();
    let group = spec.group();
    let previous = spec.period.previous_year();
    let cur = query::grouped(conn, &scope, group, spec.period).await?;
    let prev = query::grouped(conn, &scope, group, previous).await?;
    // Every entry has exactly one key in every grouping, so the rows add up to the total.
    let total = sum_all(cur.values());
    let total_prev = sum_all(prev.values());
    let stations = if spec.by == By::Station {
        station_names(
            conn,
            cur.keys()
                .chain(prev.keys())
                .filter_map(|k| k.parse::<i64>().ok()),
        )
        .await?
    } else {
        HashMap::new()
    };
    let (rows, suppressed) =
        breakdown(&cur, &prev, total, detail, |k| label(spec.by, k, &stations));
    Ok(TurnoverReport {
        period: spec.period,
        previous,
        side: spec.side,
        by: spec.by,
        level: (spec.by == By::Region).then_some(spec.level),
        region: spec.region.clone(),
        station: spec.station,
        detail,
        total: Total {
            count: total.count,
            contract_amount: total.contract_amount,
            technology_amount: total.technology_amount,
            previous: total_prev.into(),
            yoy: domain::yoy(total, total_prev),
        },
        rows,
        suppressed,
    })
}

/// One point of a series.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Point {
    pub period: Period,
    /// Null when suppressed.
    pub count: Option<i64>,
    pub contract_amount: Option<i64>,
    pub technology_amount: Option<i64>,
    /// The same period a year earlier; null where withheld.
    pub previous: Option<Figures>,
    pub yoy: Option<Growth>,
    pub suppressed: bool,
}

/// `GET /v1/stats/series`.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Series {
    pub period: Period,
    pub interval: Interval,
    pub side: Side,
    pub region: Option<String>,
    pub station: Option<i64>,
    pub detail: Detail,
    pub points: Vec<Point>,
    /// Points left out of the public view.
    pub suppressed: usize,
}

/// A series over `period` in steps of `interval`.
pub async fn series<C: ConnectionTrait>(
    conn: &C,
    period: Period,
    interval: Interval,
    scope: &Scope,
    detail: Detail,
) -> Result<Series, DbErr> {
    let by_month = query::grouped(conn, scope, Group::Month, period).await?;
    let prev_by_month = query::grouped(conn, scope, Group::Month, period.previous_year()).await?;
    let month_sum = |m: &BTreeMap<String, Sums>, p: Period| {
        let (lo, hi) = (
            p.from.format("%Y-%m-01").to_string(),
            p.to.format("%Y-%m-01").to_string(),
        );
        sum_all(m.range(lo..=hi).map(|(_, s)| s))
    };
    let steps = period.steps(interval);
    let cur: Vec<Sums> = steps.iter().map(|p| month_sum(&by_month, *p)).collect();
    let prev: Vec<Sums> = steps
        .iter()
        .map(|p| month_sum(&prev_by_month, p.previous_year()))
        .collect();
    let hidden = match detail {
        Detail::Full => vec![],
        Detail::Public => domain::suppressed_cells(&cur),
    };
    let points = steps
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (c, pr) = (cur[i], prev[i]);
            let hide = hidden.contains(&i);
            let show_prev = !hide && (detail == Detail::Full || domain::publishable(&pr));
            Point {
                period: *p,
                count: (!hide).then_some(c.count),
                contract_amount: (!hide).then_some(c.contract_amount),
                technology_amount: (!hide).then_some(c.technology_amount),
                previous: show_prev.then(|| pr.into()),
                yoy: show_prev.then(|| domain::yoy(c, pr)),
                suppressed: hide,
            }
        })
        .collect();
    Ok(Series {
        period,
        interval,
        side: scope.side,
        region: scope.region.clone(),
        station: scope.station,
        detail,
        points,
        suppressed: hidden.len(),
    })
}

/// A region in a flow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Place {
    pub key: String,
    pub label_zh: String,
}

/// Turnover from sellers in one region to buyers in another.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Flow {
    pub seller: Place,
    pub buyer: Place,
    pub count: i64,
    pub contract_amount: i64,
    pub technology_amount: i64,
}

/// `GET /v1/stats/flows`.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Flows {
    pub period: Period,
    pub level: Level,
    pub region: Option<String>,
    pub detail: Detail,
    pub total: Figures,
    /// Largest first.
    pub items: Vec<Flow>,
    /// Flows left out of the public view.
    pub suppressed: usize,
    /// Flows not shown beyond `limit`.
    pub truncated: usize,
}

/// Flows between regions at `level`.
pub async fn flows<C: ConnectionTrait>(
    conn: &C,
    period: Period,
    level: Level,
    region: Option<String>,
    limit: usize,
    detail: Detail,
) -> Result<Flows, DbErr> {
    let scope = Scope {
        side: Side::Output,
        region: region.clone(),
        station: None,
    };
    let cells = query::grouped(conn, &scope, Group::Flow(level), period).await?;
    let total = sum_all(cells.values());
    let keys: Vec<&String> = cells.keys().collect();
    let sums: Vec<Sums> = cells.values().copied().collect();
    let hidden = match detail {
        Detail::Full => vec![],
        Detail::Public => domain::suppressed_cells(&sums),
    };
    let place = |k: &str| Place {
        key: k.to_string(),
        label_zh: region_label(k),
    };
    let mut items: Vec<Flow> = keys
        .iter()
        .enumerate()
        .filter(|(i, _)| !hidden.contains(i))
        .map(|(i, k)| {
            let (s, b) = k.split_once('>').unwrap_or((k, ""));
            Flow {
                seller: place(s),
                buyer: place(b),
                count: sums[i].count,
                contract_amount: sums[i].contract_amount,
                technology_amount: sums[i].technology_amount,
            }
        })
        .collect();
    items.sort_by(|a, b| {
        b.contract_amount
            .cmp(&a.contract_amount)
            .then_with(|| a.seller.key.cmp(&b.seller.key))
            .then_with(|| a.buyer.key.cmp(&b.buyer.key))
    });
    let truncated = items.len().saturating_sub(limit);
    items.truncate(limit);
    Ok(Flows {
        period,
        level,
        region,
        detail,
        total: total.into(),
        items,
        suppressed: hidden.len(),
        truncated,
    })
}

/// A party among the largest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Party {
    pub rank: u32,
    /// An individual's name is not shown in the public view.
    pub name: String,
    pub org_id: Option<i64>,
    pub count: i64,
    pub contract_amount: i64,
    pub technology_amount: i64,
}

/// `GET /v1/stats/top`.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Top {
    pub period: Period,
    pub region: Option<String>,
    pub station: Option<i64>,
    pub detail: Detail,
    /// By contract amount, within the region by the seller's region.
    pub sellers: Vec<Party>,
    /// By contract amount, within the region by the buyer's region.
    pub buyers: Vec<Party>,
    /// Parties left out of the public view.
    pub suppressed: usize,
}

/// The largest sellers and buyers.
pub async fn top<C: ConnectionTrait>(
    conn: &C,
    period: Period,
    region: Option<String>,
    station: Option<i64>,
    limit: usize,
    detail: Detail,
) -> Result<Top, DbErr> {
    let mut suppressed = 0;
    let mut lists = vec![];
    for side in [Side::Output, Side::Absorption] {
        let scope = Scope {
            side,
            region: region.clone(),
            station,
        };
        // Some of the largest may be left out of the public view: read a few more.
        let want = if detail == Detail::Full {
            limit
        } else {
            limit * 3
        };
        let parties = query::top_parties(conn, &scope, period, want as u64).await?;
        let amounts: Vec<i64> = parties.iter().map(|p| p.sums.contract_amount).collect();
        let ranks = domain::ranks(&amounts);
        let mut list = vec![];
        for (p, rank) in parties.into_iter().zip(ranks) {
            if detail == Detail::Public && !domain::publishable(&p.sums) {
                suppressed += 1;
                continue;
            }
            let name = if detail == Detail::Public && p.individual {
                "（个人）".to_string()
            } else {
                p.name
            };
            list.push(Party {
                rank,
                name,
                org_id: p.org_id,
                count: p.sums.count,
                contract_amount: p.sums.contract_amount,
                technology_amount: p.sums.technology_amount,
            });
        }
        list.truncate(limit);
        lists.push(list);
    }
    let buyers = lists.pop().unwrap_or_default();
    let sellers = lists.pop().unwrap_or_default();
    Ok(Top {
        period,
        region,
        station,
        detail,
        sellers,
        buyers,
        suppressed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(count: i64, amount: i64) -> Sums {
        Sums {
            count,
            contract_amount: amount,
            technology_amount: amount / 2,
        }
    }

    fn map(v: &[(&str, Sums)]) -> BTreeMap<String, Sums> {
        v.iter().map(|(k, s)| (k.to_string(), *s)).collect()
    }

    #[test]
    fn rows_rank_share_and_grow() {
        let cur = map(&[("a", s(5, 100)), ("b", s(4, 300)), ("c", s(3, 100))]);
        let prev = map(&[("a", s(4, 50)), ("d", s(3, 10))]);
        let total = sum_all(cur.values());
        let (rows, hidden) = breakdown(&cur, &prev, total, Detail::Full, str::to_string);
        assert_eq!(hidden, 0);
        let keys: Vec<_> = rows.iter().map(|r| (r.key.as_str(), r.rank)).collect();
        assert_eq!(keys, vec![("b", 1), ("a", 2), ("c", 2), ("d", 4)]);
        let a = &rows[1];
        assert_eq!(a.share, Some(0.2));
        assert_eq!(a.yoy.unwrap().contract_amount, Some(1.0));
        let d = &rows[3];
        assert_eq!((d.count, d.contract_amount), (0, 0));
        assert_eq!(d.yoy.unwrap().contract_amount, Some(-1.0));
        // the rows add up to the total
        assert_eq!(rows.iter().map(|r| r.contract_amount).sum::<i64>(), 500);
    }

    #[test]
    fn the_public_view_hides_small_cells_and_small_earlier_figures() {
        let cur = map(&[("a", s(9, 100)), ("b", s(2, 300)), ("c", s(5, 50))]);
        let prev = map(&[("a", s(2, 50)), ("c", s(7, 10))]);
        let total = sum_all(cur.values());
        let (rows, hidden) = breakdown(&cur, &prev, total, Detail::Public, str::to_string);
        // b is small; c is the smallest of the rest and goes too, so b cannot be derived
        assert_eq!(hidden, 2);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].key, "a");
        // a's earlier figure was 2 contracts: withheld
        assert_eq!(rows[0].previous, None);
        assert_eq!(rows[0].yoy, None);
    }

    #[test]
    fn labels() {
        let none = HashMap::new();
        assert_eq!(label(By::Region, "320000", &none), "江苏省");
        assert_eq!(label(By::Kind, "development", &none), "技术开发");
        assert_eq!(label(By::IpKind, "", &none), "无知识产权");
        assert_eq!(label(By::Station, "7", &none), "登记机构 7");
        assert!(!region_label("110100").is_empty());
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;
    use ttx_contracts::rollup::{cells, CellKey, EntryView, DIMS, SIDE_ABSORPTION, SIDE_OUTPUT};

    const REGIONS: &[&str] = &["110108", "320505", "320102", "440305", "330106", "510107"];
    const KINDS: &[&str] = &[
        "development",
        "transfer",
        "license",
        "consulting",
        "service",
    ];
    const FIELDS: &[&str] = &["new_energy", "biomedicine", "agriculture"];
    const IPS: &[Option<&str>] = &[None, Some("invention_patent"), Some("software")];

    /// (seller region, buyer region, kind, field, ip kind, count, amount, day) indexes.
    type Entry = (usize, usize, usize, usize, usize, i64, i64, u32);

    /// A random ledger: bookings, amendments (count 0) and reversals (count −1).
    fn ledger() -> impl Strategy<Value = Vec<Entry>> {
        proptest::collection::vec(
            (
                0..6usize,
                0..6usize,
                0..5usize,
                0..3usize,
                0..3usize,
                -1i64..=1,
                -5_000_000i64..900_000_000,
                0u32..700,
            ),
            0..80,
        )
    }

    proptest! {
        /// Every breakdown of the roll-up adds up, to the fen, to its total on both sides; and
        /// report rows built from any grouping add up to the report's total.
        #[test]
        fn breakdowns_add_up_to_the_total(entries in ledger()) {
            let base = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
            let mut acc: BTreeMap<CellKey, Sums> = BTreeMap::new();
            let mut total = Sums::default();
            for (s, b, k, f, ip, count, amount, day) in &entries {
                let sums = Sums { count: *count, contract_amount: *amount, technology_amount: amount / 3 };
                total.add(sums);
                cells(&EntryView {
                    booked_on: base + chrono::Days::new(u64::from(*day)),
                    seller_region: REGIONS[*s],
                    buyer_region: REGIONS[*b],
                    kind: KINDS[*k],
                    sub_kind: "x",
                    tech_field: FIELDS[*f],
                    seller_entity_kind: "university",
                    buyer_entity_kind: "enterprise",
                    ip_kind: IPS[*ip],
                    programme: None,
                    sums,
                }, &mut acc);
            }
            for side in [SIDE_OUTPUT, SIDE_ABSORPTION] {
                for dim in DIMS {
                    let mut by_key: BTreeMap<String, Sums> = BTreeMap::new();
                    for (k, s) in acc.iter().filter(|(k, _)| k.side == side && k.dim == *dim) {
                        by_key.entry(k.value.clone()).or_default().add(*s);
                    }
                    let sum = sum_all(by_key.values());
                    prop_assert_eq!(sum, total, "{} {}", side, dim);
                    let (rows, hidden) = breakdown(&by_key, &BTreeMap::new(), sum, Detail::Full, str::to_string);
                    prop_assert_eq!(hidden, 0);
                    let rows_sum = rows.iter().fold(Sums::default(), |mut a, r| {
                        a.add(Sums { count: r.count, contract_amount: r.contract_amount, technology_amount: r.technology_amount });
                        a
                    });
                    prop_assert_eq!(rows_sum, total);
                }
            }
        }
    }
}
