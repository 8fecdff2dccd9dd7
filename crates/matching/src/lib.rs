//! `ttx-matching`: matching technology listings and enterprise needs, both ways, with
//! explainable scores; the broker pipeline from a suggestion to a signed contract; saved
//! searches and follows that push new matches; matchmaking events.
//!
//! - [`config`]: weights and limits (`[matching]` in `ttx.toml`);
//! - [`score`]: the scoring function, pure: named parts, weights, contributions, reasons;
//! - [`suggest`]: candidate retrieval through the search engine and re-ranking;
//! - [`text`]: the text of either side of a pair, and the similarity of two texts;
//! - [`terms`]: a cache of the weighted words of texts by id and version (for feedback);
//! - [`pipeline`]: broker matches (suggested → introduced → negotiating → signed / closed),
//!   feedback on suggestions, and the funnel report;
//! - [`subscriptions`]: saved searches and follows, pushed to the inbox and webhooks;
//! - [`events`]: matchmaking events (科技对接活动): registrations, schedule, outcomes, report;
//! - [`entity`]: the tables of subscriptions and events (and of the pipeline);
//! - [`error`]: the crate's error codes (served by `GET /v1/meta/errors`);
//! - [`routes`]: the HTTP router.
pub mod config;
pub mod entity;
pub mod error;
pub mod events;
pub mod pipeline;
pub mod routes;
pub mod score;
pub mod subscriptions;
pub mod suggest;
pub mod terms;
pub mod text;

pub use config::MatchingConfig;
pub use error::ERROR_CODES;
pub use routes::{router, MatchingState};
pub use terms::TermsCache;
