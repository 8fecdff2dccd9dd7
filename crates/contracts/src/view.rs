//! HTTP response bodies.
use crate::access::Viewer;
use crate::domain::content::days_left;
use crate::domain::fingerprint::Likeness;
use crate::domain::{Action, ContractStatus, Document, Instalment, Links, Party, Side};
use crate::entity::{amendment, contract, round};
use crate::store;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use ttx_core::{Labelled, Role};
use utoipa::ToSchema;

fn zh<T: Labelled + std::str::FromStr>(code: &str) -> String {
    code.parse::<T>()
        .map(|v| v.zh().to_string())
        .unwrap_or_default()
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PartyView {
    pub org_id: Option<i64>,
    pub name: String,
    pub credit_code: Option<String>,
    pub entity_kind: String,
    pub entity_kind_zh: String,
    pub region_code: String,
    pub region_name: String,
}

impl From<&Party> for PartyView {
    fn from(p: &Party) -> Self {
        PartyView {
            org_id: p.org_id,
            name: p.name.clone(),
            credit_code: p.credit_code.as_ref().map(|c| c.to_string()),
            entity_kind: p.entity_kind.as_str().to_string(),
            entity_kind_zh: p.entity_kind.zh().to_string(),
            region_code: p.region.as_string(),
            region_name: p.region.full_name(),
        }
    }
}

/// The station's recognition of a registered contract.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RegistrationView {
    /// 登记编号: year, station code (region code + ordinal), sequence.
    pub number: String,
    pub registered_on: NaiveDate,
    pub recognised_kind: String,
    pub recognised_kind_zh: String,
    pub recognised_sub_kind: String,
    pub recognised_sub_kind_zh: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RefusalView {
    pub ground: String,
    pub ground_zh: String,
    pub text: Option<String>,
}

/// The open review of a contract at its station.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReviewView {
    pub station_id: i64,
    /// 1 for the first submission, then one more per resubmission.
    pub round: i32,
    pub submitted_at: Option<DateTime<Utc>>,
    pub accepted_at: Option<DateTime<Utc>>,
    /// Last day of the review (acceptance date + the configured deadline).
    pub due_on: Option<NaiveDate>,
    /// Days until `due_on` (negative when overdue).
    pub days_left: Option<i64>,
    pub overdue: bool,
}

/// One finished review round.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RoundView {
    pub round: i32,
    pub station_id: i64,
    pub submitted_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    /// `returned`, `registered` or `refused`.
    pub outcome: String,
    pub decided_at: DateTime<Utc>,
    pub reasons: Vec<String>,
    pub ground: Option<String>,
    pub note: Option<String>,
    /// What was submitted in this round.
    #[schema(value_type = Object)]
    pub snapshot: serde_json::Value,
}

impl From<round::Model> for RoundView {
    fn from(r: round::Model) -> Self {
        RoundView {
            round: r.round,
            station_id: r.station_id,
            submitted_at: r.submitted_at,
            accepted_at: r.accepted_at,
            outcome: r.outcome,
            decided_at: r.decided_at,
            reasons: r
                .reasons
                .and_then(|s| serde_json::from_str(&s).ok())
                .unwrap_or_default(),
            ground: r.ground,
            note: r.note,
            snapshot: serde_json::from_str(&r.snapshot).unwrap_or_default(),
        }
    }
}

/// An amendment or termination request.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AmendmentView {
    pub id: i64,
    pub contract_id: i64,
    /// `amendment` or `termination`.
    pub kind: String,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    pub reason: String,
    /// Requested changes (amendments).
    #[schema(value_type = Option<Object>)]
    pub changes: Option<serde_json::Value>,
    /// Values replaced (approved amendments).
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    pub station_id: i64,
    pub submitted_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub effective_on: Option<NaiveDate>,
    pub decision_note: Option<String>,
}

impl From<amendment::Model> for AmendmentView {
    fn from(a: amendment::Model) -> Self {
        let j = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
        AmendmentView {
            id: a.id,
            contract_id: a.contract_id,
            kind: a.kind,
            status: a.status,
            reason: a.reason,
            changes: j(a.changes),
            before: j(a.before),
            station_id: a.station_id,
            submitted_at: a.submitted_at,
            decided_at: a.decided_at,
            effective_on: a.effective_on,
            decision_note: a.decision_note,
        }
    }
}

/// A contract of the same parties that looks like this one.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NearDuplicateView {
    pub id: i64,
    pub title: String,
    pub status: String,
    pub registration_number: Option<String>,
    /// True when the fingerprints are equal: the same contract.
    pub exact: bool,
    #[schema(value_type = Vec<String>)]
    pub likeness: Vec<LikenessCode>,
}

/// Serialized likeness code.
pub type LikenessCode = String;

