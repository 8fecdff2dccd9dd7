//! sea-orm entities of the matching tables (schema owned by `migrations`).
pub mod match_event;
pub mod match_feedback;
pub mod matches;
