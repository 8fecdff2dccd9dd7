//! HTTP types of matchmaking events and their parsing, gathering every field error.
use super::command::{EntryTarget, NewEvent};
use super::domain::{self, Outcome, Tally};
use crate::entity::{matchmaking_event, matchmaking_pairing};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use ttx_core::FieldErrors;
use utoipa::ToSchema;

/// A new matchmaking event (科技对接活动).
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    pub title: Option<String>,
    pub description: Option<String>,
    pub venue: Option<String>,
    /// The Beijing date of the event.
    pub date: Option<NaiveDate>,
    /// Start of the first slot, `HH:MM` (default `09:00`).
    pub start_time: Option<String>,
    /// Number of time slots, 1 to 48.
    pub slots: Option<i32>,
    /// Tables per slot, 1 to 500.
    pub tables: Option<i32>,
    /// Length of a slot in minutes, 5 to 240.
    pub slot_minutes: Option<i32>,
}

fn bounded(errs: &mut FieldErrors, name: &str, v: Option<i32>, lo: i32, hi: i32) -> i32 {
    match v {
        None => {
            errs.add(name, "required", "must be given");
            lo
        }
        Some(n) if !(lo..=hi).contains(&n) => {
            errs.add(name, "out_of_range", format!("must be {lo} to {hi}"));
            lo
        }
        Some(n) => n,
    }
}

impl EventInput {
    /// Validates against `today` (Beijing): the date lies within a year before and three
    /// years after it.
    pub fn parse(self, today: NaiveDate) -> Result<NewEvent, FieldErrors> {
        let mut errs = FieldErrors::new();
        let title = errs.text("title", self.title.as_deref().unwrap_or(""), 4, 200);
        let description = errs
            .opt_text("description", self.description.as_deref(), 10_000)
            .unwrap_or_default();
        let venue = errs.text("venue", self.venue.as_deref().unwrap_or(""), 2, 200);
        let date = match self.date {
            None => {
                errs.add("date", "required", "must be given");
                today
            }
            Some(d) if d < today - Duration::days(366) || d > today + Duration::days(3 * 366) => {
                errs.add(
                    "date",
                    "out_of_range",
                    "must lie within a year before and three years after today",
                );
                d
            }
            Some(d) => d,
        };
        let start = self.start_time.as_deref().unwrap_or("09:00");
        let start_time = domain::parse_hhmm(start);
        if start_time.is_none() {
            errs.add("start_time", "invalid_time", "must be HH:MM, e.g. 09:00");
        }
        let slots = bounded(&mut errs, "slots", self.slots, 1, domain::MAX_SLOTS);
        let tables = bounded(&mut errs, "tables", self.tables, 1, domain::MAX_TABLES);
        let slot_minutes = bounded(
            &mut errs,
            "slot_minutes",
            self.slot_minutes,
            domain::MIN_SLOT_MINUTES,
            domain::MAX_SLOT_MINUTES,
        );
        if let Some(t) = start_time {
            if errs.is_empty() && !domain::fits_in_the_day(t, slot_minutes, slots) {
                errs.add(
                    "slots",
                    "past_midnight",
                    "the last slot would end after midnight",
                );
            }
        }
        errs.finish(NewEvent {
            title,
            description,
            venue,
            date,
            start_time: start.trim().to_string(),
            slots,
            tables,
            slot_minutes,
        })
    }
}

/// Registers a published listing or an open need for the event: exactly one of the two.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryInput {
    pub listing_id: Option<i64>,
    pub demand_id: Option<i64>,
}

impl EntryInput {
    pub fn parse(self) -> Result<EntryTarget, FieldErrors> {
        let mut errs = FieldErrors::new();
        let t = match (self.listing_id, self.demand_id) {
            (Some(_), Some(_)) => {
                errs.add(
                    "demand_id",
                    "ambiguous",
                    "give listing_id or demand_id, not both",
                );
                None
            }
            (None, None) => {
                errs.add("listing_id", "required", "give listing_id or demand_id");
                None
            }
            (Some(id), None) if id > 0 => Some(EntryTarget::Listing(id)),
            (None, Some(id)) if id > 0 => Some(EntryTarget::Demand(id)),
            (Some(_), None) => {
                errs.add("listing_id", "invalid", "must be positive");
                None
            }
            (None, Some(_)) => {
                errs.add("demand_id", "invalid", "must be positive");
                None
            }
        };
        match t {
            Some(t) => Ok(t),
            None => Err(errs),
        }
    }
}

