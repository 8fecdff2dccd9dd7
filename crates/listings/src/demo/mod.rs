//! Demo listings for `ttx serve --demo`, and a corpus generator for tests and benchmarks.
//!
//! Deterministic: the same seed and date give the same listings. Titles, summaries and
//! descriptions are combined from the vocabulary in [`words`] across all eleven technology
//! fields.
pub mod words;

use crate::domain::{IpStatus, Price};
use crate::dto::{ContactInput, IpItemInput, ListingInput};
use crate::import::{self, ImportError, ImportOptions, ImportReport};
use crate::patent::PatentNumber;
use chrono::{Datelike, NaiveDate};
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;
use ttx_core::{Fen, IpKind, Labelled, TechField, TransferMode, Trl};
use words::{FieldWords, FIELDS};

/// A small deterministic generator (SplitMix64): enough for demo data, stable across
/// platforms and crate versions.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    /// Uniform in `lo..=hi`.
    pub fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % ((hi - lo + 1).max(1) as u64)) as i64
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    /// Another item than `not` when there is one.
    fn pick_other<'a, T: PartialEq>(&mut self, items: &'a [T], not: &T) -> &'a T {
        for _ in 0..4 {
            let v = self.pick(items);
            if v != not {
                return v;
            }
        }
        self.pick(items)
    }
}

fn words_of(field: TechField) -> &'static FieldWords {
    FIELDS
        .iter()
        .find(|w| w.field == field)
        .expect("every field has words")
}

fn gain(rng: &mut Rng, w: &FieldWords) -> String {
    rng.pick(w.gains)
        .replace("{}", &rng.between(12, 65).to_string())
}

fn patent(rng: &mut Rng, kind: IpKind, year_max: i32) -> String {
    let year = rng.between(2016, i64::from(year_max.clamp(2017, 2100)) - 1);
    let type_digit = match kind {
        IpKind::UtilityModel => 2,
        IpKind::Design => 3,
        _ => 1,
    };
    let digits = format!("{year}{type_digit}{:07}", rng.between(0, 9_999_999));
    let n = PatentNumber::complete(&digits).expect("12 digits");
    if rng.chance(50) {
        format!("CN{n}")
    } else {
        n
    }
}

fn ip_items(rng: &mut Rng, field: TechField, object: &str, today: NaiveDate) -> Vec<IpItemInput> {
    let n = rng.below(4);
    (0..n)
        .map(|i| {
            let kind = match (field, i, rng.below(10)) {
                (TechField::ElectronicInformation, 1.., 0..=4) => IpKind::Software,
                (TechField::Agriculture, 1.., 0..=2) => IpKind::PlantVariety,
                (_, 0, _) => IpKind::InventionPatent,
                (_, _, 0..=5) => IpKind::InventionPatent,
                (_, _, 6..=8) => IpKind::UtilityModel,
                _ => IpKind::TechnicalSecret,
            };
            let (number, status) = match kind {
                IpKind::InventionPatent | IpKind::UtilityModel => (
                    Some(patent(rng, kind, today.year())),
                    if rng.chance(65) {
                        IpStatus::Granted
                    } else {
                        IpStatus::Applied
                    },
                ),
                IpKind::Software => (
                    Some(format!(
                        "{}SR{:07}",
                        rng.between(2018, i64::from(today.year()) - 1),
                        rng.between(1, 1_999_999)
                    )),
                    IpStatus::Registered,
                ),
                IpKind::PlantVariety => (
                    Some(format!(
                        "CNA{}{:05}",
                        rng.between(2016, 2024),
                        rng.below(99_999)
                    )),
                    IpStatus::Granted,
                ),
                _ => (None, IpStatus::Registered),
            };
            IpItemInput {
                kind,
                number,
                status,
                title: Some(format!("一种{object}{}", rng.pick(words::SUFFIXES))),
            }
        })
        .collect()
}

fn price(rng: &mut Rng) -> Price {
    const WAN: i64 = 1_000_000; // 1 万元 in fen
    match rng.below(10) {
        0..=3 => Price::Negotiable,
        4..=6 => Price::Fixed {
            amount: Fen(rng.between(5, 2_000) * WAN),
        },
        _ => {
            let lo = rng.between(5, 1_000);
            Price::Range {
                min: Fen(lo * WAN),
                max: Fen((lo + rng.between(5, 1_000)) * WAN),
            }
        }
    }
}

fn modes(rng: &mut Rng) -> Vec<TransferMode> {
    let mut m: Vec<TransferMode> = (0..1 + rng.below(3))
        .map(|_| *rng.pick(TransferMode::ALL))
        .collect();
    m.sort();
    m.dedup();
    m
}

