//! HTTP request types of needs, challenges and proposals, and their parsing into domain
//! values (all field errors at once). Response types are in [`crate::view`].
use crate::challenge::{self, ChallengeTerms, Criterion};
pub use crate::command::{CloseOutcome, DemandPatchCommand, NewDemand, NewProposal, TermsDraft};
use crate::domain::{self, Budget, Contact, DemandData, DemandPatch, ResearchType};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use ttx_core::{Fen, FieldError, FieldErrors, OrgKind, RegionCode, TechField, TransferMode, Trl};
use utoipa::ToSchema;

/// How to reach the firm; shown only to its own organisation.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

impl ContactInput {
    fn parse(self, errs: &mut FieldErrors, path: &str) -> Contact {
        Contact {
            name: self.name,
            phone: self.phone,
            email: self.email,
        }
        .validate(errs, path)
    }
}

/// A new technical need (技术需求). Only the title is required for a draft; publishing needs
/// a completeness score of at least `demands.min_publish_score`.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DemandInput {
    /// 4 to 200 characters.
    pub title: String,
    /// 主要问题: the problem the firm faces.
    #[serde(default)]
    pub problem: String,
    /// 技术关键: the technical key points to solve.
    #[serde(default)]
    pub key_points: String,
    /// 预期目标: expected goals and acceptance indicators.
    #[serde(default)]
    pub goals: String,
    /// At most 5, each up to 30 characters; duplicates are dropped.
    #[serde(default)]
    pub keywords: Vec<String>,
    pub field: Option<TechField>,
    pub research_type: Option<ResearchType>,
    /// Wanted transfer / cooperation modes (none: open to any).
    #[serde(default)]
    pub modes: Vec<TransferMode>,
    /// Wanted maturity, lowest TRL (1-9).
    pub trl_min: Option<Trl>,
    /// Wanted maturity, highest TRL (1-9).
    pub trl_max: Option<Trl>,
    /// `{"kind":"range","min":…,"max":…}` (fen; or `min_yuan` / `max_yuan` in 元 as decimal
    /// strings) or `{"kind":"negotiable"}`; omitted: unspecified.
    pub budget: Option<BudgetInput>,
    /// 需求时限: last day (Beijing date) the need is open.
    pub deadline: Option<NaiveDate>,
    /// 6-digit region code; default: the organisation's region.
    pub region_code: Option<String>,
    /// Show the firm's name only to verified agencies and brokers.
    #[serde(default)]
    pub anonymous: bool,
    pub contact: Option<ContactInput>,
    /// Publish at once (default: save as a draft).
    pub publish: Option<bool>,
}

fn parse_region(errs: &mut FieldErrors, field: &str, raw: Option<&str>) -> Option<RegionCode> {
    let raw = raw.map(str::trim).filter(|s| !s.is_empty())?;
    match RegionCode::parse(raw) {
        Ok(r) => Some(r),
        Err(e) => {
            errs.add(field, "invalid_region", e.to_string());
            None
        }
    }
}

fn long_text(errs: &mut FieldErrors, field: &str, v: &str) -> String {
    let v = v.trim();
    if v.chars().count() > domain::TEXT_MAX {
        errs.add(
            field,
            "too_long",
            format!("must be at most {} characters", domain::TEXT_MAX),
        );
    }
    v.to_string()
}

/// Re-reports errors under `prefix` (for nested bodies).
fn prefixed(errs: FieldErrors, prefix: &str) -> FieldErrors {
    FieldErrors(
        errs.0
            .into_iter()
            .map(|e| {
                let f = format!("{prefix}{}", e.field);
                FieldError { field: f, ..e }
            })
            .collect(),
    )
}

impl DemandInput {
    /// Validates everything, reporting every problem at once.
    pub fn parse(self, today: NaiveDate) -> Result<NewDemand, FieldErrors> {
        let mut errs = FieldErrors::new();
        let title = errs.text("title", &self.title, domain::TITLE_MIN, domain::TITLE_MAX);
        let problem = long_text(&mut errs, "problem", &self.problem);
        let key_points = long_text(&mut errs, "key_points", &self.key_points);
        let goals = long_text(&mut errs, "goals", &self.goals);
        let keywords = domain::normalize_keywords(&mut errs, "keywords", &self.keywords);
        let (trl_min, trl_max) = domain::validate_trl_range(&mut errs, self.trl_min, self.trl_max);
        let budget = self.budget.and_then(|b| b.parse(&mut errs, "budget"));
        let deadline = domain::validate_deadline(&mut errs, "deadline", self.deadline, today);
        let region = parse_region(&mut errs, "region_code", self.region_code.as_deref());
        let contact = self
            .contact
            .map(|c| c.parse(&mut errs, "contact"))
            .unwrap_or_default();
        errs.finish(NewDemand {
            data: DemandData {
                title,
                problem,
                key_points,
                goals,
                keywords,
                field: self.field,
                research_type: self.research_type,
                modes: domain::normalize_modes(&self.modes),
                trl_min,
                trl_max,
                budget,
                deadline,
                region,
                anonymous: self.anonymous,
                contact,
            },
            publish: self.publish.unwrap_or(false),
        })
    }
}

