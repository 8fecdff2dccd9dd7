//! The rules of enquiries and confidential details, as pure functions (no I/O).
//!
//! ```text
//!   open ──owner posts──▶ answered
//!    │ │                    │ │
//!    │ └──accept (owner)────┼─┴──▶ accepted ──close (either side)──▶ closed
//!    ├────decline (owner)───┴────▶ declined
//!    └────close (sender)─────────▶ closed          (answered → closed likewise)
//! ```
//!
//! - Both sides post messages while the enquiry is open, answered or accepted; the owner's
//!   first message moves `open` to `answered`.
//! - Only the owner accepts or declines (with a reason); accepting reveals the item's contact
//!   details to the sender's organisation.
//! - The sender accepts the listing's NDA (a version of it) while the enquiry is live; the owner
//!   grants access to the confidential parts once the sender accepted the current version (or
//!   the listing grants it automatically on acceptance).
//! - An enquiry is live (blocks a second one by the same organisation on the same item) while
//!   open, answered or accepted.
use ttx_core::{OrgKind, Role};

pub const MESSAGE_MIN: usize = 1;
pub const MESSAGE_MAX: usize = 5_000;
pub const REASON_MAX: usize = 1_000;
pub const CONFIDENTIAL_MAX: usize = 50_000;
pub const NDA_TEXT_MAX: usize = 20_000;

ttx_core::vocab_enum! {
    /// Where an enquiry stands.
    EnquiryStatus {
        Open = ("open", "待回复", "Open"),
        Answered = ("answered", "已回复", "Answered"),
        Accepted = ("accepted", "已接受", "Accepted"),
        Declined = ("declined", "已婉拒", "Declined"),
        Closed = ("closed", "已关闭", "Closed"),
    }
}

ttx_core::vocab_enum! {
    /// What the enquirer wants.
    Purpose {
        License = ("license", "技术许可", "Licence"),
        Transfer = ("transfer", "技术转让", "Transfer"),
        CoDevelopment = ("co_development", "合作开发", "Co-development"),
        MoreData = ("more_data", "索取更多资料", "More data"),
    }
}

ttx_core::vocab_enum! {
    /// What an enquiry is about (and what the sender may offer): a listing or a need.
    SubjectType {
        Listing = ("listing", "科技成果", "Listing"),
        Demand = ("demand", "技术需求", "Need"),
    }
}

ttx_core::vocab_enum! {
    /// A disclosure recorded in the owner's access log.
    Disclosure {
        ContactRevealed = ("contact_revealed", "接受咨询，公开联系方式", "Contact revealed on acceptance"),
        ContactRead = ("contact_read", "查看联系方式", "Contact read"),
        AccessGranted = ("access_granted", "授权查看保密信息", "Access to confidential details granted"),
        ConfidentialRead = ("confidential_read", "查看保密信息", "Confidential details read"),
    }
}

/// The side of an enquiry a caller acts for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The organisation that sent the enquiry.
    Sender,
    /// The organisation owning the listing or need.
    Owner,
}

impl Side {
    pub fn as_str(&self) -> &'static str {
        match self {
            Side::Sender => "sender",
            Side::Owner => "owner",
        }
    }
    pub fn other(&self) -> Side {
        match self {
            Side::Sender => Side::Owner,
            Side::Owner => Side::Sender,
        }
    }
}

/// Something done to an enquiry.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Message,
    Accept,
    Decline,
    Close,
    AcceptNda,
    Grant,
}

impl Action {
    pub const ALL: [Action; 6] = [
        Action::Message,
        Action::Accept,
        Action::Decline,
        Action::Close,
        Action::AcceptNda,
        Action::Grant,
    ];
    pub fn as_str(&self) -> &'static str {
        match self {
            Action::Message => "message",
            Action::Accept => "accept",
            Action::Decline => "decline",
            Action::Close => "close",
            Action::AcceptNda => "accept_nda",
            Action::Grant => "grant",
        }
    }
    /// The side that may take the action at all.
    fn sides(&self) -> &'static [Side] {
        match self {
            Action::Message => &[Side::Sender, Side::Owner],
            Action::Close => &[Side::Sender, Side::Owner],
            Action::Accept | Action::Decline | Action::Grant => &[Side::Owner],
            Action::AcceptNda => &[Side::Sender],
        }
    }
}

/// Why an action is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The caller's side never takes this action (403).
    WrongSide,
    /// Not in the enquiry's current status (409).
    InvalidState,
}

/// Whether an enquiry in `status` blocks another by the same organisation on the same item.
pub fn is_live(status: EnquiryStatus) -> bool {
    matches!(
        status,
        EnquiryStatus::Open | EnquiryStatus::Answered | EnquiryStatus::Accepted
    )
}

