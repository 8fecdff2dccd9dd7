//! What a contract says: parties, money, dates, classification, documents; and the rules that
//! tie those together.
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use ttx_core::{
    ContractKind, ContractSubKind, CreditCode, EntityKind, Fen, FieldErrors, IpKind, RegionCode,
    TechField,
};

/// A party to a contract: a TTX organisation (with `org_id`) or an outside party. Names,
/// codes, kinds and regions are snapshots taken when the contract is written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    pub org_id: Option<i64>,
    pub name: String,
    pub credit_code: Option<CreditCode>,
    pub entity_kind: EntityKind,
    pub region: RegionCode,
}

/// One instalment of the payment plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Instalment {
    pub due_on: Option<NaiveDate>,
    pub milestone: Option<String>,
    pub amount: Fen,
}

/// An attached document, recorded by name and content hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Document {
    pub name: String,
    /// Lower-case hex SHA-256 of the content.
    pub sha256: String,
    pub size_bytes: Option<i64>,
}

/// Where a contract came from on TTX (plain ids).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Links {
    pub listing_id: Option<i64>,
    pub demand_id: Option<i64>,
    pub proposal_id: Option<i64>,
    pub match_id: Option<i64>,
}

/// The content of a contract as the applicant declares it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractContent {
    pub title: String,
    pub sub_kind: ContractSubKind,
    pub seller: Party,
    pub buyer: Party,
    pub others: Vec<Party>,
    pub contract_amount: Fen,
    /// Equipment, instruments, parts and materials bought for the contract: not technology.
    pub non_technical_costs: Fen,
    pub payment_plan: Vec<Instalment>,
    pub signed_on: NaiveDate,
    pub term_start: Option<NaiveDate>,
    pub term_end: Option<NaiveDate>,
    pub tech_field: TechField,
    pub ip_kind: Option<IpKind>,
    pub programme_source: Option<String>,
    /// The researchers' share of the income (收益分配), in basis points (7000 = 70 %).
    pub researcher_reward_bp: Option<u16>,
    pub links: Links,
    pub documents: Vec<Document>,
}

/// Technology transaction amount: contract amount less non-technical costs; `None` when the
/// costs exceed the amount (it is never negative).
pub fn technology_amount(contract_amount: Fen, non_technical_costs: Fen) -> Option<Fen> {
    if non_technical_costs.0 < 0 || contract_amount.0 < 0 {
        return None;
    }
    contract_amount
        .checked_sub(non_technical_costs)
        .filter(|t| t.0 >= 0)
}

/// IP kinds that fit a sub-kind, when the sub-kind names one.
pub fn ip_kinds_for(sub: ContractSubKind) -> Option<&'static [IpKind]> {
    use ContractSubKind as S;
    const PATENTS: &[IpKind] = &[
        IpKind::InventionPatent,
        IpKind::UtilityModel,
        IpKind::Design,
    ];
    const SECRET: &[IpKind] = &[IpKind::TechnicalSecret];
    match sub {
        S::PatentRightTransfer | S::PatentApplicationRightTransfer | S::PatentLicense => {
            Some(PATENTS)
        }
        S::TechnicalSecretTransfer | S::TechnicalSecretLicense => Some(SECRET),
        _ => None,
    }
}

/// Basis points from 0 to 10 000.
pub const MAX_BP: u16 = 10_000;

/// The earliest plausible date of a technology contract (registration began in 1987, under the
/// Technology Contract Law); anything before is a typing error.
pub const EARLIEST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(1985, 1, 1) {
    Some(d) => d,
    None => panic!("valid date"),
};
/// A term may start at most this many years after today.
pub const MAX_START_YEARS_AHEAD: i32 = 10;
/// A term may last at most this many years after the signing.
pub const MAX_TERM_YEARS: i32 = 50;

fn years_after(d: NaiveDate, years: i32) -> NaiveDate {
    d.with_year(d.year() + years)
        .or_else(|| (d - chrono::Duration::days(1)).with_year(d.year() + years))
        .unwrap_or(NaiveDate::MAX)
}

