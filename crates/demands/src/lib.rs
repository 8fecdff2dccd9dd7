//! `ttx-demands`: technical needs (技术需求), challenges (揭榜挂帅 / 技术难题招标) and their
//! proposals.
//!
//! - [`domain`]: the need's rules (lifecycle, budget, deadline, visibility);
//!   [`completeness`]: the completeness score and its hints; [`challenge`]: challenge terms,
//!   eligibility and proposal decisions — all pure and unit-tested;
//! - [`entity`], [`store`]: the tables;
//! - [`service`]: use cases (one transaction each, with audit entry, search outbox row and
//!   notification events); [`service::expiry`]: the expiry job;
//! - [`source`]: the [`ttx_search::DocSource`] of the `demands` index; [`search`]: public
//!   search through the engine, own needs from the database;
//! - [`dto`], [`view`], [`routes`]: the HTTP API; [`error`]: domain error codes;
//!   [`events`]: notification events; [`demo`]: demo data.
pub mod challenge;
pub mod command;
pub mod completeness;
pub mod demo;
pub mod domain;
pub mod dto;
pub mod entity;
pub mod error;
pub mod events;
pub mod routes;
pub mod search;
pub mod service;
pub mod source;
pub mod state;
pub mod store;
pub mod view;

pub use error::ERROR_CODES;
pub use routes::router;
pub use source::DemandSource;
pub use state::{DemandsConfig, DemandsState};
