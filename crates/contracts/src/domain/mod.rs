//! The rules of contract recognition and registration, as pure functions and types (no I/O).
//!
//! - [`status`]: the state machine, refusal grounds, amendment requests;
//! - [`amendment`]: what an amendment may change and the contract that results;
//! - [`command`]: the parsed requests the use cases take;
//! - [`content`]: what a contract says and the rules across its fields;
//! - [`number`]: the registration number format;
//! - [`fingerprint`]: exact and near duplicate detection;
//! - [`ledger`]: what registering, amending and terminating book in the turnover ledger.
pub mod amendment;
pub mod command;
pub mod content;
pub mod fingerprint;
pub mod ledger;
pub mod number;
pub mod status;

/// Organisation kinds that sign technology contracts as seller.
pub const SELLER_KINDS: &[ttx_core::OrgKind] = &[
    ttx_core::OrgKind::University,
    ttx_core::OrgKind::ResearchInstitute,
    ttx_core::OrgKind::Enterprise,
    ttx_core::OrgKind::Agency,
];

pub use amendment::AmendmentChanges;
pub use content::{ContractContent, Document, Instalment, Links, Party};
pub use number::{RegistrationNumber, StationCode};
pub use status::{Action, AmendmentKind, AmendmentStatus, ContractStatus, RefusalGround, Side};
