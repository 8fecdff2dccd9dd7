//! China's administrative regions (GB/T 2260 codes): provinces, prefecture-level cities and
//! county-level units, with roll-up to city and province and the NBS four macro-regions.
//!
//! The table is `data/regions.tsv` (see `data/REGIONS.md` for its source, licence and rules),
//! compiled into the binary and parsed once on first use. A [`RegionCode`] can only be built for a
//! code present in that table, so every method on it is total.
//!
//! Hierarchy rules (applied by the data file, relied on here):
//! - a province's code ends in `0000`, a city's in `00`, anything else is county level;
//! - a county's parent is the city-level row sharing its first four digits when the table has one,
//!   otherwise its province. Only the four municipalities (北京, 天津, 上海, 重庆) have no
//!   city-level rows, so their districts and counties hang directly off the province;
//! - county-level units administered directly by a province (e.g. 429004 仙桃市) sit under the
//!   standard placeholder city row (429000 省直辖县级行政区划), as in GB/T 2260;
//! - prefecture-level cities without counties (东莞, 中山, 儋州, 嘉峪关) are city rows with no
//!   children.
use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::labels::Labelled;

const DATA: &str = include_str!("../data/regions.tsv");

/// Names of city-level rows that are structural placeholders rather than places.
const PLACEHOLDER_NAMES: &[&str] = &[
    "市辖区",
    "县",
    "省直辖县级行政区划",
    "自治区直辖县级行政区划",
];

struct Row {
    code: u32,
    name: &'static str,
    parent: Option<u32>,
    children: Vec<u32>,
}

struct Table {
    /// Sorted by code.
    rows: Vec<Row>,
    /// Every significant prefix of every region (see [`RegionCode::prefixes`]).
    prefixes: HashSet<String>,
}

impl Table {
    fn index(&self, code: u32) -> Option<usize> {
        self.rows.binary_search_by_key(&code, |r| r.code).ok()
    }

    fn load() -> Table {
        let mut lines = DATA.lines();
        assert_eq!(
            lines.next(),
            Some("code\tname\tparent"),
            "regions.tsv: bad header"
        );
        let mut rows: Vec<Row> = Vec::with_capacity(3300);
        for (n, line) in lines.enumerate() {
            let mut cols = line.split('\t');
            let (Some(code), Some(name), Some(parent), None) =
                (cols.next(), cols.next(), cols.next(), cols.next())
            else {
                panic!("regions.tsv line {}: expected three columns", n + 2);
            };
            let code =
                parse_six(code).unwrap_or_else(|| panic!("regions.tsv line {}: bad code", n + 2));
            let parent = match parent {
                "" => None,
                p => Some(
                    parse_six(p)
                        .unwrap_or_else(|| panic!("regions.tsv line {}: bad parent", n + 2)),
                ),
            };
            assert!(!name.is_empty(), "regions.tsv line {}: empty name", n + 2);
            if let Some(last) = rows.last() {
                assert!(
                    last.code < code,
                    "regions.tsv line {}: codes not strictly ascending",
                    n + 2
                );
            }
            rows.push(Row {
                code,
                name,
                parent,
                children: Vec::new(),
            });
        }
        let mut table = Table {
            rows,
            prefixes: HashSet::new(),
        };
        for i in 0..table.rows.len() {
            let (code, parent) = (table.rows[i].code, table.rows[i].parent);
            let level = level_of(code);
            match (level, parent) {
                (RegionLevel::Province, None) => {}
                (RegionLevel::Province, Some(_)) => {
                    panic!("regions.tsv: province {code} has a parent")
                }
                (_, None) => panic!("regions.tsv: {code} has no parent"),
                (_, Some(p)) => {
                    let j = table
                        .index(p)
                        .unwrap_or_else(|| panic!("regions.tsv: parent of {code} missing"));
                    assert!(
                        level_of(p) < level,
                        "regions.tsv: parent of {code} is not above it"
                    );
                    assert_eq!(
                        p / 10000,
                        code / 10000,
                        "regions.tsv: {code} outside its parent's province"
                    );
                    table.rows[j].children.push(code);
                }
            }
            for prefix in structural_prefixes(code) {
                table.prefixes.insert(prefix);
            }
        }
        table
    }
}

static TABLE: LazyLock<Table> = LazyLock::new(Table::load);

