//! Response types of the pipeline, rendered for a viewer: an anonymous firm is named only to
//! those who may see it, the broker's own note only to the broker's side.
use super::access::Viewer;
use super::domain::{self, MatchAction, Response, Stage};
use crate::entity::{match_event, match_feedback, matches};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use ttx_core::Labelled;
use utoipa::ToSchema;

/// An organisation as it appears in a match.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MatchOrgRef {
    pub id: i64,
    pub name: String,
    /// Organisation kind, e.g. `university`, `enterprise`, `agency`.
    pub kind: String,
}

/// The listing side of a match.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MatchListingRef {
    pub id: i64,
    pub title: String,
    pub org: MatchOrgRef,
}

/// The need side of a match.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MatchDemandRef {
    pub id: i64,
    pub title: String,
    /// The firm's name is hidden from the public.
    pub anonymous: bool,
    /// The firm; absent when the need is anonymous and the caller may not see it.
    pub org: Option<MatchOrgRef>,
}

/// The broker who opened the match and its agency.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MatchBrokerRef {
    pub user_id: i64,
    pub name: String,
    pub agency: MatchOrgRef,
}

/// Each party's answer to the introduction: `pending`, `accepted` or `declined`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MatchResponses {
    pub listing: String,
    pub demand: String,
}

/// One step of a match: what, who, when.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MatchEventView {
    /// `open`, `introduce`, `accept`, `decline`, `negotiate`, `sign` or `close`.
    pub action: String,
    /// Who acted: `broker`, `listing` or `demand` (a party), `system` (the second acceptance
    /// starts the negotiation by itself).
    pub side: String,
    pub from_stage: Option<String>,
    pub to_stage: String,
    /// The acting user; absent for a firm the caller may not see.
    pub actor_user_id: Option<i64>,
    pub actor_org_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract_id: Option<i64>,
    pub at: DateTime<Utc>,
}

/// A match between a listing and a need, as the caller may see it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MatchView {
    pub id: i64,
    /// `suggested`, `introduced`, `negotiating`, `signed` or `closed`.
    pub stage: String,
    pub stage_zh: String,
    pub listing: MatchListingRef,
    pub demand: MatchDemandRef,
    pub broker: MatchBrokerRef,
    pub responses: MatchResponses,
    /// How the caller relates to the match: `broker`, `agency_admin`, `listing`, `demand` or
    /// `operator`.
    pub viewer: String,
    /// The broker's note (the broker's agency and operators only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Why it was closed: `no_fit`, `price`, `timing`, `other` or `declined`.
    pub close_reason: Option<String>,
    pub close_note: Option<String>,
    /// The registered contract of a signed match.
    pub contract_id: Option<i64>,
    /// What the caller may do now (`POST /v1/matches/{id}/<action>`).
    pub actions: Vec<String>,
    /// Every step with who and when, oldest first (in the detail and after an action).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<MatchEventView>>,
    pub version: i64,
    pub introduced_at: Option<DateTime<Utc>>,
    pub stage_changed_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An organisation, listing, need or user a match names.
#[derive(Debug, Clone, Default)]
pub struct OrgInfo {
    pub name: String,
    pub kind: String,
}

#[derive(Debug, Clone, Default)]
pub struct DemandInfo {
    pub title: String,
    pub anonymous: bool,
}

/// The names a set of matches refers to, loaded in one go.
#[derive(Debug, Clone, Default)]
pub struct Names {
    pub orgs: HashMap<i64, OrgInfo>,
    pub users: HashMap<i64, String>,
    pub listings: HashMap<i64, String>,
    pub demands: HashMap<i64, DemandInfo>,
}

impl Names {
    pub fn org(&self, id: i64) -> MatchOrgRef {
        let o = self.orgs.get(&id).cloned().unwrap_or_default();
        MatchOrgRef {
            id,
            name: o.name,
            kind: o.kind,
        }
    }
    pub fn listing_title(&self, id: i64) -> String {
        self.listings.get(&id).cloned().unwrap_or_default()
    }
    pub fn demand(&self, id: i64) -> DemandInfo {
        self.demands.get(&id).cloned().unwrap_or_default()
    }
}

fn response_of(s: &str) -> Response {
    s.parse().unwrap_or(Response::Pending)
}

/// Whether `viewer` may see the firm of `m` by name.
pub fn firm_named(viewer: &Viewer, m: &matches::Model, anonymous: bool) -> bool {
    viewer.identity_cleared
        || viewer.org_id == m.demand_org_id
        || (viewer.org_id == m.listing_org_id
            && domain::firm_named_to_listing_side(anonymous, response_of(&m.demand_response)))
}

