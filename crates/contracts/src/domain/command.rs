//! The commands of contract use cases: what a request asks for once parsed and validated (the
//! HTTP layer builds them in `dto.rs`; services take them). Parties are still to be resolved.
use super::content::{Document, Instalment, Links, Party};
use chrono::NaiveDate;
use ttx_core::{ContractSubKind, Fen, IpKind, TechField};

/// A party as given: to be resolved against the organisations table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartyRef {
    Org(i64),
    Outside(Party),
}

/// A parsed new contract; parties still to be resolved.
#[derive(Debug, Clone)]
pub struct DraftSpec {
    pub title: String,
    pub sub_kind: ContractSubKind,
    pub seller_org_id: Option<i64>,
    pub buyer: PartyRef,
    pub others: Vec<PartyRef>,
    pub contract_amount: Fen,
    pub non_technical_costs: Fen,
    pub payment_plan: Vec<Instalment>,
    pub signed_on: NaiveDate,
    pub term_start: Option<NaiveDate>,
    pub term_end: Option<NaiveDate>,
    pub tech_field: TechField,
    pub ip_kind: Option<IpKind>,
    pub programme_source: Option<String>,
    pub researcher_reward_bp: Option<u16>,
    pub links: Links,
    pub documents: Vec<Document>,
}

/// A parsed patch; parties still to be resolved.
#[derive(Debug, Clone, Default)]
pub struct PatchSpec {
    pub title: Option<String>,
    pub sub_kind: Option<ContractSubKind>,
    pub buyer: Option<PartyRef>,
    pub others: Option<Vec<PartyRef>>,
    pub contract_amount: Option<Fen>,
    pub non_technical_costs: Option<Fen>,
    pub payment_plan: Option<Vec<Instalment>>,
    pub signed_on: Option<NaiveDate>,
    pub term_start: Option<Option<NaiveDate>>,
    pub term_end: Option<Option<NaiveDate>>,
    pub tech_field: Option<TechField>,
    pub ip_kind: Option<Option<IpKind>>,
    pub programme_source: Option<Option<String>>,
    pub researcher_reward_bp: Option<Option<u16>>,
    pub listing_id: Option<Option<i64>>,
    pub demand_id: Option<Option<i64>>,
    pub proposal_id: Option<Option<i64>>,
    pub match_id: Option<Option<i64>>,
    pub documents: Option<Vec<Document>>,
}

/// A station's registration: the recognised sub-kind, costs it corrects, a note.
#[derive(Debug, Clone)]
pub struct RegisterSpec {
    pub recognised_sub_kind: Option<ContractSubKind>,
    pub non_technical_costs: Option<Fen>,
    pub note: Option<String>,
}

/// A change request of a registered contract: the reason and what changes.
#[derive(Debug, Clone)]
pub struct AmendmentSpec {
    pub reason: String,
    pub contract_amount: Option<Fen>,
    pub non_technical_costs: Option<Fen>,
    pub payment_plan: Option<Vec<Instalment>>,
    pub buyer: Option<PartyRef>,
    pub others: Option<Vec<PartyRef>>,
    pub term_start: Option<NaiveDate>,
    pub term_end: Option<NaiveDate>,
    pub documents: Option<Vec<Document>>,
}
