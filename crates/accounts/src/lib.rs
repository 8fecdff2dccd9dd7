//! `ttx-accounts`: organisations, users, roles, tokens, jurisdiction and the audit log.
pub mod audit;
pub mod auth;
pub mod domain;
pub mod dto;
pub mod entity;
pub mod routes;
pub mod secrets;
pub mod service;

pub use audit::{AuditCtx, Target};
pub use auth::{Actor, MaybeActor};
pub use routes::{router, AccountsState};
pub use service::AccountsConfig;
