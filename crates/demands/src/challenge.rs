//! The rules of challenges (揭榜挂帅 / 技术难题招标) and their proposals, as pure functions.
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use ttx_core::{Fen, FieldErrors, OrgKind, RegionCode};

pub const MAX_WINNERS: u32 = 20;
pub const MAX_CRITERIA: usize = 20;
pub const CRITERION_MAX: usize = 100;
pub const MAX_REGIONS: usize = 50;
pub const PROPOSAL_TEXT_MAX: usize = 20_000;
/// The bounty must be at least 1 元.
pub const MIN_BOUNTY_FEN: i64 = 100;
pub const DECLINE_REASON_MAX: usize = 1_000;

/// Organisations that may answer challenges.
pub const SOLVER_KINDS: [OrgKind; 3] = [
    OrgKind::University,
    OrgKind::ResearchInstitute,
    OrgKind::Enterprise,
];

ttx_core::vocab_enum! {
    /// Lifecycle of a proposal: submitted → shortlisted → accepted / declined.
    ProposalStatus {
        Submitted = ("submitted", "已提交", "Submitted"),
        Shortlisted = ("shortlisted", "已入围", "Shortlisted"),
        Accepted = ("accepted", "已采纳", "Accepted"),
        Declined = ("declined", "未采纳", "Declined"),
        NotSelected = ("not_selected", "未入选（已采纳其他方案）", "Not selected (others were accepted)"),
    }
}

/// One evaluation criterion with its weight in percent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    /// e.g. 技术方案先进性
    pub name: String,
    /// Weight in percent; the weights of a challenge add up to 100.
    pub weight: u8,
}

/// The terms a challenge adds to its need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChallengeTerms {
    /// 榜单金额 in fen.
    pub bounty: Fen,
    /// Proposals are accepted until this instant.
    pub proposal_deadline: DateTime<Utc>,
    /// Organisation kinds that may answer; empty: every solver kind.
    pub eligible_kinds: Vec<OrgKind>,
    /// Region prefixes (2, 4 or 6 digits) the solver must lie in; empty: anywhere.
    pub eligible_regions: Vec<String>,
    pub criteria: Vec<Criterion>,
    /// How many proposals may be accepted.
    pub max_winners: u32,
}

/// Validates challenge terms; `need_deadline` (if any) bounds the proposal deadline.
#[allow(clippy::too_many_arguments)]
pub fn validate_terms(
    errs: &mut FieldErrors,
    bounty: i64,
    proposal_deadline: DateTime<Utc>,
    eligible_kinds: &[OrgKind],
    eligible_regions: &[String],
    criteria: &[Criterion],
    max_winners: u32,
    need_deadline: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> ChallengeTerms {
    match Fen::from_input_fen(bounty) {
        Err(e) => errs.add("bounty", "invalid_amount", e.to_string()),
        Ok(_) if bounty < MIN_BOUNTY_FEN => errs.add(
            "bounty",
            "too_small",
            "the bounty must be at least 1 元 (100 fen)",
        ),
        Ok(_) => {}
    }
    if proposal_deadline <= now {
        errs.add(
            "proposal_deadline",
            "in_past",
            "the proposal deadline must lie in the future",
        );
    } else if let Some(d) = need_deadline {
        if proposal_deadline > crate::domain::date_end(d) {
            errs.add(
                "proposal_deadline",
                "after_need_deadline",
                "the proposal deadline must not be after the need's deadline",
            );
        }
    }
    let mut kinds = eligible_kinds.to_vec();
    kinds.sort();
    kinds.dedup();
    for k in &kinds {
        if !SOLVER_KINDS.contains(k) {
            errs.add(
                "eligible_org_kinds",
                "invalid_choice",
                format!(
                    "{} cannot answer challenges; use university, research_institute or enterprise",
                    k.as_str()
                ),
            );
        }
    }
    if eligible_regions.len() > MAX_REGIONS {
        errs.add(
            "eligible_regions",
            "too_many",
            format!("at most {MAX_REGIONS} regions"),
        );
    }
    let mut regions = Vec::new();
    for (i, r) in eligible_regions.iter().enumerate() {
        match ttx_core::region::parse_region_prefix(r) {
            Ok(p) => {
                if !regions.contains(&p) {
                    regions.push(p)
                }
            }
            Err(e) => errs.add(
                &format!("eligible_regions[{i}]"),
                "invalid_region",
                e.to_string(),
            ),
        }
    }
    if criteria.len() > MAX_CRITERIA {
        errs.add(
            "criteria",
            "too_many",
            format!("at most {MAX_CRITERIA} criteria"),
        );
    }
    let mut clean = Vec::with_capacity(criteria.len());
    for (i, c) in criteria.iter().enumerate() {
        let name = errs.text(&format!("criteria[{i}].name"), &c.name, 1, CRITERION_MAX);
        if !(1..=100).contains(&c.weight) {
            errs.add(
                &format!("criteria[{i}].weight"),
                "out_of_range",
                "a weight is between 1 and 100",
            );
        }
        clean.push(Criterion {
            name,
            weight: c.weight,
        });
    }
    let total: u32 = criteria.iter().map(|c| u32::from(c.weight)).sum();
    if !criteria.is_empty() && total != 100 {
        errs.add(
            "criteria",
            "weights_not_100",
            format!("the weights add up to {total}, not 100"),
        );
    }
    if !(1..=MAX_WINNERS).contains(&max_winners) {
        errs.add(
            "max_winners",
            "out_of_range",
            format!("between 1 and {MAX_WINNERS}"),
        );
    }
    ChallengeTerms {
        bounty: Fen(bounty),
        proposal_deadline,
        eligible_kinds: kinds,
        eligible_regions: regions,
        criteria: clean,
        max_winners,
    }
}

/// Why an organisation may not answer a challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ineligible {
    /// The challenger itself.
    OwnChallenge,
    /// Not a kind that answers challenges, or not one the challenge admits.
    Kind(OrgKind),
    /// Outside the admitted regions.
    Region(String),
}

