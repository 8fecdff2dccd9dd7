//! sea-orm entities of the platform tables (schema owned by `migrations`).
pub mod api_token;
pub mod audit_log;
pub mod organization;
pub mod station_jurisdiction;
pub mod user;