pub fn likeness_code(l: Likeness) -> String {
    match l {
        Likeness::SimilarTitle => "similar_title",
        Likeness::CloseAmount => "close_amount",
        Likeness::CloseSigningDate => "close_signing_date",
    }
    .to_string()
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ContractView {
    pub id: i64,
    pub title: String,
    /// Kind as claimed by the applicant.
    pub kind: String,
    pub kind_zh: String,
    pub sub_kind: String,
    pub sub_kind_zh: String,
    pub status: String,
    pub status_zh: String,
    pub seller: PartyView,
    pub buyer: PartyView,
    pub others: Vec<PartyView>,
    /// Fen.
    pub contract_amount: i64,
    /// Fen.
    pub non_technical_costs: i64,
    /// Fen: contract amount less non-technical costs.
    pub technology_amount: i64,
    pub payment_plan: Vec<Instalment>,
    pub signed_on: NaiveDate,
    pub term_start: Option<NaiveDate>,
    pub term_end: Option<NaiveDate>,
    pub tech_field: String,
    pub tech_field_zh: String,
    pub ip_kind: Option<String>,
    pub programme_source: Option<String>,
    pub researcher_reward_bp: Option<i32>,
    pub links: Links,
    pub documents: Vec<Document>,
    /// Hash of parties, signing date, amount and title: equal fingerprints mean the same
    /// contract.
    pub fingerprint: String,
    pub review: Option<ReviewView>,
    pub registration: Option<RegistrationView>,
    pub refusal: Option<RefusalView>,
    /// Reasons of the latest return for correction.
    pub return_reasons: Vec<String>,
    pub terminated_on: Option<NaiveDate>,
    /// Imported from a station's historical register.
    pub imported: bool,
    /// What the caller may do now: `edit`, `submit`, `accept`, `register`, `return`, `refuse`,
    /// `amend`, `terminate`.
    pub actions: Vec<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Finished review rounds (detail view only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rounds: Option<Vec<RoundView>>,
    /// Amendment and termination requests (detail view only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amendments: Option<Vec<AmendmentView>>,
    /// Look-alike contracts of the same parties (detail view, for the station).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub near_duplicates: Option<Vec<NearDuplicateView>>,
}

/// Actions `viewer` (with `role`) may take on a contract in `status`; once the review is
/// `overdue`, a station may no longer return the contract (it registers or refuses).
pub fn actions_for(
    viewer: Option<Viewer>,
    role: Role,
    status: ContractStatus,
    overdue: bool,
) -> Vec<String> {
    let side = match viewer {
        Some(Viewer::Seller) => Some(Side::Seller),
        Some(Viewer::Station) if matches!(role, Role::StationReviewer | Role::OrgAdmin) => {
            Some(Side::Station)
        }
        _ => None,
    };
    status
        .allowed_actions()
        .into_iter()
        .filter(|a| Some(a.side()) == side)
        .filter(|a| !(overdue && *a == Action::Return))
        .map(|a: Action| a.as_str().to_string())
        .collect()
}

pub fn review_of(m: &contract::Model, now: DateTime<Utc>) -> Option<ReviewView> {
    let station_id = m.station_id?;
    let status = store::status_of(m).ok()?;
    let open = status.in_review();
    let dl = m
        .review_due_on
        .filter(|_| open)
        .map(|due| days_left(due, ttx_core::clock::beijing_date(now)));
    Some(ReviewView {
        station_id,
        round: m.round,
        submitted_at: m.submitted_at,
        accepted_at: m.accepted_at,
        due_on: m.review_due_on,
        days_left: dl,
        overdue: dl.is_some_and(|d| d < 0),
    })
}

impl ContractView {
    /// Builds the view; `actions` are those of the caller.
    pub fn build(m: contract::Model, actions: Vec<String>) -> Result<Self, ttx_web::ApiError> {
        let c = store::content_of(&m)?;
        let now = ttx_core::clock::now();
        let review = review_of(&m, now);
        let registration = match (&m.registration_number, m.registered_on) {
            (Some(n), Some(on)) => {
                let rk = m.recognised_kind.clone().unwrap_or_else(|| m.kind.clone());
                let rs = m
                    .recognised_sub_kind
                    .clone()
                    .unwrap_or_else(|| m.sub_kind.clone());
                Some(RegistrationView {
                    number: n.clone(),
                    registered_on: on,
                    recognised_kind_zh: zh::<ttx_core::ContractKind>(&rk),
                    recognised_kind: rk,
                    recognised_sub_kind_zh: zh::<ttx_core::ContractSubKind>(&rs),
                    recognised_sub_kind: rs,
                })
            }
            _ => None,
        };
        let refusal = m.refusal_ground.as_ref().map(|g| RefusalView {
            ground: g.clone(),
            ground_zh: zh::<crate::domain::RefusalGround>(g),
            text: m.refusal_text.clone(),
        });
        Ok(ContractView {
            id: m.id,
            kind_zh: c.kind().zh().to_string(),
            kind: c.kind().as_str().to_string(),
            sub_kind_zh: c.sub_kind.zh().to_string(),
            sub_kind: c.sub_kind.as_str().to_string(),
            status_zh: zh::<ContractStatus>(&m.status),
            status: m.status.clone(),
            seller: (&c.seller).into(),
            buyer: (&c.buyer).into(),
            others: c.others.iter().map(Into::into).collect(),
            contract_amount: m.contract_amount,
            non_technical_costs: m.non_technical_costs,
            technology_amount: m.technology_amount,
            payment_plan: c.payment_plan,
            signed_on: c.signed_on,
            term_start: c.term_start,
            term_end: c.term_end,
            tech_field_zh: c.tech_field.zh().to_string(),
            tech_field: c.tech_field.as_str().to_string(),
            ip_kind: c.ip_kind.map(|k| k.as_str().to_string()),
            programme_source: c.programme_source,
            researcher_reward_bp: m.researcher_reward_bp,
            links: c.links,
            documents: c.documents,
            fingerprint: m.fingerprint.clone(),
            review,
            registration,
            refusal,
            return_reasons: m
                .return_reasons
                .as_deref()
                .and_then(|s| serde_json::from_str(s).ok())
                .unwrap_or_default(),
            terminated_on: m.terminated_on,
            imported: m.imported,
            actions,
            version: m.version,
            created_at: m.created_at,
            updated_at: m.updated_at,
            title: m.title,
            rounds: None,
            amendments: None,
            near_duplicates: None,
        })
    }
}

/// A contract in a list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ContractSummary {
    pub id: i64,
    pub title: String,
    pub kind: String,
    pub sub_kind: String,
    pub status: String,
    pub seller_org_id: Option<i64>,
    pub seller_name: String,
    pub buyer_name: String,
    /// Fen.
    pub contract_amount: i64,
    /// Fen.
    pub technology_amount: i64,
    pub signed_on: NaiveDate,
    pub review: Option<ReviewView>,
    pub registration_number: Option<String>,
    pub registered_on: Option<NaiveDate>,
    /// A change request waiting for the station.
    pub pending_amendment_id: Option<i64>,
}

impl ContractSummary {
    pub fn build(
        m: contract::Model,
        pending_amendment_id: Option<i64>,
        now: DateTime<Utc>,
    ) -> Self {
        ContractSummary {
            review: review_of(&m, now),
            id: m.id,
            title: m.title,
            kind: m.kind,
            sub_kind: m.sub_kind,
            status: m.status,
            seller_org_id: m.seller_org_id,
            seller_name: m.seller_name,
            buyer_name: m.buyer_name,
            contract_amount: m.contract_amount,
            technology_amount: m.technology_amount,
            signed_on: m.signed_on,
            registration_number: m.registration_number,
            registered_on: m.registered_on,
            pending_amendment_id,
        }
    }
}

/// The registration certificate (登记证明).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CertificateView {
    pub registration_number: String,
    pub registered_on: NaiveDate,
    pub station_id: i64,
    pub station_name: String,
    pub contract_id: i64,
    pub title: String,
    pub recognised_kind: String,
    pub recognised_kind_zh: String,
    pub recognised_sub_kind: String,
    pub recognised_sub_kind_zh: String,
    pub seller: PartyView,
    pub buyer: PartyView,
    pub others: Vec<PartyView>,
    /// Fen.
    pub contract_amount: i64,
    /// Fen.
    pub technology_amount: i64,
    pub signed_on: NaiveDate,
    pub term_start: Option<NaiveDate>,
    pub term_end: Option<NaiveDate>,
    pub tech_field: String,
    pub tech_field_zh: String,
    /// `registered` or `terminated` (a terminated contract's certificate says so).
    pub status: String,
    pub terminated_on: Option<NaiveDate>,
    /// Where anyone can check the number: `/v1/registrations/{number}`.
    pub verify_path: String,
}

/// What the public may know of a registration number: enough to tell a genuine certificate.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RegistrationCheck {
    pub registration_number: String,
    pub registered_on: NaiveDate,
    pub kind: String,
    pub kind_zh: String,
    pub station_id: i64,
    pub station_name: String,
    /// `registered` or `terminated`.
    pub status: String,
    /// With `technology_amount` in the query: whether it is the registered technology
    /// transaction amount (the figure itself is never shown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub technology_amount_matches: Option<bool>,
    /// With `contract_amount` in the query: whether it is the registered contract amount.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract_amount_matches: Option<bool>,
}

/// One contract kind's share of a seller's registered technology income.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IncomeLine {
    pub kind: String,
    pub kind_zh: String,
    /// Net number of contracts booked in the year.
    pub contracts: i64,
    /// Fen.
    pub contract_amount: i64,
    /// Fen: the technology income.
    pub technology_amount: i64,
}

/// A seller's registered technology income in a year, by contract kind.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TechnologyIncomeView {
    pub org_id: i64,
    pub year: i32,
    pub by_kind: Vec<IncomeLine>,
    pub total: IncomeLine,
}