impl std::fmt::Display for Ineligible {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ineligible::OwnChallenge => write!(f, "a challenger cannot answer its own challenge"),
            Ineligible::Kind(k) => write!(
                f,
                "organisations of kind {} are not eligible for this challenge",
                k.as_str()
            ),
            Ineligible::Region(r) => write!(
                f,
                "organisations in region {r} are not eligible for this challenge"
            ),
        }
    }
}

/// Whether an organisation of `kind` in `region` may answer the challenge.
pub fn check_eligible(
    terms: &ChallengeTerms,
    challenger_org: i64,
    solver_org: i64,
    kind: OrgKind,
    region: &RegionCode,
) -> Result<(), Ineligible> {
    if challenger_org == solver_org {
        return Err(Ineligible::OwnChallenge);
    }
    let kind_ok = if terms.eligible_kinds.is_empty() {
        SOLVER_KINDS.contains(&kind)
    } else {
        terms.eligible_kinds.contains(&kind)
    };
    if !kind_ok {
        return Err(Ineligible::Kind(kind));
    }
    let code = region.as_string();
    if !terms.eligible_regions.is_empty()
        && !terms
            .eligible_regions
            .iter()
            .any(|p| code.starts_with(p.as_str()))
    {
        return Err(Ineligible::Region(code));
    }
    Ok(())
}

/// Proposals are accepted up to and including the deadline instant.
pub fn accepts_proposals(terms: &ChallengeTerms, now: DateTime<Utc>) -> bool {
    now <= terms.proposal_deadline
}

/// Something the challenger does to a proposal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Shortlist,
    Accept,
    Decline,
}

impl Decision {
    pub fn as_str(&self) -> &'static str {
        match self {
            Decision::Shortlist => "shortlist",
            Decision::Accept => "accept",
            Decision::Decline => "decline",
        }
    }
}

/// The proposal's state after a decision, or `None` when the decision is not allowed.
pub fn decide(from: ProposalStatus, d: Decision) -> Option<ProposalStatus> {
    use ProposalStatus::*;
    match (from, d) {
        (Submitted, Decision::Shortlist) => Some(Shortlisted),
        (Submitted | Shortlisted, Decision::Accept) => Some(Accepted),
        (Submitted | Shortlisted, Decision::Decline) => Some(Declined),
        _ => None,
    }
}

/// Whether a challenge whose need is (effectively) `status` takes new proposals: only while open.
pub fn open_for_proposals(status: crate::domain::DemandStatus) -> bool {
    status == crate::domain::DemandStatus::Open
}

/// Whether the challenger may still decide on proposals: while the need is open or in
/// negotiation, and after its deadline has passed (expired), but not once it is a draft,
/// resolved or closed.
pub fn open_for_decisions(status: crate::domain::DemandStatus) -> bool {
    use crate::domain::DemandStatus::*;
    matches!(status, Open | InNegotiation | Expired)
}

/// Whether another proposal may be accepted.
pub fn has_winner_slot(accepted: u32, max_winners: u32) -> bool {
    accepted < max_winners
}

/// Once a challenge has all its winners, the proposals still waiting (submitted or
/// shortlisted) lose: they move to `not_selected`, and their solvers are told.
pub fn loses_when_full(s: ProposalStatus, accepted: u32, max_winners: u32) -> bool {
    !has_winner_slot(accepted, max_winners)
        && matches!(s, ProposalStatus::Submitted | ProposalStatus::Shortlisted)
}

#[cfg(test)]
mod decision_state_tests {
    use super::*;
    use crate::domain::DemandStatus;