/// Changes to a need; absent fields stay, `null` clears an optional field. Requires
/// `If-Match`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DemandPatchInput {
    pub title: Option<String>,
    pub problem: Option<String>,
    pub key_points: Option<String>,
    pub goals: Option<String>,
    pub keywords: Option<Vec<String>>,
    #[serde(default, deserialize_with = "ttx_web::double_option")]
    #[schema(value_type = Option<TechField>)]
    pub field: Option<Option<TechField>>,
    #[serde(default, deserialize_with = "ttx_web::double_option")]
    #[schema(value_type = Option<ResearchType>)]
    pub research_type: Option<Option<ResearchType>>,
    pub modes: Option<Vec<TransferMode>>,
    #[serde(default, deserialize_with = "ttx_web::double_option")]
    #[schema(value_type = Option<u8>)]
    pub trl_min: Option<Option<Trl>>,
    #[serde(default, deserialize_with = "ttx_web::double_option")]
    #[schema(value_type = Option<u8>)]
    pub trl_max: Option<Option<Trl>>,
    #[serde(default, deserialize_with = "ttx_web::double_option")]
    #[schema(value_type = Option<BudgetInput>)]
    pub budget: Option<Option<BudgetInput>>,
    #[serde(default, deserialize_with = "ttx_web::double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub deadline: Option<Option<NaiveDate>>,
    pub region_code: Option<String>,
    pub anonymous: Option<bool>,
    /// Replaces the whole contact.
    pub contact: Option<ContactInput>,
    /// Challenges only, while a draft: replaces the challenge terms.
    pub terms: Option<TermsInput>,
}

impl DemandPatchInput {
    pub fn parse(self, today: NaiveDate) -> Result<DemandPatchCommand, FieldErrors> {
        let mut errs = FieldErrors::new();
        let patch = DemandPatch {
            title: self
                .title
                .map(|t| errs.text("title", &t, domain::TITLE_MIN, domain::TITLE_MAX)),
            problem: self.problem.map(|v| long_text(&mut errs, "problem", &v)),
            key_points: self
                .key_points
                .map(|v| long_text(&mut errs, "key_points", &v)),
            goals: self.goals.map(|v| long_text(&mut errs, "goals", &v)),
            keywords: self
                .keywords
                .map(|k| domain::normalize_keywords(&mut errs, "keywords", &k)),
            field: self.field,
            research_type: self.research_type,
            modes: self.modes.map(|m| domain::normalize_modes(&m)),
            trl_min: self.trl_min,
            trl_max: self.trl_max,
            budget: self
                .budget
                .map(|b| b.and_then(|b| b.parse(&mut errs, "budget"))),
            deadline: self
                .deadline
                .map(|d| domain::validate_deadline(&mut errs, "deadline", d, today)),
            region: parse_region(&mut errs, "region_code", self.region_code.as_deref()),
            anonymous: self.anonymous,
            contact: self.contact.map(|c| c.parse(&mut errs, "contact")),
        };
        let terms = self.terms.map(|t| t.draft(&mut errs, "terms."));
        errs.finish(DemandPatchCommand { patch, terms })
    }
}

fn default_winners() -> u32 {
    1
}

