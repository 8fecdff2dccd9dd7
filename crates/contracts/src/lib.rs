//! `ttx-contracts`: technology contract recognition and registration (认定登记).
//!
//! The seller side drafts a contract and submits it to the station whose jurisdiction covers
//! its region; a reviewer of that station accepts it (the review deadline starts), then
//! registers it (number, certificate, ledger entry), returns it for correction or refuses it on
//! an official ground. Registered contracts are amended or terminated through the same station.
//! Every registration, amendment and termination is booked in the append-only turnover ledger
//! that statistics sum over.
//!
//! - [`domain`]: the rules, pure and unit-tested;
//! - [`entity`], [`store`], [`numbering`], [`ledger`] (with its statistics roll-up,
//!   [`rollup`]): persistence;
//! - [`access`]: who sees and does what;
//! - [`service`]: the use cases, one transaction each;
//! - [`dto`], [`view`], [`routes`], [`certificate`]: HTTP;
//! - [`import`]: `ttx import contracts`; [`demo`]: demo data.
pub mod access;
pub mod certificate;
pub mod demo;
pub mod domain;
pub mod dto;
pub mod entity;
pub mod error;
pub mod events;
pub mod import;
pub mod ledger;
pub mod numbering;
pub mod rollup;
pub mod routes;
pub mod service;
pub mod store;
pub mod view;

pub use error::ERROR_CODES;
pub use routes::{router, CheckLimiter, ContractsState};
pub use service::Settings;
