//! Black-box tests through the HTTP API. Each test starts its own app with its own database.

/// The `ttx` binary, for tests that run commands or kill the server (`ttx_tests::process`).
pub const TTX_BIN: &str = env!("CARGO_BIN_EXE_ttx-under-test");

mod accounts;
mod authz_matrix;
mod backup;
mod certificate_check;
mod contract_events;
mod contract_links;
mod contracts;
mod contracts_import_history;
mod contracts_usability;
mod crash;
mod dashboard;
mod demands;
mod documents;
mod enquiries;
mod http_details;
mod idempotency;
mod input_hygiene;
mod last_admin;
mod listings;
mod match_events;
mod match_subscriptions;
mod matches;
mod matching;
mod metrics;
mod notifications;
mod platform;
mod rate_limits;
mod read_cache;
mod scale_out;
mod schema_checks;
mod stats;
mod stats_techme;
mod usability;
