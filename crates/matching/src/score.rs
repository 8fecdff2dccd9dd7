//! The scoring function of a (need, listing) pair, pure: every part is named, valued in
//! `0..=1`, weighted, and its contribution (value × weight) is returned; the contributions add
//! up to the score. The same function scores both directions (a need's listings, a listing's
//! needs).
use crate::config::Weights;
use serde::Serialize;
use utoipa::ToSchema;

/// What the scorer knows of a need (技术需求).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NeedProfile {
    /// Technology field code; `None` when the need names none.
    pub field: Option<String>,
    /// A field guessed from the text (the fields of the best text matches), used when the need
    /// names none.
    pub inferred_field: Option<String>,
    /// Wanted transfer modes; empty: open to any.
    pub modes: Vec<String>,
    /// Budget range in fen; `None`: not stated.
    pub budget: Option<(i64, i64)>,
    pub negotiable: bool,
    pub trl_min: Option<i64>,
    pub trl_max: Option<i64>,
    /// 6-digit region code.
    pub region: String,
}

/// What the scorer knows of a listing (科技成果).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListingProfile {
    pub field: String,
    pub modes: Vec<String>,
    /// Price range in fen; `None`: not stated.
    pub price: Option<(i64, i64)>,
    pub negotiable: bool,
    pub trl: Option<i64>,
    pub region: String,
    /// `(ip kind, status)` of each IP item, e.g. `("invention_patent", "granted")`.
    pub ip: Vec<(String, String)>,
    /// Publication (or last change) time, unix seconds.
    pub published_at: i64,
}

/// One named part of a score.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Part {
    /// `text`, `field`, `modes`, `price`, `maturity`, `region`, `ip` or `freshness`.
    pub name: &'static str,
    /// How well this aspect fits, 0 to 1.
    pub value: f64,
    /// The configured weight.
    pub weight: f64,
    /// value × weight; the contributions add up to the score.
    pub contribution: f64,
}

/// A scored pair.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Scored {
    pub score: f64,
    pub parts: Vec<Part>,
    pub reason_zh: String,
    pub reason_en: String,
}

/// The part names in their fixed order.
pub const PARTS: &[&str] = &[
    "text",
    "field",
    "modes",
    "price",
    "maturity",
    "region",
    "ip",
    "freshness",
];

fn weight(w: &Weights, name: &str) -> f64 {
    match name {
        "text" => w.text,
        "field" => w.field,
        "modes" => w.modes,
        "price" => w.price,
        "maturity" => w.maturity,
        "region" => w.region,
        "ip" => w.ip,
        _ => w.freshness,
    }
}

/// Field: the same field fits; a guessed field counts less either way; unknown is neutral.
pub fn field_fit(need: &NeedProfile, l: &ListingProfile) -> f64 {
    match (&need.field, &need.inferred_field) {
        (Some(f), _) => {
            if *f == l.field {
                1.0
            } else {
                0.0
            }
        }
        (None, Some(g)) => {
            if *g == l.field {
                0.8
            } else {
                0.2
            }
        }
        (None, None) => 0.5,
    }
}

/// Transfer modes: a need open to any mode takes every listing; a listing that names no mode
/// is unknown.
pub fn modes_fit(need: &NeedProfile, l: &ListingProfile) -> f64 {
    if need.modes.is_empty() {
        return 1.0;
    }
    if l.modes.is_empty() {
        return 0.5;
    }
    if need.modes.iter().any(|m| l.modes.contains(m)) {
        1.0
    } else {
        0.0
    }
}

/// Price against budget: within or below the budget fits; negotiable or unstated is likely;
/// above the budget fits less the further above (nothing at twice the budget).
pub fn price_fit(need: &NeedProfile, l: &ListingProfile) -> f64 {
    let (Some((_, bmax)), Some((pmin, _))) = (need.budget, l.price) else {
        return if need.negotiable || l.negotiable {
            0.7
        } else {
            0.5
        };
    };
    if pmin <= bmax {
        return 1.0;
    }
    if bmax <= 0 {
        return 0.0;
    }
    let over = pmin as f64 / bmax as f64 - 1.0;
    (1.0 - over).clamp(0.0, 1.0)
}

/// Maturity: a TRL inside the wanted range fits; each level outside costs a third.
pub fn maturity_fit(need: &NeedProfile, l: &ListingProfile) -> f64 {
    let Some(t) = l.trl else { return 0.5 };
    if need.trl_min.is_none() && need.trl_max.is_none() {
        return 0.5;
    }
    let lo = need.trl_min.unwrap_or(1);
    let hi = need.trl_max.unwrap_or(9);
    let d = if t < lo {
        lo - t
    } else if t > hi {
        t - hi
    } else {
        0
    };
    (1.0 - d as f64 / 3.0).max(0.0)
}