/// The terms of a challenge (揭榜挂帅).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TermsInput {
    /// 榜单金额 in fen (at least 100); or give `bounty_yuan`.
    pub bounty: Option<i64>,
    /// 榜单金额 in 元 as a decimal string (`"3000000"`, `"12.50"`: at most 2 decimals; no sign,
    /// exponent or grouping commas); with `bounty` too, both must be the same amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "3000000.00")]
    pub bounty_yuan: Option<String>,
    /// Proposals are accepted until this instant (RFC 3339); not after the need's deadline.
    pub proposal_deadline: DateTime<Utc>,
    /// Kinds of organisations that may answer (university, research_institute, enterprise);
    /// empty: all three.
    #[serde(default)]
    pub eligible_org_kinds: Vec<OrgKind>,
    /// Region prefixes (2, 4 or 6 digits) the solver must lie in; empty: anywhere.
    #[serde(default)]
    pub eligible_regions: Vec<String>,
    /// Evaluation criteria with weights adding up to 100.
    #[serde(default)]
    pub criteria: Vec<Criterion>,
    /// How many proposals may be accepted (1-20, default 1).
    #[serde(default = "default_winners")]
    pub max_winners: u32,
}

impl TermsInput {
    /// The terms as a command, the bounty read from `bounty` or `bounty_yuan`; a missing or
    /// unreadable bounty is reported in `errs` under `{prefix}bounty`.
    pub fn draft(&self, errs: &mut FieldErrors, prefix: &str) -> TermsDraft {
        let bounty = ttx_core::money::required_fen_or_yuan(
            errs,
            &format!("{prefix}bounty"),
            self.bounty,
            self.bounty_yuan.as_deref(),
        );
        TermsDraft {
            // already reported when missing or unreadable: checked no further
            bounty: bounty.map_or(challenge::MIN_BOUNTY_FEN, |b| b.0),
            proposal_deadline: self.proposal_deadline,
            eligible_org_kinds: self.eligible_org_kinds.clone(),
            eligible_regions: self.eligible_regions.clone(),
            criteria: self.criteria.clone(),
            max_winners: self.max_winners,
        }
    }

    /// Validates the terms against the need's deadline.
    pub fn parse(
        &self,
        need_deadline: Option<NaiveDate>,
        now: DateTime<Utc>,
    ) -> Result<ChallengeTerms, FieldErrors> {
        let mut errs = FieldErrors::new();
        let t = self
            .draft(&mut errs, "")
            .check(&mut errs, need_deadline, now);
        errs.finish(t)
    }
}

/// A new challenge: a need and its terms.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChallengeCreate {
    pub need: DemandInput,
    pub terms: TermsInput,
}

