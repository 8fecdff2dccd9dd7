//! The broker pipeline (技术经纪人撮合): a broker of a verified agency opens a match between a
//! published listing and an open need, introduces the two parties, follows them through
//! negotiation to a registered contract, or closes the match with a reason; feedback on
//! suggestions; and the funnel report that traces every registered yuan to its listing, need and
//! broker.
//!
//! ```text
//!  suggested ──introduce──▶ introduced ──both accept──▶ negotiating ──sign──▶ signed
//!      │                      └──a party declines──▶ closed (declined)
//!      └──────────close (broker; a party once introduced)──────────────────▶ closed
//! ```
//!
//! - The second acceptance moves the match to `negotiating` by itself (recorded in the history
//!   as a `negotiate` step by `system`); there is no separate action for it.
//! - `signed` needs a registered contract whose `match_id` is the match, sold by the listing's
//!   owner to the need's owner.
//! - Parties see a match once it is introduced, each is notified once per step (inbox and
//!   webhooks, in the step's transaction); the broker's agency hears of what the parties do.
//! - An anonymous firm is named to the listing's side only once it accepted the introduction.
//!
//! - [`domain`]: the rules, pure and unit-tested; [`access`]: who sees and acts;
//! - [`service`]: the use cases (one transaction each, with history, audit, notifications);
//! - [`dto`], [`view`], [`routes`]: HTTP; [`notices`]: the notification events.
pub mod access;
pub mod command;
pub mod domain;
pub mod dto;
pub mod notices;
pub mod routes;
pub mod service;
pub mod view;

pub use routes::router;
