//! The rules of the broker pipeline, pure (no I/O):
//!
//! ```text
//!  suggested ──introduce──▶ introduced ──both parties accept──▶ negotiating ──sign──▶ signed
//!      │                      │   └──a party declines──▶ closed (declined)     │
//!      └──────close───────────┴──────────────close─────────────────────────────┴──▶ closed
//! ```
//!
//! - the broker (the one who opened the match, or an admin of its agency) introduces, signs
//!   and closes;
//! - each party (a member of the listing's or the need's owner organisation) accepts or declines
//!   the introduction once, and may close the match after it was introduced;
//! - the second acceptance moves the match to `negotiating` by itself (there is no separate
//!   step for it): both parties said yes, so talks start;
//! - a declined introduction closes the match with the reason `declined`.
//!
//! Who is notified of each step is decided here too ([`notified`]).
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};
use ttx_core::vocab_enum;

vocab_enum! {
    /// Where a match stands.
    Stage {
        Suggested = ("suggested", "已推荐", "Suggested"),
        Introduced = ("introduced", "已引荐", "Introduced"),
        Negotiating = ("negotiating", "洽谈中", "Negotiating"),
        Signed = ("signed", "已签约", "Signed"),
        Closed = ("closed", "已关闭", "Closed"),
    }
}

vocab_enum! {
    /// A step of a match. `open` and `negotiate` are recorded in the history; the others are
    /// also actions a caller takes (`POST /v1/matches/{id}/<action>`).
    MatchAction {
        Open = ("open", "创建对接", "Open"),
        Introduce = ("introduce", "引荐", "Introduce"),
        Accept = ("accept", "接受引荐", "Accept"),
        Decline = ("decline", "拒绝引荐", "Decline"),
        Negotiate = ("negotiate", "进入洽谈", "Negotiate"),
        Sign = ("sign", "签约", "Sign"),
        Close = ("close", "关闭", "Close"),
    }
}

vocab_enum! {
    /// A party's answer to an introduction.
    Response {
        Pending = ("pending", "待答复", "Pending"),
        Accepted = ("accepted", "已接受", "Accepted"),
        Declined = ("declined", "已拒绝", "Declined"),
    }
}

vocab_enum! {
    /// Why a match was closed. `declined` is recorded when a party declines the introduction;
    /// the others are given with `close`.
    CloseReason {
        NoFit = ("no_fit", "供需不匹配", "No fit"),
        Price = ("price", "价格未谈拢", "Price"),
        Timing = ("timing", "时机不合适", "Timing"),
        Other = ("other", "其他", "Other"),
        Declined = ("declined", "引荐被拒绝", "Introduction declined"),
    }
}

vocab_enum! {
    /// The reasons a caller may give when closing a match.
    ClosingReason {
        NoFit = ("no_fit", "供需不匹配", "No fit"),
        Price = ("price", "价格未谈拢", "Price"),
        Timing = ("timing", "时机不合适", "Timing"),
        Other = ("other", "其他", "Other"),
    }
}

impl From<ClosingReason> for CloseReason {
    fn from(r: ClosingReason) -> Self {
        match r {
            ClosingReason::NoFit => CloseReason::NoFit,
            ClosingReason::Price => CloseReason::Price,
            ClosingReason::Timing => CloseReason::Timing,
            ClosingReason::Other => CloseReason::Other,
        }
    }
}

/// One of the two parties of a match.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Side {
    /// The listing's owner organisation (the technology side, the seller).
    Listing,
    /// The need's owner organisation (the firm, the buyer).
    Demand,
}

impl Side {
    pub fn as_str(&self) -> &'static str {
        match self {
            Side::Listing => "listing",
            Side::Demand => "demand",
        }
    }
    pub fn other(&self) -> Side {
        match self {
            Side::Listing => Side::Demand,
            Side::Demand => Side::Listing,
        }
    }
}

/// What the rules need to know of a match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct State {
    pub stage: Stage,
    pub listing: Response,
    pub demand: Response,
}

impl State {
    pub const NEW: State = State {
        stage: Stage::Suggested,
        listing: Response::Pending,
        demand: Response::Pending,
    };