impl ChallengeCreate {
    pub fn parse(self, now: DateTime<Utc>) -> Result<(NewDemand, ChallengeTerms), FieldErrors> {
        let today = ttx_core::clock::beijing_date(now);
        let (need, mut errs) = match self.need.parse(today) {
            Ok(n) => (Some(n), FieldErrors::new()),
            Err(e) => (None, prefixed(e, "need.")),
        };
        let deadline = need.as_ref().and_then(|n| n.data.deadline);
        let terms = match self.terms.parse(deadline, now) {
            Ok(t) => Some(t),
            Err(e) => {
                errs.0.extend(prefixed(e, "terms.").0);
                None
            }
        };
        match (need, terms) {
            (Some(n), Some(t)) if errs.is_empty() => Ok((n, t)),
            _ => Err(errs),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseInput {
    /// `resolved` or `closed` (default).
    #[serde(default)]
    pub outcome: CloseOutcome,
    /// Why; also sent to solvers whose open proposals are declined by the closing.
    pub reason: Option<String>,
}

impl CloseInput {
    pub fn parse(self) -> Result<(CloseOutcome, Option<String>), FieldErrors> {
        let mut errs = FieldErrors::new();
        let reason = errs.opt_text(
            "reason",
            self.reason.as_deref(),
            challenge::DECLINE_REASON_MAX,
        );
        errs.finish((self.outcome, reason))
    }
}

/// A budget as a request gives it: each amount in fen (`min`, `max`, integers) or in 元 as a
/// decimal string as a person types it (`min_yuan`, `max_yuan`: `"12.50"`; at most 2
/// decimals; no sign, exponent or grouping commas; full-width digits read as digits). One of
/// the two forms is required; both must then be the same amount (else 422 `amount_mismatch`
/// on the `_yuan` field). Reads answer in fen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum BudgetInput {
    /// A range, `min` ≤ `max` (use `min = max` for a fixed amount).
    Range {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<i64>,
        #[schema(example = "500000")]
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_yuan: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<i64>,
        #[schema(example = "1000000.00")]
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_yuan: Option<String>,
    },
    /// 面议: to be negotiated.
    Negotiable,
}

impl From<Budget> for BudgetInput {
    /// The same budget with its amounts in fen.
    fn from(b: Budget) -> Self {
        match b {
            Budget::Range { min, max } => BudgetInput::Range {
                min: Some(min.0),
                min_yuan: None,
                max: Some(max.0),
                max_yuan: None,
            },
            Budget::Negotiable => BudgetInput::Negotiable,
        }
    }
}

impl BudgetInput {
    /// The budget, its amounts read from fen or 元 and checked; errors under `{path}.min`,
    /// `{path}.max_yuan`, ...
    pub fn parse(self, errs: &mut FieldErrors, path: &str) -> Option<Budget> {
        use ttx_core::money::required_fen_or_yuan as amount;
        let n = errs.0.len();
        let budget = match self {
            BudgetInput::Range {
                min,
                min_yuan,
                max,
                max_yuan,
            } => {
                let min = amount(errs, &format!("{path}.min"), min, min_yuan.as_deref());
                let max = amount(errs, &format!("{path}.max"), max, max_yuan.as_deref());
                min.zip(max).map(|(min, max)| Budget::Range { min, max })
            }
            BudgetInput::Negotiable => Some(Budget::Negotiable),
        };
        if errs.0.len() > n {
            return None;
        }
        budget?.validate(errs, path)
    }
}

/// An answer to a challenge.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposalInput {
    /// The technical approach (技术方案).
    pub approach: String,
    /// The team (团队).
    pub team: String,
    /// The timeline (进度安排).
    pub timeline: String,
    /// Asking price in fen; or give `price_yuan`.
    pub price: Option<i64>,
    /// Asking price in 元 as a decimal string (`"12.50"`: at most 2 decimals, no sign,
    /// exponent or grouping commas); with `price` too, both must be the same amount.
    #[schema(example = "500000.00")]
    pub price_yuan: Option<String>,
}

impl ProposalInput {
    pub fn parse(self) -> Result<NewProposal, FieldErrors> {
        let mut errs = FieldErrors::new();
        let max = challenge::PROPOSAL_TEXT_MAX;
        let approach = errs.text("approach", &self.approach, 10, max);
        let team = errs.text("team", &self.team, 2, max);
        let timeline = errs.text("timeline", &self.timeline, 2, max);
        let price = ttx_core::money::required_fen_or_yuan(
            &mut errs,
            "price",
            self.price,
            self.price_yuan.as_deref(),
        );
        errs.finish(NewProposal {
            approach,
            team,
            timeline,
            price: price.unwrap_or(Fen::ZERO),
        })
    }
}

/// Decline a proposal: the reason is required and sent to the solver.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclineInput {
    pub reason: String,
}

impl DeclineInput {
    pub fn parse(self) -> Result<String, FieldErrors> {
        let mut errs = FieldErrors::new();
        let r = errs.text("reason", &self.reason, 2, challenge::DECLINE_REASON_MAX);
        errs.finish(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    #[test]
    fn need_errors_are_gathered() {
        let raw = serde_json::json!({
            "title": "ab",
            "keywords": ["a","b","c","d","e","f"],
            "trl_min": 7, "trl_max": 3,
            "budget": {"kind": "range", "min": 500, "max": 100},
            "deadline": "2020-01-01",
            "region_code": "999999",
            "contact": {"email": "nope"}
        });
        let input: DemandInput = serde_json::from_value(raw).unwrap();
        let errs = input.parse(today()).unwrap_err();
        let fields: Vec<&str> = errs.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "title",
                "keywords",
                "trl_min",
                "budget.min",
                "deadline",
                "region_code",
                "contact.email"
            ]
        );
    }

    #[test]
    fn challenge_errors_are_nested() {
        let raw = serde_json::json!({
            "need": {"title": "x"},
            "terms": {"bounty": 1, "proposal_deadline": "2020-01-01T00:00:00Z"}
        });
        let input: ChallengeCreate = serde_json::from_value(raw).unwrap();
        let now = DateTime::parse_from_rfc3339("2026-11-23T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let errs = input.parse(now).unwrap_err();
        let fields: Vec<&str> = errs.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec!["need.title", "terms.bounty", "terms.proposal_deadline"]
        );
    }

    #[test]
    fn patch_distinguishes_absent_and_null() {
        let p: DemandPatchInput =
            serde_json::from_value(serde_json::json!({"budget": null, "title": "新的标题名"}))
                .unwrap();
        let parsed = p.parse(today()).unwrap();
        assert_eq!(parsed.patch.budget, Some(None));
        assert_eq!(parsed.patch.deadline, None);
        assert_eq!(parsed.patch.title.as_deref(), Some("新的标题名"));
    }
}
