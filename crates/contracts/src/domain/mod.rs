//! The rules of contract recognition and registration, as pure functions and types (no I/O).
//!
//! - [`status`]: the state machine, refusal grounds, amendment requests;
//! - [`amendment`]: what an amendment may change and the contract that results;
//! - [`content`]: what a contract says and the rules across its fields;
//! - [`number`]: the registration number format;
//! - [`fingerprint`]: exact and near duplicate detection;
//! - [`ledger`]: what registering, amending and terminating book in the turnover ledger.
pub mod amendment;
pub mod content;
pub mod fingerprint;
pub mod ledger;
pub mod number;
pub mod status;

pub use amendment::AmendmentChanges;
pub use content::{ContractContent, Document, Instalment, Links, Party};
pub use number::{RegistrationNumber, StationCode};
pub use status::{Action, AmendmentKind, AmendmentStatus, ContractStatus, RefusalGround, Side};
