//! sea-orm entities of the listing tables (schema owned by `migrations`).
pub mod listing;
