//! Who may see a contract and who may act on it.
//!
//! - the seller organisation's members see their contracts in every state and take the seller
//!   side's actions (edit, submit, amend, terminate);
//! - the buyer's and other parties' members (when they are TTX organisations) see them once
//!   submitted;
//! - the registering station's members see what was submitted to it; its reviewers (and its
//!   admins) act, while the station is verified and its jurisdiction covers the seller's region;
//! - a verified bureau's analysts (and admins) read the contracts whose seller or buyer lies in
//!   the bureau's region, and change nothing;
//! - operators read everything.
//!
//! Anyone else gets 404: the contract's existence is not revealed. Those who may see but not
//! act get 403, and so does any station's reviewer trying a station action on another
//! station's contract.
use crate::domain::{content, ContractStatus, Party};
use crate::entity::contract;
use crate::error::ContractError;
use crate::store;
use ttx_accounts::Actor;
use ttx_core::{OrgKind, RegionCode, Role};
use ttx_web::{ErrorCode, ServiceError};

/// How the caller relates to a contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Viewer {
    Seller,
    /// Buyer or another party.
    Party,
    Station,
    Bureau,
    Operator,
}

impl Viewer {
    /// Whether the viewer sees the station's working notes (near duplicates).
    pub fn sees_review_notes(&self) -> bool {
        matches!(self, Viewer::Station | Viewer::Operator)
    }
}

/// Whether the actor is a reading member of a verified bureau.
pub fn bureau_region(actor: &Actor) -> Option<RegionCode> {
    (actor.org_kind == OrgKind::Bureau
        && actor.org_verified
        && matches!(actor.role, Role::BureauAnalyst | Role::OrgAdmin))
    .then(|| RegionCode::parse(&actor.org_region).ok())
    .flatten()
}

fn other_party_orgs(m: &contract::Model) -> Vec<i64> {
    serde_json::from_str::<Vec<Party>>(&m.other_parties)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| p.org_id)
        .collect()
}

/// How `actor` may see `m`, if at all.
pub fn viewer_of(actor: &Actor, m: &contract::Model) -> Option<Viewer> {
    if m.seller_org_id == Some(actor.org_id) {
        return Some(Viewer::Seller);
    }
    if actor.is_operator() {
        return Some(Viewer::Operator);
    }
    let draft = m.status == ContractStatus::Draft.as_str();
    if draft {
        return None;
    }
    if actor.org_kind == OrgKind::Station && m.station_id == Some(actor.org_id) {
        return Some(Viewer::Station);
    }
    if m.buyer_org_id == Some(actor.org_id) || other_party_orgs(m).contains(&actor.org_id) {
        return Some(Viewer::Party);
    }
    if let Some(region) = bureau_region(actor) {
        let within = |s: &str| store::region(s).is_some_and(|r| r.is_within(region));
        if within(&m.seller_region) || within(&m.buyer_region) {
            return Some(Viewer::Bureau);
        }
    }
    None
}

/// The viewer, or 404.
pub fn require_view(actor: &Actor, m: &contract::Model) -> Result<Viewer, ServiceError> {
    viewer_of(actor, m).ok_or_else(|| ServiceError::not_found("contract"))
}

fn denied(actor: &Actor, m: &contract::Model, code: ContractError) -> ServiceError {
    match viewer_of(actor, m) {
        Some(Viewer::Bureau) => ServiceError::new(ContractError::ReadOnlyAccess),
        Some(_) => ServiceError::new(code),
        None if actor.org_kind == OrgKind::Station
            && code == ContractError::NotRegisteringStation =>
        {
            ServiceError::new(code)
        }
        None => ServiceError::not_found("contract"),
    }
}

/// For the seller side's actions.
pub fn require_seller(actor: &Actor, m: &contract::Model) -> Result<(), ServiceError> {
    if m.seller_org_id == Some(actor.org_id) {
        Ok(())
    } else {
        Err(denied(actor, m, ContractError::NotSellerSide))
    }
}

/// For the station's actions: a reviewer (or admin) of the verified registering station whose
/// jurisdiction (`jurisdiction`, the actor's station's) covers the seller's region.
pub fn require_station(
    actor: &Actor,
    m: &contract::Model,
    jurisdiction: &[RegionCode],
) -> Result<(), ServiceError> {
    let own = actor.org_kind == OrgKind::Station && m.station_id == Some(actor.org_id);
    let unassigned_draft = m.status == ContractStatus::Draft.as_str()
        && actor.org_kind == OrgKind::Station
        && (m.station_id.is_none() || own);
    if unassigned_draft {
        return Err(ServiceError::invalid_state(
            "the contract is not submitted: it is still a draft of the seller",
        ));
    }
    if !own {
        return Err(denied(actor, m, ContractError::NotRegisteringStation));
    }
    if !actor.org_verified {
        return Err(ServiceError::new(ErrorCode::OrgNotVerified));
    }
    if !matches!(actor.role, Role::StationReviewer | Role::OrgAdmin) {
        return Err(ServiceError::new(ContractError::NotRegisteringStation)
            .detail("only the station's reviewers and admins decide on contracts"));
    }
    let covered = store::region(&m.seller_region).is_some_and(|r| content::covers(jurisdiction, r));
    if !covered {
        return Err(ServiceError::new(ContractError::NotRegisteringStation)
            .detail("the seller's region is no longer in this station's jurisdiction"));
    }
    Ok(())
}

/// Whether the actor is a station member who may act for stations at all (to load its
/// jurisdiction only when needed).
pub fn is_station_actor(actor: &Actor) -> bool {
    actor.org_kind == OrgKind::Station
}