fn parse_six(s: &str) -> Option<u32> {
    if s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

fn level_of(code: u32) -> RegionLevel {
    if code.is_multiple_of(10000) {
        RegionLevel::Province
    } else if code.is_multiple_of(100) {
        RegionLevel::City
    } else {
        RegionLevel::County
    }
}

fn structural_prefixes(code: u32) -> Vec<String> {
    let s = format!("{code:06}");
    match level_of(code) {
        RegionLevel::Province => vec![s[..2].to_string()],
        RegionLevel::City => vec![s[..2].to_string(), s[..4].to_string()],
        RegionLevel::County => vec![s[..2].to_string(), s[..4].to_string(), s],
    }
}

/// A GB/T 2260 administrative region code present in the bundled table.
///
/// Serialized as a 6-digit string (`"110108"`); deserializing rejects unknown codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, utoipa::ToSchema)]
#[schema(value_type = String, example = "110108")]
pub struct RegionCode(u32);

/// Level in the administrative hierarchy.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum RegionLevel {
    /// 省级: province, autonomous region, municipality, SAR.
    Province,
    /// 地级: prefecture-level city, prefecture, league, autonomous prefecture (and placeholders).
    City,
    /// 县级: district, county, county-level city, banner.
    County,
}

impl RegionLevel {
    /// `"province"`, `"city"` or `"county"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Province => "province",
            Self::City => "city",
            Self::County => "county",
        }
    }
}

impl fmt::Display for RegionLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The National Bureau of Statistics' four economic regions of the 31 mainland provinces
/// (东部、中部、西部、东北地区).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum MacroRegion {
    /// 东部: 北京 天津 河北 上海 江苏 浙江 福建 山东 广东 海南.
    East,
    /// 中部: 山西 安徽 江西 河南 湖北 湖南.
    Centre,
    /// 西部: 内蒙古 广西 重庆 四川 贵州 云南 西藏 陕西 甘肃 青海 宁夏 新疆.
    West,
    /// 东北: 辽宁 吉林 黑龙江.
    Northeast,
}

impl MacroRegion {
    /// Every macro-region, in the NBS order.
    pub const ALL: [MacroRegion; 4] = [Self::East, Self::Centre, Self::West, Self::Northeast];

    /// Stable machine code: `"east"`, `"centre"`, `"west"`, `"northeast"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::East => "east",
            Self::Centre => "centre",
            Self::West => "west",
            Self::Northeast => "northeast",
        }
    }

    /// Chinese label.
    pub fn zh(&self) -> &'static str {
        match self {
            Self::East => "东部",
            Self::Centre => "中部",
            Self::West => "西部",
            Self::Northeast => "东北",
        }
    }

    /// English label.
    pub fn en(&self) -> &'static str {
        match self {
            Self::East => "East",
            Self::Centre => "Centre",
            Self::West => "West",
            Self::Northeast => "Northeast",
        }
    }

    /// The macro-region of a province, by its two-digit code; `None` for 台湾, 香港, 澳门 and
    /// anything unknown.
    fn of_province(two_digits: u32) -> Option<MacroRegion> {
        Some(match two_digits {
            11 | 12 | 13 | 31 | 32 | 33 | 35 | 37 | 44 | 46 => Self::East,
            14 | 34 | 36 | 41 | 42 | 43 => Self::Centre,
            15 | 45 | 50 | 51 | 52 | 53 | 54 | 61 | 62 | 63 | 64 | 65 => Self::West,
            21..=23 => Self::Northeast,
            _ => return None,
        })
    }
}

impl Labelled for MacroRegion {
    const ALL: &'static [Self] = &MacroRegion::ALL;
    fn code(&self) -> &'static str {
        self.as_str()
    }
    fn zh(&self) -> &'static str {
        MacroRegion::zh(self)
    }
    fn en(&self) -> &'static str {
        MacroRegion::en(self)
    }
}

impl fmt::Display for MacroRegion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a string is not a region code or prefix.
#[derive(thiserror::Error, Debug, PartialEq)]
pub enum RegionError {
    #[error("region code must be six digits")]
    Format,
    #[error("unknown region code")]
    Unknown,
}

impl RegionCode {
    /// Parses a 6-digit code (surrounding whitespace ignored) that exists in the table.
    pub fn parse(s: &str) -> Result<Self, RegionError> {
        let n = parse_six(s.trim()).ok_or(RegionError::Format)?;
        Self::from_u32(n)
    }

    /// The region with this numeric code, if the table has it.
    pub fn from_u32(n: u32) -> Result<Self, RegionError> {
        match TABLE.index(n) {
            Some(_) => Ok(RegionCode(n)),
            None => Err(RegionError::Unknown),
        }
    }

