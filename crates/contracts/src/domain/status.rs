//! The life of a contract at its registration station, as a state machine.
//!
//! ```text
//!  draft ──submit──▶ submitted ──accept──▶ accepted ──register──▶ registered ──terminate──▶ terminated
//!    ▲                  │   │                │  │                    │  ▲
//!    │ (edit)           │   └────refuse──────┼──┴──▶ refused         └──┘ amend
//!  returned ◀──return───┴────────────────────┘
//!    └──submit (next round)──▶ submitted
//! ```
//!
//! The seller side edits, submits, amends and terminates; the station accepts, registers,
//! returns and refuses. Amendments and terminations of a registered contract are requests the
//! station approves or rejects ([`AmendmentStatus`]).
use ttx_core::vocab_enum;

vocab_enum! {
    /// Where a contract stands.
    ContractStatus {
        Draft = ("draft", "草稿", "Draft"),
        Submitted = ("submitted", "已提交", "Submitted"),
        Accepted = ("accepted", "已受理", "Accepted for review"),
        Returned = ("returned", "退回补正", "Returned for correction"),
        Registered = ("registered", "已登记", "Registered"),
        Refused = ("refused", "不予登记", "Refused"),
        Terminated = ("terminated", "已终止", "Terminated"),
    }
}

vocab_enum! {
    /// The official grounds on which a station refuses to register a contract.
    RefusalGround {
        NotTechnologyContract = ("not_technology_contract", "不属于技术合同（如以技术合同名义的货物买卖）", "Not a technology contract (e.g. a disguised sale of goods)"),
        PartiesOrPriceUnclear = ("parties_or_price_unclear", "当事人或价款约定不明确", "Parties or price unclear"),
        NameContentMismatch = ("name_content_mismatch", "合同名称与内容不符", "Name does not match the content"),
        RestrictiveClauses = ("restrictive_clauses", "含有非法垄断技术、妨碍技术进步的条款", "Restrictive clauses"),
        MissingSignatures = ("missing_signatures", "缺少签字或盖章", "Missing signatures or seals"),
        MissingDocuments = ("missing_documents", "申请材料不齐全", "Missing documents"),
        Duplicate = ("duplicate", "重复登记", "Duplicate of a registered contract"),
        OutsideJurisdiction = ("outside_jurisdiction", "不属于本登记机构受理范围", "Outside the station's jurisdiction"),
        Other = ("other", "其他", "Other"),
    }
}

vocab_enum! {
    /// What a change request of a registered contract asks for.
    AmendmentKind {
        Amendment = ("amendment", "合同变更", "Amendment"),
        Termination = ("termination", "合同终止", "Termination"),
    }
}

vocab_enum! {
    /// Where a change request stands.
    AmendmentStatus {
        Pending = ("pending", "待审核", "Pending"),
        Approved = ("approved", "已核准", "Approved"),
        Rejected = ("rejected", "已驳回", "Rejected"),
    }
}

/// Who takes an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// A member of the seller organisation (the applicant).
    Seller,
    /// A reviewer of the registering station.
    Station,
}

/// Something done to a contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Edit,
    Submit,
    Accept,
    Register,
    Return,
    Refuse,
    Amend,
    Terminate,
}

impl Action {
    pub const ALL: [Action; 8] = [
        Action::Edit,
        Action::Submit,
        Action::Accept,
        Action::Register,
        Action::Return,
        Action::Refuse,
        Action::Amend,
        Action::Terminate,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Action::Edit => "edit",
            Action::Submit => "submit",
            Action::Accept => "accept",
            Action::Register => "register",
            Action::Return => "return",
            Action::Refuse => "refuse",
            Action::Amend => "amend",
            Action::Terminate => "terminate",
        }
    }

    pub fn side(&self) -> Side {
        match self {
            Action::Edit | Action::Submit | Action::Amend | Action::Terminate => Side::Seller,
            Action::Accept | Action::Register | Action::Return | Action::Refuse => Side::Station,
        }
    }
}

/// An action the current status does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a contract that is {} cannot be {}; allowed now: {}", from.as_str(), action_past(*action), allowed_list(*from))]
pub struct TransitionError {
    pub from: ContractStatus,
    pub action: Action,
}

fn action_past(a: Action) -> &'static str {
    match a {
        Action::Edit => "edited",
        Action::Submit => "submitted",
        Action::Accept => "accepted",
        Action::Register => "registered",
        Action::Return => "returned",
        Action::Refuse => "refused",
        Action::Amend => "amended",
        Action::Terminate => "terminated",
    }
}

fn allowed_list(s: ContractStatus) -> String {
    let a = s.allowed_actions();
    if a.is_empty() {
        "nothing".into()
    } else {
        a.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(", ")
    }
}

