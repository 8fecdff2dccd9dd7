//! The rules of turnover reports, pure: periods and the same period a year earlier, region
//! levels, growth, rank, shares and the suppression of small cells.
use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};
pub use ttx_contracts::rollup::Sums;

/// Cells of fewer contracts than this are left out of public reports.
pub const MIN_PUBLIC_COUNT: i64 = 3;
/// The longest period a report covers.
pub const MAX_PERIOD_YEARS: i32 = 30;

/// Which party's region a figure is counted in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// 技术输出: by the seller's region.
    Output,
    /// 技术吸纳: by the buyer's region.
    Absorption,
}

impl Side {
    pub fn zh(&self) -> &'static str {
        match self {
            Side::Output => "技术输出",
            Side::Absorption => "技术吸纳",
        }
    }
}

/// What a report breaks the total down by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum By {
    Region,
    Kind,
    SubKind,
    Field,
    SellerEntityKind,
    BuyerEntityKind,
    IpKind,
    Station,
    Programme,
}

impl By {
    pub fn zh(&self) -> &'static str {
        match self {
            By::Region => "地区",
            By::Kind => "合同类别",
            By::SubKind => "合同细类",
            By::Field => "技术领域",
            By::SellerEntityKind => "卖方主体类型",
            By::BuyerEntityKind => "买方主体类型",
            By::IpKind => "知识产权类型",
            By::Station => "登记机构",
            By::Programme => "计划来源",
        }
    }
}

/// A level of the administrative hierarchy.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Province,
    City,
    County,
}

impl Level {
    /// Digits of a code that identify a region at this level.
    pub fn digits(&self) -> usize {
        match self {
            Level::Province => 2,
            Level::City => 4,
            Level::County => 6,
        }
    }

    /// The level below a region prefix of `digits` digits (none: provinces).
    pub fn below(prefix: Option<&str>) -> Level {
        match prefix.map(str::len) {
            None => Level::Province,
            Some(2) => Level::City,
            _ => Level::County,
        }
    }

    /// The code of the region at this level that `region` (6 digits) lies in, zero-padded.
    pub fn key_of(&self, region: &str) -> String {
        let d: String = region.chars().take(self.digits()).collect();
        format!("{d:0<6}")
    }
}

/// The step of a series.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Interval {
    Month,
    Quarter,
    Year,
}

impl Interval {
    fn months(&self) -> u32 {
        match self {
            Interval::Month => 1,
            Interval::Quarter => 3,
            Interval::Year => 12,
        }
    }

    /// The start of the interval containing `d`.
    pub fn start_of(&self, d: NaiveDate) -> NaiveDate {
        let m0 = (d.month0() / self.months()) * self.months();
        NaiveDate::from_ymd_opt(d.year(), m0 + 1, 1).expect("valid month start")
    }
}

/// An inclusive range of dates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// Why a period is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeriodError {
    Reversed,
    TooLong,
    OutOfRange,
}

impl std::fmt::Display for PeriodError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PeriodError::Reversed => "must not be before `from`",
            PeriodError::TooLong => "a period may cover at most 30 years",
            PeriodError::OutOfRange => "must be between the years 1949 and 2999",
        })
    }
}

fn last_day_of_month(d: NaiveDate) -> NaiveDate {
    let first = d.with_day(1).expect("day 1");
    first + Months::new(1) - chrono::Days::new(1)
}

fn is_last_day_of_month(d: NaiveDate) -> bool {
    last_day_of_month(d) == d
}

impl Period {
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Period, PeriodError> {
        if !(1949..=2999).contains(&from.year()) || !(1949..=2999).contains(&to.year()) {
            return Err(PeriodError::OutOfRange);
        }
        if to < from {
            return Err(PeriodError::Reversed);
        }
        if to.year() - from.year() > MAX_PERIOD_YEARS {
            return Err(PeriodError::TooLong);
        }
        Ok(Period { from, to })
    }

