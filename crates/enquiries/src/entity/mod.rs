//! sea-orm entities of the enquiry tables (schema owned by `migrations`).
pub mod confidential;
pub mod disclosure;
pub mod enquiry;
pub mod message;
pub mod nda_acceptance;
pub mod nda_version;
pub mod quota;