impl MatchView {
    pub fn build(
        m: &matches::Model,
        names: &Names,
        viewer: &Viewer,
        actions: Vec<MatchAction>,
        history: Option<&[match_event::Model]>,
    ) -> Self {
        let d = names.demand(m.demand_id);
        let named = firm_named(viewer, m, d.anonymous);
        let stage: Stage = m.stage.parse().unwrap_or(Stage::Suggested);
        MatchView {
            id: m.id,
            stage: stage.as_str().into(),
            stage_zh: stage.zh().into(),
            listing: MatchListingRef {
                id: m.listing_id,
                title: names.listing_title(m.listing_id),
                org: names.org(m.listing_org_id),
            },
            demand: MatchDemandRef {
                id: m.demand_id,
                title: d.title.clone(),
                anonymous: d.anonymous,
                org: named.then(|| names.org(m.demand_org_id)),
            },
            broker: MatchBrokerRef {
                user_id: m.broker_user_id,
                name: names
                    .users
                    .get(&m.broker_user_id)
                    .cloned()
                    .unwrap_or_default(),
                agency: names.org(m.agency_org_id),
            },
            responses: MatchResponses {
                listing: m.listing_response.clone(),
                demand: m.demand_response.clone(),
            },
            viewer: viewer.label().into(),
            note: if viewer.broker_side || viewer.operator {
                m.note.clone()
            } else {
                None
            },
            close_reason: m.close_reason.clone(),
            close_note: m.close_note.clone(),
            contract_id: m.contract_id,
            actions: actions.iter().map(|a| a.as_str().to_string()).collect(),
            history: history.map(|h| {
                h.iter()
                    .map(|e| MatchEventView::build(e, viewer, named))
                    .collect()
            }),
            version: m.version,
            introduced_at: m.introduced_at,
            stage_changed_at: m.stage_changed_at,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

impl MatchEventView {
    fn build(e: &match_event::Model, viewer: &Viewer, firm_named: bool) -> Self {
        let hide_actor = e.side == "demand" && !firm_named;
        // The note the broker wrote when opening the match is the broker's own.
        let private = e.action == MatchAction::Open.as_str();
        MatchEventView {
            action: e.action.clone(),
            side: e.side.clone(),
            from_stage: e.from_stage.clone(),
            to_stage: e.to_stage.clone(),
            actor_user_id: if hide_actor { None } else { e.actor_user_id },
            actor_org_id: if hide_actor { None } else { e.actor_org_id },
            reason: e.reason.clone(),
            note: if private && !(viewer.broker_side || viewer.operator) {
                None
            } else {
                e.note.clone()
            },
            contract_id: e.contract_id,
            at: e.at,
        }
    }
}

/// A stored answer on a suggested pair.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MatchFeedbackView {
    pub id: i64,
    pub demand_id: i64,
    pub listing_id: i64,
    pub relevant: bool,
    pub note: Option<String>,
    /// The side the answer came from: `listing`, `demand` or `broker`.
    pub side: String,
    pub created_at: DateTime<Utc>,
    /// When the latest answer was given (a new answer replaces the old one).
    pub updated_at: DateTime<Utc>,
}

impl From<match_feedback::Model> for MatchFeedbackView {
    fn from(f: match_feedback::Model) -> Self {
        MatchFeedbackView {
            id: f.id,
            demand_id: f.demand_id,
            listing_id: f.listing_id,
            relevant: f.relevant,
            note: f.note,
            side: f.side,
            created_at: f.created_at,
            updated_at: f.updated_at,
        }
    }
}

/// One line of the feedback export (JSON Lines).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FeedbackLine {
    pub demand_id: i64,
    pub listing_id: i64,
    pub relevant: bool,
    /// `listing`, `demand` or `broker`.
    pub side: String,
    /// The user's role, e.g. `member`, `org_admin`, `broker`.
    pub role: String,
    /// The user's organisation kind, e.g. `enterprise`, `university`, `agency`.
    pub org_kind: String,
    /// When the answer was given (its latest change).
    pub at: DateTime<Utc>,
}

impl From<&match_feedback::Model> for FeedbackLine {
    fn from(f: &match_feedback::Model) -> Self {
        FeedbackLine {
            demand_id: f.demand_id,
            listing_id: f.listing_id,
            relevant: f.relevant,
            side: f.side.clone(),
            role: f.role.clone(),
            org_kind: f.org_kind.clone(),
            at: f.updated_at,
        }
    }
}

/// One stage of the funnel.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FunnelStage {
    pub stage: String,
    pub stage_zh: String,
    /// Matches at this stage now.
    pub current: u64,
    /// Matches that were at this stage at some point.
    pub reached: u64,
    /// Median days spent at this stage, over the stays that ended (absent when none did, and
    /// for `signed` and `closed`, which do not end).
    pub median_days: Option<f64>,
    /// How many ended stays the median is taken over.
    pub stays: u64,
}

/// A registered contract of a signed match, with its amounts from the ledger.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FunnelContract {
    pub match_id: i64,
    pub listing_id: i64,
    pub demand_id: i64,
    pub broker_user_id: i64,
    pub contract_id: i64,
    pub registration_number: Option<String>,
    /// Fen: the sum of the contract's ledger entries (registration, amendments, termination).
    pub contract_amount: i64,
    /// Fen: the technology transaction amount booked in the ledger.
    pub technology_amount: i64,
}

/// The registered amounts of the signed matches, read from the turnover ledger.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FunnelSigned {
    pub matches: u64,
    pub contracts: u64,
    /// Fen.
    pub contract_amount: i64,
    /// Fen.
    pub technology_amount: i64,
    /// Each contract, traceable to its listing, need and broker.
    pub items: Vec<FunnelContract>,
}

/// A funnel report of a broker's or an agency's pipeline.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FunnelView {
    /// The broker's user id (a broker's funnel).
    pub broker: Option<i64>,
    /// The agency's organisation id (an agency's funnel).
    pub agency: Option<i64>,
    /// Matches in the report.
    pub total: u64,
    /// Every stage in order.
    pub stages: Vec<FunnelStage>,
    /// Closed matches by reason (`no_fit`, `price`, `timing`, `other`, `declined`).
    pub closed_by_reason: std::collections::BTreeMap<String, u64>,
    pub signed: FunnelSigned,
}

impl FunnelStage {
    pub fn build(f: &domain::StageFigures) -> Self {
        FunnelStage {
            stage: f.stage.as_str().into(),
            stage_zh: f.stage.zh().into(),
            current: f.current,
            reached: f.reached,
            median_days: f.median_days.map(|d| (d * 100.0).round() / 100.0),
            stays: f.stays,
        }
    }
}