    /// The calendar year of `d`.
    pub fn year_of(d: NaiveDate) -> Period {
        Period {
            from: NaiveDate::from_ymd_opt(d.year(), 1, 1).expect("1 January"),
            to: NaiveDate::from_ymd_opt(d.year(), 12, 31).expect("31 December"),
        }
    }

    /// The same period a year earlier. A period that ends on the last day of a month ends on
    /// the last day of that month a year earlier (February 2025 → February 2024, all 29 days).
    pub fn previous_year(&self) -> Period {
        let back = |d: NaiveDate| d - Months::new(12);
        let to = if is_last_day_of_month(self.to) {
            last_day_of_month(back(self.to))
        } else {
            back(self.to)
        };
        Period {
            from: back(self.from),
            to,
        }
    }

    /// The period cut into the ranges a report reads: the whole months (first and last month)
    /// it covers, and the days of a partial first and last month.
    pub fn split(&self) -> Split {
        let first_full = if self.from.day() == 1 {
            self.from
        } else {
            last_day_of_month(self.from) + chrono::Days::new(1)
        };
        let last_full_end = if is_last_day_of_month(self.to) {
            self.to
        } else {
            self.to.with_day(1).expect("day 1") - chrono::Days::new(1)
        };
        if first_full > last_full_end {
            return Split {
                months: None,
                days: vec![*self],
            };
        }
        let mut days = vec![];
        if first_full > self.from {
            days.push(Period {
                from: self.from,
                to: first_full - chrono::Days::new(1),
            });
        }
        if last_full_end < self.to {
            days.push(Period {
                from: last_full_end + chrono::Days::new(1),
                to: self.to,
            });
        }
        Split {
            months: Some((first_full, last_full_end.with_day(1).expect("day 1"))),
            days,
        }
    }

    /// The consecutive intervals (clipped to the period) that a series shows.
    pub fn steps(&self, interval: Interval) -> Vec<Period> {
        let mut out = vec![];
        let mut start = interval.start_of(self.from);
        while start <= self.to {
            let next = start + Months::new(interval.months());
            out.push(Period {
                from: start.max(self.from),
                to: (next - chrono::Days::new(1)).min(self.to),
            });
            start = next;
        }
        out
    }
}

/// A period cut for reading: the first and last whole month (by their first days), and the
/// partial-month day ranges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    pub months: Option<(NaiveDate, NaiveDate)>,
    pub days: Vec<Period>,
}

/// Growth against the same period a year earlier, as fractions; `None` where the earlier
/// figure is zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Growth {
    pub count: Option<f64>,
    pub contract_amount: Option<f64>,
    pub technology_amount: Option<f64>,
}

fn ratio(cur: i64, prev: i64) -> Option<f64> {
    (prev != 0).then(|| (cur - prev) as f64 / prev as f64)
}

/// Year-on-year growth of `cur` over `prev`.
pub fn yoy(cur: Sums, prev: Sums) -> Growth {
    Growth {
        count: ratio(cur.count, prev.count),
        contract_amount: ratio(cur.contract_amount, prev.contract_amount),
        technology_amount: ratio(cur.technology_amount, prev.technology_amount),
    }
}

/// Ranks by amount, largest first; equal amounts share the better rank ("1, 2, 2, 4").
pub fn ranks(amounts: &[i64]) -> Vec<u32> {
    amounts
        .iter()
        .map(|a| 1 + amounts.iter().filter(|b| *b > a).count() as u32)
        .collect()
}

/// The part of `total` that `part` is; `None` when the total is zero.
pub fn share(part: i64, total: i64) -> Option<f64> {
    (total != 0).then(|| part as f64 / total as f64)
}

/// Whether a cell may be shown in the public view: 3 contracts or more, or nothing at all (a
/// period without contracts reveals no deal).
pub fn publishable(s: &Sums) -> bool {
    s.count >= MIN_PUBLIC_COUNT || s.is_zero()
}

