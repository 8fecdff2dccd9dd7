//! Response types, rendered for a viewer: contact details only for the owner organisation,
//! an anonymous firm's name only for those the rules clear (see [`crate::domain`]).
use crate::challenge::{accepts_proposals, Criterion};
use crate::completeness::Completeness;
use crate::domain::{self, Budget, Contact, DemandStatus, Viewer};
use crate::store::{Challenge, Demand, OrgInfo, Proposal};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use ttx_core::{Fen, Labelled};
use utoipa::ToSchema;

/// An organisation as readers see it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrgRef {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub region_code: String,
}

impl From<&OrgInfo> for OrgRef {
    fn from(o: &OrgInfo) -> Self {
        OrgRef {
            id: o.id,
            name: o.name.clone(),
            kind: o.kind.as_str().to_string(),
            region_code: o.region.clone(),
        }
    }
}

/// The terms of a challenge.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChallengeView {
    /// 榜单金额 in fen.
    pub bounty: Fen,
    pub proposal_deadline: DateTime<Utc>,
    /// Whether proposals are accepted now.
    pub accepting_proposals: bool,
    pub eligible_org_kinds: Vec<String>,
    pub eligible_regions: Vec<String>,
    pub criteria: Vec<Criterion>,
    pub max_winners: u32,
    pub accepted_count: u32,
}

impl ChallengeView {
    pub fn build(c: &Challenge, status: DemandStatus, now: DateTime<Utc>) -> Self {
        ChallengeView {
            bounty: c.terms.bounty,
            proposal_deadline: c.terms.proposal_deadline,
            accepting_proposals: status == DemandStatus::Open && accepts_proposals(&c.terms, now),
            eligible_org_kinds: c
                .terms
                .eligible_kinds
                .iter()
                .map(|k| k.as_str().to_string())
                .collect(),
            eligible_regions: c.terms.eligible_regions.clone(),
            criteria: c.terms.criteria.clone(),
            max_winners: c.terms.max_winners,
            accepted_count: c.accepted_count,
        }
    }
}

/// A need (技术需求), possibly a challenge.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DemandView {
    pub id: i64,
    pub title: String,
    pub problem: String,
    pub key_points: String,
    pub goals: String,
    pub keywords: Vec<String>,
    pub field: Option<String>,
    pub field_zh: Option<String>,
    pub research_type: Option<String>,
    pub research_type_zh: Option<String>,
    pub modes: Vec<String>,
    pub trl_min: Option<u8>,
    pub trl_max: Option<u8>,
    /// Absent: not stated.
    pub budget: Option<Budget>,
    /// Last day the need is open (Beijing date).
    pub deadline: Option<NaiveDate>,
    pub region_code: String,
    pub region_name: String,
    /// The firm's name is hidden from the public.
    pub anonymous: bool,
    /// The firm; absent when the need is anonymous and the caller may not see it.
    pub org: Option<OrgRef>,
    /// draft | open | in_negotiation | resolved | closed | expired (an open need past its
    /// deadline reads as expired).
    pub status: String,
    pub status_zh: String,
    pub is_challenge: bool,
    pub challenge: Option<ChallengeView>,
    /// Only for the owner organisation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
    /// Only for those who may edit the need: the completeness score and what to add.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completeness: Option<Completeness>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub close_reason: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
}

impl DemandView {
    /// Renders a need for `viewer`; `org` is the owner, `manage` whether the viewer may edit.
    pub fn build(
        d: &Demand,
        challenge: Option<&Challenge>,
        org: Option<&OrgInfo>,
        viewer: &Viewer,
        now: DateTime<Utc>,
    ) -> Self {
        let status = domain::effective_status(
            d.status,
            d.data.deadline,
            ttx_core::clock::beijing_date(now),
        );
        let data = &d.data;
        let owner_side = domain::shows_contact(d.owner_org_id, viewer);
        let manage = domain::can_manage(d.owner_org_id, d.created_by, viewer);
        DemandView {
            id: d.id,
            title: data.title.clone(),
            problem: data.problem.clone(),
            key_points: data.key_points.clone(),
            goals: data.goals.clone(),
            keywords: data.keywords.clone(),
            field: data.field.map(|f| f.as_str().to_string()),
            field_zh: data.field.map(|f| f.zh().to_string()),
            research_type: data.research_type.map(|r| r.as_str().to_string()),
            research_type_zh: data.research_type.map(|r| r.zh().to_string()),
            modes: data.modes.iter().map(|m| m.as_str().to_string()).collect(),
            trl_min: data.trl_min.map(|t| t.level()),
            trl_max: data.trl_max.map(|t| t.level()),
            budget: data.budget,
            deadline: data.deadline,
            region_code: d.region.as_string(),
            region_name: d.region.full_name(),
            anonymous: data.anonymous,
            org: org
                .filter(|_| domain::shows_identity(data.anonymous, d.owner_org_id, viewer))
                .map(OrgRef::from),
            status: status.as_str().to_string(),
            status_zh: status.zh().to_string(),
            is_challenge: d.is_challenge,
            challenge: challenge.map(|c| ChallengeView::build(c, status, now)),
            contact: owner_side.then(|| data.contact.clone()),
            completeness: manage.then(|| crate::completeness::assess(data)),
            close_reason: if owner_side {
                d.close_reason.clone()
            } else {
                None
            },
            version: d.version,
            created_at: d.created_at,
            updated_at: d.updated_at,
            published_at: d.published_at,
            closed_at: d.closed_at,
        }
    }
}