/// Options of a schedule proposal.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleInput {
    /// Leave out pairs scoring below this (0 to 1; default 0: every pair may meet).
    pub min_score: Option<f64>,
}

impl ScheduleInput {
    pub fn parse(self) -> Result<f64, FieldErrors> {
        let mut errs = FieldErrors::new();
        let m = self.min_score.unwrap_or(0.0);
        if !(0.0..=1.0).contains(&m) {
            errs.add("min_score", "out_of_range", "must be 0 to 1");
        }
        errs.finish(m)
    }
}

/// The outcome of a pairing: `met`, `intent` (意向) or `signed` with the contract.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeInput {
    #[schema(inline)]
    pub outcome: Outcome,
    /// The signed contract (required with `signed`, not allowed otherwise).
    pub contract_id: Option<i64>,
}

impl OutcomeInput {
    pub fn parse(self) -> Result<(Outcome, Option<i64>), FieldErrors> {
        let mut errs = FieldErrors::new();
        match (self.outcome, self.contract_id) {
            (Outcome::Signed, None) => errs.add(
                "contract_id",
                "required",
                "a signed pairing names its contract",
            ),
            (Outcome::Signed, Some(id)) if id <= 0 => {
                errs.add("contract_id", "invalid", "must be positive")
            }
            (Outcome::Met | Outcome::Intent, Some(_)) => errs.add(
                "contract_id",
                "not_allowed",
                "only a signed pairing links a contract",
            ),
            _ => {}
        }
        errs.finish((self.outcome, self.contract_id))
    }
}

/// An organisation as an event shows it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct OrgRef {
    pub id: i64,
    pub name: String,
}

/// A listing or need registered for an event.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EntryView {
    pub id: i64,
    /// `listing` or `demand`.
    pub side: String,
    pub listing_id: Option<i64>,
    pub demand_id: Option<i64>,
    pub title: Option<String>,
    /// The owner (absent for an anonymous firm the caller may not see).
    pub org: Option<OrgRef>,
    /// The item's current status (`published`, `open`, ...).
    pub status: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// One listing or need at a pairing.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PairSide {
    pub id: i64,
    pub title: Option<String>,
    /// The owner (absent for an anonymous firm the caller may not see).
    pub org: Option<OrgRef>,
}

/// One named part of a pairing's score.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PartView {
    pub name: String,
    pub value: f64,
    pub weight: f64,
    pub contribution: f64,
}

/// A listing and a need at one table in one time slot.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PairingView {
    pub id: i64,
    /// 0-based.
    pub slot: i32,
    /// 0-based.
    pub table: i32,
    /// `HH:MM`
    pub starts_at: String,
    /// `HH:MM`
    pub ends_at: String,
    pub listing: PairSide,
    pub demand: PairSide,
    pub score: f64,
    pub parts: Vec<PartView>,
    pub reason_zh: String,
    pub reason_en: String,
    /// `met`, `intent` or `signed`; absent until recorded.
    pub outcome: Option<String>,
    pub contract_id: Option<i64>,
    pub outcome_at: Option<DateTime<Utc>>,
}

impl PairingView {
    pub fn build(
        e: &matchmaking_event::Model,
        p: matchmaking_pairing::Model,
        listing: PairSide,
        demand: PairSide,
    ) -> PairingView {
        let start = domain::parse_hhmm(&e.start_time).unwrap_or_default();
        let (from, to) = domain::slot_times(start, e.slot_minutes, p.slot).unwrap_or((0, 0));
        PairingView {
            id: p.id,
            slot: p.slot,
            table: p.table_no,
            starts_at: domain::hhmm(from),
            ends_at: domain::hhmm(to),
            listing,
            demand,
            score: p.score,
            parts: serde_json::from_str(&p.parts).unwrap_or_default(),
            reason_zh: p.reason_zh,
            reason_en: p.reason_en,
            outcome: p.outcome,
            contract_id: p.contract_id,
            outcome_at: p.outcome_at,
        }
    }
}

/// A matchmaking event: its settings, and for its organiser the entries and the schedule.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EventView {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub venue: String,
    pub date: NaiveDate,
    pub start_time: String,
    pub slots: i32,
    pub tables: i32,
    pub slot_minutes: i32,
    pub organiser: OrgRef,
    /// The event's date has passed (its report is public).
    pub over: bool,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Single reads only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entries: Option<Vec<EntryView>>,
    /// Single reads only: the schedule, by slot and table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pairings: Option<Vec<PairingView>>,
}