    fn row(&self) -> &'static Row {
        let table: &'static Table = &TABLE;
        &table.rows[table
            .index(self.0)
            .expect("a RegionCode is always in the table")]
    }

    /// The numeric code, e.g. `110108`.
    pub fn code(&self) -> u32 {
        self.0
    }

    /// The zero-padded 6-digit code, e.g. `"110108"`.
    pub fn as_string(&self) -> String {
        format!("{:06}", self.0)
    }

    /// The region's own name, e.g. `"海淀区"`.
    pub fn name(&self) -> &'static str {
        self.row().name
    }

    /// Names from the province down to this region, space-separated, leaving out placeholder
    /// ancestors such as 市辖区 and 省直辖县级行政区划: `"北京市 海淀区"`, `"广东省 深圳市 南山区"`,
    /// `"湖北省 仙桃市"`. A placeholder's own name is kept when it is the region itself.
    pub fn full_name(&self) -> String {
        let chain = self.ancestors_and_self();
        let last = chain.len() - 1;
        chain
            .iter()
            .enumerate()
            .filter(|(i, r)| *i == last || !PLACEHOLDER_NAMES.contains(&r.name()))
            .map(|(_, r)| r.name())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Province, city or county level, from the shape of the code.
    pub fn level(&self) -> RegionLevel {
        level_of(self.0)
    }

    /// The region directly above this one; `None` for a province.
    pub fn parent(&self) -> Option<RegionCode> {
        self.row().parent.map(RegionCode)
    }

    /// The province (省级) containing this region, or itself.
    pub fn province(&self) -> RegionCode {
        RegionCode(self.0 / 10000 * 10000)
    }

    /// The city-level ancestor, or itself for a city; `None` for a province and for the
    /// districts and counties of a municipality (which have no city-level row). For a county-level
    /// unit administered by its province this is the placeholder row, e.g. 429000.
    pub fn city(&self) -> Option<RegionCode> {
        match self.level() {
            RegionLevel::Province => None,
            RegionLevel::City => Some(*self),
            RegionLevel::County => self.parent().filter(|p| p.level() == RegionLevel::City),
        }
    }

    /// The chain from the province down to this region, inclusive.
    pub fn ancestors_and_self(&self) -> Vec<RegionCode> {
        let mut chain = vec![*self];
        let mut cur = *self;
        while let Some(p) = cur.parent() {
            chain.push(p);
            cur = p;
        }
        chain.reverse();
        chain
    }

    /// The significant prefixes of the code, for prefix search: 2 digits for a province, plus 4
    /// for a city, plus all 6 for a county. `440305` gives `["44", "4403", "440305"]`. They follow
    /// the code's structure, so a municipality's district `110108` gives `["11", "1101",
    /// "110108"]` even though the table has no 110100 row.
    pub fn prefixes(&self) -> Vec<String> {
        structural_prefixes(self.0)
    }

    /// Whether this region is `ancestor` or lies within it.
    pub fn is_within(&self, ancestor: RegionCode) -> bool {
        let mut cur = Some(*self);
        while let Some(r) = cur {
            if r == ancestor {
                return true;
            }
            cur = r.parent();
        }
        false
    }

    /// The regions directly below this one, in code order.
    pub fn children(&self) -> Vec<RegionCode> {
        self.row()
            .children
            .iter()
            .copied()
            .map(RegionCode)
            .collect()
    }

    /// The NBS macro-region of this region's province; `None` in 台湾, 香港 and 澳门.
    pub fn macro_region(&self) -> Option<MacroRegion> {
        MacroRegion::of_province(self.0 / 10000)
    }

    /// Every province-level region, in code order (34, including 台湾, 香港, 澳门).
    pub fn provinces() -> Vec<RegionCode> {
        Self::all()
            .filter(|r| r.level() == RegionLevel::Province)
            .collect()
    }

    /// Every region in the table, in code order.
    pub fn all() -> impl Iterator<Item = RegionCode> {
        TABLE.rows.iter().map(|r| RegionCode(r.code))
    }
}

