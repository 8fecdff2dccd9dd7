//! `ttx-enquiries`: parties reach each other (意向 / 咨询).
//!
//! - an organisation (a member of a verified university, institute or firm, or a broker of a
//!   verified agency) sends an enquiry about a listing or a need: what it wants, a message, and
//!   optionally its own listing or need;
//! - the owner's inbox lists what it received, the sender's what it sent; a thread of messages
//!   per enquiry; the owner answers, accepts (the item's contact details are revealed to the
//!   sender, the reveal logged) or declines with a reason; both sides are notified through
//!   `ttx-notify` (inbox and webhooks, in the transaction of the change);
//! - spam limits: a daily cap per sending organisation, one live enquiry per organisation and
//!   item;
//! - confidential details of a listing (HANOTEX-style): parts kept behind a versioned NDA, read
//!   by the owner and by enquirers granted access (by the owner, or automatically on accepting
//!   the NDA); every disclosure outside the owner organisation goes to an access log it reads.
//!
//! Files: [`domain`] (rules, pure), [`entity`], [`service`] (enquiries), [`confidential`]
//! (confidential parts, NDA, contact reveal, access log), [`notices`] (notification events),
//! [`dto`], [`routes`], [`error`], [`config`].
pub mod confidential;
pub mod config;
pub mod domain;
pub mod dto;
pub mod entity;
pub mod error;
pub mod notices;
pub mod routes;
pub mod service;

pub use config::{EnquiriesConfig, EnquiriesState};
pub use error::ERROR_CODES;
pub use routes::router;