/// The status after `side` takes `action` in `status`, or why it may not.
pub fn transition(
    status: EnquiryStatus,
    side: Side,
    action: Action,
) -> Result<EnquiryStatus, Refusal> {
    use EnquiryStatus::*;
    if !action.sides().contains(&side) {
        return Err(Refusal::WrongSide);
    }
    let to = match (action, side, status) {
        (Action::Message, Side::Owner, Open) => Answered,
        (Action::Message, _, Open | Answered | Accepted) => status,
        (Action::Accept, _, Open | Answered) => Accepted,
        (Action::Decline, _, Open | Answered) => Declined,
        (Action::Close, Side::Sender, Open | Answered | Accepted) => Closed,
        // The owner declines what it did not accept; it may end an accepted one.
        (Action::Close, Side::Owner, Accepted) => Closed,
        (Action::AcceptNda | Action::Grant, _, Open | Answered | Accepted) => status,
        _ => return Err(Refusal::InvalidState),
    };
    Ok(to)
}

/// The actions `side` may take now.
pub fn allowed(status: EnquiryStatus, side: Side) -> Vec<Action> {
    Action::ALL
        .into_iter()
        .filter(|a| transition(status, side, *a).is_ok())
        .collect()
}

/// The unique key of a live enquiry (`None` once declined or closed).
pub fn open_key(
    status: EnquiryStatus,
    subject: SubjectType,
    subject_id: i64,
    sender_org: i64,
) -> Option<String> {
    is_live(status).then(|| format!("{}:{subject_id}:{sender_org}", subject.as_str()))
}

/// Why a caller may not send enquiries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendRefusal {
    /// The organisation is not verified by an operator.
    NotVerified,
    /// Not a kind of organisation or a role that enquires.
    NotAllowed,
}

/// Who may send an enquiry: a member (or admin) of a verified university, research institute or
/// enterprise, or a broker (or admin) of a verified agency. Stations, bureaus and operators
/// regulate; they do not enquire.
pub fn may_send(kind: OrgKind, verified: bool, role: Role) -> Result<(), SendRefusal> {
    let role_ok = match kind {
        OrgKind::University | OrgKind::ResearchInstitute | OrgKind::Enterprise => {
            matches!(role, Role::OrgAdmin | Role::Member)
        }
        OrgKind::Agency => matches!(role, Role::Broker | Role::OrgAdmin),
        OrgKind::Station | OrgKind::Bureau | OrgKind::Operator => false,
    };
    if !role_ok {
        Err(SendRefusal::NotAllowed)
    } else if !verified {
        Err(SendRefusal::NotVerified)
    } else {
        Ok(())
    }
}

/// Whether the daily cap leaves room for one more enquiry (`used` sent so far today).
pub fn within_cap(used: u32, cap: u32) -> bool {
    used < cap
}

/// Why confidential access may not be granted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantRefusal {
    /// The listing has no confidential parts (hence no NDA).
    NoNda,
    /// The sender has not accepted the current NDA version.
    NdaNotAccepted,
}

/// Whether access may be granted: the listing has an NDA and the sender accepted its current
/// version.
pub fn may_grant(current_nda: Option<i32>, accepted: Option<i32>) -> Result<(), GrantRefusal> {
    match (current_nda, accepted) {
        (None, _) => Err(GrantRefusal::NoNda),
        (Some(c), Some(a)) if a == c => Ok(()),
        _ => Err(GrantRefusal::NdaNotAccepted),
    }
}

/// Whether accepting version `offered` of an NDA whose current version is `current` is valid
/// (the sender must accept the text it read, which must be the current one).
pub fn nda_acceptable(current: Option<i32>, offered: i32) -> Result<(), GrantRefusal> {
    match current {
        None => Err(GrantRefusal::NoNda),
        Some(c) if c == offered => Ok(()),
        Some(_) => Err(GrantRefusal::NdaNotAccepted),
    }
}

/// The NDA version after the owner saves `new_text` over `current` (version, text): a changed
/// text is a new version, the same text keeps it.
pub fn next_nda_version(current: Option<(i32, &str)>, new_text: &str) -> (i32, bool) {
    match current {
        None => (1, true),
        Some((v, t)) if t == new_text => (v, false),
        Some((v, _)) => (v + 1, true),
    }
}

/// What a caller may read of an item's contact details: the owner organisation always; the
/// sender of an enquiry the owner accepted (even if closed since).
pub fn may_read_contact(is_owner: bool, accepted_enquiry: bool) -> bool {
    is_owner || accepted_enquiry
}

/// Who may read a listing's confidential parts: the owner organisation, and the sender of an
/// enquiry granted access that is not declined (a closed enquiry keeps what was granted).
pub fn may_read_confidential(is_owner: bool, granted: bool) -> bool {
    is_owner || granted
}

#[cfg(test)]
mod tests {
    use super::*;
    use EnquiryStatus::*;