impl EventView {
    pub fn build(e: matchmaking_event::Model, organiser: OrgRef, today: NaiveDate) -> EventView {
        EventView {
            over: domain::is_over(e.event_date, today),
            id: e.id,
            title: e.title,
            description: e.description,
            venue: e.venue,
            date: e.event_date,
            start_time: e.start_time,
            slots: e.slots,
            tables: e.tables,
            slot_minutes: e.slot_minutes,
            organiser,
            scheduled_at: e.scheduled_at,
            created_at: e.created_at,
            entries: None,
            pairings: None,
        }
    }
}

/// A proposed schedule.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ScheduleView {
    pub event_id: i64,
    pub scheduled_at: DateTime<Utc>,
    /// Pairs of a listing and a need of two different organisations that could meet (at or
    /// above `min_score`).
    pub candidates: u64,
    /// Candidates that found no slot (every slot full or one of their parties busy).
    pub left_out: u64,
    /// By slot, then table.
    pub pairings: Vec<PairingView>,
}

/// A signed contract of the event, with what the ledger holds for it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ContractFigure {
    pub contract_id: i64,
    /// The ledger has entries for it (it was registered).
    pub registered: bool,
    /// Net registered contract amount (sum of the ledger's deltas), fen.
    pub contract_amount: i64,
    /// Net registered technology amount, fen.
    pub technology_amount: i64,
}

/// The figures of an event: projects presented, pairings held, intents, signed contracts and
/// their registered amounts (from the ledger).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ReportView {
    pub event_id: i64,
    pub title: String,
    pub date: NaiveDate,
    pub venue: String,
    pub over: bool,
    pub listings_registered: u64,
    pub needs_registered: u64,
    /// Distinct organisations with a registered listing or need.
    pub organisations: u64,
    #[serde(flatten)]
    pub tally: Tally,
    /// Distinct contracts linked to signed pairings.
    pub signed_contracts: u64,
    /// Of those, the registered ones.
    pub registered_contracts: u64,
    /// Registered contract amount of the signed contracts (ledger), fen.
    pub contract_amount: i64,
    /// Registered technology amount of the signed contracts (ledger), fen.
    pub technology_amount: i64,
    /// Per contract (the organiser only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contracts: Option<Vec<ContractFigure>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, 1).unwrap()
    }

    #[test]
    fn every_event_field_error_at_once() {
        let e: EventInput = serde_json::from_value(serde_json::json!({
            "title": "会", "venue": "", "date": "2031-01-01", "start_time": "9点",
            "slots": 0, "tables": 501
        }))
        .unwrap();
        let errs = e.parse(today()).unwrap_err();
        let fields: Vec<&str> = errs.0.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "title",
            "venue",
            "date",
            "start_time",
            "slots",
            "tables",
            "slot_minutes",
        ] {
            assert!(fields.contains(&f), "{f} in {fields:?}");
        }
        let late: EventInput = serde_json::from_value(serde_json::json!({
            "title": "夜场对接会", "venue": "苏州", "date": "2026-06-02", "start_time": "22:00",
            "slots": 5, "tables": 2, "slot_minutes": 30
        }))
        .unwrap();
        assert_eq!(late.parse(today()).unwrap_err().0[0].code, "past_midnight");
    }

    #[test]
    fn entries_and_outcomes() {
        let p = |v| serde_json::from_value::<EntryInput>(v).unwrap().parse();
        assert_eq!(
            p(serde_json::json!({"listing_id": 3})).unwrap(),
            EntryTarget::Listing(3)
        );
        assert_eq!(
            p(serde_json::json!({})).unwrap_err().0[0].field,
            "listing_id"
        );
        assert_eq!(
            p(serde_json::json!({"listing_id": 3, "demand_id": 4}))
                .unwrap_err()
                .0[0]
                .code,
            "ambiguous"
        );
        let o = |v| serde_json::from_value::<OutcomeInput>(v).unwrap().parse();
        assert!(o(serde_json::json!({"outcome": "signed"})).is_err());
        assert!(o(serde_json::json!({"outcome": "met", "contract_id": 5})).is_err());
        assert_eq!(
            o(serde_json::json!({"outcome": "signed", "contract_id": 5})).unwrap(),
            (Outcome::Signed, Some(5))
        );
        assert!(ScheduleInput {
            min_score: Some(1.5)
        }
        .parse()
        .is_err());
    }
}