/// Plausible bounds of the signing date and the term (a 422 naming the field otherwise).
fn check_date_bounds(c: &ContractContent, today: NaiveDate, e: &mut FieldErrors) {
    let too_early = |e: &mut FieldErrors, f: &str| {
        e.add(
            f,
            "too_early",
            format!("dates before {EARLIEST_DATE} are not plausible for a technology contract"),
        )
    };
    if c.signed_on < EARLIEST_DATE {
        too_early(e, "signed_on");
    }
    if let Some(s) = c.term_start {
        if s < EARLIEST_DATE {
            too_early(e, "term_start");
        } else if s > years_after(today, MAX_START_YEARS_AHEAD) {
            e.add(
                "term_start",
                "too_late",
                format!("a term starts at most {MAX_START_YEARS_AHEAD} years from today"),
            );
        }
    }
    if let Some(t) = c.term_end {
        if t < EARLIEST_DATE {
            too_early(e, "term_end");
        } else if t > years_after(c.signed_on.max(EARLIEST_DATE), MAX_TERM_YEARS) {
            e.add(
                "term_end",
                "too_late",
                format!("a term ends at most {MAX_TERM_YEARS} years after the signing"),
            );
        }
    }
}

impl ContractContent {
    pub fn kind(&self) -> ContractKind {
        self.sub_kind.kind()
    }

    pub fn technology_amount(&self) -> Option<Fen> {
        technology_amount(self.contract_amount, self.non_technical_costs)
    }