    pub fn response(&self, side: Side) -> Response {
        match side {
            Side::Listing => self.listing,
            Side::Demand => self.demand,
        }
    }

    fn set_response(&mut self, side: Side, r: Response) {
        match side {
            Side::Listing => self.listing = r,
            Side::Demand => self.demand = r,
        }
    }

    /// Whether the parties know of the match (it was introduced at some point).
    pub fn is_live(&self) -> bool {
        !matches!(self.stage, Stage::Signed | Stage::Closed)
    }
}

/// How a caller relates to a match.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Roles {
    /// The match's broker, or an admin of its agency, acting for a verified agency.
    pub broker: bool,
    /// A member of the listing's owner organisation (once the match was introduced).
    pub listing_party: bool,
    /// A member of the need's owner organisation (once the match was introduced).
    pub demand_party: bool,
}

impl Roles {
    /// The side the caller's organisation takes, if it is a party.
    pub fn side(&self) -> Option<Side> {
        if self.listing_party {
            Some(Side::Listing)
        } else if self.demand_party {
            Some(Side::Demand)
        } else {
            None
        }
    }
}

/// The actions a caller may take (`POST /v1/matches/{id}/<action>`), in display order.
pub const ACTIONS: &[MatchAction] = &[
    MatchAction::Introduce,
    MatchAction::Accept,
    MatchAction::Decline,
    MatchAction::Sign,
    MatchAction::Close,
];

/// Whether a caller with `roles` may ever take `action` (in some stage). Those who may not are
/// refused with 403; those who may, but not now, get 409 with the actions allowed now.
pub fn may_ever(roles: &Roles, action: MatchAction) -> bool {
    let party = roles.side().is_some();
    match action {
        MatchAction::Introduce | MatchAction::Sign => roles.broker,
        MatchAction::Accept | MatchAction::Decline => party,
        MatchAction::Close => roles.broker || party,
        MatchAction::Open | MatchAction::Negotiate => false,
    }
}

/// Why an action is not allowed now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    pub stage: Stage,
    pub action: MatchAction,
}

/// The result of an allowed action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub state: State,
    /// Whether the stage changed.
    pub moved: bool,
    /// The second acceptance moved the match to `negotiating`.
    pub negotiating: bool,
    /// A decline closed the match.
    pub declined: bool,
}

/// Applies `action` by a caller acting as a broker (`side = None`) or as a party.
pub fn apply(state: State, action: MatchAction, side: Option<Side>) -> Result<Outcome, Invalid> {
    use MatchAction as A;
    use Stage::*;
    let invalid = || Invalid {
        stage: state.stage,
        action,
    };
    let mut next = state;
    let (mut negotiating, mut declined) = (false, false);
    match (state.stage, action, side) {
        (Suggested, A::Introduce, None) => {
            next.stage = Introduced;
            next.listing = Response::Pending;
            next.demand = Response::Pending;
        }
        (Introduced, A::Accept, Some(s)) if state.response(s) == Response::Pending => {
            next.set_response(s, Response::Accepted);
            if state.response(s.other()) == Response::Accepted {
                next.stage = Negotiating;
                negotiating = true;
            }
        }
        (Introduced, A::Decline, Some(s)) if state.response(s) == Response::Pending => {
            next.set_response(s, Response::Declined);
            next.stage = Closed;
            declined = true;
        }
        (Negotiating, A::Sign, None) => next.stage = Signed,
        (Suggested, A::Close, None) => next.stage = Closed,
        (Introduced | Negotiating, A::Close, _) => next.stage = Closed,
        _ => return Err(invalid()),
    }
    Ok(Outcome {
        state: next,
        moved: next.stage != state.stage,
        negotiating,
        declined,
    })
}

/// The actions a caller with `roles` may take now, in display order.
pub fn allowed(state: State, roles: &Roles) -> Vec<MatchAction> {
    ACTIONS
        .iter()
        .copied()
        .filter(|a| {
            let as_broker = roles.broker
                && matches!(
                    a,
                    MatchAction::Introduce | MatchAction::Sign | MatchAction::Close
                )
                && apply(state, *a, None).is_ok();
            let as_party = roles
                .side()
                .is_some_and(|s| a != &MatchAction::Introduce && apply(state, *a, Some(s)).is_ok());
            as_broker || as_party
        })
        .collect()
}