/// Region proximity (local transfer is a policy goal): same county, city, province,
/// macro-region, elsewhere.
pub fn region_fit(need: &NeedProfile, l: &ListingProfile) -> f64 {
    let (a, b) = (need.region.as_str(), l.region.as_str());
    if a.len() != 6 || b.len() != 6 {
        return 0.1;
    }
    if a == b {
        1.0
    } else if a[..4] == b[..4] {
        0.8
    } else if a[..2] == b[..2] {
        0.6
    } else {
        let macro_of = |r: &str| {
            ttx_core::RegionCode::parse(&format!("{}0000", &r[..2]))
                .ok()
                .and_then(|p| p.macro_region())
        };
        match (macro_of(a), macro_of(b)) {
            (Some(x), Some(y)) if x == y => 0.35,
            _ => 0.1,
        }
    }
}

/// IP strength: the strongest item counts (granted invention patent first).
pub fn ip_fit(l: &ListingProfile) -> f64 {
    l.ip.iter()
        .map(|(kind, status)| {
            if status == "lapsed" {
                return 0.1;
            }
            let granted = matches!(status.as_str(), "granted" | "registered");
            match kind.as_str() {
                "invention_patent" if granted => 1.0,
                "invention_patent" => 0.7,
                "plant_variety" | "ic_layout" => 0.6,
                "utility_model" => 0.5,
                "software" | "design" => 0.4,
                "technical_secret" => 0.3,
                _ => 0.2,
            }
        })
        .fold(0.1, f64::max)
}

/// Freshness: 1 when just published, halving about every eight months.
pub fn freshness_fit(l: &ListingProfile, now: i64) -> f64 {
    let days = ((now - l.published_at).max(0) as f64) / 86_400.0;
    (-days / 365.0).exp()
}

fn label(name: &str, value: f64) -> (String, String) {
    match name {
        "text" => ("内容高度相关".into(), "closely related content".into()),
        "field" => ("同一技术领域".into(), "same technology field".into()),
        "modes" => ("合作方式相符".into(), "matching transfer mode".into()),
        "price" => ("价格在预算内".into(), "price within budget".into()),
        "maturity" => ("成熟度符合要求".into(), "wanted maturity".into()),
        "region" => {
            let (zh, en) = if value >= 1.0 {
                ("同一区县", "same county")
            } else if value >= 0.8 {
                ("同一城市", "same city")
            } else if value >= 0.6 {
                ("同一省份", "same province")
            } else {
                ("同一区域", "same macro-region")
            };
            (zh.into(), en.into())
        }
        "ip" => ("知识产权较强".into(), "strong IP".into()),
        _ => ("新近发布".into(), "recently published".into()),
    }
}

/// Scores a pair. `text` is the text relevance in `0..=1` (from retrieval), `now` unix seconds.
pub fn score(need: &NeedProfile, l: &ListingProfile, text: f64, now: i64, w: &Weights) -> Scored {
    let values = [
        text.clamp(0.0, 1.0),
        field_fit(need, l),
        modes_fit(need, l),
        price_fit(need, l),
        maturity_fit(need, l),
        region_fit(need, l),
        ip_fit(l),
        freshness_fit(l, now),
    ];
    let parts: Vec<Part> = PARTS
        .iter()
        .zip(values)
        .map(|(name, value)| {
            let weight = weight(w, name);
            Part {
                name,
                value,
                weight,
                contribution: value * weight,
            }
        })
        .collect();
    let score = parts.iter().map(|p| p.contribution).sum();
    let (reason_zh, reason_en) = reasons(&parts);
    Scored {
        score,
        parts,
        reason_zh,
        reason_en,
    }
}

