//! Who sees a match and who acts on it.
//!
//! - the broker who opened it sees it and acts for the broker's side (introduce, sign, close)
//!   while its agency is verified; the admins of its agency see it and may act in its stead;
//! - the parties (members of the listing's and of the need's owner organisation) see it once it
//!   was introduced (a suggestion is the broker's own until then), accept or decline the
//!   introduction for their side and may close it;
//! - operators read every match and change nothing;
//! - anyone else gets 404: the match's existence is not revealed.
use super::domain::Roles;
use crate::entity::matches;
use ttx_accounts::Actor;
use ttx_core::{OrgKind, Role};

/// How a caller relates to a match.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Viewer {
    pub user_id: i64,
    pub org_id: i64,
    /// The match's broker or an admin of its agency (verified or not).
    pub broker_side: bool,
    /// An admin of the match's agency (not its broker).
    pub agency_admin: bool,
    /// What the caller may do as far as its relation goes (the stage decides the rest).
    pub acting: Roles,
    /// The parties the caller's organisation is, once the match was introduced.
    pub party: Roles,
    pub operator: bool,
    /// A member of a verified agency, or an operator: sees anonymous firms' names (as
    /// `ttx-demands` decides).
    pub identity_cleared: bool,
}

impl Viewer {
    pub fn visible(&self) -> bool {
        self.broker_side || self.operator || self.party.side().is_some()
    }

    /// `broker`, `agency_admin`, `listing`, `demand` or `operator`.
    pub fn label(&self) -> &'static str {
        if self.broker_side && !self.agency_admin {
            "broker"
        } else if self.agency_admin {
            "agency_admin"
        } else if let Some(s) = self.party.side() {
            s.as_str()
        } else {
            "operator"
        }
    }
}

/// Whether the actor may see anonymous firms' names (`ttx_demands` rules: verified agencies and
/// operators).
pub fn identity_cleared(actor: &Actor) -> bool {
    actor.is_operator() || (actor.org_kind == OrgKind::Agency && actor.org_verified)
}

/// How `actor` relates to `m`.
pub fn viewer_of(actor: &Actor, m: &matches::Model) -> Viewer {
    let own = m.broker_user_id == actor.user_id;
    let agency_admin = !own && actor.org_id == m.agency_org_id && actor.role == Role::OrgAdmin;
    let broker_side = own || agency_admin;
    let verified_agency = actor.org_kind == OrgKind::Agency && actor.org_verified;
    let acting_broker = (own && actor.is_verified_broker()) || (agency_admin && verified_agency);
    let introduced = m.introduced_at.is_some();
    let party = Roles {
        broker: false,
        listing_party: introduced && actor.org_id == m.listing_org_id,
        demand_party: introduced && actor.org_id == m.demand_org_id,
    };
    Viewer {
        user_id: actor.user_id,
        org_id: actor.org_id,
        broker_side,
        agency_admin,
        acting: Roles {
            broker: acting_broker,
            ..party
        },
        party,
        operator: actor.is_operator(),
        identity_cleared: identity_cleared(actor),
    }
}
