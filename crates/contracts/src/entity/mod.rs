//! sea-orm entities of the contract tables (schema owned by `migrations`).
//!
//! The ledger's entity is crate-private: entries are appended through [`crate::ledger`] and
//! nothing in this crate updates or deletes them (the database refuses too).
pub mod amendment;
pub mod contract;
pub(crate) mod ledger_entry;
pub mod registration_counter;
pub mod round;
pub mod station_code;