/// The parties of the technology contract that follows an accepted proposal.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ContractPartiesView {
    pub demand_id: i64,
    pub proposal_id: i64,
    /// The solver (卖方 / 受托方).
    pub seller: OrgRef,
    /// The challenger (买方 / 委托方).
    pub buyer: OrgRef,
    /// Contract amount in fen (the accepted proposal's price).
    pub amount: Fen,
}

/// A proposal (揭榜方案): visible to the submitting organisation and the challenger only.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProposalView {
    pub id: i64,
    pub challenge_id: i64,
    pub challenge_title: String,
    pub solver: OrgRef,
    /// submitted | shortlisted | accepted | declined
    pub status: String,
    pub status_zh: String,
    pub approach: String,
    pub team: String,
    pub timeline: String,
    /// Asking price in fen.
    pub price: Fen,
    pub decline_reason: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    /// Set once accepted.
    pub contract: Option<ContractPartiesView>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ProposalView {
    pub fn build(p: &Proposal, challenge_title: &str, orgs: &BTreeMap<i64, OrgInfo>) -> Self {
        let org = |id: i64| {
            orgs.get(&id).map(OrgRef::from).unwrap_or(OrgRef {
                id,
                name: String::new(),
                kind: String::new(),
                region_code: String::new(),
            })
        };
        ProposalView {
            id: p.id,
            challenge_id: p.challenge_id,
            challenge_title: challenge_title.to_string(),
            solver: org(p.solver_org_id),
            status: p.status.as_str().to_string(),
            status_zh: p.status.zh().to_string(),
            approach: p.approach.clone(),
            team: p.team.clone(),
            timeline: p.timeline.clone(),
            price: p.price,
            decline_reason: p.decline_reason.clone(),
            decided_at: p.decided_at,
            contract: p.contract.map(|c| ContractPartiesView {
                demand_id: p.challenge_id,
                proposal_id: p.id,
                seller: org(c.seller_org_id),
                buyer: org(c.buyer_org_id),
                amount: c.amount,
            }),
            version: p.version,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// One search hit: the need's card, its relevance and the highlighted snippets (the same
/// shape as a listing hit, with `demand` in place of `listing`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DemandHit {
    pub demand: DemandView,
    /// Relevance score (0 without query text, and in `mine=true` searches).
    pub score: f32,
    /// `title` / `summary` → HTML-escaped text with matches in `<em>…</em>`.
    pub highlights: BTreeMap<String, String>,
}

/// The pre-1.x shape of a needs search result: the need's fields with `highlights` beside
/// them. Kept for one release in [`DemandSearchResponse::items`].
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LegacyDemandItem {
    #[serde(flatten)]
    pub demand: DemandView,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub highlights: BTreeMap<String, String>,
}

/// A needs search page: `{total, hits: [{demand, score, highlights}], facets, next_cursor}`,
/// the shape of the listings search ([`ttx_web::pagination::SearchPage`]), plus the deprecated `items`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DemandSearchResponse {
    #[serde(flatten)]
    pub page: ttx_web::pagination::SearchPage<DemandHit>,
    /// Deprecated: the same needs as `hits`, in the old shape (the need's fields with
    /// `highlights`). Read `hits[].demand` instead; `items` goes away in the next release.
    #[schema(deprecated)]
    pub items: Vec<LegacyDemandItem>,
}

impl DemandSearchResponse {
    /// The page, with the deprecated `items` filled from its hits.
    pub fn new(page: ttx_web::pagination::SearchPage<DemandHit>) -> Self {
        let items = page
            .hits
            .iter()
            .map(|h| LegacyDemandItem {
                demand: h.demand.clone(),
                highlights: h.highlights.clone(),
            })
            .collect();
        DemandSearchResponse { page, items }
    }
}
