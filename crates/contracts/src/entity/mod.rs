//! sea-orm entities of the contract tables (schema owned by `migrations`).
//!
//! Entries of the ledger are appended through [`crate::ledger`] only, and nothing updates or
//! deletes them (the database refuses too); the entity is public so that reports
//! (`ttx-stats`) can read it. The same holds for the roll-up, [`stats_monthly`], which
//! [`crate::rollup`] writes in the same transaction as each append.
pub mod amendment;
pub mod contract;
pub mod ledger_entry;
pub mod registration_counter;
pub mod round;
pub mod station_code;
pub mod stats_monthly;
