//! `ttx-notify`: notifications for every domain.
//!
//! * [`events::emit`] records an event **inside the caller's transaction**: the event row
//!   (the outbox), an in-app inbox entry for each member of the addressed organisation, and a
//!   pending delivery for each of its webhooks subscribed to the kind;
//! * [`worker::DeliveryWorker`] (spawned by the server) claims due deliveries with a lease,
//!   POSTs them signed ([`signature`]) with the event id as a dedup key, logs each attempt and
//!   retries with exponential backoff;
//! * [`routes::router`] serves the inbox (`/notifications`) and the webhooks of an
//!   organisation (`/webhooks`, their test ping and delivery log).
pub mod config;
pub mod dto;
pub mod entity;
pub mod error;
pub mod events;
pub mod routes;
pub mod service;
pub mod signature;
pub mod target;
pub mod worker;

pub use config::NotifyConfig;

pub use events::{emit, wake, Emitted, NewEvent};
pub use routes::{router, NotifyState};
/// The write transaction ([`ttx_web::begin_write`]), re-exported for the crates that take it
/// from here.
pub use ttx_web::begin_write;
pub use worker::DeliveryWorker;