/// Who hears of a step.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Notified {
    /// The parties told, each exactly once.
    pub parties: Vec<Side>,
    /// Whether the broker's agency is told (of what the parties did).
    pub agency: bool,
}

/// Who is notified of an allowed action taken from `before` (`actor = None`: the broker).
///
/// The parties learn of a match when it is introduced; from then on each stage change reaches
/// both of them once; an acceptance that does not yet change the stage reaches the other party.
/// A match closed before it was introduced concerns nobody but the broker. The agency hears of
/// what the parties do.
pub fn notified(before: State, action: MatchAction, actor: Option<Side>, o: &Outcome) -> Notified {
    let both = vec![Side::Listing, Side::Demand];
    let party_acted = actor.is_some();
    match action {
        MatchAction::Introduce | MatchAction::Sign => Notified {
            parties: both,
            agency: false,
        },
        MatchAction::Accept if o.negotiating => Notified {
            parties: both,
            agency: true,
        },
        MatchAction::Accept => Notified {
            parties: actor.map(|s| vec![s.other()]).unwrap_or_default(),
            agency: true,
        },
        MatchAction::Decline => Notified {
            parties: both,
            agency: true,
        },
        MatchAction::Close if before.stage == Stage::Suggested => Notified::default(),
        MatchAction::Close => Notified {
            parties: both,
            agency: party_acted,
        },
        MatchAction::Open | MatchAction::Negotiate => Notified::default(),
    }
}

/// Whether the need's firm may be named to the listing's side: it is not anonymous, or it
/// accepted the introduction (the parties must know each other to negotiate and sign).
pub fn firm_named_to_listing_side(anonymous: bool, demand_response: Response) -> bool {
    !anonymous || demand_response == Response::Accepted
}

/// A stage change in a match's history.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Step {
    pub to: Stage,
    pub at: DateTime<Utc>,
}

/// The completed stays of one match: how many days it spent in each stage it left, from its
/// history in time order (steps that do not change the stage are ignored).
pub fn stays(steps: &[Step]) -> Vec<(Stage, f64)> {
    let mut changes: Vec<Step> = Vec::new();
    for s in steps {
        if changes.last().map(|l| l.to) != Some(s.to) {
            changes.push(*s);
        }
    }
    changes
        .windows(2)
        .map(|w| {
            let secs = (w[1].at - w[0].at).num_milliseconds() as f64 / 1000.0;
            (w[0].to, (secs / 86_400.0).max(0.0))
        })
        .collect()
}

/// The median of `v` (`None` when empty).
pub fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// One stage of the funnel.
#[derive(Clone, Debug, PartialEq)]
pub struct StageFigures {
    pub stage: Stage,
    /// Matches in this stage now.
    pub current: u64,
    /// Matches that were in this stage at some point.
    pub reached: u64,
    /// Median days spent in the stage, over the stays that ended; `None` when none did.
    pub median_days: Option<f64>,
    /// The number of ended stays the median is taken over.
    pub stays: u64,
}

