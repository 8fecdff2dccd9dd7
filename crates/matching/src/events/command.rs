//! The commands of matchmaking events: what a request asks for once parsed and validated
//! (the HTTP layer builds them in `dto.rs`; the service takes them).
use chrono::NaiveDate;

/// A validated new event.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEvent {
    pub title: String,
    pub description: String,
    pub venue: String,
    pub date: NaiveDate,
    pub start_time: String,
    pub slots: i32,
    pub tables: i32,
    pub slot_minutes: i32,
}

/// What an entry registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryTarget {
    Listing(i64),
    Demand(i64),
}
