//! `ttx-listings`: technology listings (科技成果) — posting, lifecycle, search, import.
//!
//! - [`domain`]: rules (lifecycle, price, IP items, keywords), [`patent`]: Chinese patent
//!   numbers;
//! - [`entity`], [`store`]: the `listings` table;
//! - [`service`]: use cases (one transaction each, with audit entry and search outbox row);
//! - [`search`]: public search through the engine, own listings from the database;
//! - [`source`]: the [`ttx_search::DocSource`] of the listings index;
//! - [`import`]: CSV / JSON Lines import; [`demo`]: generated demo listings;
//! - [`dto`], [`routes`]: the HTTP API; [`error`]: domain error codes; [`jobs`]: expiry.
pub mod demo;
pub mod domain;
pub mod dto;
pub mod entity;
pub mod error;
pub mod import;
pub mod jobs;
pub mod patent;
pub mod routes;
pub mod search;
pub mod service;
pub mod source;
pub mod state;
pub mod store;

pub use error::ERROR_CODES;
pub use routes::router;
pub use source::ListingSource;
pub use state::ListingsState;