/// One demo listing (`i` decides the field, so consecutive listings cover all fields).
pub fn listing(rng: &mut Rng, i: usize, today: NaiveDate) -> ListingInput {
    let field = TechField::ALL[i % TechField::ALL.len()];
    let w = words_of(field);
    let (obj, en) = *rng.pick(w.objects);
    let qual = *rng.pick(words::QUALIFIERS);
    let method = *rng.pick(w.methods);
    let method2 = *rng.pick_other(w.methods, &method);
    let app = *rng.pick(w.applications);
    let app2 = *rng.pick_other(w.applications, &app);
    let problem = *rng.pick(w.problems);
    let suffix = *rng.pick(words::SUFFIXES);
    let title = match rng.below(4) {
        0 => format!("{qual}{obj}{suffix}"),
        1 => format!("基于{method}的{obj}{suffix}"),
        2 => format!("面向{app}的{qual}{obj}"),
        _ => format!(
            "{obj}{}",
            ["的优化方法", "的制备工艺", "的控制方法", "的应用示范"][rng.below(4)]
        ),
    };
    let trl = rng.between(3, 9) as u8;
    let trl = Trl::new(trl).expect("3..=9");
    let g1 = gain(rng, w);
    let g2 = gain(rng, w);
    let summary =
        format!("针对{app}中{problem}的问题，本成果提出一种基于{method}的{qual}{obj}，{g1}。");
    let description = format!(
        "【技术背景】{app}领域对{obj}的需求快速增长，但现有技术普遍存在{problem}等不足。\
         【技术方案】本成果采用{method}与{method2}相结合的技术路线，研制了{obj}（{en}），{g1}，{g2}。\
         【成熟度】已完成{stage}阶段验证（TRL {lvl}），关键指标经第三方检测达到国内先进水平。\
         【应用前景】可应用于{app}、{app2}等场景，{field_zh}领域市场空间广阔。{coop}",
        stage = trl.stage_zh(),
        lvl = trl.level(),
        field_zh = field.zh(),
        coop = rng.pick(words::COOPERATION),
    );
    let mut keywords = vec![obj.to_string(), method.to_string(), app.to_string()];
    if rng.chance(60) {
        keywords.push(en.to_string());
    }
    if rng.chance(40) {
        keywords.push(qual.to_string());
    }
    let region_code = rng.chance(30).then(|| rng.pick(words::REGIONS).to_string());
    let registration_no = rng.chance(30).then(|| {
        format!(
            "{}{}Y{:04}",
            region_code
                .as_deref()
                .unwrap_or("11")
                .get(..2)
                .unwrap_or("11"),
            rng.between(i64::from(today.year()) - 7, i64::from(today.year()) - 1),
            rng.below(10_000)
        )
    });
    let dual_use = matches!(
        field,
        TechField::Aerospace | TechField::Nuclear | TechField::NewMaterials
    ) && rng.chance(25);
    let expires_on = rng
        .chance(70)
        .then(|| today + chrono::Duration::days(rng.between(180, 900)));
    let contact = ContactInput {
        name: Some(rng.pick(words::CONTACTS).to_string()),
        phone: Some(format!("138{:08}", rng.below(100_000_000))),
        email: Some(format!("tt{i}@demo.ttx.example")),
    };
    ListingInput {
        title,
        summary,
        description,
        keywords,
        field,
        trl,
        ip_items: ip_items(rng, field, obj, today),
        transfer_modes: modes(rng),
        price: price(rng).into(),
        region_code,
        registration_no,
        dual_use,
        expires_on,
        contact: Some(contact),
        publish: Some(!rng.chance(5)),
        external_id: Some(format!("demo-{i}")),
    }
}

/// `n` demo listings from `seed`.
pub fn generate(n: usize, seed: u64, today: NaiveDate) -> Vec<ListingInput> {
    let mut rng = Rng::new(seed);
    (0..n).map(|i| listing(&mut rng, i, today)).collect()
}

/// Number of listings `ttx serve --demo` loads.
pub const DEMO_COUNT: usize = 3_000;

/// Loads `count` demo listings spread over `owners` (organisation ids) through the import
/// path; returns the combined report.
pub async fn seed(
    db: &DatabaseConnection,
    wake: Option<&Notify>,
    owners: &[i64],
    count: usize,
    seed: u64,
) -> Result<ImportReport, ImportError> {
    let today = ttx_core::clock::today();
    let all = generate(count, seed, today);
    let mut total = ImportReport::default();
    let owners: Vec<i64> = owners.iter().copied().filter(|o| *o > 0).collect();
    if owners.is_empty() {
        return Ok(total);
    }
    let mut per_owner: Vec<Vec<ListingInput>> = vec![Vec::new(); owners.len()];
    for (i, l) in all.into_iter().enumerate() {
        per_owner[i % owners.len()].push(l);
    }
    for (org, inputs) in owners.iter().zip(per_owner) {
        let r = import::import_inputs(db, wake, &ImportOptions::new(*org), inputs).await?;
        total.rows += r.rows;
        total.created += r.created;
        total.updated += r.updated;
        total.failed += r.failed;
        total.published += r.published;
        total.errors.extend(r.errors);
        total.elapsed += r.elapsed;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    #[test]
    fn deterministic_valid_and_covers_every_field() {
        let a = generate(300, 7, today());
        let b = generate(300, 7, today());
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&b).unwrap()
        );
        let mut fields = std::collections::HashSet::new();
        for (i, l) in a.into_iter().enumerate() {
            fields.insert(l.field);
            if let Err(e) = l.clone().parse(today()) {
                panic!("demo listing {i} invalid: {e:?}\n{l:?}");
            }
        }
        assert_eq!(fields.len(), TechField::ALL.len());
        assert_ne!(
            serde_json::to_string(&generate(5, 8, today())).unwrap(),
            serde_json::to_string(&generate(5, 7, today())).unwrap()
        );
    }

    #[test]
    fn regions_exist() {
        for r in words::REGIONS {
            assert!(ttx_core::RegionCode::parse(r).is_ok(), "{r}");
        }
        for w in FIELDS {
            assert!(!w.objects.is_empty() && w.methods.len() >= 2 && w.applications.len() >= 2);
        }
        assert_eq!(FIELDS.len(), TechField::ALL.len());
    }

    #[test]
    fn rng_is_stable() {
        let mut r = Rng::new(1);
        let v: Vec<u64> = (0..3).map(|_| r.next_u64() % 1000).collect();
        let mut r2 = Rng::new(1);
        assert_eq!(v, (0..3).map(|_| r2.next_u64() % 1000).collect::<Vec<_>>());
        assert!((0..1000).all(|_| (3..=9).contains(&r.between(3, 9))));
    }
}