/// The indexes of the cells to leave out of a public report: every cell of fewer than
/// [`MIN_PUBLIC_COUNT`] contracts (empty cells excepted), and, when that is exactly one cell,
/// the smallest other non-empty cell too, so the hidden one cannot be read off as the total
/// less the rest.
pub fn suppressed_cells(cells: &[Sums]) -> Vec<usize> {
    let mut out: Vec<usize> = (0..cells.len())
        .filter(|i| !publishable(&cells[*i]))
        .collect();
    if out.len() == 1 {
        let smallest = (0..cells.len())
            .filter(|i| !out.contains(i) && !cells[*i].is_zero())
            .min_by_key(|i| (cells[*i].count, cells[*i].contract_amount));
        if let Some(i) = smallest {
            out.push(i);
            out.sort_unstable();
        }
    }
    out
}

/// Amounts in fen shown in a unit, exactly, as a decimal string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// 元
    Yuan,
    /// 万元
    Wan,
    /// 亿元
    Yi,
}

impl Unit {
    pub fn zh(&self) -> &'static str {
        match self {
            Unit::Yuan => "元",
            Unit::Wan => "万元",
            Unit::Yi => "亿元",
        }
    }

    /// Decimal places that show a fen amount exactly.
    pub fn scale(&self) -> u32 {
        match self {
            Unit::Yuan => 2,
            Unit::Wan => 6,
            Unit::Yi => 10,
        }
    }

    /// `fen` in this unit as an exact decimal: 元 with two places, 万元 with six, 亿元 with ten
    /// (`123456789` fen is `"123.456789"` 万元).
    pub fn format(&self, fen: i64) -> String {
        let scale = self.scale();
        let div = 10i128.pow(scale);
        let v = fen as i128;
        let sign = if v < 0 { "-" } else { "" };
        let v = v.abs();
        format!(
            "{sign}{}.{:0width$}",
            v / div,
            v % div,
            width = scale as usize
        )
    }

    /// `fen` in this unit as a float (for spreadsheets and charts).
    pub fn value(&self, fen: i64) -> f64 {
        fen as f64 / 10f64.powi(self.scale() as i32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn p(a: &str, b: &str) -> Period {
        Period::new(d(a), d(b)).unwrap()
    }

    fn sums(count: i64, amount: i64) -> Sums {
        Sums {
            count,
            contract_amount: amount,
            technology_amount: amount,
        }
    }

    #[test]
    fn previous_year_keeps_whole_months_whole() {
        assert_eq!(
            p("2025-01-01", "2025-12-31").previous_year(),
            p("2024-01-01", "2024-12-31")
        );
        assert_eq!(
            p("2025-02-01", "2025-02-28").previous_year(),
            p("2024-02-01", "2024-02-29")
        );
        assert_eq!(
            p("2024-02-01", "2024-02-29").previous_year(),
            p("2023-02-01", "2023-02-28")
        );
        assert_eq!(
            p("2025-03-10", "2025-06-15").previous_year(),
            p("2024-03-10", "2024-06-15")
        );
    }

    #[test]
    fn periods_are_checked() {
        assert_eq!(
            Period::new(d("2025-02-01"), d("2025-01-01")),
            Err(PeriodError::Reversed)
        );
        assert_eq!(
            Period::new(d("1900-01-01"), d("2025-01-01")),
            Err(PeriodError::OutOfRange)
        );
        assert_eq!(
            Period::new(d("1960-01-01"), d("2025-01-01")),
            Err(PeriodError::TooLong)
        );
    }

    #[test]
    fn split_into_months_and_days() {
        let s = p("2025-01-01", "2025-12-31").split();
        assert_eq!(s.months, Some((d("2025-01-01"), d("2025-12-01"))));
        assert!(s.days.is_empty());

        let s = p("2025-01-15", "2025-03-10").split();
        assert_eq!(s.months, Some((d("2025-02-01"), d("2025-02-01"))));
        assert_eq!(
            s.days,
            vec![p("2025-01-15", "2025-01-31"), p("2025-03-01", "2025-03-10")]
        );

        let s = p("2025-01-15", "2025-01-20").split();
        assert_eq!(s.months, None);
        assert_eq!(s.days, vec![p("2025-01-15", "2025-01-20")]);

        let s = p("2025-01-15", "2025-02-10").split();
        assert_eq!(s.months, None);
        assert_eq!(s.days, vec![p("2025-01-15", "2025-02-10")]);
    }

    #[test]
    fn steps_of_a_series() {
        let q = p("2024-02-10", "2024-11-30").steps(Interval::Quarter);
        assert_eq!(
            q,
            vec![
                p("2024-02-10", "2024-03-31"),
                p("2024-04-01", "2024-06-30"),
                p("2024-07-01", "2024-09-30"),
                p("2024-10-01", "2024-11-30"),
            ]
        );
        assert_eq!(
            p("2024-01-01", "2025-12-31").steps(Interval::Month).len(),
            24
        );
        assert_eq!(p("2023-06-01", "2025-01-31").steps(Interval::Year).len(), 3);
    }

    #[test]
    fn levels() {
        assert_eq!(Level::Province.key_of("320505"), "320000");
        assert_eq!(Level::City.key_of("320505"), "320500");
        assert_eq!(Level::County.key_of("320505"), "320505");
        assert_eq!(Level::below(None), Level::Province);
        assert_eq!(Level::below(Some("32")), Level::City);
        assert_eq!(Level::below(Some("3205")), Level::County);
    }

    #[test]
    fn growth_rank_share() {
        let g = yoy(sums(12, 150), sums(10, 100));
        assert_eq!(g.count, Some(0.2));
        assert_eq!(g.contract_amount, Some(0.5));
        assert_eq!(yoy(sums(1, 1), sums(0, 0)).count, None);
        assert_eq!(ranks(&[5, 9, 5, 1]), vec![2, 1, 2, 4]);
        assert_eq!(share(25, 100), Some(0.25));
        assert_eq!(share(1, 0), None);
    }

    #[test]
    fn small_cells_are_suppressed_with_a_complement() {
        // none small: nothing hidden
        assert!(suppressed_cells(&[sums(3, 10), sums(5, 10)]).is_empty());
        // one small: it and the smallest other one
        assert_eq!(
            suppressed_cells(&[sums(9, 10), sums(2, 10), sums(4, 10)]),
            vec![1, 2]
        );
        // two small: those two
        assert_eq!(
            suppressed_cells(&[sums(1, 10), sums(2, 10), sums(40, 10)]),
            vec![0, 1]
        );
        // a single small cell alone stays hidden
        assert_eq!(suppressed_cells(&[sums(1, 10)]), vec![0]);
        // net counts of zero or below (amendments, terminations) are small cells too
        assert_eq!(
            suppressed_cells(&[sums(0, 10), sums(-1, -5), sums(7, 9)]),
            vec![0, 1]
        );
        // empty cells are shown, and are no complement
        assert_eq!(
            suppressed_cells(&[sums(0, 0), sums(2, 10), sums(0, 0), sums(5, 9)]),
            vec![1, 3]
        );
        assert!(suppressed_cells(&[sums(0, 0), sums(4, 1)]).is_empty());
    }

    #[test]
    fn units_are_exact() {
        assert_eq!(Unit::Yuan.format(123456), "1234.56");
        assert_eq!(Unit::Wan.format(123456789), "123.456789");
        assert_eq!(Unit::Yi.format(12345678901234), "1234.5678901234");
        assert_eq!(Unit::Wan.format(-5), "-0.000005");
        assert_eq!(Unit::Yuan.format(0), "0.00");
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn date() -> impl Strategy<Value = NaiveDate> {
        (2000i32..2030, 1u32..=12, 1u32..=31).prop_map(|(y, m, d)| {
            let first = NaiveDate::from_ymd_opt(y, m, 1).unwrap();
            first
                + chrono::Days::new(
                    u64::from(d - 1).min((last_day_of_month(first).day() - 1) as u64),
                )
        })
    }

    fn period() -> impl Strategy<Value = Period> {
        (date(), 0u64..1200).prop_map(|(from, len)| Period {
            from,
            to: from + chrono::Days::new(len),
        })
    }

    proptest! {
        /// Whole months and partial days cover the period exactly once.
        #[test]
        fn split_partitions_the_period(p in period()) {
            let s = p.split();
            let mut covered = vec![];
            if let Some((first, last)) = s.months {
                prop_assert_eq!(first.day(), 1);
                prop_assert_eq!(last.day(), 1);
                let mut m = first;
                while m <= last {
                    let mut d = m;
                    while d < m + Months::new(1) {
                        covered.push(d);
                        d = d + chrono::Days::new(1);
                    }
                    m = m + Months::new(1);
                }
            }
            for r in &s.days {
                let mut d = r.from;
                while d <= r.to {
                    covered.push(d);
                    d = d + chrono::Days::new(1);
                }
            }
            covered.sort();
            let want: Vec<NaiveDate> = p.from.iter_days().take_while(|d| *d <= p.to).collect();
            prop_assert_eq!(covered, want);
        }

        /// The steps of a series partition the period, for every interval.
        #[test]
        fn steps_partition_the_period(p in period()) {
            for i in [Interval::Month, Interval::Quarter, Interval::Year] {
                let steps = p.steps(i);
                prop_assert_eq!(steps.first().unwrap().from, p.from);
                prop_assert_eq!(steps.last().unwrap().to, p.to);
                for w in steps.windows(2) {
                    prop_assert_eq!(w[0].to + chrono::Days::new(1), w[1].from);
                }
            }
        }

        /// A year earlier is 365 or 366 days before, month lengths kept.
        #[test]
        fn previous_year_is_a_year_back(p in period()) {
            let q = p.previous_year();
            prop_assert!(q.from < p.from);
            let back = (p.from - q.from).num_days();
            prop_assert!(back == 365 || back == 366);
            prop_assert!(q.to <= p.to - chrono::Days::new(364));
            if last_day_of_month(p.to) == p.to {
                prop_assert_eq!(last_day_of_month(q.to), q.to);
            }
        }

        /// Exact units: the decimal string reads back as the same number of fen.
        #[test]
        fn unit_strings_are_exact(fen in -10_000_000_000_000i64..10_000_000_000_000) {
            for u in [Unit::Yuan, Unit::Wan, Unit::Yi] {
                let s = u.format(fen);
                let digits: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
                let n: i128 = digits.parse().unwrap();
                let n = if s.starts_with('-') { -n } else { n };
                prop_assert_eq!(n, fen as i128);
            }
        }

        /// The public view never shows a cell of fewer than 3 contracts, and never hides exactly
        /// one cell while showing others.
        #[test]
        fn suppression_hides_small_and_never_one_alone(counts in proptest::collection::vec(-2i64..20, 0..12)) {
            let cells: Vec<Sums> = counts.iter().map(|c| Sums { count: *c, contract_amount: *c * 10, technology_amount: 0 }).collect();
            let hidden = suppressed_cells(&cells);
            for (i, c) in cells.iter().enumerate() {
                if !publishable(c) {
                    prop_assert!(hidden.contains(&i));
                }
            }
            let non_empty = cells.iter().filter(|c| !c.is_zero()).count();
            prop_assert!(hidden.len() != 1 || non_empty == 1);
            for i in &hidden {
                prop_assert!(!cells[*i].is_zero());
            }
        }
    }
}
