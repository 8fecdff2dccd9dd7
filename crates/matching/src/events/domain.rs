//! The rules of matchmaking events, pure: who organises, the event's settings, slot times,
//! when the event is over, outcomes, and how the report's figures add up.
use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashSet};
use ttx_core::{OrgKind, Role};
use utoipa::ToSchema;

/// Organisers: admins and brokers of verified agencies, admins and analysts of verified
/// science-and-technology bureaus.
pub fn may_organise(kind: OrgKind, verified: bool, role: Role) -> bool {
    verified
        && match kind {
            OrgKind::Agency => matches!(role, Role::OrgAdmin | Role::Broker),
            OrgKind::Bureau => matches!(role, Role::OrgAdmin | Role::BureauAnalyst),
            _ => false,
        }
}

pub const MAX_SLOTS: i32 = 48;
pub const MAX_TABLES: i32 = 500;
pub const MIN_SLOT_MINUTES: i32 = 5;
pub const MAX_SLOT_MINUTES: i32 = 240;

/// Start and end of a slot (0-based), in minutes after midnight, or `None` when it would end
/// after midnight.
pub fn slot_times(start: NaiveTime, slot_minutes: i32, slot: i32) -> Option<(i64, i64)> {
    use chrono::Timelike;
    let from = i64::from(start.num_seconds_from_midnight() / 60)
        + i64::from(slot) * i64::from(slot_minutes);
    let to = from + i64::from(slot_minutes);
    (slot >= 0 && to <= 24 * 60).then_some((from, to))
}

/// Minutes after midnight as `HH:MM` (`24:00` for midnight at the end of the day).
pub fn hhmm(minutes: i64) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Parses `HH:MM`.
pub fn parse_hhmm(s: &str) -> Option<NaiveTime> {
    let (h, m) = s.trim().split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0)
}

/// Whether all slots end by midnight.
pub fn fits_in_the_day(start: NaiveTime, slot_minutes: i32, slots: i32) -> bool {
    slots >= 1 && slot_times(start, slot_minutes, slots - 1).is_some()
}

/// An event is over from the day after its date (Beijing dates).
pub fn is_over(event_date: NaiveDate, today: NaiveDate) -> bool {
    event_date < today
}

/// The report is for the organiser at any time, and public once the event is over.
pub fn report_visible(organiser: bool, over: bool) -> bool {
    organiser || over
}

/// What came of a pairing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The parties met.
    Met,
    /// They declared an intent to cooperate (意向).
    Intent,
    /// They signed a contract (linked by `contract_id`).
    Signed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Met => "met",
            Outcome::Intent => "intent",
            Outcome::Signed => "signed",
        }
    }
    pub fn from_code(s: &str) -> Option<Outcome> {
        match s {
            "met" => Some(Outcome::Met),
            "intent" => Some(Outcome::Intent),
            "signed" => Some(Outcome::Signed),
            _ => None,
        }
    }
}

/// A pairing as the report counts it.
#[derive(Clone, Debug, PartialEq)]
pub struct Held {
    pub listing_id: i64,
    pub outcome: Option<Outcome>,
    pub contract_id: Option<i64>,
}

/// The counts of a report. `held = met + intents + signed`: each pairing held counts under
/// its one recorded outcome.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Tally {
    /// Pairings in the schedule.
    pub pairings_scheduled: u64,
    /// Pairings with an outcome recorded.
    pub pairings_held: u64,
    /// Held pairings whose parties met without more (yet).
    pub met: u64,
    /// Held pairings that ended in an intent to cooperate (意向).
    pub intents: u64,
    /// Held pairings that ended in a signed contract.
    pub signed: u64,
    /// Distinct listings presented at a held pairing.
    pub projects_presented: u64,
}

/// Counts pairings and the distinct contracts they signed.
pub fn tally(pairings: &[Held]) -> (Tally, BTreeSet<i64>) {
    let mut t = Tally {
        pairings_scheduled: pairings.len() as u64,
        ..Default::default()
    };
    let mut projects = HashSet::new();
    let mut contracts = BTreeSet::new();
    for p in pairings {
        let Some(o) = p.outcome else { continue };
        t.pairings_held += 1;
        projects.insert(p.listing_id);
        match o {
            Outcome::Met => t.met += 1,
            Outcome::Intent => t.intents += 1,
            Outcome::Signed => {
                t.signed += 1;
                if let Some(c) = p.contract_id {
                    contracts.insert(c);
                }
            }
        }
    }
    t.projects_presented = projects.len() as u64;
    (t, contracts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn organisers_are_verified_agencies_and_bureaus() {
        assert!(may_organise(OrgKind::Agency, true, Role::Broker));
        assert!(may_organise(OrgKind::Agency, true, Role::OrgAdmin));
        assert!(!may_organise(OrgKind::Agency, true, Role::Member));
        assert!(!may_organise(OrgKind::Agency, false, Role::Broker));
        assert!(may_organise(OrgKind::Bureau, true, Role::BureauAnalyst));
        assert!(!may_organise(OrgKind::Enterprise, true, Role::OrgAdmin));
    }

    #[test]
    fn slots_and_days() {
        let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
        assert_eq!(slot_times(t(9, 0), 20, 2), Some((9 * 60 + 40, 10 * 60)));
        assert_eq!(hhmm(9 * 60 + 5), "09:05");
        assert_eq!(hhmm(24 * 60), "24:00");
        assert_eq!(parse_hhmm("09:30"), Some(t(9, 30)));
        assert_eq!(parse_hhmm("9:30"), None);
        assert_eq!(parse_hhmm("25:00"), None);
        assert!(fits_in_the_day(t(9, 0), 60, 15));
        assert!(!fits_in_the_day(t(9, 0), 60, 16));
        assert!(fits_in_the_day(t(23, 0), 60, 1));
        let d = |n| NaiveDate::from_ymd_opt(2026, 5, n).unwrap();
        assert!(!is_over(d(10), d(10)));
        assert!(is_over(d(10), d(11)));
        assert!(report_visible(true, false));
        assert!(!report_visible(false, false));
        assert!(report_visible(false, true));
    }

    proptest! {
        /// The report adds up: held = met + intents + signed ≤ scheduled; projects presented
        /// never exceed held pairings; each signed contract counts once.
        #[test]
        fn the_report_adds_up(
            v in proptest::collection::vec((0i64..6, 0usize..4, proptest::option::of(0i64..4)), 0..40),
        ) {
            let pairings: Vec<Held> = v
                .into_iter()
                .map(|(l, o, c)| Held {
                    listing_id: l,
                    outcome: [None, Some(Outcome::Met), Some(Outcome::Intent), Some(Outcome::Signed)][o],
                    contract_id: c,
                })
                .collect();
            let (t, contracts) = tally(&pairings);
            prop_assert_eq!(t.pairings_held, t.met + t.intents + t.signed);
            prop_assert!(t.pairings_held <= t.pairings_scheduled);
            prop_assert!(t.projects_presented <= t.pairings_held);
            prop_assert!(contracts.len() as u64 <= t.signed);
            let expected: BTreeSet<i64> = pairings
                .iter()
                .filter(|p| p.outcome == Some(Outcome::Signed))
                .filter_map(|p| p.contract_id)
                .collect();
            prop_assert_eq!(contracts, expected);
        }
    }
}