    #[test]
    fn the_state_machine() {
        assert_eq!(transition(Open, Side::Owner, Action::Message), Ok(Answered));
        assert_eq!(transition(Open, Side::Sender, Action::Message), Ok(Open));
        assert_eq!(
            transition(Answered, Side::Owner, Action::Accept),
            Ok(Accepted)
        );
        assert_eq!(transition(Open, Side::Owner, Action::Accept), Ok(Accepted));
        assert_eq!(
            transition(Answered, Side::Owner, Action::Decline),
            Ok(Declined)
        );
        assert_eq!(transition(Open, Side::Sender, Action::Close), Ok(Closed));
        assert_eq!(transition(Accepted, Side::Owner, Action::Close), Ok(Closed));
        assert_eq!(
            transition(Accepted, Side::Sender, Action::Message),
            Ok(Accepted)
        );
        // Nothing moves a decided enquiry.
        for s in [Declined, Closed] {
            for side in [Side::Owner, Side::Sender] {
                assert!(allowed(s, side).is_empty(), "{s:?} {side:?}");
            }
        }
        assert_eq!(
            transition(Accepted, Side::Owner, Action::Accept),
            Err(Refusal::InvalidState)
        );
        assert_eq!(
            transition(Accepted, Side::Owner, Action::Decline),
            Err(Refusal::InvalidState)
        );
        assert_eq!(
            transition(Open, Side::Owner, Action::Close),
            Err(Refusal::InvalidState),
            "the owner declines an open enquiry instead"
        );
    }

    #[test]
    fn who_may_do_what() {
        for s in EnquiryStatus::ALL_STATUSES {
            for a in [Action::Accept, Action::Decline, Action::Grant] {
                assert_eq!(transition(s, Side::Sender, a), Err(Refusal::WrongSide));
            }
            assert_eq!(
                transition(s, Side::Owner, Action::AcceptNda),
                Err(Refusal::WrongSide)
            );
        }
        assert_eq!(
            allowed(Open, Side::Owner),
            vec![
                Action::Message,
                Action::Accept,
                Action::Decline,
                Action::Grant
            ]
        );
        assert_eq!(
            allowed(Open, Side::Sender),
            vec![Action::Message, Action::Close, Action::AcceptNda]
        );
        assert_eq!(
            allowed(Accepted, Side::Owner),
            vec![Action::Message, Action::Close, Action::Grant]
        );
    }

    impl EnquiryStatus {
        const ALL_STATUSES: [EnquiryStatus; 5] = [Open, Answered, Accepted, Declined, Closed];
    }

    #[test]
    fn live_enquiries_hold_the_open_key() {
        assert_eq!(
            open_key(Open, SubjectType::Listing, 7, 3).as_deref(),
            Some("listing:7:3")
        );
        assert_eq!(
            open_key(Accepted, SubjectType::Demand, 7, 3).as_deref(),
            Some("demand:7:3")
        );
        assert_eq!(open_key(Declined, SubjectType::Listing, 7, 3), None);
        assert_eq!(open_key(Closed, SubjectType::Listing, 7, 3), None);
    }

    #[test]
    fn senders() {
        use OrgKind::*;
        assert_eq!(may_send(University, true, Role::Member), Ok(()));
        assert_eq!(may_send(Enterprise, true, Role::OrgAdmin), Ok(()));
        assert_eq!(may_send(Agency, true, Role::Broker), Ok(()));
        assert_eq!(
            may_send(Enterprise, false, Role::Member),
            Err(SendRefusal::NotVerified)
        );
        assert_eq!(
            may_send(Agency, false, Role::Broker),
            Err(SendRefusal::NotVerified)
        );
        assert_eq!(
            may_send(Agency, true, Role::Member),
            Err(SendRefusal::NotAllowed)
        );
        assert_eq!(
            may_send(Station, true, Role::StationReviewer),
            Err(SendRefusal::NotAllowed)
        );
        assert_eq!(
            may_send(Bureau, true, Role::OrgAdmin),
            Err(SendRefusal::NotAllowed)
        );
        assert_eq!(
            may_send(Operator, true, Role::Operator),
            Err(SendRefusal::NotAllowed)
        );
    }

    #[test]
    fn cap_and_nda() {
        assert!(within_cap(0, 1));
        assert!(!within_cap(1, 1));
        assert!(!within_cap(0, 0));
        assert_eq!(may_grant(None, None), Err(GrantRefusal::NoNda));
        assert_eq!(
            may_grant(Some(2), Some(1)),
            Err(GrantRefusal::NdaNotAccepted)
        );
        assert_eq!(may_grant(Some(2), None), Err(GrantRefusal::NdaNotAccepted));
        assert_eq!(may_grant(Some(2), Some(2)), Ok(()));
        assert_eq!(
            nda_acceptable(Some(2), 1),
            Err(GrantRefusal::NdaNotAccepted)
        );
        assert_eq!(nda_acceptable(None, 1), Err(GrantRefusal::NoNda));
        assert_eq!(nda_acceptable(Some(1), 1), Ok(()));
        assert_eq!(next_nda_version(None, "a"), (1, true));
        assert_eq!(next_nda_version(Some((1, "a")), "a"), (1, false));
        assert_eq!(next_nda_version(Some((1, "a")), "b"), (2, true));
    }

    #[test]
    fn readers() {
        assert!(may_read_contact(true, false));
        assert!(may_read_contact(false, true));
        assert!(!may_read_contact(false, false));
        assert!(may_read_confidential(true, false));
        assert!(may_read_confidential(false, true));
        assert!(!may_read_confidential(false, false));
    }
}
