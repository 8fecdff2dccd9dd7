//! sea-orm entities of the matching tables (schema owned by `migrations`).
pub mod match_event;
pub mod match_feedback;
pub mod matches;
pub mod matchmaking_entry;
pub mod matchmaking_event;
pub mod matchmaking_pairing;
pub mod subscription;
pub mod subscription_job_state;
pub mod subscription_push;