impl ContractStatus {
    /// The status after `action`, or why it is not allowed.
    pub fn apply(self, action: Action) -> Result<ContractStatus, TransitionError> {
        use Action as A;
        use ContractStatus as S;
        let to = match (self, action) {
            (S::Draft, A::Edit) => S::Draft,
            (S::Returned, A::Edit) => S::Returned,
            (S::Draft | S::Returned, A::Submit) => S::Submitted,
            (S::Submitted, A::Accept) => S::Accepted,
            (S::Accepted, A::Register) => S::Registered,
            (S::Submitted | S::Accepted, A::Return) => S::Returned,
            (S::Submitted | S::Accepted, A::Refuse) => S::Refused,
            (S::Registered, A::Amend) => S::Registered,
            (S::Registered, A::Terminate) => S::Terminated,
            _ => return Err(TransitionError { from: self, action }),
        };
        Ok(to)
    }

    /// Actions the status allows (whoever may take them).
    pub fn allowed_actions(self) -> Vec<Action> {
        Action::ALL
            .into_iter()
            .filter(|a| self.apply(*a).is_ok())
            .collect()
    }

    /// Statuses a station works on (its queue).
    pub fn in_review(self) -> bool {
        matches!(self, ContractStatus::Submitted | ContractStatus::Accepted)
    }

    /// Whether the contract was registered at some point (it has a number and ledger entries).
    pub fn was_registered(self) -> bool {
        matches!(
            self,
            ContractStatus::Registered | ContractStatus::Terminated
        )
    }
}

impl AmendmentStatus {
    /// A pending request becomes approved or rejected, once.
    pub fn decide(self, approve: bool) -> Result<AmendmentStatus, String> {
        match self {
            AmendmentStatus::Pending if approve => Ok(AmendmentStatus::Approved),
            AmendmentStatus::Pending => Ok(AmendmentStatus::Rejected),
            other => Err(format!("the request is already {}", other.as_str())),
        }
    }
}

impl RefusalGround {
    /// Grounds that need an explanation in free text.
    pub fn needs_text(&self) -> bool {
        matches!(self, RefusalGround::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ContractStatus as S;

    #[test]
    fn the_happy_path() {
        let s = S::Draft.apply(Action::Submit).unwrap();
        let s = s.apply(Action::Accept).unwrap();
        let s = s.apply(Action::Register).unwrap();
        assert_eq!(s, S::Registered);
        assert_eq!(s.apply(Action::Amend).unwrap(), S::Registered);
        assert_eq!(s.apply(Action::Terminate).unwrap(), S::Terminated);
    }

    #[test]
    fn return_and_resubmit_is_a_loop() {
        let s = S::Accepted.apply(Action::Return).unwrap();
        assert_eq!(s, S::Returned);
        assert_eq!(s.apply(Action::Edit).unwrap(), S::Returned);
        assert_eq!(s.apply(Action::Submit).unwrap(), S::Submitted);
        // A station may also send back or refuse before accepting.
        assert_eq!(S::Submitted.apply(Action::Return).unwrap(), S::Returned);
        assert_eq!(S::Submitted.apply(Action::Refuse).unwrap(), S::Refused);
    }

    #[test]
    fn forbidden_transitions() {
        // Registration needs acceptance first (the deadline starts there).
        assert!(S::Submitted.apply(Action::Register).is_err());
        assert!(S::Draft.apply(Action::Register).is_err());
        assert!(S::Draft.apply(Action::Accept).is_err());
        // Registered contracts are not edited; they are amended through the station.
        assert!(S::Registered.apply(Action::Edit).is_err());
        assert!(S::Registered.apply(Action::Register).is_err());
        assert!(S::Registered.apply(Action::Refuse).is_err());
        // Final states.
        for s in [S::Refused, S::Terminated] {
            assert!(s.allowed_actions().is_empty(), "{s:?}");
        }
        let e = S::Registered.apply(Action::Submit).unwrap_err();
        assert_eq!(
            e.to_string(),
            "a contract that is registered cannot be submitted; allowed now: amend, terminate"
        );
    }

    #[test]
    fn sides() {
        assert_eq!(Action::Register.side(), Side::Station);
        assert_eq!(Action::Terminate.side(), Side::Seller);
        assert_eq!(
            S::Accepted.allowed_actions(),
            vec![Action::Register, Action::Return, Action::Refuse]
        );
    }

    #[test]
    fn amendments_are_decided_once() {
        assert_eq!(
            AmendmentStatus::Pending.decide(true).unwrap(),
            AmendmentStatus::Approved
        );
        assert_eq!(
            AmendmentStatus::Pending.decide(false).unwrap(),
            AmendmentStatus::Rejected
        );
        assert!(AmendmentStatus::Approved.decide(false).is_err());
    }

    #[test]
    fn grounds_parse() {
        assert_eq!(
            "duplicate".parse::<RefusalGround>().unwrap(),
            RefusalGround::Duplicate
        );
        assert!(RefusalGround::Other.needs_text());
        assert!(!RefusalGround::Duplicate.needs_text());
        assert!("nonsense".parse::<RefusalGround>().is_err());
    }
}