    /// Rules across fields, checked on every write (draft, edit, amendment). `today` is the
    /// business date.
    pub fn check(&self, today: NaiveDate) -> FieldErrors {
        let mut e = FieldErrors::new();
        if self.technology_amount().is_none() {
            e.add(
                "non_technical_costs",
                "exceeds_contract_amount",
                "non-technical costs cannot exceed the contract amount",
            );
        }
        if !self.payment_plan.is_empty() {
            let mut sum = Fen::ZERO;
            let mut overflow = false;
            for (i, p) in self.payment_plan.iter().enumerate() {
                if p.amount.0 <= 0 {
                    e.add(
                        &format!("payment_plan[{i}].amount"),
                        "not_positive",
                        "an instalment must be more than zero",
                    );
                }
                match sum.checked_add(p.amount) {
                    Some(s) => sum = s,
                    None => overflow = true,
                }
            }
            if overflow || sum != self.contract_amount {
                e.add(
                    "payment_plan",
                    "sum_mismatch",
                    format!(
                        "the instalments add up to {} fen, the contract amount is {} fen",
                        sum.0, self.contract_amount.0
                    ),
                );
            }
        }
        if self.signed_on > today {
            e.add(
                "signed_on",
                "in_future",
                "a contract is registered after it is signed",
            );
        }
        if let (Some(s), Some(t)) = (self.term_start, self.term_end) {
            if t < s {
                e.add("term_end", "before_start", "the term ends before it starts");
            }
        }
        check_date_bounds(self, today, &mut e);
        if let Some(bp) = self.researcher_reward_bp {
            if bp > MAX_BP {
                e.add(
                    "researcher_reward_bp",
                    "out_of_range",
                    "a share is between 0 and 10000 basis points",
                );
            }
        }
        if let (Some(ip), Some(fit)) = (self.ip_kind, ip_kinds_for(self.sub_kind)) {
            if !fit.contains(&ip) {
                e.add(
                    "ip_kind",
                    "inconsistent_with_sub_kind",
                    format!(
                        "a {} contract concerns one of: {}",
                        self.sub_kind.as_str(),
                        fit.iter()
                            .map(|k| k.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
        }
        if same_party(&self.seller, &self.buyer) {
            e.add(
                "buyer",
                "same_as_seller",
                "the buyer must be another party than the seller",
            );
        }
        let mut hashes = std::collections::HashSet::new();
        for (i, d) in self.documents.iter().enumerate() {
            if !hashes.insert(d.sha256.as_str()) {
                e.add(
                    &format!("documents[{i}].sha256"),
                    "duplicate",
                    "the same document is attached twice",
                );
            }
        }
        e
    }

    /// What a submission needs beyond a draft: a term, the contract documents, and (for a
    /// transfer or licence) the IP concerned.
    pub fn submission_gaps(&self) -> FieldErrors {
        let mut e = FieldErrors::new();
        if self.term_start.is_none() {
            e.add(
                "term_start",
                "required",
                "the term is required for submission",
            );
        }
        if self.term_end.is_none() {
            e.add(
                "term_end",
                "required",
                "the term is required for submission",
            );
        }
        if self.documents.is_empty() {
            e.add(
                "documents",
                "required",
                "attach at least the signed contract text",
            );
        }
        if matches!(self.kind(), ContractKind::Transfer | ContractKind::License)
            && self.ip_kind.is_none()
        {
            e.add(
                "ip_kind",
                "required",
                "a transfer or licence names the IP concerned",
            );
        }
        e
    }
}

fn same_party(a: &Party, b: &Party) -> bool {
    match (a.org_id, b.org_id, &a.credit_code, &b.credit_code) {
        (Some(x), Some(y), _, _) => x == y,
        (_, _, Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// Whether a string is a lower-case hex SHA-256 digest (after trimming and lower-casing).
pub fn normalize_sha256(s: &str) -> Option<String> {
    let s = s.trim().to_ascii_lowercase();
    (s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())).then_some(s)
}

/// The last day of the review, counted from the acceptance date.
pub fn review_due_on(accepted_on: NaiveDate, deadline_days: i64) -> NaiveDate {
    accepted_on + chrono::Duration::days(deadline_days.max(0))
}

/// Whether a review due on `due` is overdue on `today` (the due date itself is not).
pub fn review_overdue(due: Option<NaiveDate>, today: NaiveDate) -> bool {
    due.is_some_and(|due| today > due)
}

/// The technology amount a station registers: the contract amount less the non-technical costs,
/// which cannot exceed it.
pub fn registrable_technology_amount(
    contract_amount: Fen,
    non_technical_costs: Fen,
) -> Result<Fen, ttx_core::FieldError> {
    technology_amount(contract_amount, non_technical_costs).ok_or_else(|| {
        ttx_core::FieldError::new(
            "non_technical_costs",
            "exceeds_contract_amount",
            "non-technical costs cannot exceed the contract amount",
        )
    })
}

/// Days left until the due date (negative when overdue, 0 on the last day).
pub fn days_left(due: NaiveDate, today: NaiveDate) -> i64 {
    (due - today).num_days()
}

/// Among stations whose jurisdiction covers `seller_region`, the most specific one (a county
/// station before a city before a province), then the lowest id. `candidates` pairs a station
/// id with one region of its jurisdiction.
pub fn choose_station(seller_region: RegionCode, candidates: &[(i64, RegionCode)]) -> Option<i64> {
    candidates
        .iter()
        .filter(|(_, j)| seller_region.is_within(*j))
        .max_by_key(|(id, j)| (j.ancestors_and_self().len(), std::cmp::Reverse(*id)))
        .map(|(id, _)| *id)
}

/// Whether a station with this jurisdiction may register a contract of a seller in `region`.
pub fn covers(jurisdiction: &[RegionCode], region: RegionCode) -> bool {
    jurisdiction.iter().any(|j| region.is_within(*j))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn party(org: Option<i64>, name: &str, region: &str) -> Party {
        Party {
            org_id: org,
            name: name.into(),
            credit_code: None,
            entity_kind: EntityKind::Enterprise,
            region: RegionCode::parse(region).unwrap(),
        }
    }

    pub fn sample() -> ContractContent {
        ContractContent {
            title: "锂电池正极材料制备技术开发".into(),
            sub_kind: ContractSubKind::EntrustedDevelopment,
            seller: party(Some(1), "北辰理工大学", "110108"),
            buyer: party(None, "星河新能源科技有限公司", "320505"),
            others: vec![],
            contract_amount: Fen(100_000_000),
            non_technical_costs: Fen(20_000_000),
            payment_plan: vec![],
            signed_on: d("2026-03-01"),
            term_start: Some(d("2026-03-01")),
            term_end: Some(d("2027-02-28")),
            tech_field: TechField::NewEnergy,
            ip_kind: None,
            programme_source: None,
            researcher_reward_bp: Some(7000),
            links: Links::default(),
            documents: vec![Document {
                name: "合同文本.pdf".into(),
                sha256: "a".repeat(64),
                size_bytes: Some(1000),
            }],
        }
    }

    pub fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn codes(e: &FieldErrors) -> Vec<(String, String)> {
        e.0.iter()
            .map(|f| (f.field.clone(), f.code.clone()))
            .collect()
    }

    #[test]
    fn technology_amount_is_exact_and_never_negative() {
        assert_eq!(technology_amount(Fen(100), Fen(30)), Some(Fen(70)));
        assert_eq!(technology_amount(Fen(100), Fen(100)), Some(Fen(0)));
        assert_eq!(technology_amount(Fen(100), Fen(101)), None);
        assert_eq!(technology_amount(Fen(100), Fen(-1)), None);
        assert_eq!(sample().technology_amount(), Some(Fen(80_000_000)));
    }

    #[test]
    fn a_sound_contract_passes() {
        let c = sample();
        assert!(
            c.check(d("2026-11-23")).is_empty(),
            "{:?}",
            c.check(d("2026-11-23"))
        );
        assert!(c.submission_gaps().is_empty());
    }

    #[test]
    fn dates_have_plausible_bounds() {
        let today = d("2026-11-23");
        let mut c = sample();
        c.signed_on = d("0001-01-01");
        c.term_start = Some(d("1984-12-31"));
        c.term_end = Some(d("9999-12-31"));
        assert_eq!(
            codes(&c.check(today)),
            vec![
                ("signed_on".to_string(), "too_early".to_string()),
                ("term_start".to_string(), "too_early".to_string()),
                ("term_end".to_string(), "too_late".to_string()),
            ]
        );
        let mut c = sample();
        c.signed_on = d("1985-01-01");
        c.term_start = None;
        c.term_end = Some(d("2035-01-01"));
        assert!(codes(&c.check(today)).is_empty(), "bounds are inclusive");
        c.term_start = Some(d("2036-11-23"));
        c.term_end = None;
        assert!(codes(&c.check(today)).is_empty(), "bounds are inclusive");
        c.term_start = Some(d("2036-11-24"));
        c.term_end = Some(d("2035-01-02"));
        assert_eq!(
            codes(&c.check(today)),
            vec![
                ("term_end".to_string(), "before_start".to_string()),
                ("term_start".to_string(), "too_late".to_string()),
                ("term_end".to_string(), "too_late".to_string()),
            ]
        );
        // 29 February plus 50 years is a 28 February.
        assert_eq!(years_after(d("2024-02-29"), 50), d("2074-02-28"));
    }

    #[test]
    fn cross_field_rules() {
        let mut c = sample();
        c.non_technical_costs = Fen(200_000_000);
        c.payment_plan = vec![
            Instalment {
                due_on: None,
                milestone: Some("签订后".into()),
                amount: Fen(50_000_000),
            },
            Instalment {
                due_on: None,
                milestone: None,
                amount: Fen(0),
            },
        ];
        c.signed_on = d("2027-01-01");
        c.term_end = Some(d("2026-01-01"));
        c.researcher_reward_bp = Some(10_001);
        c.sub_kind = ContractSubKind::PatentLicense;
        c.ip_kind = Some(IpKind::Software);
        c.buyer.org_id = Some(1);
        c.documents.push(c.documents[0].clone());
        let e = codes(&c.check(d("2026-11-23")));
        for want in [
            ("non_technical_costs", "exceeds_contract_amount"),
            ("payment_plan[1].amount", "not_positive"),
            ("payment_plan", "sum_mismatch"),
            ("signed_on", "in_future"),
            ("term_end", "before_start"),
            ("researcher_reward_bp", "out_of_range"),
            ("ip_kind", "inconsistent_with_sub_kind"),
            ("buyer", "same_as_seller"),
            ("documents[1].sha256", "duplicate"),
        ] {
            assert!(
                e.contains(&(want.0.to_string(), want.1.to_string())),
                "missing {want:?} in {e:?}"
            );
        }
    }

    #[test]
    fn payment_plan_must_add_up() {
        let mut c = sample();
        c.payment_plan = vec![
            Instalment {
                due_on: Some(d("2026-04-01")),
                milestone: None,
                amount: Fen(60_000_000),
            },
            Instalment {
                due_on: Some(d("2026-12-01")),
                milestone: None,
                amount: Fen(40_000_000),
            },
        ];
        assert!(c.check(d("2026-11-23")).is_empty());
        c.payment_plan[1].amount = Fen(40_000_001);
        assert_eq!(
            codes(&c.check(d("2026-11-23"))),
            vec![("payment_plan".into(), "sum_mismatch".into())]
        );
    }

    #[test]
    fn submission_needs_term_documents_and_ip_for_transfers() {
        let mut c = sample();
        c.term_end = None;
        c.documents.clear();
        c.sub_kind = ContractSubKind::PatentRightTransfer;
        let e = codes(&c.submission_gaps());
        assert_eq!(
            e,
            vec![
                ("term_end".into(), "required".into()),
                ("documents".into(), "required".into()),
                ("ip_kind".into(), "required".into()),
            ]
        );
    }

    #[test]
    fn sha256_normalisation() {
        assert_eq!(normalize_sha256(&"AB".repeat(32)), Some("ab".repeat(32)));
        assert_eq!(normalize_sha256("abc"), None);
        assert_eq!(normalize_sha256(&"g".repeat(64)), None);
    }

    #[test]
    fn review_days_count_from_acceptance() {
        let due = review_due_on(d("2026-11-01"), 30);
        assert_eq!(due, d("2026-12-01"));
        assert_eq!(days_left(due, d("2026-11-23")), 8);
        assert_eq!(days_left(due, d("2026-12-01")), 0);
        assert_eq!(days_left(due, d("2026-12-03")), -2);
    }

    #[test]
    fn the_most_specific_station_is_chosen() {
        let r = |s: &str| RegionCode::parse(s).unwrap();
        let candidates = vec![
            (7, r("110000")), // Beijing municipal station
            (9, r("110108")), // Haidian district station
            (3, r("440000")), // Guangdong
            (5, r("110000")),
        ];
        assert_eq!(choose_station(r("110108"), &candidates), Some(9));
        assert_eq!(choose_station(r("110105"), &candidates), Some(5));
        assert_eq!(choose_station(r("440305"), &candidates), Some(3));
        assert_eq!(choose_station(r("320505"), &candidates), None);
        assert!(covers(&[r("440000")], r("440305")));
        assert!(!covers(&[r("440300")], r("440103")));
    }
}

#[cfg(test)]
mod review_and_registration_rules {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_review_is_overdue_the_day_after_it_was_due() {
        assert!(!review_overdue(None, d("2026-12-31")));
        assert!(!review_overdue(Some(d("2026-12-01")), d("2026-11-30")));
        assert!(!review_overdue(Some(d("2026-12-01")), d("2026-12-01")));
        assert!(review_overdue(Some(d("2026-12-01")), d("2026-12-02")));
    }

    #[test]
    fn costs_above_the_amount_cannot_be_registered() {
        let e = registrable_technology_amount(Fen(100), Fen(101)).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.code.as_str()),
            ("non_technical_costs", "exceeds_contract_amount")
        );
        assert_eq!(
            registrable_technology_amount(Fen(100), Fen(100)),
            Ok(Fen(0))
        );
        assert_eq!(
            registrable_technology_amount(Fen(100), Fen(30)),
            Ok(Fen(70))
        );
    }
}