    #[test]
    fn proposals_while_open_decisions_until_resolved_or_closed() {
        for s in [
            DemandStatus::Draft,
            DemandStatus::Open,
            DemandStatus::InNegotiation,
            DemandStatus::Resolved,
            DemandStatus::Closed,
            DemandStatus::Expired,
        ] {
            assert_eq!(open_for_proposals(s), s == DemandStatus::Open, "{s}");
            assert_eq!(
                open_for_decisions(s),
                matches!(
                    s,
                    DemandStatus::Open | DemandStatus::InNegotiation | DemandStatus::Expired
                ),
                "{s}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn terms() -> ChallengeTerms {
        let mut errs = FieldErrors::new();
        let t = validate_terms(
            &mut errs,
            500_000_000,
            now() + chrono::Duration::days(30),
            &[OrgKind::University, OrgKind::ResearchInstitute],
            &["11".into(), "4403".into()],
            &[
                Criterion {
                    name: "技术先进性".into(),
                    weight: 60,
                },
                Criterion {
                    name: "团队能力".into(),
                    weight: 40,
                },
            ],
            2,
            None,
            now(),
        );
        assert!(errs.is_empty(), "{errs:?}");
        t
    }

    #[test]
    fn terms_are_validated() {
        let mut errs = FieldErrors::new();
        validate_terms(
            &mut errs,
            50,
            now() - chrono::Duration::hours(1),
            &[OrgKind::Station],
            &["99".into()],
            &[Criterion {
                name: "x".into(),
                weight: 50,
            }],
            0,
            None,
            now(),
        );
        let fields: Vec<(&str, &str)> = errs
            .0
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(
            fields,
            vec![
                ("bounty", "too_small"),
                ("proposal_deadline", "in_past"),
                ("eligible_org_kinds", "invalid_choice"),
                ("eligible_regions[0]", "invalid_region"),
                ("criteria", "weights_not_100"),
                ("max_winners", "out_of_range"),
            ]
        );
        let mut errs = FieldErrors::new();
        let need_deadline = NaiveDate::from_ymd_opt(2027, 1, 20).unwrap();
        validate_terms(
            &mut errs,
            100,
            now() + chrono::Duration::days(30),
            &[],
            &[],
            &[],
            1,
            Some(need_deadline),
            now(),
        );
        assert_eq!(errs.0[0].code, "after_need_deadline");
    }

    #[test]
    fn eligibility() {
        let t = terms();
        let bj = RegionCode::parse("110108").unwrap();
        let sz = RegionCode::parse("440305").unwrap();
        let gz = RegionCode::parse("440106").unwrap();
        assert_eq!(check_eligible(&t, 1, 2, OrgKind::University, &bj), Ok(()));
        assert_eq!(
            check_eligible(&t, 1, 2, OrgKind::ResearchInstitute, &sz),
            Ok(())
        );
        assert_eq!(
            check_eligible(&t, 1, 2, OrgKind::University, &gz),
            Err(Ineligible::Region("440106".into()))
        );
        assert_eq!(
            check_eligible(&t, 1, 2, OrgKind::Enterprise, &bj),
            Err(Ineligible::Kind(OrgKind::Enterprise))
        );
        assert_eq!(
            check_eligible(&t, 1, 1, OrgKind::University, &bj),
            Err(Ineligible::OwnChallenge)
        );
        let open = ChallengeTerms {
            eligible_kinds: vec![],
            eligible_regions: vec![],
            ..t
        };
        assert_eq!(
            check_eligible(&open, 1, 2, OrgKind::Enterprise, &gz),
            Ok(())
        );
        assert_eq!(
            check_eligible(&open, 1, 2, OrgKind::Agency, &gz),
            Err(Ineligible::Kind(OrgKind::Agency))
        );
    }

    #[test]
    fn deadline_is_inclusive() {
        let t = terms();
        assert!(accepts_proposals(&t, t.proposal_deadline));
        assert!(!accepts_proposals(
            &t,
            t.proposal_deadline + chrono::Duration::seconds(1)
        ));
    }

    #[test]
    fn decisions_and_winner_slots() {
        use ProposalStatus::*;
        assert_eq!(decide(Submitted, Decision::Shortlist), Some(Shortlisted));
        assert_eq!(decide(Shortlisted, Decision::Shortlist), None);
        assert_eq!(decide(Shortlisted, Decision::Accept), Some(Accepted));
        assert_eq!(decide(Submitted, Decision::Decline), Some(Declined));
        assert_eq!(decide(Accepted, Decision::Decline), None);
        assert_eq!(decide(Declined, Decision::Accept), None);
        assert!(has_winner_slot(1, 2));
        assert!(!has_winner_slot(2, 2));
        assert!(loses_when_full(Submitted, 1, 1));
        assert!(loses_when_full(Shortlisted, 2, 2));
        assert!(!loses_when_full(Submitted, 1, 2), "a slot is still open");
        assert!(!loses_when_full(Declined, 1, 1));
        assert!(!loses_when_full(Accepted, 1, 1));
        assert_eq!(decide(NotSelected, Decision::Accept), None);
    }
}