/// A short reason naming the strongest parts: the three largest contributions among parts
/// that fit well (value ≥ 0.6).
fn reasons(parts: &[Part]) -> (String, String) {
    let mut strong: Vec<&Part> = parts
        .iter()
        .filter(|p| p.value >= 0.6 && p.weight > 0.0)
        .collect();
    strong.sort_by(|a, b| b.contribution.total_cmp(&a.contribution));
    strong.truncate(3);
    if strong.is_empty() {
        return ("部分相关".into(), "partly related".into());
    }
    let labels: Vec<(String, String)> = strong.iter().map(|p| label(p.name, p.value)).collect();
    let zh = labels
        .iter()
        .map(|(z, _)| z.as_str())
        .collect::<Vec<_>>()
        .join("；");
    let en = labels
        .iter()
        .map(|(_, e)| e.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    let mut en_cap = en.clone();
    if let Some(f) = en_cap.get_mut(..1) {
        f.make_ascii_uppercase();
    }
    (zh, en_cap)
}

/// The strongest part names of a scored pair, strongest first (as the reason names them).
pub fn strongest(s: &Scored, n: usize) -> Vec<&'static str> {
    let mut p: Vec<&Part> = s
        .parts
        .iter()
        .filter(|p| p.value >= 0.6 && p.weight > 0.0)
        .collect();
    p.sort_by(|a, b| b.contribution.total_cmp(&a.contribution));
    p.into_iter().take(n).map(|p| p.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn need() -> NeedProfile {
        NeedProfile {
            field: Some("new_energy".into()),
            modes: vec!["license".into()],
            budget: Some((0, 1_000_000)),
            trl_min: Some(5),
            trl_max: Some(7),
            region: "320505".into(),
            ..Default::default()
        }
    }

    fn listing() -> ListingProfile {
        ListingProfile {
            field: "new_energy".into(),
            modes: vec!["license".into(), "transfer".into()],
            price: Some((500_000, 800_000)),
            trl: Some(6),
            region: "320506".into(),
            ip: vec![("invention_patent".into(), "granted".into())],
            published_at: 1_700_000_000,
            ..Default::default()
        }
    }

    #[test]
    fn a_good_fit_scores_high_and_says_why() {
        let s = score(&need(), &listing(), 0.9, 1_700_000_000, &Weights::default());
        assert!(s.score > 0.9, "{s:?}");
        assert_eq!(s.parts.len(), PARTS.len());
        assert!(s.reason_zh.starts_with("内容高度相关"), "{}", s.reason_zh);
        assert!(s.reason_en.starts_with("Closely related content"));
        assert_eq!(strongest(&s, 1), vec!["text"]);
    }

    #[test]
    fn parts_follow_their_rules() {
        let n = need();
        let mut l = listing();
        assert_eq!(region_fit(&n, &l), 0.8);
        l.region = "320102".into();
        assert_eq!(region_fit(&n, &l), 0.6);
        l.region = "330106".into();
        assert_eq!(region_fit(&n, &l), 0.35);
        l.region = "620102".into();
        assert_eq!(region_fit(&n, &l), 0.1);
        l.price = Some((1_500_000, 1_500_000));
        assert!((price_fit(&n, &l) - 0.5).abs() < 1e-9);
        l.price = Some((3_000_000, 3_000_000));
        assert_eq!(price_fit(&n, &l), 0.0);
        l.trl = Some(3);
        assert!((maturity_fit(&n, &l) - 1.0 / 3.0).abs() < 1e-9);
        l.ip = vec![("utility_model".into(), "granted".into())];
        assert_eq!(ip_fit(&l), 0.5);
        l.ip.clear();
        assert_eq!(ip_fit(&l), 0.1);
        l.modes = vec!["transfer".into()];
        assert_eq!(modes_fit(&n, &l), 0.0);
        let open = NeedProfile::default();
        assert_eq!(modes_fit(&open, &l), 1.0);
        assert_eq!(field_fit(&open, &l), 0.5);
    }

    fn arb_need() -> impl Strategy<Value = NeedProfile> {
        (
            proptest::option::of(0..3usize),
            0..3usize,
            proptest::option::of((0i64..5_000_000, 0i64..5_000_000)),
            proptest::option::of(1i64..=9),
            proptest::option::of(1i64..=9),
            0..4usize,
        )
            .prop_map(|(f, m, b, lo, hi, r)| NeedProfile {
                field: f.map(|i| ["new_energy", "biomedicine", "agriculture"][i].to_string()),
                inferred_field: Some("agriculture".into()),
                modes: ["license", "transfer", "co_development"][..m]
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
                budget: b.map(|(a, b)| (a.min(b), a.max(b))),
                negotiable: m == 1,
                trl_min: lo,
                trl_max: hi,
                region: ["320505", "110108", "440305", "bad"][r].into(),
            })
    }

    fn arb_listing() -> impl Strategy<Value = ListingProfile> {
        (
            0..3usize,
            proptest::option::of(0i64..9_000_000),
            proptest::option::of(1i64..=9),
            0..3usize,
            0i64..2_000_000_000,
        )
            .prop_map(|(f, p, t, r, at)| ListingProfile {
                field: ["new_energy", "biomedicine", "agriculture"][f].into(),
                modes: vec!["license".into()],
                price: p.map(|p| (p, p * 2)),
                negotiable: p.is_none(),
                trl: t,
                region: ["320505", "510107", "440305"][r].into(),
                ip: vec![("invention_patent".into(), "pending".into())],
                published_at: at,
            })
    }

    proptest! {
        /// The contributions add up to the score; every value lies in 0..=1 and every
        /// contribution is its value times its weight; the reason names the strongest parts.
        #[test]
        fn contributions_add_up_to_the_score(
            n in arb_need(), l in arb_listing(), text in 0.0f64..1.0, now in 0i64..2_000_000_000,
            wt in 0.0f64..2.0, wf in 0.0f64..1.0, wr in 0.0f64..1.0,
        ) {
            let w = Weights { text: wt, field: wf, region: wr, ..Weights::default() };
            let s = score(&n, &l, text, now, &w);
            let sum: f64 = s.parts.iter().map(|p| p.contribution).sum();
            prop_assert!((sum - s.score).abs() < 1e-12);
            for p in &s.parts {
                prop_assert!((0.0..=1.0).contains(&p.value), "{:?}", p);
                prop_assert!((p.contribution - p.value * p.weight).abs() < 1e-12);
            }
            for name in strongest(&s, 3) {
                let value = s.parts.iter().find(|p| p.name == name).unwrap().value;
                let (zh, en) = label(name, value);
                prop_assert!(s.reason_zh.contains(&zh));
                prop_assert!(s.reason_en.to_lowercase().contains(&en.to_lowercase()));
            }
        }
    }
}