/// The funnel over a set of matches: `current` stage of each, and the history of each as
/// stage changes in time order.
pub fn funnel(matches: &[(Stage, Vec<Step>)]) -> Vec<StageFigures> {
    let mut current: BTreeMap<Stage, u64> = BTreeMap::new();
    let mut reached: BTreeMap<Stage, u64> = BTreeMap::new();
    let mut days: BTreeMap<Stage, Vec<f64>> = BTreeMap::new();
    for (stage, steps) in matches {
        *current.entry(*stage).or_default() += 1;
        let mut seen: BTreeSet<Stage> = steps.iter().map(|s| s.to).collect();
        seen.insert(*stage);
        for s in seen {
            *reached.entry(s).or_default() += 1;
        }
        for (s, d) in stays(steps) {
            days.entry(s).or_default().push(d);
        }
    }
    <Stage as ttx_core::Labelled>::ALL
        .iter()
        .map(|s| {
            let d = days.remove(s).unwrap_or_default();
            StageFigures {
                stage: *s,
                current: current.get(s).copied().unwrap_or(0),
                reached: reached.get(s).copied().unwrap_or(0),
                stays: d.len() as u64,
                median_days: median(d),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use MatchAction as A;
    use Response::*;
    use Stage::*;

    const BROKER: Roles = Roles {
        broker: true,
        listing_party: false,
        demand_party: false,
    };
    const SELLER: Roles = Roles {
        broker: false,
        listing_party: true,
        demand_party: false,
    };
    const FIRM: Roles = Roles {
        broker: false,
        listing_party: false,
        demand_party: true,
    };

    fn st(stage: Stage, listing: Response, demand: Response) -> State {
        State {
            stage,
            listing,
            demand,
        }
    }

    #[test]
    fn the_happy_path_reaches_signed() {
        let s = State::NEW;
        let o = apply(s, A::Introduce, None).unwrap();
        assert_eq!(o.state.stage, Introduced);
        assert!(o.moved);
        let o = apply(o.state, A::Accept, Some(Side::Demand)).unwrap();
        assert_eq!(o.state, st(Introduced, Pending, Accepted));
        assert!(!o.moved && !o.negotiating);
        let o = apply(o.state, A::Accept, Some(Side::Listing)).unwrap();
        assert_eq!(o.state, st(Negotiating, Accepted, Accepted));
        assert!(o.moved && o.negotiating);
        let o = apply(o.state, A::Sign, None).unwrap();
        assert_eq!(o.state.stage, Signed);
        assert!(!o.state.is_live());
    }

    #[test]
    fn out_of_order_steps_are_refused() {
        let s = State::NEW;
        for (a, side) in [
            (A::Sign, None),
            (A::Accept, Some(Side::Listing)),
            (A::Decline, Some(Side::Demand)),
            (A::Close, Some(Side::Listing)),
        ] {
            assert_eq!(
                apply(s, a, side),
                Err(Invalid {
                    stage: Suggested,
                    action: a
                })
            );
        }
        let intro = st(Introduced, Accepted, Pending);
        // answering twice
        assert!(apply(intro, A::Accept, Some(Side::Listing)).is_err());
        assert!(apply(intro, A::Decline, Some(Side::Listing)).is_err());
        assert!(apply(intro, A::Introduce, None).is_err());
        assert!(apply(intro, A::Sign, None).is_err());
        let neg = st(Negotiating, Accepted, Accepted);
        assert!(apply(neg, A::Accept, Some(Side::Demand)).is_err());
        for done in [Signed, Closed] {
            let s = st(done, Accepted, Accepted);
            for a in ACTIONS {
                assert!(apply(s, *a, None).is_err());
                assert!(apply(s, *a, Some(Side::Demand)).is_err());
            }
        }
    }

    #[test]
    fn a_decline_closes() {
        let o = apply(
            st(Introduced, Accepted, Pending),
            A::Decline,
            Some(Side::Demand),
        )
        .unwrap();
        assert_eq!(o.state, st(Closed, Accepted, Declined));
        assert!(o.declined && o.moved);
    }

    #[test]
    fn allowed_actions_depend_on_stage_and_role() {
        let names = |v: Vec<MatchAction>| v.iter().map(|a| a.as_str()).collect::<Vec<_>>();
        assert_eq!(
            names(allowed(State::NEW, &BROKER)),
            vec!["introduce", "close"]
        );
        assert!(allowed(State::NEW, &SELLER).is_empty());
        let intro = st(Introduced, Pending, Accepted);
        assert_eq!(names(allowed(intro, &BROKER)), vec!["close"]);
        assert_eq!(
            names(allowed(intro, &SELLER)),
            vec!["accept", "decline", "close"]
        );
        assert_eq!(names(allowed(intro, &FIRM)), vec!["close"]);
        let neg = st(Negotiating, Accepted, Accepted);
        assert_eq!(names(allowed(neg, &BROKER)), vec!["sign", "close"]);
        assert_eq!(names(allowed(neg, &FIRM)), vec!["close"]);
        assert!(allowed(st(Signed, Accepted, Accepted), &BROKER).is_empty());
        assert!(allowed(neg, &Roles::default()).is_empty());
        // Every allowed action applies; everything else is refused.
        for stage in <Stage as ttx_core::Labelled>::ALL {
            for l in [Pending, Accepted, Declined] {
                for d in [Pending, Accepted, Declined] {
                    let s = st(*stage, l, d);
                    for roles in [BROKER, SELLER, FIRM] {
                        for a in allowed(s, &roles) {
                            assert!(may_ever(&roles, a));
                            let side = if roles.broker { None } else { roles.side() };
                            assert!(apply(s, a, side).is_ok(), "{s:?} {a:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn who_may_ever_act() {
        assert!(may_ever(&BROKER, A::Introduce));
        assert!(may_ever(&BROKER, A::Sign));
        assert!(!may_ever(&BROKER, A::Accept));
        assert!(!may_ever(&SELLER, A::Introduce));
        assert!(!may_ever(&FIRM, A::Sign));
        assert!(may_ever(&FIRM, A::Close));
        assert!(!may_ever(&Roles::default(), A::Close));
        assert!(!may_ever(&BROKER, A::Negotiate));
    }

    #[test]
    fn each_party_hears_of_each_step_once() {
        let s0 = State::NEW;
        let o = apply(s0, A::Introduce, None).unwrap();
        let n = notified(s0, A::Introduce, None, &o);
        assert_eq!(n.parties, vec![Side::Listing, Side::Demand]);
        assert!(!n.agency);
        let s1 = o.state;
        let o = apply(s1, A::Accept, Some(Side::Demand)).unwrap();
        let n = notified(s1, A::Accept, Some(Side::Demand), &o);
        assert_eq!(n.parties, vec![Side::Listing]);
        assert!(n.agency);
        let s2 = o.state;
        let o = apply(s2, A::Accept, Some(Side::Listing)).unwrap();
        let n = notified(s2, A::Accept, Some(Side::Listing), &o);
        assert_eq!(n.parties, vec![Side::Listing, Side::Demand]);
        // closing an unintroduced match concerns nobody else
        let o = apply(s0, A::Close, None).unwrap();
        assert_eq!(notified(s0, A::Close, None, &o), Notified::default());
        let o = apply(s2, A::Close, Some(Side::Demand)).unwrap();
        let n = notified(s2, A::Close, Some(Side::Demand), &o);
        assert_eq!(n.parties.len(), 2);
        assert!(n.agency);
    }

    #[test]
    fn anonymity_lifts_when_the_firm_accepts() {
        assert!(firm_named_to_listing_side(false, Pending));
        assert!(!firm_named_to_listing_side(true, Pending));
        assert!(!firm_named_to_listing_side(true, Declined));
        assert!(firm_named_to_listing_side(true, Accepted));
    }

    fn at(day: i64, hour: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_760_000_000 + day * 86_400 + hour * 3600, 0).unwrap()
    }

    #[test]
    fn stays_and_medians() {
        let steps = vec![
            Step {
                to: Suggested,
                at: at(0, 0),
            },
            Step {
                to: Introduced,
                at: at(2, 0),
            },
            // an acceptance: no change of stage
            Step {
                to: Introduced,
                at: at(3, 0),
            },
            Step {
                to: Negotiating,
                at: at(5, 12),
            },
        ];
        assert_eq!(stays(&steps), vec![(Suggested, 2.0), (Introduced, 3.5)]);
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));

        let other = vec![
            Step {
                to: Suggested,
                at: at(0, 0),
            },
            Step {
                to: Closed,
                at: at(4, 0),
            },
        ];
        let f = funnel(&[(Negotiating, steps), (Closed, other), (Suggested, vec![])]);
        let get = |s: Stage| f.iter().find(|x| x.stage == s).unwrap().clone();
        assert_eq!(get(Suggested).current, 1);
        assert_eq!(get(Suggested).reached, 3);
        assert_eq!(get(Suggested).median_days, Some(3.0));
        assert_eq!(get(Suggested).stays, 2);
        assert_eq!(get(Introduced).reached, 1);
        assert_eq!(get(Introduced).median_days, Some(3.5));
        assert_eq!(get(Negotiating).current, 1);
        assert_eq!(get(Negotiating).median_days, None);
        assert_eq!(get(Closed).current, 1);
        assert_eq!(get(Signed).reached, 0);
        assert_eq!(f.len(), 5);
    }
}