/// Validates a region *prefix* used in search filters: 2, 4 or 6 digits that are a significant
/// prefix (see [`RegionCode::prefixes`]) of some known region.
///
/// A full code of a province or city is normalised to its significant prefix, so `"440000"` and
/// `"4400"` give `"44"`, and `"440300"` gives `"4403"`: matching the result against
/// [`RegionCode::prefixes`] of indexed regions finds exactly the regions within.
pub fn parse_region_prefix(s: &str) -> Result<String, RegionError> {
    let s = s.trim();
    if !matches!(s.len(), 2 | 4 | 6) || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RegionError::Format);
    }
    let mut p = s;
    while p.len() > 2 && p.ends_with("00") {
        p = &p[..p.len() - 2];
    }
    if TABLE.prefixes.contains(p) {
        Ok(p.to_string())
    } else {
        Err(RegionError::Unknown)
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:06}", self.0)
    }
}

impl FromStr for RegionCode {
    type Err = RegionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for RegionCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.as_string())
    }
}

impl<'de> Deserialize<'de> for RegionCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        RegionCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn codes(v: &[RegionCode]) -> Vec<String> {
        v.iter().map(|r| r.as_string()).collect()
    }

    #[test]
    fn row_counts_per_level() {
        let count = |l| RegionCode::all().filter(|r| r.level() == l).count();
        assert_eq!(count(RegionLevel::Province), 34);
        assert_eq!(count(RegionLevel::City), 337);
        assert_eq!(count(RegionLevel::County), 2845);
        assert_eq!(RegionCode::all().count(), 3216);
        assert_eq!(RegionCode::provinces().len(), 34);
        assert_eq!(
            RegionCode::provinces()
                .iter()
                .filter(|p| p.macro_region().is_some())
                .count(),
            31
        );
    }

    #[test]
    fn table_is_consistent() {
        for reg in RegionCode::all() {
            assert_eq!(reg.province().level(), RegionLevel::Province, "{reg}");
            assert!(reg.is_within(reg.province()), "{reg}");
            if let Some(p) = reg.parent() {
                assert!(p.children().contains(&reg), "{reg}");
                assert!(p.level() < reg.level(), "{reg}");
            }
            if reg.level() == RegionLevel::County && reg.city().is_none() {
                assert!(
                    ["11", "12", "31", "50"].contains(&&reg.as_string()[..2]),
                    "{reg} has no city"
                );
            }
            assert_eq!(reg.ancestors_and_self()[0], reg.province());
            assert_eq!(RegionCode::parse(&reg.to_string()), Ok(reg));
        }
    }

    #[test]
    fn parses_good_and_rejects_bad_codes() {
        assert_eq!(r("110108").code(), 110108);
        assert_eq!(r(" 440305\n").name(), "南山区");
        assert_eq!(r("110108").name(), "海淀区");
        assert_eq!(RegionCode::from_u32(110000).unwrap().as_string(), "110000");
        assert_eq!("320505".parse::<RegionCode>().unwrap().name(), "虎丘区");
        assert_eq!(RegionCode::parse(""), Err(RegionError::Format));
        assert_eq!(RegionCode::parse("11010"), Err(RegionError::Format));
        assert_eq!(RegionCode::parse("1101080"), Err(RegionError::Format));
        assert_eq!(RegionCode::parse("11010a"), Err(RegionError::Format));
        assert_eq!(RegionCode::parse("+11010"), Err(RegionError::Format));
        assert_eq!(RegionCode::parse("１１０１０８"), Err(RegionError::Format));
        assert_eq!(RegionCode::parse("000000"), Err(RegionError::Unknown));
        assert_eq!(RegionCode::parse("110199"), Err(RegionError::Unknown));
        // A municipality has no 市辖区 row in this table; 330103 下城区 was abolished in 2021.
        assert_eq!(RegionCode::parse("110100"), Err(RegionError::Unknown));
        assert_eq!(RegionCode::parse("330103"), Err(RegionError::Unknown));
        assert_eq!(r("330113").name(), "临平区");
        assert_eq!(RegionCode::from_u32(1_100_000), Err(RegionError::Unknown));
        assert_eq!(
            RegionError::Format.to_string(),
            "region code must be six digits"
        );
    }

    #[test]
    fn rolls_up_in_a_normal_province() {
        let nanshan = r("440305");
        assert_eq!(nanshan.level(), RegionLevel::County);
        assert_eq!(nanshan.parent(), Some(r("440300")));
        assert_eq!(nanshan.city(), Some(r("440300")));
        assert_eq!(nanshan.province(), r("440000"));
        assert_eq!(
            codes(&nanshan.ancestors_and_self()),
            ["440000", "440300", "440305"]
        );
        assert_eq!(nanshan.full_name(), "广东省 深圳市 南山区");
        assert_eq!(r("440300").level(), RegionLevel::City);
        assert_eq!(r("440300").city(), Some(r("440300")));
        assert_eq!(r("440000").level(), RegionLevel::Province);
        assert_eq!(r("440000").parent(), None);
        assert_eq!(r("440000").city(), None);
        assert_eq!(r("440000").province(), r("440000"));
        assert_eq!(r("440000").full_name(), "广东省");
        assert!(r("440300").children().contains(&nanshan));
        assert!(r("440000")
            .children()
            .iter()
            .all(|c| c.level() == RegionLevel::City));
    }

    #[test]
    fn rolls_up_in_a_municipality() {
        let haidian = r("110108");
        assert_eq!(haidian.level(), RegionLevel::County);
        assert_eq!(haidian.parent(), Some(r("110000")));
        assert_eq!(haidian.city(), None);
        assert_eq!(haidian.province(), r("110000"));
        assert_eq!(codes(&haidian.ancestors_and_self()), ["110000", "110108"]);
        assert_eq!(haidian.full_name(), "北京市 海淀区");
        assert_eq!(r("110000").children().len(), 16);
        assert_eq!(r("500240").parent(), Some(r("500000")));
        assert_eq!(r("500240").name(), "石柱土家族自治县");
    }

    #[test]
    fn rolls_up_a_province_administered_county() {
        let xiantao = r("429004");
        assert_eq!(xiantao.name(), "仙桃市");
        assert_eq!(xiantao.level(), RegionLevel::County);
        assert_eq!(xiantao.parent(), Some(r("429000")));
        assert_eq!(xiantao.city(), Some(r("429000")));
        assert_eq!(xiantao.province(), r("420000"));
        assert_eq!(xiantao.full_name(), "湖北省 仙桃市");
        assert_eq!(r("429000").name(), "省直辖县级行政区划");
        assert_eq!(r("429000").full_name(), "湖北省 省直辖县级行政区划");
        assert_eq!(
            codes(&r("429000").children()),
            ["429004", "429005", "429006", "429021"]
        );
        assert_eq!(r("659000").name(), "自治区直辖县级行政区划");
        assert_eq!(r("469000").children().len(), 15);
    }

    #[test]
    fn rolls_up_cities_without_counties() {
        for (code, name, province) in [
            ("441900", "东莞市", "440000"),
            ("442000", "中山市", "440000"),
            ("460400", "儋州市", "460000"),
            ("620200", "嘉峪关市", "620000"),
        ] {
            let c = r(code);
            assert_eq!(c.name(), name);
            assert_eq!(c.level(), RegionLevel::City);
            assert_eq!(c.city(), Some(c));
            assert_eq!(c.parent(), Some(r(province)));
            assert_eq!(c.province(), r(province));
            assert!(c.children().is_empty(), "{code}");
        }
        assert_eq!(r("441900").full_name(), "广东省 东莞市");
    }

    #[test]
    fn hong_kong_macau_taiwan_are_provinces_without_macro_region() {
        for code in ["710000", "810000", "820000"] {
            let p = r(code);
            assert_eq!(p.level(), RegionLevel::Province);
            assert_eq!(p.macro_region(), None);
        }
        assert_eq!(r("810000").name(), "香港特别行政区");
    }

    #[test]
    fn macro_regions() {
        assert_eq!(r("440305").macro_region(), Some(MacroRegion::East));
        assert_eq!(r("110000").macro_region(), Some(MacroRegion::East));
        assert_eq!(r("460400").macro_region(), Some(MacroRegion::East));
        assert_eq!(r("410000").macro_region(), Some(MacroRegion::Centre));
        assert_eq!(r("429004").macro_region(), Some(MacroRegion::Centre));
        assert_eq!(r("510000").macro_region(), Some(MacroRegion::West));
        assert_eq!(r("500000").macro_region(), Some(MacroRegion::West));
        assert_eq!(r("150000").macro_region(), Some(MacroRegion::West));
        assert_eq!(r("450000").macro_region(), Some(MacroRegion::West));
        assert_eq!(r("210000").macro_region(), Some(MacroRegion::Northeast));
        assert_eq!(r("230000").macro_region(), Some(MacroRegion::Northeast));
        let per = |m| {
            RegionCode::provinces()
                .iter()
                .filter(|p| p.macro_region() == Some(m))
                .count()
        };
        assert_eq!(
            MacroRegion::ALL.map(per),
            [10, 6, 12, 3],
            "east / centre / west / northeast province counts"
        );
        assert_eq!(MacroRegion::Northeast.zh(), "东北");
        assert_eq!(MacroRegion::Centre.as_str(), "centre");
        assert_eq!(MacroRegion::West.en(), "West");
        assert_eq!(MacroRegion::from_code("east"), Some(MacroRegion::East));
        assert_eq!(
            serde_json::to_string(&MacroRegion::Northeast).unwrap(),
            "\"northeast\""
        );
        assert_eq!(RegionLevel::County.as_str(), "county");
        assert_eq!(
            serde_json::to_string(&RegionLevel::Province).unwrap(),
            "\"province\""
        );
    }

    #[test]
    fn is_within() {
        let nanshan = r("440305");
        assert!(nanshan.is_within(nanshan));
        assert!(nanshan.is_within(r("440300")));
        assert!(nanshan.is_within(r("440000")));
        assert!(!nanshan.is_within(r("440100")));
        assert!(!nanshan.is_within(r("110000")));
        assert!(!r("440300").is_within(nanshan));
        assert!(r("110108").is_within(r("110000")));
        assert!(r("429004").is_within(r("429000")));
        assert!(r("429004").is_within(r("420000")));
        assert!(!r("420000").is_within(r("429000")));
    }

    #[test]
    fn prefixes() {
        assert_eq!(r("440305").prefixes(), ["44", "4403", "440305"]);
        assert_eq!(r("440300").prefixes(), ["44", "4403"]);
        assert_eq!(r("440000").prefixes(), ["44"]);
        assert_eq!(r("110108").prefixes(), ["11", "1101", "110108"]);
        assert_eq!(r("429004").prefixes(), ["42", "4290", "429004"]);

        assert_eq!(parse_region_prefix("44"), Ok("44".to_string()));
        assert_eq!(parse_region_prefix(" 4403 "), Ok("4403".to_string()));
        assert_eq!(parse_region_prefix("440305"), Ok("440305".to_string()));
        assert_eq!(parse_region_prefix("1101"), Ok("1101".to_string()));
        assert_eq!(parse_region_prefix("440000"), Ok("44".to_string()));
        assert_eq!(parse_region_prefix("4400"), Ok("44".to_string()));
        assert_eq!(parse_region_prefix("440300"), Ok("4403".to_string()));
        assert_eq!(parse_region_prefix("110100"), Ok("1101".to_string()));
        assert_eq!(parse_region_prefix("4"), Err(RegionError::Format));
        assert_eq!(parse_region_prefix("440"), Err(RegionError::Format));
        assert_eq!(parse_region_prefix("44a3"), Err(RegionError::Format));
        assert_eq!(parse_region_prefix("4403051"), Err(RegionError::Format));
        assert_eq!(parse_region_prefix("00"), Err(RegionError::Unknown));
        assert_eq!(parse_region_prefix("99"), Err(RegionError::Unknown));
        assert_eq!(parse_region_prefix("4499"), Err(RegionError::Unknown));
        assert_eq!(parse_region_prefix("440399"), Err(RegionError::Unknown));
        // Every region's own prefixes are accepted and unchanged.
        for reg in RegionCode::all() {
            for p in reg.prefixes() {
                assert_eq!(parse_region_prefix(&p).as_deref(), Ok(p.as_str()));
            }
        }
    }

    #[test]
    fn serde_round_trip_and_rejection() {
        let nanshan = r("440305");
        let json = serde_json::to_string(&nanshan).unwrap();
        assert_eq!(json, "\"440305\"");
        assert_eq!(serde_json::from_str::<RegionCode>(&json).unwrap(), nanshan);
        assert_eq!(serde_json::to_string(&r("110000")).unwrap(), "\"110000\"");
        let v: Vec<RegionCode> = serde_json::from_str(r#"["110108", "429004"]"#).unwrap();
        assert_eq!(v, [r("110108"), r("429004")]);
        assert!(serde_json::from_str::<RegionCode>("\"110199\"").is_err());
        assert!(serde_json::from_str::<RegionCode>("\"11010\"").is_err());
        assert!(serde_json::from_str::<RegionCode>("110108").is_err());
        let err = serde_json::from_str::<RegionCode>("\"999999\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown region code"), "{err}");
        assert_eq!(nanshan.to_string(), "440305");
        assert_eq!(format!("{}", r("110000")), "110000");
    }
}
